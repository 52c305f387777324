DROP INDEX outbox_recipient_idx;
ALTER TABLE users DROP COLUMN digest_daily_at;
