-- The federation's pages (docs/architecture.md). A submitted declaration the federation
-- will not certify goes back to the employer with a reason: the status 'returned', and
-- the reason, when and by whom on the declaration itself (the last return; the audit
-- log keeps every one). The employer edits (a new version, 'amended') or submits again;
-- a submission clears the three columns.
ALTER TABLE declarations ADD COLUMN returned_reason TEXT;
ALTER TABLE declarations ADD COLUMN returned_at TIMESTAMP;
ALTER TABLE declarations ADD COLUMN returned_by TEXT;

-- The certification queue pages through submitted declarations by keyset: the join from
-- employers (region order, employers_region_kind) finds each employer's declaration of
-- the year here, status and submission time in the index, so the page never reads the
-- declarations' bodies to filter or order them.
CREATE INDEX declarations_queue ON declarations (levy_year, employer_id, status, submitted_at);

-- Objections to a published notice (异议), as the federation receives them: against one
-- entry (an employer) of the notice. 'objector' (an organisation or a person, as typed
-- by the officer) is personal data: shown to officers on the register only, never on a
-- public page nor in the audit log. A correcting notice that answers upheld objections
-- is named in answered_by.
CREATE TABLE notice_objections (
    id            BIGSERIAL PRIMARY KEY,
    notice_id     BIGINT NOT NULL REFERENCES notices (id),
    entry_uscc    TEXT NOT NULL,
    objector      TEXT NOT NULL,
    received_on   DATE NOT NULL,
    claim         TEXT NOT NULL,
    -- open | upheld | rejected
    status        TEXT NOT NULL DEFAULT 'open',
    handling_note TEXT,
    handled_by    TEXT,
    handled_at    TIMESTAMP,
    answered_by   BIGINT REFERENCES notices (id),
    recorded_by   TEXT NOT NULL,
    recorded_at   TIMESTAMP NOT NULL
);
CREATE INDEX notice_objections_notice ON notice_objections (notice_id, id);
