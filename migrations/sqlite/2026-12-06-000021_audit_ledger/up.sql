-- The tamper-evident ledger (src/ledger/): audit entries, timeline events and evidence
-- file digests are sealed, in order, as the records of an RFC 6962 Merkle tree.
--
-- seal_mark orders the entries as they were written: a counter per stream that a
-- trigger moves on every insert. SQLite has one writer at a time and the sealer is one
-- of them, so an entry can never appear before the last one sealed.
CREATE TABLE ledger_marks (
    stream TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
);
ALTER TABLE audit_log ADD COLUMN seal_mark INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_events ADD COLUMN seal_mark INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_attachments ADD COLUMN seal_mark INTEGER NOT NULL DEFAULT 0;
UPDATE audit_log SET seal_mark = rowid;
UPDATE case_events SET seal_mark = rowid;
UPDATE case_attachments SET seal_mark = rowid;
INSERT INTO ledger_marks (stream, last) VALUES
    ('audit', (SELECT COALESCE(MAX(seal_mark), 0) FROM audit_log)),
    ('event', (SELECT COALESCE(MAX(seal_mark), 0) FROM case_events)),
    ('file', (SELECT COALESCE(MAX(seal_mark), 0) FROM case_attachments));
CREATE INDEX audit_log_seal_idx ON audit_log (seal_mark, id);
CREATE INDEX case_events_seal_idx ON case_events (seal_mark, id);
CREATE INDEX case_attachments_seal_idx ON case_attachments (seal_mark, id);

CREATE TRIGGER audit_log_seal_mark AFTER INSERT ON audit_log BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'audit';
    UPDATE audit_log SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'audit') WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_events_seal_mark AFTER INSERT ON case_events BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'event';
    UPDATE case_events SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'event') WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER case_attachments_seal_mark AFTER INSERT ON case_attachments BEGIN
    UPDATE ledger_marks SET last = last + 1 WHERE stream = 'file';
    UPDATE case_attachments SET seal_mark = (SELECT last FROM ledger_marks WHERE stream = 'file') WHERE rowid = NEW.rowid;
END;

CREATE TABLE ledger (
    seq       BIGINT PRIMARY KEY,
    stream    TEXT NOT NULL,
    entry_id  TEXT NOT NULL,
    mark      BIGINT NOT NULL,
    sealed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ledger_entry_idx ON ledger (stream, entry_id);
CREATE INDEX ledger_stream_seq_idx ON ledger (stream, seq);

CREATE TABLE ledger_hashes (
    idx  BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE ledger_checkpoints (
    size    BIGINT PRIMARY KEY,
    root    TEXT NOT NULL,
    note    TEXT NOT NULL,
    made_at TIMESTAMP NOT NULL
);
