-- Accounts for people (API tokens stay for machines): a user has the role and scope a
-- token would have (an employer user its USCC, an officer optionally a region), a
-- password hashed with argon2id (PHC string), and server-side sessions.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    -- Stored as typed, compared in lower case (the unique index below).
    username        TEXT NOT NULL,
    display_name    TEXT,
    role            TEXT NOT NULL
        CHECK (role IN ('admin', 'federation', 'tax', 'inspector', 'employer')),
    employer_uscc   TEXT,
    region          TEXT,
    password_hash   TEXT NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    last_sign_in_at TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    -- An employer user is bound to one employer and no region; an officer to no employer.
    CHECK ((role = 'employer') = (employer_uscc IS NOT NULL)),
    CHECK (role <> 'employer' OR region IS NULL)
);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE INDEX users_employer ON users (employer_uscc);

-- A signed-in browser. The cookie holds a random 256-bit token; only its SHA-256 is
-- kept. Signing out or disabling the user deletes the row: the session ends at once.
CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    -- The synchronizer token every form POST of this session must carry.
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    -- The absolute end, however active the session is.
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, per username and per client address, each kept as a keyed digest
-- (what was typed as a username may be a password typed in the wrong field). After
-- accounts.sign_in_max_failures within the window the key is locked until locked_until.
CREATE TABLE sign_in_throttle (
    kind             TEXT NOT NULL CHECK (kind IN ('username', 'address')),
    key_digest       TEXT NOT NULL,
    failures         INTEGER NOT NULL,
    first_failure_at TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,
    PRIMARY KEY (kind, key_digest)
);

-- One-time activation codes of employers: by mail (a link) or by letter (a code to
-- type). Only the SHA-256 of the code is kept. Used once; a newer one replaces older
-- ones of the same employer.
CREATE TABLE activation_invitations (
    id          BIGSERIAL PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    token_hash  TEXT NOT NULL UNIQUE,
    -- mail | letter
    channel     TEXT NOT NULL CHECK (channel IN ('mail', 'letter')),
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX activation_invitations_employer ON activation_invitations (employer_id);
