-- The reset codes go; the activation codes stay.
DELETE FROM activation_invitations WHERE employer_id IS NULL;
DROP INDEX activation_invitations_user;
ALTER TABLE activation_invitations DROP CONSTRAINT activation_invitations_whose;
ALTER TABLE activation_invitations DROP COLUMN user_id;
ALTER TABLE activation_invitations ALTER COLUMN employer_id SET NOT NULL;
