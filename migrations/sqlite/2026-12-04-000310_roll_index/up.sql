-- The levy roll (src/db/assessments.rs, roll_chunk) reads the figures of each
-- employer's current assessment in USCC order. Holding those figures in the index makes
-- each probe index-only: the assessment rows (which carry the calculation's inputs)
-- are not read at all. is_current is a column too, though the index holds only
-- current rows: SQLite reads an index alone only when it has every column the query
-- names. BENCHMARKS.md, "Levy roll", has the plans and the figures.
CREATE INDEX assessments_roll ON assessments (
    employer_id, levy_year, staff_x12_e4, required_e4, disabled_x12_e4, payable_fen,
    exempt, policy_snapshot_id, shortfall_e4, is_current
) WHERE is_current;
