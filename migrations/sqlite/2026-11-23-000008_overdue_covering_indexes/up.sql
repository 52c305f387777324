-- Reports count overdue cases, and the indicators they cite, by reading the cases the
-- index of the cut finds. Both indexes below found the right cases but sent SQLite to
-- each case row for the rest; with the columns those passes read beside the key, the
-- index answers alone (measured on a million cases, SQLite):
--
-- * A period's overdue passes seek the date index. With only the subject columns there,
--   each of the period's case rows was read to test the deadline: 85,000 rows for one
--   year, 160 ms of a 250 ms report; 12 ms with the deadline and the id.
-- * An all-time report's overdue passes seek (status, deadline_at) and then read each
--   overdue case for its units and id: 176 ms for 6,353 overdue cases; 2 ms covered.
DROP INDEX cases_detected_on_idx;
CREATE INDEX cases_detected_on_idx ON cases (detected_on, subject_unit_id, subject_key, status, deadline_at, id);
DROP INDEX cases_status_deadline_idx;
CREATE INDEX cases_status_deadline_idx ON cases (status, deadline_at, subject_unit_id, responsible_unit_id, id);
