DROP TRIGGER employers_kept_for_assessments ON employers;
DROP TRIGGER declarations_kept_for_assessments ON declarations;
DROP TRIGGER policy_snapshots_kept_for_assessments ON policy_snapshots;
DROP TRIGGER assessment_runs_kept_for_assessments ON assessment_runs;
DROP FUNCTION assessments_referenced_rows_kept();
DROP TRIGGER assessments_references_checked ON assessments;
DROP FUNCTION assessments_references_exist();
ALTER TABLE assessments
    ADD CONSTRAINT assessments_employer_id_fkey FOREIGN KEY (employer_id) REFERENCES employers (id),
    ADD CONSTRAINT assessments_declaration_id_fkey FOREIGN KEY (declaration_id) REFERENCES declarations (id),
    ADD CONSTRAINT assessments_policy_snapshot_id_fkey FOREIGN KEY (policy_snapshot_id) REFERENCES policy_snapshots (id),
    ADD CONSTRAINT assessments_run_id_fkey FOREIGN KEY (run_id) REFERENCES assessment_runs (id);
