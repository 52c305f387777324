-- The tamper-evident ledger (src/ledger/): audit entries, timeline events and evidence
-- file digests are sealed, in order, as the records of an RFC 6962 Merkle tree.
--
-- seal_mark orders the entries as they became visible: the id of the transaction that
-- wrote each one. The sealer takes only entries of transactions older than every one
-- still running, so no entry can later appear before the last one sealed, and writers
-- take no lock for it.
ALTER TABLE audit_log ADD COLUMN seal_mark BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE case_events ADD COLUMN seal_mark BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE case_attachments ADD COLUMN seal_mark BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_log_seal_idx ON audit_log (seal_mark, id);
CREATE INDEX case_events_seal_idx ON case_events (seal_mark, id);
CREATE INDEX case_attachments_seal_idx ON case_attachments (seal_mark, id);

-- One row per sealed entry: its place in the tree (seq, from 0), which entry, and the
-- mark it was sealed at.
CREATE TABLE ledger (
    seq       BIGINT PRIMARY KEY,
    stream    TEXT NOT NULL,
    entry_id  TEXT NOT NULL,
    mark      BIGINT NOT NULL,
    sealed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ledger_entry_idx ON ledger (stream, entry_id);
CREATE INDEX ledger_stream_seq_idx ON ledger (stream, seq);

-- The tree's stored hashes (tlog's numbering: record hashes and every complete subtree),
-- hex; from them the root of any size and the proof that a record is included.
CREATE TABLE ledger_hashes (
    idx  BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

-- Signed checkpoints (C2SP signed-note text), as made.
CREATE TABLE ledger_checkpoints (
    size    BIGINT PRIMARY KEY,
    root    TEXT NOT NULL,
    note    TEXT NOT NULL,
    made_at TIMESTAMP NOT NULL
);
