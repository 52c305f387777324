-- A unit's report counts the subjects of its subtree and also those reached only
-- because one of its units was made responsible for a case. Counting the latter over
-- cases reads every case the units are responsible for; this rollup holds one row per
-- (responsible unit, subject) instead, kept like subject_stats: standing cases (all but
-- dismissed) and, of those, the ones not closed.
CREATE TABLE responsible_subject_stats (
    responsible_unit_id TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    subject_unit_id TEXT NOT NULL,
    detected INTEGER NOT NULL,
    unhandled INTEGER NOT NULL,
    PRIMARY KEY (responsible_unit_id, subject_key)
);

INSERT INTO responsible_subject_stats
SELECT responsible_unit_id, subject_key, MIN(subject_unit_id),
       SUM(CASE WHEN status <> 'dismissed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status NOT IN ('dismissed', 'closed') THEN 1 ELSE 0 END)
FROM cases
WHERE responsible_unit_id IS NOT NULL
GROUP BY responsible_unit_id, subject_key;
