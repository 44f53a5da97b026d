-- A one-time code is an employer's activation (employer_id) or, sent by an
-- administrator, the reset of one user's password (user_id; an officer's account has
-- no employer): exactly one of the two.
ALTER TABLE activation_invitations ALTER COLUMN employer_id DROP NOT NULL;
ALTER TABLE activation_invitations ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE activation_invitations ADD CONSTRAINT activation_invitations_whose
    CHECK ((employer_id IS NULL) <> (user_id IS NULL));
CREATE INDEX activation_invitations_user ON activation_invitations (user_id);
