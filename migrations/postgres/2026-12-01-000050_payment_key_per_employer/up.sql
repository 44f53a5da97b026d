-- An Idempotency-Key identifies a retry of one caller's request for one employer, not
-- a key of the whole service: two tax offices that happen to use the same key for two
-- employers record two payments.
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_key_key;
ALTER TABLE payments ADD CONSTRAINT payments_employer_key UNIQUE (employer_id, idempotency_key);
