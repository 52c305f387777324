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

-- Subjects over the whole history: per subject, how many of its cases stand (all but
-- dismissed) and how many of those are not closed. Distinct subjects are not additive
-- across months, so a report over all time counts these rows (one per organisation or
-- individual) instead of grouping every case; kept in step like case_stats.
CREATE TABLE subject_stats (
    subject_key TEXT PRIMARY KEY NOT NULL,
    subject_unit_id TEXT NOT NULL,
    detected INTEGER NOT NULL,
    unhandled INTEGER NOT NULL
);
CREATE INDEX subject_stats_unit_idx ON subject_stats (subject_unit_id, detected, unhandled);

INSERT INTO subject_stats
SELECT subject_key, MIN(subject_unit_id),
       SUM(CASE WHEN status <> 'dismissed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status NOT IN ('dismissed', 'closed') THEN 1 ELSE 0 END)
FROM cases
GROUP BY subject_key;

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

-- A report for a period counts that period's distinct subjects: with the subject columns
-- beside the date, the period's cases are counted from index entries.
DROP INDEX cases_detected_on_idx;
CREATE INDEX cases_detected_on_idx ON cases (detected_on, subject_unit_id, subject_key, status);
