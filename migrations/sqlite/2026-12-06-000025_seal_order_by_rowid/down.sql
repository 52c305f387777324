UPDATE audit_log SET seal_mark = rowid;
UPDATE case_events SET seal_mark = rowid;
UPDATE case_attachments SET seal_mark = rowid;
CREATE INDEX audit_log_seal_idx ON audit_log (seal_mark, id);
CREATE INDEX case_events_seal_idx ON case_events (seal_mark, id);
CREATE INDEX case_attachments_seal_idx ON case_attachments (seal_mark, id);
CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log WHEN NEW.seal_mark = 0 BEGIN
    UPDATE audit_log SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM audit_log) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events WHEN NEW.seal_mark = 0 BEGIN
    UPDATE case_events SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_events) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments WHEN NEW.seal_mark = 0 BEGIN
    UPDATE case_attachments SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_attachments) WHERE rowid = NEW.rowid;
END;
