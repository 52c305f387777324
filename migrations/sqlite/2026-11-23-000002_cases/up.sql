-- Catalogs: a directive (or resolution, plan) and its indicators, loaded from files.
CREATE TABLE directives (
    id               TEXT PRIMARY KEY,
    code             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('directive', 'resolution', 'plan')),
    title            TEXT NOT NULL,
    issued_on        DATE,
    issuer           TEXT,
    catalog_version  TEXT NOT NULL,
    note             TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX directives_code_key ON directives (code);

-- Indicators are never deleted: one dropped from a newer catalog is marked retired,
-- so cases that cite it keep their meaning.
CREATE TABLE indicators (
    id            TEXT PRIMARY KEY,
    directive_id  TEXT NOT NULL REFERENCES directives (id),
    code          TEXT NOT NULL,
    group_code    TEXT NOT NULL,
    group_title   TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    position      INTEGER NOT NULL,
    retired       BOOLEAN NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX indicators_directive_code_key ON indicators (directive_id, code);

CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('inspection', 'supervision', 'duty_audit')),
    directive_id  TEXT NOT NULL REFERENCES directives (id),
    starts_on     DATE NOT NULL,
    ends_on       DATE NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('planned', 'active', 'concluded')),
    lead_id       TEXT NOT NULL REFERENCES users (id),
    created_by    TEXT NOT NULL REFERENCES users (id),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_directive_idx ON campaigns (directive_id);
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- The lead is always also a member.
CREATE TABLE campaign_members (
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX campaign_members_user_idx ON campaign_members (user_id);

CREATE TABLE campaign_targets (
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    unit_id      TEXT NOT NULL REFERENCES units (id),
    PRIMARY KEY (campaign_id, unit_id)
);
CREATE INDEX campaign_targets_unit_idx ON campaign_targets (unit_id);

-- Last case number handed out per year (numbers read 2024-000123).
CREATE TABLE case_counters (
    year         INTEGER PRIMARY KEY,
    last_number  INTEGER NOT NULL
);

CREATE TABLE cases (
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
    severity             TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
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
CREATE UNIQUE INDEX cases_number_key ON cases (number);
CREATE INDEX cases_campaign_idx ON cases (campaign_id, id);
CREATE INDEX cases_subject_unit_idx ON cases (subject_unit_id, id);
CREATE INDEX cases_responsible_unit_idx ON cases (responsible_unit_id, id);
CREATE INDEX cases_status_idx ON cases (status, id);
CREATE INDEX cases_deadline_idx ON cases (deadline_at);
CREATE INDEX cases_detected_on_idx ON cases (detected_on);
CREATE INDEX cases_directive_idx ON cases (directive_id);
CREATE INDEX cases_created_by_idx ON cases (created_by);

CREATE TABLE case_indicators (
    case_id       TEXT NOT NULL REFERENCES cases (id),
    indicator_id  TEXT NOT NULL REFERENCES indicators (id),
    PRIMARY KEY (case_id, indicator_id)
);
CREATE INDEX case_indicators_indicator_idx ON case_indicators (indicator_id, case_id);

-- The case timeline: append-only.
CREATE TABLE case_events (
    id        TEXT PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases (id),
    at        TIMESTAMP NOT NULL,
    actor_id  TEXT REFERENCES users (id),
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);

CREATE TABLE case_comments (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    author_id   TEXT NOT NULL REFERENCES users (id),
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_comments_case_idx ON case_comments (case_id, id);

CREATE TABLE case_attachments (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX case_attachments_case_idx ON case_attachments (case_id, id);
