DROP INDEX assessments_roll;
CREATE INDEX assessments_roll ON assessments (employer_id, levy_year)
    INCLUDE (staff_x12_e4, required_e4, disabled_x12_e4, payable_fen, exempt,
             policy_snapshot_id, shortfall_e4)
    WHERE is_current;
DROP INDEX declarations_notice;
DROP INDEX employers_notice_order;
CREATE INDEX employers_notice_order
    ON employers (region COLLATE "C", name COLLATE "C", uscc COLLATE "C");
