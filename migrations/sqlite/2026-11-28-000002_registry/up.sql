-- The system of record: employers, their yearly declarations and rosters, immutable
-- assessments, batch runs and API tokens. Money is BIGINT fen; exact counts are
-- BIGINT in units of 1/10000 (4 decimals, as on real forms) or whole twelfths.

CREATE TABLE employers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    region             TEXT NOT NULL,
    registered_on      DATE,
    contact_email      TEXT,
    establishment_size INTEGER,
    committee_member   BOOLEAN NOT NULL DEFAULT 0,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX employers_region_kind ON employers (region, kind);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    role          TEXT NOT NULL,
    employer_uscc TEXT,
    region        TEXT,
    label         TEXT,
    created_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP
);

-- One row per employer and levy year: the current version. Earlier versions are kept
-- in declaration_versions (an amendment never overwrites history).
CREATE TABLE declarations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id         BIGINT NOT NULL REFERENCES employers (id),
    levy_year           INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    status              TEXT NOT NULL,
    body_json           TEXT NOT NULL,
    body_digest         TEXT NOT NULL,
    submitted_at        TIMESTAMP,
    certified_at        TIMESTAMP,
    certified_by        TEXT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    UNIQUE (employer_id, levy_year)
);
CREATE INDEX declarations_year ON declarations (levy_year, employer_id);

CREATE TABLE declaration_versions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    declaration_id BIGINT NOT NULL REFERENCES declarations (id),
    version        INTEGER NOT NULL,
    status         TEXT NOT NULL,
    body_json      TEXT NOT NULL,
    body_digest    TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    created_by     TEXT NOT NULL,
    UNIQUE (declaration_id, version)
);

-- Roster lines of the current declaration version, typed, for cross-employer checks
-- (a certificate claimed twice) and enforcement lists. holder_id is the certificate's
-- 18-character ID-number part: a re-issued certificate is the same person.
CREATE TABLE roster_lines (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    declaration_id        BIGINT NOT NULL REFERENCES declarations (id) ON DELETE CASCADE,
    employer_id           BIGINT NOT NULL REFERENCES employers (id),
    levy_year             INTEGER NOT NULL,
    line_no               INTEGER NOT NULL,
    certificate_no        TEXT NOT NULL,
    holder_id             TEXT NOT NULL,
    certificate_kind      TEXT NOT NULL,
    grade                 INTEGER NOT NULL,
    months_mask           INTEGER NOT NULL,
    on_establishment      BOOLEAN NOT NULL,
    contract_months       INTEGER,
    social_insurance_paid BOOLEAN NOT NULL,
    monthly_wage_fen      BIGINT,
    fresh_graduate        BOOLEAN NOT NULL
);
CREATE INDEX roster_lines_holder ON roster_lines (levy_year, holder_id);
CREATE INDEX roster_lines_declaration ON roster_lines (declaration_id);

-- The federation's decision on a certificate claimed by two employers.
CREATE TABLE certificate_resolutions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    levy_year   INTEGER NOT NULL,
    holder_id   TEXT NOT NULL,
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    resolved_by TEXT NOT NULL,
    resolved_at TIMESTAMP NOT NULL,
    note        TEXT,
    UNIQUE (levy_year, holder_id)
);

-- The policy values an assessment used, stored once per distinct set.
CREATE TABLE policy_snapshots (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     TEXT NOT NULL UNIQUE,
    body_json  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE assessment_runs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    levy_year          INTEGER NOT NULL,
    region             TEXT,
    status             TEXT NOT NULL,
    total              BIGINT NOT NULL DEFAULT 0,
    processed          BIGINT NOT NULL DEFAULT 0,
    assessed           BIGINT NOT NULL DEFAULT 0,
    unchanged          BIGINT NOT NULL DEFAULT 0,
    failed             BIGINT NOT NULL DEFAULT 0,
    exempt             BIGINT NOT NULL DEFAULT 0,
    below_quota        BIGINT NOT NULL DEFAULT 0,
    payable_total_fen  BIGINT NOT NULL DEFAULT 0,
    last_employer_id   BIGINT NOT NULL DEFAULT 0,
    started_by         TEXT NOT NULL,
    started_at         TIMESTAMP NOT NULL,
    finished_at        TIMESTAMP,
    error              TEXT
);

-- Immutable: a re-assessment adds a row and marks the old one superseded. The row keeps
-- the exact calculation request (inputs_json) and the policy values (snapshot), so the
-- full explained result is reproduced on read and checked against the stored figures,
-- instead of storing kilobytes of explanation per employer.
CREATE TABLE assessments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id         BIGINT NOT NULL REFERENCES employers (id),
    levy_year           INTEGER NOT NULL,
    region              TEXT NOT NULL,
    kind                TEXT NOT NULL,
    declaration_id      BIGINT NOT NULL REFERENCES declarations (id),
    declaration_version INTEGER NOT NULL,
    inputs_digest       TEXT NOT NULL,
    policy_snapshot_id  BIGINT NOT NULL REFERENCES policy_snapshots (id),
    as_of               DATE NOT NULL,
    -- N × 12 and D × 12 are exact with 4 decimals (headcounts are whole, averages
    -- have at most 4 decimals), so they are stored exactly as integers × 10^4. The
    -- derived counts below are rounded half-up to 4 decimals for lists and reports;
    -- they follow exactly from N, D and the snapshot's quota ratio.
    staff_x12_e4        BIGINT NOT NULL,
    disabled_x12_e4     BIGINT NOT NULL,
    required_e4         BIGINT NOT NULL,
    shortfall_e4        BIGINT NOT NULL,
    average_wage_fen    BIGINT,
    wage_used_fen       BIGINT,
    fee_due_fen         BIGINT NOT NULL,
    reduction_fen       BIGINT NOT NULL,
    payable_fen         BIGINT NOT NULL,
    over_quota_e4       BIGINT NOT NULL,
    reward_fen          BIGINT NOT NULL,
    exempt              BOOLEAN NOT NULL,
    provisional         BOOLEAN NOT NULL,
    inputs_json         TEXT NOT NULL,
    run_id              BIGINT REFERENCES assessment_runs (id),
    computed_at         TIMESTAMP NOT NULL,
    superseded_at       TIMESTAMP,
    is_current          BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX assessments_one_current ON assessments (employer_id, levy_year) WHERE is_current;
CREATE INDEX assessments_year ON assessments (levy_year, employer_id);
CREATE INDEX assessments_region ON assessments (levy_year, region) WHERE is_current;
