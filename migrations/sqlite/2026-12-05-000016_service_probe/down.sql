DROP TABLE service_probe;
