DROP TABLE open311_requests;
DROP TABLE open311_clients;
