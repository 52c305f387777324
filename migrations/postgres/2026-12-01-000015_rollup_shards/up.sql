-- The case and status rollups in shards. On PostgreSQL a change adds its counts to one
-- of shards 1–8, picked at random, so that creates of the same campaign, unit and month
-- do not queue for one row's lock until each one's commit; the sweep folds those rows
-- back into shard 0 (src/model/rollup.rs). Every reader sums over the shards already.
-- SQLite, with one writer at a time, writes shard 0 only.
ALTER TABLE case_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE case_stats DROP CONSTRAINT case_stats_pkey;
ALTER TABLE case_stats ADD PRIMARY KEY (indicator_id, detected_month, subject_unit_id, responsible_unit_id,
                                        campaign_id, directive_id, status, decision_measure, shard);
CREATE INDEX case_stats_unfolded ON case_stats (shard) WHERE shard <> 0;

ALTER TABLE status_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE status_stats DROP CONSTRAINT status_stats_pkey;
ALTER TABLE status_stats ADD PRIMARY KEY (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, shard);
CREATE INDEX status_stats_unfolded ON status_stats (shard) WHERE shard <> 0;
