-- The chunks of a batch assessment run (src/jobs/assess.rs): fixed ranges of employer
-- ids cut when the run is prepared. SQLite has one writer: a worker takes the write
-- lock (BEGIN IMMEDIATE), picks the first pending chunk, writes its assessments, marks
-- it done and adds its counts to the run, and commits; a second worker waits for the
-- lock and then takes the next chunk. A killed worker's transaction never commits and
-- its lock dies with the process, so its chunk stays pending.
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

-- One unfinished run per levy year and scope (see the PostgreSQL migration).
CREATE UNIQUE INDEX assessment_runs_one_running
    ON assessment_runs (levy_year, COALESCE(region, '')) WHERE status = 'running';
