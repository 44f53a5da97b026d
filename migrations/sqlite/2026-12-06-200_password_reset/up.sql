-- A one-time code is an employer's activation (employer_id) or, sent by an
-- administrator, the reset of one user's password (user_id; an officer's account has
-- no employer): exactly one of the two. SQLite cannot drop a NOT NULL, so the table is
-- made again with its rows.
CREATE TABLE activation_invitations_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id BIGINT REFERENCES employers (id),
    user_id     BIGINT REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    -- mail | letter
    channel     TEXT NOT NULL CHECK (channel IN ('mail', 'letter')),
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    CHECK ((employer_id IS NULL) <> (user_id IS NULL))
);
INSERT INTO activation_invitations_new
    (id, employer_id, token_hash, channel, created_at, created_by, expires_at, used_at,
     revoked_at)
SELECT id, employer_id, token_hash, channel, created_at, created_by, expires_at, used_at,
       revoked_at
FROM activation_invitations;
DROP TABLE activation_invitations;
ALTER TABLE activation_invitations_new RENAME TO activation_invitations;
CREATE INDEX activation_invitations_employer ON activation_invitations (employer_id);
CREATE INDEX activation_invitations_user ON activation_invitations (user_id);
