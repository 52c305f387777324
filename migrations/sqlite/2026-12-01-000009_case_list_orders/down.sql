DROP INDEX cases_updated_idx;
DROP INDEX cases_deadline_idx;
CREATE INDEX cases_deadline_idx ON cases (deadline_at);
