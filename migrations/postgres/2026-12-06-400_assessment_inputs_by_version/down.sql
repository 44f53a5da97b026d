ALTER TABLE assessments DROP COLUMN registered_on;
