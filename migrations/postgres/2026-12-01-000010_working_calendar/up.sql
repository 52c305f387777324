-- The working-day calendar: per year, public holidays and the make-up working days
-- moved onto weekends. Deadlines counted in working days read it when they are set.
CREATE TABLE calendar_days (
    day          DATE PRIMARY KEY,
    year         INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('holiday', 'working')),
    name         TEXT NOT NULL,
    provisional  BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX calendar_days_year_idx ON calendar_days (year);
