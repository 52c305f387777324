-- A checkpoint can be mailed: an outbox message that carries the size of the checkpoint
-- it sends (NULL: an alert digest, as before).
ALTER TABLE outbox ADD COLUMN checkpoint_size BIGINT;
