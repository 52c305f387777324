-- The case and status rollups in shards. On PostgreSQL a change adds its counts to one
-- of shards 1–8, picked at random, so that creates of the same campaign, unit and month
-- do not queue for one row's lock until each one's commit; the sweep folds those rows
-- back into shard 0 (src/model/rollup.rs). Every reader sums over the shards already.
-- SQLite, with one writer at a time, writes shard 0 only; the column keeps the two
-- schemas alike. SQLite cannot change a primary key, so the tables are copied.
CREATE TABLE case_stats_sharded (
    indicator_id TEXT NOT NULL,
    detected_month DATE NOT NULL,
    subject_unit_id TEXT NOT NULL,
    responsible_unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    directive_id TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_measure TEXT NOT NULL,
    cases INTEGER NOT NULL,
    shard SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id,
                 status, decision_measure, shard)
);
INSERT INTO case_stats_sharded SELECT *, 0 FROM case_stats;
DROP TABLE case_stats;
ALTER TABLE case_stats_sharded RENAME TO case_stats;
CREATE INDEX case_stats_unfolded ON case_stats (shard) WHERE shard <> 0;

CREATE TABLE status_stats_sharded (
    subject_unit_id TEXT NOT NULL,
    responsible_unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    directive_id TEXT NOT NULL,
    status TEXT NOT NULL,
    cases INTEGER NOT NULL,
    shard SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, shard)
);
INSERT INTO status_stats_sharded SELECT *, 0 FROM status_stats;
DROP TABLE status_stats;
ALTER TABLE status_stats_sharded RENAME TO status_stats;
CREATE INDEX status_stats_responsible ON status_stats (responsible_unit_id);
CREATE INDEX status_stats_campaign ON status_stats (campaign_id);
CREATE INDEX status_stats_unfolded ON status_stats (shard) WHERE shard <> 0;
