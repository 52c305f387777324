CREATE TABLE case_stats_whole (
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
INSERT INTO case_stats_whole
SELECT indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, status,
       decision_measure, SUM(cases)
FROM case_stats GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
DROP TABLE case_stats;
ALTER TABLE case_stats_whole RENAME TO case_stats;

CREATE TABLE status_stats_whole (
    subject_unit_id TEXT NOT NULL,
    responsible_unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    directive_id TEXT NOT NULL,
    status TEXT NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status)
);
INSERT INTO status_stats_whole
SELECT subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, SUM(cases)
FROM status_stats GROUP BY 1, 2, 3, 4, 5;
DROP TABLE status_stats;
ALTER TABLE status_stats_whole RENAME TO status_stats;
CREATE INDEX status_stats_responsible ON status_stats (responsible_unit_id);
CREATE INDEX status_stats_campaign ON status_stats (campaign_id);
