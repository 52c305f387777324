-- Units with a life: the day a unit was established and the day it ended, the units
-- that succeeded it, its names and places before each change, and the reorganisations
-- that made the changes. A unit that ends keeps its row (its cases keep pointing at it)
-- and moves under its first successor in the tree, so that the successor's people and
-- reports reach its whole history.
-- SQLite cannot change a CHECK in place: the table is rebuilt as SQLite documents
-- (foreign keys are off while migrations run, and checked after).
CREATE TABLE units_alive (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('city', 'department', 'party_body', 'district', 'ward', 'commune', 'other')),
    parent_id       TEXT REFERENCES units (id),
    head_user_id    TEXT,
    email           TEXT,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    -- NULL: established before the records begin.
    established_on  DATE,
    -- The first day the unit no longer exists; NULL while it does.
    ended_on        DATE
);
INSERT INTO units_alive (id, code, name, kind, parent_id, head_user_id, email, version, created_at, updated_at)
SELECT id, code, name, kind, parent_id, head_user_id, email, version, created_at, updated_at FROM units;
DROP TABLE units;
ALTER TABLE units_alive RENAME TO units;
CREATE UNIQUE INDEX units_code_key ON units (code);
CREATE INDEX units_parent_idx ON units (parent_id);
CREATE INDEX units_kind_idx ON units (kind);
-- Wards were kept as communes before the kind existed; their names say which they are.
UPDATE units SET kind = 'ward' WHERE kind = 'commune' AND name LIKE 'Phường %';
CREATE INDEX units_alive_idx ON units (ended_on, parent_id);

CREATE TABLE reorganisations (
    id               TEXT PRIMARY KEY,
    effective_on     DATE NOT NULL,
    basis_reference  TEXT NOT NULL,
    basis_issued_on  DATE,
    basis_title      TEXT NOT NULL,
    -- The steps as asked for and what applying them did, as JSON.
    steps            TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    applied_by       TEXT NOT NULL REFERENCES users (id),
    applied_at       TIMESTAMP NOT NULL
);
CREATE INDEX reorganisations_effective_idx ON reorganisations (effective_on, id);

-- Who took over from an ended unit, first successor first.
CREATE TABLE unit_successors (
    unit_id            TEXT NOT NULL REFERENCES units (id),
    successor_id       TEXT NOT NULL REFERENCES units (id),
    position           INTEGER NOT NULL,
    reorganisation_id  TEXT REFERENCES reorganisations (id),
    PRIMARY KEY (unit_id, successor_id)
);
CREATE INDEX unit_successors_successor_idx ON unit_successors (successor_id);

-- A unit as it was until a change took effect: its name, kind and parent from the
-- previous change (or its establishment) up to the day before valid_until.
CREATE TABLE unit_history (
    unit_id            TEXT NOT NULL REFERENCES units (id),
    valid_until        DATE NOT NULL,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    parent_id          TEXT REFERENCES units (id),
    reorganisation_id  TEXT REFERENCES reorganisations (id),
    PRIMARY KEY (unit_id, valid_until)
);
