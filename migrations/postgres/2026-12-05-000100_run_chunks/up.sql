-- The chunks of a batch assessment run (src/jobs/assess.rs): fixed ranges of employer
-- ids cut when the run is prepared. A worker claims a pending chunk with
-- SELECT ... FOR UPDATE SKIP LOCKED and, in that same transaction, writes the chunk's
-- assessments, marks it done and adds its counts to the run. A worker that dies
-- before it commits loses its connection, so its row lock goes with it and the chunk
-- is pending again for the next worker: nothing lost, nothing written twice.
CREATE TABLE assessment_run_chunks (
    run_id             BIGINT NOT NULL REFERENCES assessment_runs (id),
    seq                INTEGER NOT NULL,
    -- Employers with after_employer_id < id <= last_employer_id.
    after_employer_id  BIGINT NOT NULL,
    last_employer_id   BIGINT NOT NULL,
    done_at            TIMESTAMP,
    -- Who committed it (host and process), for the operator.
    worker             TEXT,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX assessment_run_chunks_pending ON assessment_run_chunks (run_id, seq)
    WHERE done_at IS NULL;

-- One unfinished run per levy year and scope: workers started at the same moment on
-- several hosts join one run instead of each starting its own.
CREATE UNIQUE INDEX assessment_runs_one_running
    ON assessment_runs (levy_year, COALESCE(region, '')) WHERE status = 'running';
