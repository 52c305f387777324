DROP TABLE unit_history;
DROP TABLE unit_successors;
DROP TABLE reorganisations;
DROP INDEX units_alive_idx;
UPDATE units SET kind = 'commune' WHERE kind = 'ward';
UPDATE units SET kind = 'other' WHERE kind = 'party_body';
ALTER TABLE units DROP COLUMN ended_on;
ALTER TABLE units DROP COLUMN established_on;
ALTER TABLE units DROP CONSTRAINT units_kind_check;
ALTER TABLE units ADD CONSTRAINT units_kind_check
    CHECK (kind IN ('city', 'department', 'district', 'commune', 'other'));
