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
    retired   BOOLEAN NOT NULL DEFAULT 0
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
    retired      BOOLEAN NOT NULL DEFAULT 0
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
    superseded   BOOLEAN NOT NULL DEFAULT 0,
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
-- they stood for (ít nghiêm trọng, nghiêm trọng, rất nghiêm trọng). SQLite cannot drop
-- the column's CHECK, so the table is rebuilt the documented way (migrations run with
-- foreign keys off and checked before they commit, db::migrate).
CREATE TABLE cases_graded (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL,
    campaign_id          TEXT NOT NULL REFERENCES campaigns (id),
    directive_id         TEXT NOT NULL REFERENCES directives (id),
    subject_kind         TEXT NOT NULL CHECK (subject_kind IN ('organization', 'individual')),
    subject_unit_id      TEXT NOT NULL REFERENCES units (id),
    person_name          TEXT,
    person_position      TEXT,
    -- Who the subject is, for counting distinct organisations and individuals.
    subject_key          TEXT NOT NULL,
    title                TEXT NOT NULL,
    description          TEXT NOT NULL,
    detected_on          DATE NOT NULL,
    severity             TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('open', 'in_handling', 'remediated', 'closed', 'dismissed')),
    responsible_unit_id  TEXT REFERENCES units (id),
    due_at               TIMESTAMP,
    -- The deadline that makes the case overdue in its current state (review deadline
    -- while open, due_at while in handling, none otherwise).
    deadline_at          TIMESTAMP,
    decision_measure     TEXT,
    decision_decided_on  DATE,
    decision_reference   TEXT,
    closed_at            TIMESTAMP,
    -- Title, description and subject names, lower-cased and without diacritics.
    search_text          TEXT NOT NULL,
    created_by           TEXT NOT NULL REFERENCES users (id),
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
INSERT INTO cases_graded (id, number, campaign_id, directive_id, subject_kind, subject_unit_id, person_name, person_position, subject_key, title, description, detected_on, severity, status, responsible_unit_id, due_at, deadline_at, decision_measure, decision_decided_on, decision_reference, closed_at, search_text, created_by, version, created_at, updated_at)
SELECT id, number, campaign_id, directive_id, subject_kind, subject_unit_id, person_name, person_position, subject_key, title, description, detected_on, CASE severity WHEN 'low' THEN 'less_serious' WHEN 'medium' THEN 'serious' WHEN 'high' THEN 'very_serious' ELSE severity END, status, responsible_unit_id, due_at, deadline_at, decision_measure, decision_decided_on, decision_reference, closed_at, search_text, created_by, version, created_at, updated_at
FROM cases;
DROP TABLE cases;
ALTER TABLE cases_graded RENAME TO cases;
CREATE UNIQUE INDEX cases_number_key ON cases (number);
CREATE INDEX cases_campaign_idx ON cases (campaign_id, id);
CREATE INDEX cases_subject_unit_idx ON cases (subject_unit_id, id);
CREATE INDEX cases_directive_idx ON cases (directive_id);
CREATE INDEX cases_created_by_idx ON cases (created_by);
CREATE INDEX cases_status_idx ON cases (status, id, subject_unit_id, responsible_unit_id);
CREATE INDEX cases_subject_idx ON cases (subject_unit_id, subject_key, status);
CREATE INDEX cases_responsible_unit_idx ON cases (responsible_unit_id, id, subject_unit_id, subject_key, status);
CREATE INDEX cases_detected_on_idx ON cases (detected_on, subject_unit_id, subject_key, status, deadline_at, id);
CREATE INDEX cases_status_deadline_idx ON cases (status, deadline_at, subject_unit_id, responsible_unit_id, id);
CREATE INDEX cases_deadline_idx ON cases (deadline_at, id);
CREATE INDEX cases_updated_idx ON cases (updated_at, id);

UPDATE cases SET decision_measure = (SELECT new FROM measure_renames WHERE old = decision_measure)
    WHERE decision_measure IN (SELECT old FROM measure_renames);
-- Each case's one decision becomes the first of its list, recorded when it was closed.
INSERT INTO case_decisions (id, case_id, system, measure, decided_on, reference, recorded_by, recorded_at)
SELECT c.id, c.id, COALESCE(r.system, 'other'), c.decision_measure, c.decision_decided_on, c.decision_reference,
       NULL, COALESCE(c.closed_at, c.updated_at)
FROM cases c LEFT JOIN measure_renames r ON r.new = c.decision_measure
WHERE c.decision_measure IS NOT NULL AND c.decision_decided_on IS NOT NULL;
DROP TABLE measure_renames;
