DROP INDEX cases_report_idx;
