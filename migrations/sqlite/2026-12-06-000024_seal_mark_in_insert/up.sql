-- The seal order set by the insert itself: the application's writers give each new row
-- its mark in the INSERT (`db::dialect::next_mark`, one more than the table's highest,
-- an index lookup), so the row is written once. The triggers stay as a safety net for
-- rows written by hand (seal_mark left at its default 0): a row never escapes sealing.
DROP TRIGGER audit_log_seal_mark;
DROP TRIGGER case_events_seal_mark;
DROP TRIGGER case_attachments_seal_mark;
CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log WHEN NEW.seal_mark = 0 BEGIN
    UPDATE audit_log SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM audit_log) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events WHEN NEW.seal_mark = 0 BEGIN
    UPDATE case_events SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_events) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments WHEN NEW.seal_mark = 0 BEGIN
    UPDATE case_attachments SET seal_mark = (SELECT COALESCE(MAX(seal_mark), 0) + 1 FROM case_attachments) WHERE rowid = NEW.rowid;
END;
