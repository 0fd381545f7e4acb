DROP TABLE service_records;
DROP TABLE volunteer_applications;
