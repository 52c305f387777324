-- Evidence files themselves, stored once per content (by SHA-256) in the database, so
-- every instance reads what any instance stored, a backup holds them, and a file is
-- written in the same transaction as the attachment that names it. Files an earlier
-- version kept in `cases.attachment_dir` are moved in at startup (casework::adopt_files).
CREATE TABLE attachment_files (
    sha256      TEXT PRIMARY KEY,
    content     BLOB NOT NULL,
    size_bytes  INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
