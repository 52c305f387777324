DROP TABLE attachment_files;
