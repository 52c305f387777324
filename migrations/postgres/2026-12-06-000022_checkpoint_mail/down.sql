ALTER TABLE outbox DROP COLUMN checkpoint_size;
