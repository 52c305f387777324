DROP INDEX cases_status_deadline_idx;
