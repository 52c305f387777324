-- A person may take their alerts once a day at a local time ('HH:MM') instead of in a
-- digest each sweep (NULL).
ALTER TABLE users ADD COLUMN digest_daily_at TEXT;
-- The sweep finds the daily digest already waiting for a recipient.
CREATE INDEX outbox_recipient_idx ON outbox (recipient_email, status, next_attempt_at);
