-- Collection by the tax bureau: the written demands it issues (催缴通知书, 残疾人就业条例
-- 第二十七条: a warning and a deadline before the surcharge), and the bank references of
-- payments imported from a bank's file. A bank reference is unique per employer (a
-- bank's transaction number is unique within that bank, not across banks; two employers
-- may hold the same number from two banks), so importing a file twice records nothing
-- twice (docs/rules.md §6, docs/api.md).
CREATE TABLE written_demands (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id   BIGINT NOT NULL REFERENCES employers (id),
    levy_year     INTEGER NOT NULL,
    issued_on     DATE NOT NULL,
    deadline      DATE NOT NULL,
    principal_fen BIGINT NOT NULL,
    surcharge_fen BIGINT NOT NULL,
    issued_by     TEXT NOT NULL,
    request_id    TEXT,
    issued_at     TIMESTAMP NOT NULL
);
CREATE INDEX written_demands_employer_year ON written_demands (employer_id, levy_year);

CREATE TABLE bank_payments (
    payment_id     BIGINT PRIMARY KEY REFERENCES payments (id),
    employer_id    BIGINT NOT NULL REFERENCES employers (id),
    bank_reference TEXT NOT NULL,
    import_id      TEXT NOT NULL,
    UNIQUE (employer_id, bank_reference)
);
