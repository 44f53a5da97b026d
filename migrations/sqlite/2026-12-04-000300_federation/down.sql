DROP TABLE notice_objections;
DROP INDEX declarations_queue;
ALTER TABLE declarations DROP COLUMN returned_by;
ALTER TABLE declarations DROP COLUMN returned_at;
ALTER TABLE declarations DROP COLUMN returned_reason;
