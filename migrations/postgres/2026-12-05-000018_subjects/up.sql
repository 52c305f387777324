-- The people and bodies cases are about, as records. A person keeps the full name as
-- written (NFC, diacritics kept): two names that differ only in diacritics are two
-- people. A body is a unit of the tree (no name) or a named body inside one. The unit
-- and position are the current ones; subject_history keeps the earlier ones. A record
-- merged into another keeps its row and names the one that absorbed it.
CREATE TABLE subjects (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('organization', 'individual')),
    name         TEXT,
    unit_id      TEXT NOT NULL REFERENCES units (id),
    position     TEXT,
    -- Categories (party_member, civil_servant, …), space-separated; empty: not known.
    categories   TEXT NOT NULL DEFAULT '',
    identifier   TEXT,
    -- The name lower-cased and without diacritics, for searching as it is typed.
    search_name  TEXT NOT NULL,
    merged_into  TEXT REFERENCES subjects (id),
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX subjects_search_idx ON subjects (search_name, id);
CREATE INDEX subjects_unit_idx ON subjects (unit_id, kind, search_name);

CREATE TABLE subject_history (
    id          TEXT PRIMARY KEY,
    subject_id  TEXT NOT NULL REFERENCES subjects (id),
    unit_id     TEXT NOT NULL REFERENCES units (id),
    position    TEXT,
    -- When the subject left this unit or position (the moment of the change).
    ended_at    TIMESTAMP NOT NULL,
    changed_by  TEXT REFERENCES users (id)
);
CREATE INDEX subject_history_subject_idx ON subject_history (subject_id, ended_at);

ALTER TABLE cases ADD COLUMN subject_id TEXT REFERENCES subjects (id);

-- One record per subject of the cases logged so far: a body per unit, a person per
-- unit and name exactly as written (the old key folded diacritics away and merged
-- "Hùng" with "Hưng"). A record takes the id of its first case.
CREATE TABLE subject_map (
    unit_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    id       TEXT NOT NULL,
    PRIMARY KEY (unit_id, kind, name)
);
INSERT INTO subject_map
SELECT subject_unit_id, subject_kind, COALESCE(person_name, ''), MIN(id) FROM cases
GROUP BY subject_unit_id, subject_kind, COALESCE(person_name, '');
INSERT INTO subjects (id, kind, name, unit_id, position, search_name, created_at, updated_at)
SELECT m.id, c.subject_kind, c.person_name, c.subject_unit_id, c.person_position,
       CASE WHEN c.subject_kind = 'individual' THEN substr(c.subject_key, length(c.subject_unit_id) + 9) ELSE '' END,
       c.created_at, c.created_at
FROM subject_map m JOIN cases c ON c.id = m.id;
UPDATE cases SET subject_id = (
    SELECT m.id FROM subject_map m
    WHERE m.unit_id = cases.subject_unit_id AND m.kind = cases.subject_kind AND m.name = COALESCE(cases.person_name, ''));
DROP TABLE subject_map;
CREATE INDEX cases_subject_id_idx ON cases (subject_id, detected_on);

-- A subject is now counted by its record, wherever its cases were found: the rollup
-- holds a row per (subject unit, subject), and a report counts distinct subjects.
UPDATE cases SET subject_key = subject_id;
DROP TABLE subject_stats;
CREATE TABLE subject_stats (
    subject_unit_id  TEXT NOT NULL,
    subject_key      TEXT NOT NULL,
    detected         INTEGER NOT NULL,
    unhandled        INTEGER NOT NULL,
    PRIMARY KEY (subject_unit_id, subject_key)
);
CREATE INDEX subject_stats_key_idx ON subject_stats (subject_key, detected, unhandled);
INSERT INTO subject_stats
SELECT subject_unit_id, subject_key,
       SUM(CASE WHEN status <> 'dismissed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status NOT IN ('dismissed', 'closed') THEN 1 ELSE 0 END)
FROM cases GROUP BY subject_unit_id, subject_key;
DELETE FROM responsible_subject_stats;
INSERT INTO responsible_subject_stats
SELECT responsible_unit_id, subject_key, MIN(subject_unit_id),
       SUM(CASE WHEN status <> 'dismissed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status NOT IN ('dismissed', 'closed') THEN 1 ELSE 0 END)
FROM cases WHERE responsible_unit_id IS NOT NULL GROUP BY responsible_unit_id, subject_key;

-- The directive's title as issued, where the shipped catalog's wrong one was never replaced.
UPDATE directives
SET title = 'Chỉ thị 24-CT/TU về tăng cường kỷ cương, kỷ luật và trách nhiệm giải quyết công việc trong hệ thống chính trị thành phố Hà Nội',
    note = 'Nội dung 25 biểu hiện là bản diễn giải để làm việc (working paraphrase), chưa phải nguyên văn chỉ thị; cần thay bằng văn bản chính thức.'
WHERE code = '24-CT/TU' AND title = 'Chỉ thị 24-CT/TU về tăng cường kỷ luật, kỷ cương, trách nhiệm trong thực thi công vụ';
