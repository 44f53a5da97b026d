-- Over-quota rewards (三政〔2016〕23号 §3(1): "对超比例安排残疾人就业的，按规定给予奖励").
-- The federation's decision on an employer's reward for a levy year: one row, changed
-- by a new decision (the audit log keeps each). `assessment_id` and `reward_fen` are
-- those the decision was made on: when the current assessment's reward differs, the
-- approval is to be reviewed, never paid (docs/rules.md §7).
CREATE TABLE reward_decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id   BIGINT NOT NULL REFERENCES employers (id),
    levy_year     INTEGER NOT NULL,
    assessment_id BIGINT NOT NULL REFERENCES assessments (id),
    reward_fen    BIGINT NOT NULL,
    approved      BOOLEAN NOT NULL,
    reason        TEXT,
    decided_by    TEXT NOT NULL,
    decided_at    TIMESTAMP NOT NULL,
    UNIQUE (employer_id, levy_year)
);
-- Rewards paid out. A payout is never edited: a reversal is a new row with the negated
-- amount naming the row it reverses. The Idempotency-Key is per employer, as payments'.
CREATE TABLE reward_payouts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id     BIGINT NOT NULL REFERENCES employers (id),
    levy_year       INTEGER NOT NULL,
    amount_fen      BIGINT NOT NULL,
    paid_on         DATE NOT NULL,
    reference       TEXT NOT NULL,
    reverses_id     BIGINT REFERENCES reward_payouts (id),
    idempotency_key TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    UNIQUE (employer_id, idempotency_key)
);
CREATE INDEX reward_payouts_employer_year ON reward_payouts (employer_id, levy_year);
-- Positions reserved for disabled people (岗位预留, 三政〔2016〕23号 §3(1)). The contact
-- is the employer office's, never a person's. A filled position keeps the roster line
-- it was filled by (its id and the holder's keyed digest), never shown publicly.
CREATE TABLE reserved_positions (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id            BIGINT NOT NULL REFERENCES employers (id),
    title                  TEXT NOT NULL,
    openings               INTEGER NOT NULL,
    county                 TEXT NOT NULL,
    address                TEXT NOT NULL,
    requirements           TEXT NOT NULL,
    accessibility          TEXT NOT NULL,
    wage_min_fen           BIGINT NOT NULL,
    wage_max_fen           BIGINT NOT NULL,
    open_from              DATE NOT NULL,
    open_to                DATE NOT NULL,
    contact_phone          TEXT,
    contact_email          TEXT,
    status                 TEXT NOT NULL,
    review_note            TEXT,
    filled_roster_line_id  BIGINT,
    filled_holder_id       TEXT,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX reserved_positions_employer ON reserved_positions (employer_id);
CREATE INDEX reserved_positions_status ON reserved_positions (status, county);
