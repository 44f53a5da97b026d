-- Levy payments recorded by the tax bureau. The Idempotency-Key makes a retried POST
-- record nothing new; request_digest tells a retry from a different request that
-- reuses a key.
CREATE TABLE payments (
    id              BIGSERIAL PRIMARY KEY,
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
CREATE INDEX payments_employer_year ON payments (employer_id, levy_year);
