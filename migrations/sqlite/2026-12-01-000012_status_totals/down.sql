DROP TABLE status_stats;
