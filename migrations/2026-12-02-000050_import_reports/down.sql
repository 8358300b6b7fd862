DROP TABLE import_reports;
