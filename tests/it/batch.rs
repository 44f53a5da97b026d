//! The batch assessment killed with SIGKILL halfway and started again finishes with
//! exactly the rows of a clean run over the same data: none missing, none twice; two
//! worker processes on one run, one of them killed, end the same way.
//! Runs on SQLite, or on PostgreSQL when QUOTA_LEVY_TEST_POSTGRES_URL is set.

use crate::helpers::{test_settings, TestDb};
use diesel::prelude::*;
use quota_levy::db::assessments::Run;
use quota_levy::db::schema::{assessment_run_chunks, assessment_runs, assessments, employers};
use quota_levy::db::{DatabaseUrl, Db};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Employers generated: five chunks of the batch job.
const EMPLOYERS: &str = "10000";
const N: i64 = 10_000;
const YEAR: &str = "2025";

fn bin(db_url: &str) -> Command {
    let mut c = crate::helpers::bin(Some(db_url));
    c.env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn run_ok(c: &mut Command, what: &str) {
    let out = c.output().expect("spawn quota-levy");
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn generate(db_url: &str) {
    generate_n(db_url, EMPLOYERS);
}

fn generate_n(db_url: &str, employers: &str) {
    run_ok(
        bin(db_url).args([
            "demo",
            "generate",
            "--employers",
            employers,
            "--levy-year",
            YEAR,
            "--seed",
            "11",
        ]),
        "demo generate",
    );
}

fn pool(db_url: &str) -> Db {
    let settings = test_settings(db_url, &[]);
    Db::new(DatabaseUrl::parse(db_url).expect("url"), &settings.database).expect("pool")
}

fn runs(db: &Db) -> Vec<Run> {
    let mut conn = db.conn().expect("conn");
    assessment_runs::table
        .order(assessment_runs::id.asc())
        .select(Run::as_select())
        .load(&mut *conn)
        .expect("runs")
}

/// One stored assessment, by employer USCC, with every figure.
type Row = (
    String,
    i32,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    bool,
    String,
);

fn rows(db: &Db) -> Vec<Row> {
    let mut conn = db.conn().expect("conn");
    assessments::table
        .inner_join(employers::table)
        .filter(assessments::is_current.eq(true))
        .order(employers::uscc.asc())
        .select((
            employers::uscc,
            assessments::levy_year,
            assessments::staff_x12_e4,
            assessments::disabled_x12_e4,
            assessments::required_e4,
            assessments::shortfall_e4,
            assessments::fee_due_fen,
            assessments::reduction_fen,
            assessments::payable_fen,
            assessments::reward_fen,
            assessments::exempt,
            assessments::inputs_digest,
        ))
        .load(&mut *conn)
        .expect("assessments")
}

fn count_all(db: &Db) -> i64 {
    let mut conn = db.conn().expect("conn");
    assessments::table
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

#[test]
fn a_run_killed_halfway_resumes_to_the_rows_of_a_clean_run() {
    let (_killed_db, killed_url) = TestDb::create();
    let (_clean_db, clean_url) = TestDb::create();
    generate(&killed_url);
    generate(&clean_url);
    let killed = pool(&killed_url);
    let clean = pool(&clean_url);

    // Start the run and SIGKILL it once some chunks, but not all, are committed.
    let mut child = bin(&killed_url)
        .args(["assess", "--levy-year", YEAR])
        .spawn()
        .expect("spawn assess");
    // A guard against a run that hangs, not a speed check (speed is benchmarked).
    let deadline = Instant::now() + Duration::from_secs(600);
    let at_kill = loop {
        assert!(Instant::now() < deadline, "the run made no progress");
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("assess finished ({status}) before it could be killed halfway");
        }
        if let Some(r) = runs(&killed).into_iter().next() {
            if r.processed > 0 && r.processed < r.total {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                break r;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let after_kill = runs(&killed);
    assert_eq!(after_kill.len(), 1);
    assert_eq!(
        after_kill[0].status, "running",
        "a killed run is left unfinished"
    );
    assert!(after_kill[0].processed >= at_kill.processed);
    assert!(
        after_kill[0].processed < after_kill[0].total,
        "killed before the end"
    );
    let committed = count_all(&killed);
    assert_eq!(
        committed, after_kill[0].assessed,
        "the rows on disk are exactly the committed chunks"
    );

    // Start again: the same run resumes after its progress mark.
    run_ok(
        bin(&killed_url).args(["assess", "--levy-year", YEAR]),
        "resumed assess",
    );
    // And a clean run over the second copy of the same data.
    run_ok(
        bin(&clean_url).args(["assess", "--levy-year", YEAR]),
        "clean assess",
    );

    let resumed_runs = runs(&killed);
    assert_eq!(
        resumed_runs.len(),
        1,
        "the restart resumed the run, not a new one"
    );
    let (r, c) = (&resumed_runs[0], &runs(&clean)[0]);
    assert_eq!(r.status, "finished");
    assert_eq!(r.total, N);
    assert_eq!(
        (
            r.processed,
            r.assessed,
            r.unchanged,
            r.failed,
            r.exempt,
            r.below_quota,
            r.payable_total_fen
        ),
        (
            c.processed,
            c.assessed,
            c.unchanged,
            c.failed,
            c.exempt,
            c.below_quota,
            c.payable_total_fen
        ),
        "the run's counts equal the clean run's"
    );
    assert_eq!(r.processed, N);
    assert_eq!(r.failed, 0);

    // Row for row: the same figures for the same employers, one each, none twice.
    let (got, want) = (rows(&killed), rows(&clean));
    assert_eq!(got.len() as i64, N);
    assert_eq!(count_all(&killed), N, "no superseded or duplicate rows");
    assert_eq!(count_all(&clean), N);
    let mut usccs: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    usccs.dedup();
    assert_eq!(
        usccs.len() as i64,
        N,
        "exactly one current assessment per employer"
    );
    assert!(
        got == want,
        "the resumed run's rows differ from the clean run's"
    );
}

/// Employers of the multi-worker tests: thirty chunks of [`SMALL_CHUNK`].
const SMALL: i64 = 3_000;
const SMALL_CHUNK: &str = "100";

/// Creates the run of `YEAR` in chunks of [`SMALL_CHUNK`] without working it; its id.
fn prepare_run(db_url: &str) -> i64 {
    let out = bin(db_url)
        .args([
            "assess",
            "--levy-year",
            YEAR,
            "--chunk-size",
            SMALL_CHUNK,
            "--prepare",
        ])
        .stdout(Stdio::piped())
        .output()
        .expect("spawn assess --prepare");
    assert!(
        out.status.success(),
        "assess --prepare failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("--prepare prints the run id")
}

fn join(db_url: &str, run_id: i64, workers: &str) -> Command {
    let mut c = bin(db_url);
    c.args([
        "assess",
        "--join",
        &run_id.to_string(),
        "--workers",
        workers,
    ]);
    c
}

/// (done, worker) of every chunk of a run.
fn chunks(db: &Db, run_id: i64) -> Vec<(bool, Option<String>)> {
    let mut conn = db.conn().expect("conn");
    assessment_run_chunks::table
        .filter(assessment_run_chunks::run_id.eq(run_id))
        .order(assessment_run_chunks::seq.asc())
        .select((
            assessment_run_chunks::done_at.is_not_null(),
            assessment_run_chunks::worker,
        ))
        .load(&mut *conn)
        .expect("chunks")
}

/// A clean single run over a fresh copy of the same data, for comparison.
fn clean_rows() -> (TestDb, Db) {
    let (clean_db, clean_url) = TestDb::create();
    generate_n(&clean_url, &SMALL.to_string());
    run_ok(
        bin(&clean_url).args(["assess", "--levy-year", YEAR]),
        "clean assess",
    );
    (clean_db, pool(&clean_url))
}

/// The run of `db` has the counts and the rows of the clean run: every employer once,
/// with the same figures and digest, and no other row.
fn assert_same_as_clean(db: &Db, clean: &Db) {
    let all = runs(db);
    assert_eq!(all.len(), 1, "the workers shared one run");
    let (r, c) = (&all[0], &runs(clean)[0]);
    assert_eq!(r.status, "finished");
    assert_eq!(
        (
            r.total,
            r.processed,
            r.assessed,
            r.unchanged,
            r.failed,
            r.exempt,
            r.below_quota,
            r.payable_total_fen
        ),
        (
            c.total,
            c.processed,
            c.assessed,
            c.unchanged,
            c.failed,
            c.exempt,
            c.below_quota,
            c.payable_total_fen
        ),
        "the run's counts equal the clean run's"
    );
    assert_eq!(r.processed, SMALL);
    let (got, want) = (rows(db), rows(clean));
    assert_eq!(count_all(db), SMALL, "no superseded or duplicate rows");
    assert_eq!(got.len() as i64, SMALL);
    assert!(got == want, "the workers' rows differ from the clean run's");
    let ch = chunks(db, r.id);
    assert_eq!(ch.len(), 30);
    assert!(ch.iter().all(|(done, _)| *done), "every chunk committed");
}

#[test]
fn two_workers_on_one_run_end_with_the_rows_of_a_clean_run() {
    let (test_db, url) = TestDb::create();
    generate_n(&url, &SMALL.to_string());
    let db = pool(&url);
    let run_id = prepare_run(&url);
    // Several threads in one process need PostgreSQL; SQLite says why not.
    let threads = if test_db.is_postgres() { "2" } else { "1" };
    let a = join(&url, run_id, threads).spawn().expect("spawn worker a");
    let b = join(&url, run_id, "1").spawn().expect("spawn worker b");
    for (name, child) in [("a", a), ("b", b)] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "worker {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_clean_db, clean) = clean_rows();
    assert_same_as_clean(&db, &clean);
    let ch = chunks(&db, run_id);
    let processes: std::collections::BTreeSet<&str> = ch
        .iter()
        .filter_map(|(_, w)| w.as_deref()?.split('#').next())
        .collect();
    if test_db.is_postgres() {
        // Both processes took chunks at the same time: the claim skips locked chunks
        // rather than waiting for them.
        assert_eq!(
            processes.len(),
            2,
            "both workers committed chunks: {processes:?}"
        );
    } else {
        assert!(!processes.is_empty() && processes.len() <= 2);
        let out = join(&url, run_id, "2").output().expect("spawn");
        assert!(!out.status.success(), "SQLite refuses a second thread");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--workers") && err.contains("SQLite") && err.contains("写入"),
            "the refusal names the option, in Chinese and English: {err}"
        );
    }
    // A finished run cannot be joined again, and says so.
    let out = join(&url, run_id, "1").output().expect("spawn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--join"));
}

#[test]
fn a_worker_killed_mid_run_leaves_its_chunk_to_the_other() {
    let (_test_db, url) = TestDb::create();
    generate_n(&url, &SMALL.to_string());
    let db = pool(&url);
    let run_id = prepare_run(&url);
    let mut victim = join(&url, run_id, "1").spawn().expect("spawn victim");
    // SIGKILL the victim once it has committed a chunk, so that it dies holding the
    // next one (its chunk transaction is open nearly all the time).
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        assert!(Instant::now() < deadline, "the run made no progress");
        if let Some(status) = victim.try_wait().expect("wait") {
            panic!("the victim finished ({status}) before it could be killed");
        }
        let r = runs(&db).into_iter().next().expect("the run");
        if r.processed > 0 && r.processed < r.total {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The survivor starts while the victim works, and finishes what it leaves.
    let mut survivor = join(&url, run_id, "1").spawn().expect("spawn survivor");
    std::thread::sleep(Duration::from_millis(50));
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reap");
    let status = survivor.wait().expect("wait survivor");
    assert!(status.success(), "the survivor failed");
    let (_clean_db, clean) = clean_rows();
    assert_same_as_clean(&db, &clean);
}
