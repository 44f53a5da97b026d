DROP TRIGGER declarations_region_follows_employer ON employers;
DROP FUNCTION declarations_region_follow_employer();
DROP TRIGGER declarations_region_on_insert ON declarations;
DROP FUNCTION declarations_region_of_employer();
DROP INDEX declarations_queue_order;
ALTER TABLE declarations DROP COLUMN region;
