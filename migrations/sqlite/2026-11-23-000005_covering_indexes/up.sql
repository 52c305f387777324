-- Reports group the visible cases by subject unit, status and measure, and count
-- distinct subjects. With every column those passes read in one index, the database
-- scans the index instead of the cases' wide rows (descriptions, search text).
CREATE INDEX cases_report_idx
    ON cases (subject_unit_id, status, decision_measure, responsible_unit_id, subject_key, deadline_at);

-- Case lists filter by status, page by id and then test the unit subtree. With the
-- unit columns in the index, SQLite rejects the other units' cases from the index
-- entry, without reading their rows. Same leading columns as before, so it serves
-- everything the old index did.
DROP INDEX cases_status_idx;
CREATE INDEX cases_status_idx ON cases (status, id, subject_unit_id, responsible_unit_id);
