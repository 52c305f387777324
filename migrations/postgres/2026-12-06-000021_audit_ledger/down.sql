DROP TABLE ledger_checkpoints;
DROP TABLE ledger_hashes;
DROP TABLE ledger;
ALTER TABLE case_attachments DROP COLUMN seal_mark;
ALTER TABLE case_events DROP COLUMN seal_mark;
ALTER TABLE audit_log DROP COLUMN seal_mark;
