DROP INDEX assessment_runs_one_running;
DROP TABLE assessment_run_chunks;
