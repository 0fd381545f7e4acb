DROP TABLE department_systems;
