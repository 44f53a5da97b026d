CREATE TABLE payments_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id     BIGINT NOT NULL REFERENCES employers (id),
    levy_year       INTEGER NOT NULL,
    amount_fen      BIGINT NOT NULL,
    paid_on         DATE NOT NULL,
    reference       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_digest  TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);
INSERT INTO payments_old
    SELECT id, employer_id, levy_year, amount_fen, paid_on, reference, idempotency_key,
           request_digest, recorded_by, recorded_at
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_old RENAME TO payments;
CREATE INDEX payments_employer_year ON payments (employer_id, levy_year);
