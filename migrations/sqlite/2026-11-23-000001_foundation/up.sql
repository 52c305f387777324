-- Units form a tree; unit_closure holds every (ancestor, descendant) pair so
-- that "everything in this unit's subtree" is one indexed join on both backends.
CREATE TABLE units (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('city', 'department', 'district', 'commune', 'other')),
    parent_id     TEXT REFERENCES units (id),
    head_user_id  TEXT REFERENCES users (id),
    email         TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX units_code_key ON units (code);
CREATE INDEX units_parent_idx ON units (parent_id);
CREATE INDEX units_kind_idx ON units (kind);

CREATE TABLE unit_closure (
    ancestor_id   TEXT NOT NULL REFERENCES units (id),
    descendant_id TEXT NOT NULL REFERENCES units (id),
    depth         INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX unit_closure_descendant_idx ON unit_closure (descendant_id);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL,
    full_name            TEXT NOT NULL,
    email                TEXT,
    role                 TEXT NOT NULL CHECK (role IN ('admin', 'inspector', 'reviewer', 'unit_head')),
    unit_id              TEXT REFERENCES units (id),
    active               BOOLEAN NOT NULL DEFAULT 1,
    password_hash        TEXT NOT NULL,
    password_changed_at  TIMESTAMP NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_unit_idx ON users (unit_id);
CREATE INDEX users_role_idx ON users (role);


-- One row per sign-in; revoking it ends its access and refresh tokens.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    client_addr  TEXT,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Refresh tokens are stored only as SHA-256 digests; used_at marks a spent one.
CREATE TABLE refresh_tokens (
    token_hash   TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (id),
    issued_at    TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE login_failures (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    client_addr  TEXT NOT NULL,
    failed_at    TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, failed_at);
CREATE INDEX login_failures_addr_idx ON login_failures (client_addr, failed_at);

-- Append-only record of every write: who, when, from where, before and after (JSON text).
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           TIMESTAMP NOT NULL,
    actor_id     TEXT REFERENCES users (id),
    client_addr  TEXT,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    before       TEXT,
    after        TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
