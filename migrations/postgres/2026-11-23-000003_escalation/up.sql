-- One row per (case, deadline, level) that the escalation policy has decided:
-- the primary key is what makes each step alert exactly once, whoever sweeps.
-- fired = false records a lower level that was passed over because a higher one was due.
CREATE TABLE escalation_steps (
    case_id      TEXT NOT NULL REFERENCES cases (id),
    deadline_at  TIMESTAMP NOT NULL,
    level        TEXT NOT NULL,
    fired        BOOLEAN NOT NULL,
    decided_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, deadline_at, level)
);

-- The durable outbox: one email per row; the sender delivers, retries, gives up.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    recipient_email  TEXT NOT NULL,
    recipient_name   TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    claimed_until    TIMESTAMP,
    last_error       TEXT,
    message_id       TEXT NOT NULL,
    subject          TEXT,
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

-- One alert per recipient per step; what GET /me/notifications lists.
CREATE TABLE alerts (
    id                 TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (id),
    deadline_at        TIMESTAMP NOT NULL,
    level              TEXT NOT NULL,
    recipient_user_id  TEXT REFERENCES users (id),
    recipient_email    TEXT NOT NULL,
    recipient_name     TEXT NOT NULL,
    outbox_id          TEXT NOT NULL REFERENCES outbox (id),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'cancelled', 'failed')),
    created_at         TIMESTAMP NOT NULL,
    read_at            TIMESTAMP
);
CREATE INDEX alerts_recipient_idx ON alerts (recipient_user_id, id);
CREATE INDEX alerts_case_idx ON alerts (case_id);
CREATE INDEX alerts_outbox_idx ON alerts (outbox_id);
