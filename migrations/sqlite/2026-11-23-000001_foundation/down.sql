DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE unit_closure;
DROP TABLE units;
