DROP INDEX subjects_identifier_idx;
ALTER TABLE cases DROP COLUMN body_name;
