DROP TRIGGER departments_code_moves_auth ON departments;
DROP TRIGGER grants_change_moves_auth ON role_assignments;
DROP TRIGGER users_change_moves_auth ON users;
DROP TRIGGER sessions_end_moves_auth ON sessions;
DROP FUNCTION gridwork_auth_changed();
DROP TABLE cluster_generations;
