-- SQLite orders the sealed entries by their rowid (`db::dialect::mark_column`): the one
-- writer hands rowids out in the order rows are written, a row written by hand included,
-- and VACUUM, VACUUM INTO (backups) and restores keep them. The seal-order column, its
-- index and its triggers are no longer written on SQLite: each sealed insert writes one
-- index entry and reads one index less (issue 32's budget on creates).
DROP TRIGGER audit_log_seal_mark;
DROP TRIGGER case_events_seal_mark;
DROP TRIGGER case_attachments_seal_mark;
DROP INDEX audit_log_seal_idx;
DROP INDEX case_events_seal_idx;
DROP INDEX case_attachments_seal_idx;
-- The ledger's marks name the rowid from now on. Up to here every mark was the table's
-- highest plus one and the tables are append-only, so mark and rowid agree; a row where
-- they do not (a database edited by hand) is brought to its rowid, so the order checks
-- compare like with like. The content checks do not use marks.
UPDATE ledger SET mark = (SELECT rowid FROM audit_log WHERE audit_log.id = ledger.entry_id)
 WHERE stream = 'audit' AND mark <> (SELECT rowid FROM audit_log WHERE audit_log.id = ledger.entry_id);
UPDATE ledger SET mark = (SELECT rowid FROM case_events WHERE case_events.id = ledger.entry_id)
 WHERE stream = 'event' AND mark <> (SELECT rowid FROM case_events WHERE case_events.id = ledger.entry_id);
UPDATE ledger SET mark = (SELECT rowid FROM case_attachments WHERE case_attachments.id = ledger.entry_id)
 WHERE stream = 'file' AND mark <> (SELECT rowid FROM case_attachments WHERE case_attachments.id = ledger.entry_id);
