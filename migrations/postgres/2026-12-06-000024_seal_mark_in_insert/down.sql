-- Nothing to change: PostgreSQL's seal order is the column default (the transaction id),
-- set by the insert itself. SQLite's triggers become a safety net in this migration.
SELECT 1;
