DROP TABLE hotspot_events;
DROP TABLE hotspots;
