DROP TABLE event_excuses;
