-- Cases per status over the whole history, by every column a scope or an all-time report
-- filter looks at: what the review queue's counts and an all-time report's status figures
-- read. A few hundred rows where case_stats holds one per month, measure and status (the
-- queue summed 8,700 of those per page at 1,000,000 cases). Kept in step with `cases` in
-- each change's own transaction, like case_stats (src/model/rollup.rs).
CREATE TABLE status_stats (
    subject_unit_id TEXT NOT NULL,
    responsible_unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    directive_id TEXT NOT NULL,
    status TEXT NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status)
);

INSERT INTO status_stats
SELECT subject_unit_id, COALESCE(responsible_unit_id, ''), campaign_id, directive_id, status, COUNT(*)
FROM cases
GROUP BY 1, 2, 3, 4, 5;

CREATE INDEX status_stats_responsible ON status_stats (responsible_unit_id);
CREATE INDEX status_stats_campaign ON status_stats (campaign_id);
