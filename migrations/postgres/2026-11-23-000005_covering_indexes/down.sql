DROP INDEX cases_status_idx;
CREATE INDEX cases_status_idx ON cases (status, id);
DROP INDEX cases_report_idx;
