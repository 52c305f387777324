-- Reports group the visible cases by subject unit, status and measure, and count
-- distinct subjects. With every column those passes read in one index, the database
-- scans the index instead of the cases' wide rows (descriptions, search text).
CREATE INDEX cases_report_idx
    ON cases (subject_unit_id, status, decision_measure, responsible_unit_id, subject_key, deadline_at);
