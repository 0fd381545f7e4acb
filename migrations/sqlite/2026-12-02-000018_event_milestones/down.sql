DROP TABLE event_milestones;
