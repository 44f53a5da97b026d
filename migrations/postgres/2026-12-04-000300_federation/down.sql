DROP TABLE notice_objections;
DROP INDEX declarations_queue;
ALTER TABLE declarations DROP COLUMN returned_by, DROP COLUMN returned_at, DROP COLUMN returned_reason;
