-- A checkpoint can be mailed: an outbox message that carries the size of the checkpoint
-- it sends (NULL: an alert digest, as before).
ALTER TABLE outbox ADD COLUMN checkpoint_size BIGINT;

-- The seal order without a counter: each new row's mark is one more than the highest
-- mark of its table (an index lookup), so an insert writes its row once more instead of
-- twice more. SQLite has one writer at a time, so two rows never take the same mark.
DROP TRIGGER audit_log_seal_mark;
DROP TRIGGER case_events_seal_mark;
DROP TRIGGER case_attachments_seal_mark;
DROP TABLE ledger_marks;
CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log BEGIN
    UPDATE audit_log SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM audit_log) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events BEGIN
    UPDATE case_events SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_events) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments BEGIN
    UPDATE case_attachments SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_attachments) WHERE rowid = NEW.rowid;
END;
