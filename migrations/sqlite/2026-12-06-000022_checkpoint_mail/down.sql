DROP TRIGGER audit_log_seal_mark;
DROP TRIGGER case_events_seal_mark;
DROP TRIGGER case_attachments_seal_mark;
CREATE TABLE ledger_marks (
    stream TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
);
INSERT INTO ledger_marks (stream, last) VALUES
    ('audit', (SELECT COALESCE(MAX(seal_mark), 0) FROM audit_log)),
    ('event', (SELECT COALESCE(MAX(seal_mark), 0) FROM case_events)),
    ('file', (SELECT COALESCE(MAX(seal_mark), 0) FROM case_attachments));
CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'audit';
    UPDATE audit_log SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'audit') WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'event';
    UPDATE case_events SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'event') WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'file';
    UPDATE case_attachments SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'file') WHERE rowid = NEW.rowid;
END;
ALTER TABLE outbox DROP COLUMN checkpoint_size;
