DROP INDEX cases_subject_id_idx;
UPDATE cases SET subject_key = CASE WHEN subject_kind = 'individual'
    THEN 'person:' || subject_unit_id || ':' || (SELECT search_name FROM subjects s WHERE s.id = cases.subject_id)
    ELSE 'org:' || subject_unit_id END;
ALTER TABLE cases DROP COLUMN subject_id;
DROP TABLE subject_history;
DROP TABLE subjects;
DROP TABLE subject_stats;
CREATE TABLE subject_stats (
    subject_key TEXT PRIMARY KEY NOT NULL,
    subject_unit_id TEXT NOT NULL,
    detected INTEGER NOT NULL,
    unhandled INTEGER NOT NULL
);
CREATE INDEX subject_stats_unit_idx ON subject_stats (subject_unit_id, detected, unhandled);
