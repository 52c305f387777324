-- Registers imported from spreadsheets (src/import/): one row per import, and one per
-- imported row, keyed by the row's original reference (or its content), so that the same
-- file imported again creates nothing new.
CREATE TABLE imports (
    id                TEXT PRIMARY KEY,
    file_name         TEXT NOT NULL,
    digest            TEXT NOT NULL,
    imported_by       TEXT NOT NULL REFERENCES users (id),
    imported_at       TIMESTAMP NOT NULL,
    rows_read         BIGINT NOT NULL,
    cases_created     BIGINT NOT NULL,
    subjects_created  BIGINT NOT NULL,
    subjects_matched  BIGINT NOT NULL,
    decisions_created BIGINT NOT NULL,
    already_imported  BIGINT NOT NULL,
    rows_skipped      BIGINT NOT NULL,
    encoding          TEXT
);
CREATE INDEX imports_by_idx ON imports (imported_by, id);

CREATE TABLE import_rows (
    row_key   TEXT PRIMARY KEY,
    import_id TEXT NOT NULL REFERENCES imports (id),
    line      BIGINT NOT NULL,
    case_id   TEXT NOT NULL REFERENCES cases (id)
);
CREATE INDEX import_rows_import_idx ON import_rows (import_id, line);
CREATE INDEX import_rows_case_idx ON import_rows (case_id);
