-- The overdue sweep reads unfinished cases by deadline: with both columns indexed
-- its cost follows the cases near or past their deadline, not the table's size.
CREATE INDEX cases_status_deadline_idx ON cases (status, deadline_at);
