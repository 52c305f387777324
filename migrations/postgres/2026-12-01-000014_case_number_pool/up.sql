-- Case numbers counted out ahead and not yet given to a case. A create takes the lowest
-- one (on PostgreSQL skipping those other creates hold), so creates do not wait for one
-- another; a create that rolls back puts its number back for the next. `case_counters`
-- now holds the last number counted into this pool (it held the last handed out, which
-- is where counting out resumes).
CREATE TABLE case_number_pool (
    year    INTEGER NOT NULL,
    number  BIGINT NOT NULL,
    PRIMARY KEY (year, number)
);
