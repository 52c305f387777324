DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
ALTER TABLE units DROP CONSTRAINT units_head_user_fk;
DROP TABLE users;
DROP TABLE unit_closure;
DROP TABLE units;
