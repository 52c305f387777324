DROP TABLE case_number_pool;
