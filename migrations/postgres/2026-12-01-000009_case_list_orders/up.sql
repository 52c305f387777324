-- The console's case list sorts by deadline (nearest first) and by last activity (most
-- recent first), page by page on (key, id): each order walks an index in its order and
-- stops after a page, whatever the number of cases.
DROP INDEX cases_deadline_idx;
CREATE INDEX cases_deadline_idx ON cases (deadline_at, id);
CREATE INDEX cases_updated_idx ON cases (updated_at, id);
