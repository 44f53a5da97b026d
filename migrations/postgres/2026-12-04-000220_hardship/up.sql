-- Hardship decisions of the tax bureau (财税〔2015〕72号 第十七条 as reprinted; docs/rules.md
-- §6a): after force majeure or a major loss an employer may have at most one year's
-- levy reduced, or its payment deferred at most 6 months. One current decision per
-- employer and levy year; a new decision replaces it (the audit log keeps the old one).
CREATE TABLE hardship_decisions (
    id          BIGSERIAL PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    levy_year   INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('reduction', 'deferral')),
    decision    TEXT NOT NULL CHECK (decision IN ('approved', 'refused')),
    amount_fen  BIGINT,
    deferred_to DATE,
    applied_on  DATE NOT NULL,
    decided_on  DATE NOT NULL,
    reason      TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (employer_id, levy_year)
);
