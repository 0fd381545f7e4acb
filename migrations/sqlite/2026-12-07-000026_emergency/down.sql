DROP TABLE special_operation_tasks;
DROP TABLE special_operations;
DROP TABLE emergencies;
