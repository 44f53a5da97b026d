ALTER TABLE payments DROP CONSTRAINT payments_employer_key;
ALTER TABLE payments ADD CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key);
