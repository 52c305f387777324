DROP TABLE alerts;
DROP TABLE outbox;
DROP TABLE escalation_steps;
