-- An assessment's inputs are, but for disputes, the filed declaration version's body
-- stated as a calculation request for the employer's region, kind and registration
-- date. New rows store the registration date here and leave `inputs_json` empty when
-- the inputs are exactly that request; the inputs are then rebuilt from
-- `declaration_versions` (`declaration_id`, `declaration_version`) and checked against
-- `inputs_digest` on every read (src/registry/assessments.rs, `inputs_of`). Rows whose
-- inputs differ from the version's (a roster line under dispute) keep them in full, as
-- do all rows made before this migration.
ALTER TABLE assessments ADD COLUMN registered_on DATE;
