-- A notice reads its region's employers in its order (region, name, USCC) and, for each,
-- the declaration of the year and the current assessment (src/db/notices.rs,
-- snapshot_chunk). In that order the rows of the three tables are at random places, so
-- each probe that has to go on from the index to the table costs a page of the table
-- (whose rows carry the declaration's body and the calculation's inputs) for one row.
-- These indexes hold every column the query names, so each probe can be index-only
-- (on pages the visibility map marks all-visible: after (auto)vacuum).
-- BENCHMARKS.md, "Notices", has the plans and the figures.

-- The employers in the notice's order ("C": byte order, which is code-point order),
-- with what the query reads besides.
DROP INDEX employers_notice_order;
CREATE INDEX employers_notice_order
    ON employers (region COLLATE "C", name COLLATE "C", uscc COLLATE "C")
    INCLUDE (id, kind, registered_on);

-- The declaration of the year: its status, version and body digest.
CREATE INDEX declarations_notice ON declarations (employer_id, levy_year)
    INCLUDE (status, version, body_digest);

-- The levy roll's index with the declaration version and id of the assessment: the
-- roll reads it as before, the notice without the assessment rows.
DROP INDEX assessments_roll;
CREATE INDEX assessments_roll ON assessments (employer_id, levy_year)
    INCLUDE (staff_x12_e4, required_e4, disabled_x12_e4, payable_fen, exempt,
             policy_snapshot_id, shortfall_e4, declaration_version, declaration_id)
    WHERE is_current;
