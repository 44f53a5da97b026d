-- An Idempotency-Key identifies a retry of one caller's request for one employer, not
-- a key of the whole service: two tax offices that happen to use the same key for two
-- employers record two payments. SQLite cannot drop an inline UNIQUE constraint, so the
-- table is rebuilt with the key unique per employer.
CREATE TABLE payments_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id     BIGINT NOT NULL REFERENCES employers (id),
    levy_year       INTEGER NOT NULL,
    amount_fen      BIGINT NOT NULL,
    paid_on         DATE NOT NULL,
    reference       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    UNIQUE (employer_id, idempotency_key)
);
INSERT INTO payments_new
    SELECT id, employer_id, levy_year, amount_fen, paid_on, reference, idempotency_key,
           request_digest, recorded_by, recorded_at
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_employer_year ON payments (employer_id, levy_year);
