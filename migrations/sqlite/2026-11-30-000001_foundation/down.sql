DROP TABLE audit_log;
DROP TABLE login_throttle;
DROP TABLE role_assignments;
DROP TABLE departments;
DROP TABLE sessions;
DROP TABLE users;
