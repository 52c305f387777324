-- One row that /readyz rewrites and commits, with a payload about the size of a large
-- case, so that readiness means "a write of that size reaches the disk", not only "the
-- database answers": a full disk or a lost database is reported before a person's write
-- meets it, and readiness returns as soon as such writes go through again.
CREATE TABLE service_probe (
    id        INTEGER PRIMARY KEY,
    probed_at TIMESTAMP NOT NULL,
    payload   TEXT NOT NULL
);
INSERT INTO service_probe (id, probed_at, payload) VALUES (1, CURRENT_TIMESTAMP, '');
