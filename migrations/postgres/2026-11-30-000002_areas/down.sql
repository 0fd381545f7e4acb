DROP TABLE area_cells;
DROP TABLE areas;
