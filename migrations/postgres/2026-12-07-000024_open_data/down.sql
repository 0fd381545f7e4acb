DROP TABLE open_data_areas;
