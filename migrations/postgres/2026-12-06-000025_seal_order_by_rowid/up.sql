-- Nothing to change: PostgreSQL orders sealed entries by `seal_mark`, the writer's
-- transaction id. On SQLite this migration moves the order to the rowid.
SELECT 1;
