DROP INDEX employers_notice_order;
DROP TABLE notice_entries;
DROP FUNCTION notice_entries_frozen();
ALTER TABLE notices DROP COLUMN entries_in_rows;
