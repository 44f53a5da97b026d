-- The reset codes go; the activation codes stay.
CREATE TABLE activation_invitations_old (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    token_hash  TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL CHECK (channel IN ('mail', 'letter')),
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP
);
INSERT INTO activation_invitations_old
    (id, employer_id, token_hash, channel, created_at, created_by, expires_at, used_at,
     revoked_at)
SELECT id, employer_id, token_hash, channel, created_at, created_by, expires_at, used_at,
       revoked_at
FROM activation_invitations WHERE employer_id IS NOT NULL;
DROP TABLE activation_invitations;
ALTER TABLE activation_invitations_old RENAME TO activation_invitations;
CREATE INDEX activation_invitations_employer ON activation_invitations (employer_id);
