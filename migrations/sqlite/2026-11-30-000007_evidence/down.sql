DROP TABLE evidence_uploads;
DROP TABLE evidence;
DROP TABLE evidence_blobs;
