DROP INDEX employers_notice_order;
DROP TRIGGER notice_entries_never_deleted;
DROP TRIGGER notice_entries_never_updated;
DROP TRIGGER notice_entries_never_added;
DROP TABLE notice_entries;
ALTER TABLE notices DROP COLUMN entries_in_rows;
