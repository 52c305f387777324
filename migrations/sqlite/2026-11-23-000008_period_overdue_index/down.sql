DROP INDEX cases_detected_on_idx;
CREATE INDEX cases_detected_on_idx ON cases (detected_on, subject_unit_id, subject_key, status);
