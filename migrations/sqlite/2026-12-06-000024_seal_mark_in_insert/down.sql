DROP TRIGGER audit_log_seal_mark;
DROP TRIGGER case_events_seal_mark;
DROP TRIGGER case_attachments_seal_mark;
CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log BEGIN
    UPDATE audit_log SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM audit_log) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events BEGIN
    UPDATE case_events SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_events) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments BEGIN
    UPDATE case_attachments SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_attachments) WHERE rowid = NEW.rowid;
END;
