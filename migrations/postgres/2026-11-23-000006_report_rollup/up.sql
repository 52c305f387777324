-- Report rollup: how many cases there are per detection month and per every column a
-- report filters or groups by. Rows with indicator_id '' count cases; the others count
-- the indicators the cases cite. Kept in step with `cases` in each change's own
-- transaction (src/model/stats.rs); reports read whole months here and only the days
-- around them from `cases`. '' stands for "none" so that the key has no NULLs.
CREATE TABLE case_stats (
    indicator_id TEXT NOT NULL,
    detected_month DATE NOT NULL,
    subject_unit_id TEXT NOT NULL,
    responsible_unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    directive_id TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_measure TEXT NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id,
                 status, decision_measure)
);

INSERT INTO case_stats
SELECT '', date_trunc('month', c.detected_on)::date, c.subject_unit_id, COALESCE(c.responsible_unit_id, ''), c.campaign_id, c.directive_id,
       c.status, COALESCE(c.decision_measure, ''), COUNT(*)
FROM cases c
GROUP BY 2, 3, 4, 5, 6, 7, 8;

INSERT INTO case_stats
SELECT ci.indicator_id, date_trunc('month', c.detected_on)::date, c.subject_unit_id, COALESCE(c.responsible_unit_id, ''), c.campaign_id,
       c.directive_id, c.status, COALESCE(c.decision_measure, ''), COUNT(*)
FROM cases c JOIN case_indicators ci ON ci.case_id = c.id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- Distinct subjects are counted over cases, grouped by subject unit and subject. With
-- those first, an index scan meets each subject's cases together and both databases
-- count them without sorting; a subtree's subjects are a run of entries per unit.
-- Grouping by subject unit, status and measure now reads the rollup, so the index that
-- served it goes.
DROP INDEX cases_report_idx;
CREATE INDEX cases_subject_idx ON cases (subject_unit_id, subject_key, status);

-- A subtree's cases also include those its units are responsible for about subjects
-- elsewhere. The subject columns let that part be counted from the index entries.
DROP INDEX cases_responsible_unit_idx;
CREATE INDEX cases_responsible_unit_idx ON cases (responsible_unit_id, id, subject_unit_id, subject_key, status);
