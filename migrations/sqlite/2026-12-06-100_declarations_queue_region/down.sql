DROP TRIGGER declarations_region_follows_employer;
DROP TRIGGER declarations_region_on_insert;
DROP INDEX declarations_queue_order;
ALTER TABLE declarations DROP COLUMN region;
