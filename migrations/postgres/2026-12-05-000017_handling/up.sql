-- The handling catalog (config/measures/): severity levels and decision measures, with
-- the text each comes from and the days it is in force. Rows are never deleted: one
-- dropped from a newer catalog is marked retired, so the cases and decisions that name
-- it keep their meaning. Aliases are the codes earlier versions used, space-separated.
CREATE TABLE severity_levels (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    rank      INTEGER NOT NULL,
    aliases   TEXT NOT NULL DEFAULT '',
    basis     TEXT NOT NULL,
    retired   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE measures (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    system       TEXT NOT NULL CHECK (system IN ('party', 'state', 'other')),
    -- Subject categories, space-separated.
    applies_to   TEXT NOT NULL,
    aliases      TEXT NOT NULL DEFAULT '',
    basis        TEXT NOT NULL,
    valid_from   DATE,
    valid_until  DATE,
    position     INTEGER NOT NULL,
    retired      BOOLEAN NOT NULL DEFAULT FALSE
);

-- Which version of the handling catalog is loaded (one row).
CREATE TABLE handling_catalog (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     TEXT NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

-- The decisions on a case, party and state ones side by side. A correction is a new row
-- that names the row it corrects; the corrected row is kept and marked superseded.
CREATE TABLE case_decisions (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    system       TEXT NOT NULL CHECK (system IN ('party', 'state', 'other')),
    authority    TEXT,
    measure      TEXT NOT NULL,
    decided_on   DATE NOT NULL,
    reference    TEXT,
    note         TEXT,
    corrects     TEXT REFERENCES case_decisions (id),
    superseded   BOOLEAN NOT NULL DEFAULT FALSE,
    recorded_by  TEXT REFERENCES users (id),
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_decisions_case_idx ON case_decisions (case_id, recorded_at, id);
CREATE INDEX case_decisions_measure_idx ON case_decisions (system, measure, case_id);

-- The codes of the flat list become the measures of their systems: the forms the party
-- and the state share are taken as party discipline (the directive is the party's), the
-- two forms only the state has as state discipline.
CREATE TABLE measure_renames (old TEXT PRIMARY KEY, new TEXT NOT NULL, system TEXT NOT NULL);
INSERT INTO measure_renames VALUES
    ('reprimand', 'party_reprimand', 'party'),
    ('warning', 'party_warning', 'party'),
    ('removal_from_post', 'party_removal', 'party'),
    ('expulsion', 'party_expulsion', 'party'),
    ('salary_downgrade', 'state_salary_downgrade', 'state'),
    ('forced_dismissal', 'state_forced_dismissal', 'state');
UPDATE case_stats SET decision_measure = (SELECT new FROM measure_renames WHERE old = decision_measure)
    WHERE decision_measure IN (SELECT old FROM measure_renames);

-- Severity is graded by the catalog's levels: low, medium and high become the levels
-- they stood for (ít nghiêm trọng, nghiêm trọng, rất nghiêm trọng).
ALTER TABLE cases DROP CONSTRAINT cases_severity_check;
UPDATE cases SET severity = CASE severity WHEN 'low' THEN 'less_serious' WHEN 'medium' THEN 'serious'
    ELSE 'very_serious' END
    WHERE severity IN ('low', 'medium', 'high');

UPDATE cases SET decision_measure = (SELECT new FROM measure_renames WHERE old = decision_measure)
    WHERE decision_measure IN (SELECT old FROM measure_renames);
-- Each case's one decision becomes the first of its list, recorded when it was closed.
INSERT INTO case_decisions (id, case_id, system, measure, decided_on, reference, recorded_by, recorded_at)
SELECT c.id, c.id, COALESCE(r.system, 'other'), c.decision_measure, c.decision_decided_on, c.decision_reference,
       NULL, COALESCE(c.closed_at, c.updated_at)
FROM cases c LEFT JOIN measure_renames r ON r.new = c.decision_measure
WHERE c.decision_measure IS NOT NULL AND c.decision_decided_on IS NOT NULL;
DROP TABLE measure_renames;
