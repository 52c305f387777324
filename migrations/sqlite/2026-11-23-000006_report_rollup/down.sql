DROP INDEX cases_detected_on_idx;
CREATE INDEX cases_detected_on_idx ON cases (detected_on);
DROP INDEX cases_responsible_unit_idx;
CREATE INDEX cases_responsible_unit_idx ON cases (responsible_unit_id, id);
DROP INDEX cases_subject_idx;
CREATE INDEX cases_report_idx
    ON cases (subject_unit_id, status, decision_measure, responsible_unit_id, subject_key, deadline_at);
DROP TABLE subject_stats;
DROP TABLE case_stats;
