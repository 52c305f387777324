DROP TABLE responsible_subject_stats;
