DROP INDEX cases_status_deadline_idx;
CREATE INDEX cases_status_deadline_idx ON cases (status, deadline_at);
DROP INDEX cases_detected_on_idx;
CREATE INDEX cases_detected_on_idx ON cases (detected_on, subject_unit_id, subject_key, status);
