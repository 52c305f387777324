DROP TABLE case_decisions;
DROP TABLE handling_catalog;
DROP TABLE measures;
DROP TABLE severity_levels;
UPDATE cases SET severity = CASE severity WHEN 'less_serious' THEN 'low' WHEN 'serious' THEN 'medium' ELSE 'high' END;
UPDATE cases SET decision_measure = CASE decision_measure
    WHEN 'party_reprimand' THEN 'reprimand' WHEN 'party_warning' THEN 'warning'
    WHEN 'party_removal' THEN 'removal_from_post' WHEN 'party_expulsion' THEN 'expulsion'
    WHEN 'state_salary_downgrade' THEN 'salary_downgrade' WHEN 'state_forced_dismissal' THEN 'forced_dismissal'
    ELSE decision_measure END;
ALTER TABLE cases ADD CONSTRAINT cases_severity_check CHECK (severity IN ('low', 'medium', 'high'));
