DROP INDEX case_stats_unfolded;
DROP INDEX status_stats_unfolded;
INSERT INTO case_stats (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id,
                        directive_id, status, decision_measure, cases, shard)
SELECT indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, status,
       decision_measure, SUM(cases)::integer, 0
FROM case_stats WHERE shard <> 0 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, status,
             decision_measure, shard) DO UPDATE SET cases = case_stats.cases + excluded.cases;
DELETE FROM case_stats WHERE shard <> 0;
ALTER TABLE case_stats DROP CONSTRAINT case_stats_pkey;
ALTER TABLE case_stats DROP COLUMN shard;
ALTER TABLE case_stats ADD PRIMARY KEY (indicator_id, detected_month, subject_unit_id, responsible_unit_id,
                                        campaign_id, directive_id, status, decision_measure);
INSERT INTO status_stats (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, cases, shard)
SELECT subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, SUM(cases)::integer, 0
FROM status_stats WHERE shard <> 0 GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, shard)
DO UPDATE SET cases = status_stats.cases + excluded.cases;
DELETE FROM status_stats WHERE shard <> 0;
ALTER TABLE status_stats DROP CONSTRAINT status_stats_pkey;
ALTER TABLE status_stats DROP COLUMN shard;
ALTER TABLE status_stats ADD PRIMARY KEY (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status);
