-- The batch assessment writes up to a million rows per run. With row-level foreign
-- keys every copied row ran four referential-integrity queries that lock the employer,
-- declaration, snapshot and run rows (SELECT ... FOR KEY SHARE writes a lock into each
-- tuple: dirty pages and WAL for a million employers and declarations): 109 s for
-- 1,000,000 employers with them, 41 s with the checks below (BENCHMARKS.md). The references are
-- still checked by the database, once per statement over the rows it inserted (a
-- set-based anti-join, no row locks), and deleting a referenced row is refused by a
-- statement-level trigger on each referenced table (below).
ALTER TABLE assessments
    DROP CONSTRAINT assessments_employer_id_fkey,
    DROP CONSTRAINT assessments_declaration_id_fkey,
    DROP CONSTRAINT assessments_policy_snapshot_id_fkey,
    DROP CONSTRAINT assessments_run_id_fkey;

CREATE FUNCTION assessments_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM employers e WHERE e.id = n.employer_id)
           OR NOT EXISTS (SELECT 1 FROM declarations d WHERE d.id = n.declaration_id)
           OR NOT EXISTS (SELECT 1 FROM policy_snapshots p WHERE p.id = n.policy_snapshot_id)
           OR (n.run_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM assessment_runs r WHERE r.id = n.run_id))
    ) THEN
        RAISE EXCEPTION 'assessment refers to a missing employer, declaration, policy snapshot or run'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER assessments_references_checked AFTER INSERT ON assessments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assessments_references_exist();

-- The other half of what the foreign keys guarded: a referenced employer, declaration,
-- snapshot or run may not be deleted while an assessment refers to it. Checked per
-- statement over the rows it removed (the service never deletes these rows; this is
-- for anyone else with access to the database). Ids are never updated.
CREATE FUNCTION assessments_referenced_rows_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_rows o JOIN assessments a ON
            CASE TG_TABLE_NAME
                WHEN 'employers' THEN a.employer_id
                WHEN 'declarations' THEN a.declaration_id
                WHEN 'policy_snapshots' THEN a.policy_snapshot_id
                ELSE a.run_id
            END = o.id
    ) THEN
        RAISE EXCEPTION 'a % row is referenced by an assessment', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER employers_kept_for_assessments AFTER DELETE ON employers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assessments_referenced_rows_kept();
CREATE TRIGGER declarations_kept_for_assessments AFTER DELETE ON declarations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assessments_referenced_rows_kept();
CREATE TRIGGER policy_snapshots_kept_for_assessments AFTER DELETE ON policy_snapshots
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assessments_referenced_rows_kept();
CREATE TRIGGER assessment_runs_kept_for_assessments AFTER DELETE ON assessment_runs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assessments_referenced_rows_kept();
