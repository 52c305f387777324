-- A case about a named body inside a unit ("Phòng Tài nguyên và Môi trường") keeps that
-- name as it was logged, beside the person's name and position of a case about a person.
ALTER TABLE cases ADD COLUMN body_name TEXT;

-- The identifier an agency gives a person finds their record when a case is logged.
CREATE INDEX subjects_identifier_idx ON subjects (identifier) WHERE identifier IS NOT NULL;
