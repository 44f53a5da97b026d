//! The batch assessment of a levy year (and optionally a region): the job behind
//! `quota-levy assess` and `POST /api/v1/assessment-runs`.
//!
//! Preparing a run cuts the employers with a filed declaration into chunks (ranges of
//! employer ids, stored in `assessment_run_chunks`). Workers, threads of one process
//! or processes on several hosts, then take chunks until none is left. Each chunk is
//! one transaction that claims the chunk, writes its assessments, marks it done AND
//! adds its counts to the run, so a worker killed at any point (even `kill -9`) leaves
//! its chunk exactly as it found it: pending, for the next worker. No employer is
//! missed and none is assessed twice. On PostgreSQL the claim is a row lock taken with
//! `FOR UPDATE SKIP LOCKED`, so workers take different chunks at once and a dead
//! worker's lock ends with its connection. SQLite has one writer: there a worker's
//! chunk transaction holds the database's write lock, so a second worker is safe but
//! only takes turns (docs/scaling.md). Independently, an employer whose current
//! assessment already has the same inputs and policy values is left alone, so even a
//! fresh run over finished work writes nothing new.

use chrono::Utc;
use diesel::Connection;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::assessments::{self as repo, ChunkCounts, NewAssessment, Run};
use crate::db::declarations as repo_decl;
use crate::db::declarations::Declaration;
use crate::db::employers::Employer;
use crate::db::run_chunks::{self as chunks, Chunk};
use crate::db::{AnyConnection, Db, DbError};
use crate::domain::{PolicyProvider, RegionCode};
use crate::registry::assessments::{compute, CachingProvider, Computed, SnapshotCache};
use crate::registry::disputes::{disputes_for, LineDispute};

/// Employers per chunk (and per transaction), unless the run is prepared with another
/// size.
pub const CHUNK: i64 = 2_000;

/// What to assess.
#[derive(Debug, Clone)]
pub struct AssessJob {
    /// Levy year.
    pub levy_year: i32,
    /// Only employers in this region (and below it).
    pub region: Option<RegionCode>,
    /// Who started it.
    pub actor: String,
}

fn region_pattern(region: Option<&str>) -> String {
    match region.and_then(|r| r.parse::<RegionCode>().ok()) {
        Some(r) if !r.is_national() => format!("{}%", crate::auth::scope_prefix(&r)),
        _ => "%".to_owned(),
    }
}

/// Declarations that a run leaves out because they are drafts (saved, never filed):
/// how many, and the first few USCCs to name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drafts {
    /// How many drafts of the year lie in the run's region.
    pub count: i64,
    /// The first of them, in USCC order.
    pub first: Vec<String>,
}

/// USCCs a summary names at most.
pub const DRAFTS_NAMED: i64 = 5;

/// The drafts of `levy_year` in the region of `job` (see [`Drafts`]): a run assesses
/// filed declarations only, and an officer who imported drafts must learn it rather
/// than see "0 assessed".
pub fn drafts(conn: &mut AnyConnection, job: &AssessJob) -> Result<Drafts, DbError> {
    let region = job.region.map(|r| r.to_string());
    let pattern = region_pattern(region.as_deref());
    let (count, first) = repo_decl::drafts(conn, job.levy_year, &pattern, DRAFTS_NAMED)?;
    Ok(Drafts { count, first })
}

/// Filed declarations that could not be assessed, grouped by why: the message (for
/// a missing figure of the law it names the region, data year and parameter), how many
/// employers, and the first few USCCs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Why, as the calculator says it.
    pub reason: String,
    /// Employers waiting for this reason.
    pub count: usize,
    /// The first of them, in USCC order.
    pub first: Vec<String>,
}

/// The filed declarations of the run's region and year without a current assessment,
/// and why each cannot be assessed (see [`Waiting`]): what the administrator must add
/// to a policy pack, or the employer correct, before the next run assesses them.
pub fn waiting(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    job: &AssessJob,
) -> Result<Vec<Waiting>, DbError> {
    let region = job.region.map(|r| r.to_string());
    let pattern = region_pattern(region.as_deref());
    let rows = repo_decl::filed_unassessed(conn, job.levy_year, &pattern)?;
    let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
    let disputes = disputes_for(conn, job.levy_year, &ids)?;
    let mut snaps = SnapshotCache::default();
    let now = Utc::now().naive_utc();
    let mut out: Vec<Waiting> = Vec::new();
    for (e, d) in &rows {
        let lines = disputes.get(&e.id).map_or(&[][..], Vec::as_slice);
        let Err(errors) = compute(provider, &mut snaps, e, d, lines, now) else {
            continue;
        };
        for reason in errors.into_iter().map(|f| f.message) {
            match out.iter_mut().find(|w| w.reason == reason) {
                Some(w) => {
                    w.count += 1;
                    if w.first.len() < DRAFTS_NAMED as usize {
                        w.first.push(e.uscc.clone());
                    }
                }
                None => out.push(Waiting {
                    reason,
                    count: 1,
                    first: vec![e.uscc.clone()],
                }),
            }
        }
    }
    Ok(out)
}

/// Creates the run record and cuts it into chunks of [`CHUNK`] employers, or returns
/// the unfinished run of the same year and scope: a restart after a crash, and a
/// second worker, join it.
pub fn prepare(conn: &mut AnyConnection, job: &AssessJob) -> Result<i64, DbError> {
    prepare_sized(conn, job, CHUNK as usize)
}

/// [`prepare`] with chunks of `chunk_size` employers (used only when the run is
/// created; a run joined keeps its chunks).
pub fn prepare_sized(
    conn: &mut AnyConnection,
    job: &AssessJob,
    chunk_size: usize,
) -> Result<i64, DbError> {
    let region = job.region.map(|r| r.to_string());
    let pattern = region_pattern(region.as_deref());
    // Workers started at the same moment may both find no run and both create one;
    // the database keeps one running run per scope, and the loser joins the winner's.
    for _ in 0..3 {
        let outcome = crate::db::write_transaction(conn, |c| -> Result<(i64, bool), DbError> {
            if let Some(run) = repo::unfinished_run(c, job.levy_year, region.as_deref())? {
                return Ok((run.id, false));
            }
            let ids = repo_decl::filed_employer_ids(c, job.levy_year, &pattern, 0)?;
            let run = repo::start_run(
                c,
                job.levy_year,
                region.as_deref(),
                ids.len() as i64,
                &job.actor,
                Utc::now().naive_utc(),
            )?;
            chunks::create(c, run.id, 0, &ids, chunk_size)?;
            Ok((run.id, true))
        });
        match outcome {
            Ok((id, true)) => return Ok(id),
            Ok((id, false)) => {
                ensure_chunks(conn, id)?;
                return Ok(id);
            }
            Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(DbError::Conflict(
        "another worker keeps starting and finishing runs of this scope; try again".into(),
    ))
}

/// Gives chunks to a run that has none: one started by a version that kept only a
/// progress mark. Every employer up to that mark is done, so the chunks start after it.
fn ensure_chunks(conn: &mut AnyConnection, run_id: i64) -> Result<(), DbError> {
    if chunks::count(conn, run_id)? > 0 {
        return Ok(());
    }
    let made = crate::db::write_transaction(conn, |c| -> Result<(), DbError> {
        let Some(run) = repo::run(c, run_id)? else {
            return Ok(());
        };
        if run.status != "running" || chunks::count(c, run_id)? > 0 {
            return Ok(());
        }
        let pattern = region_pattern(run.region.as_deref());
        let ids = repo_decl::filed_employer_ids(c, run.levy_year, &pattern, run.last_employer_id)?;
        chunks::create(c, run_id, run.last_employer_id, &ids, CHUNK as usize)?;
        Ok(())
    });
    match made {
        // Two workers cut the same run at once; the other one's chunks stand.
        Err(_) if chunks::count(conn, run_id)? > 0 => Ok(()),
        other => other,
    }
}

/// Computes one chunk on up to two threads (the machine's two cores); the order of
/// results follows the input.
fn compute_chunk(
    provider: &CachingProvider<'_>,
    rows: &[(Employer, Declaration)],
    disputes: &HashMap<i64, Vec<LineDispute>>,
    now: chrono::NaiveDateTime,
) -> Vec<(usize, Result<Computed, String>)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let per = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(per)
            .enumerate()
            .map(|(part, slice)| {
                s.spawn(move || {
                    let mut snaps = SnapshotCache::default();
                    slice
                        .iter()
                        .enumerate()
                        .map(|(i, (e, d))| {
                            let lines = disputes.get(&e.id).map_or(&[][..], Vec::as_slice);
                            let r =
                                compute(provider, &mut snaps, e, d, lines, now).map_err(|errs| {
                                    // Codes and pointers only: messages may quote figures, never
                                    // identifiers, but the log needs no more than this.
                                    errs.iter()
                                        .map(|f| format!("{} {}", f.pointer, f.code))
                                        .collect::<Vec<_>>()
                                        .join("; ")
                                });
                            (part * per + i, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// What one worker's transaction did.
enum Step {
    /// Committed a chunk; the run as it stood then.
    Committed(Box<Run>),
    /// Every pending chunk is held by another worker: wait and look again.
    Busy,
    /// The run is no longer running (finished, failed, or gone).
    Stopped,
}

/// Where one worker's time went, summed over its chunks and logged when it stops
/// (BENCHMARKS.md, "Batch assessment", has a profile).
#[derive(Debug, Default)]
struct Phases {
    /// Chunks committed.
    chunks: u32,
    /// Of them, read and computed ahead on the second connection.
    ahead: u32,
    /// Reading employers and declarations.
    read: Duration,
    /// Reading the roster lines other employers claim too.
    disputes: Duration,
    /// Parsing the bodies and computing (threads' wall time).
    compute: Duration,
    /// The writer waiting for the chunk read ahead.
    wait: Duration,
    /// Current digests, snapshots, superseding.
    check: Duration,
    /// Inserting the assessments.
    insert: Duration,
    /// The chunk's mark, the run's counts, and the commit.
    commit: Duration,
}

impl Phases {
    fn log(&self, run_id: i64) {
        let ms = |d: Duration| d.as_millis() as u64;
        tracing::info!(
            run_id,
            chunks = self.chunks,
            read_ahead = self.ahead,
            read_ms = ms(self.read),
            disputes_ms = ms(self.disputes),
            compute_ms = ms(self.compute),
            wait_ms = ms(self.wait),
            check_ms = ms(self.check),
            insert_ms = ms(self.insert),
            commit_ms = ms(self.commit),
            "assessment worker phases"
        );
    }
}

/// A chunk read and computed ahead of its transaction (see [`ReadAhead`]).
struct Ahead {
    chunk: Chunk,
    /// The writer's `PRAGMA data_version` in the transaction that asked for it.
    version: i64,
    rows: Vec<(Employer, Declaration)>,
    computed: Vec<(usize, Result<Computed, String>)>,
    read: Duration,
    disputes: Duration,
    compute: Duration,
}

/// SQLite's one worker: a second connection reads and computes the next chunk while
/// the writer writes and commits the current one, as the one-process pipeline did
/// before chunks. What it reads is used only when it is exactly what the writer's
/// transaction would read: the same chunk, and no other connection committed between
/// the transaction that asked (whose write lock was held when the reading began) and
/// the one that uses it, which SQLite's `data_version` tells. Otherwise the chunk is
/// read again inside its transaction. Every chunk is still committed with its progress
/// in one transaction, so `kill -9` resumes exactly.
struct ReadAhead {
    ask: mpsc::Sender<(Chunk, i64)>,
    answers: mpsc::Receiver<Option<Ahead>>,
    outstanding: bool,
}

impl ReadAhead {
    /// The answer to the last request, waiting for it; `None` when none is out or the
    /// reading failed.
    fn take(&mut self) -> Option<Ahead> {
        if !std::mem::take(&mut self.outstanding) {
            return None;
        }
        self.answers.recv().ok().flatten()
    }

    fn request(&mut self, chunk: Chunk, version: i64) {
        // An unused answer is dropped, so that answers follow requests one to one.
        let _ = self.take();
        self.outstanding = self.ask.send((chunk, version)).is_ok();
    }
}

/// The reader of [`ReadAhead`], on its own connection: each chunk read in one read
/// transaction, then computed; stops when the writer drops its end.
fn read_ahead(
    conn: &mut AnyConnection,
    provider: &CachingProvider<'_>,
    run: &Run,
    asks: mpsc::Receiver<(Chunk, i64)>,
    answers: mpsc::Sender<Option<Ahead>>,
) {
    let pattern = region_pattern(run.region.as_deref());
    for (chunk, version) in asks {
        let started = Instant::now();
        let mut read = Duration::ZERO;
        let got = conn.transaction(|c| -> Result<_, DbError> {
            let rows = repo_decl::filed_between(
                c,
                run.levy_year,
                &pattern,
                chunk.after_employer_id,
                chunk.last_employer_id,
            )?;
            read = started.elapsed();
            let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
            let disputes = disputes_for(c, run.levy_year, &ids)?;
            Ok((rows, disputes))
        });
        let answer = match got {
            Ok((rows, disputes)) => {
                let disputes_time = started.elapsed().saturating_sub(read);
                let t = Instant::now();
                let computed = compute_chunk(provider, &rows, &disputes, Utc::now().naive_utc());
                Some(Ahead {
                    chunk,
                    version,
                    rows,
                    computed,
                    read,
                    disputes: disputes_time,
                    compute: t.elapsed(),
                })
            }
            Err(e) => {
                // The writer reads the chunk itself.
                tracing::debug!(run_id = run.id, error = %e, "reading ahead failed");
                None
            }
        };
        if answers.send(answer).is_err() {
            return;
        }
    }
}

/// Claims one chunk and, in the same transaction, reads, computes and writes it,
/// marks it done, adds its counts to the run, and finishes the run when it was the
/// last. A worker that dies anywhere before the commit leaves nothing behind, and its
/// chunk is pending again. With `ahead`, the chunk may come read and computed already,
/// and the next one is asked for (see [`ReadAhead`]).
fn work_one(
    conn: &mut AnyConnection,
    provider: &CachingProvider<'_>,
    run: &Run,
    worker: &str,
    snapshot_ids: &mut HashMap<Arc<str>, i64>,
    ahead: Option<&mut ReadAhead>,
    phases: &mut Phases,
) -> Result<Step, DbError> {
    let (run_id, levy_year) = (run.id, run.levy_year);
    let pattern = region_pattern(run.region.as_deref());
    let mut commit_from = None;
    let step = crate::db::write_transaction(conn, |c| -> Result<Step, DbError> {
        let now = Utc::now().naive_utc();
        match repo::run(c, run_id)? {
            Some(r) if r.status == "running" => {}
            _ => return Ok(Step::Stopped),
        }
        let Some(chunk) = chunks::claim(c, run_id)? else {
            if chunks::pending(c, run_id)? > 0 {
                return Ok(Step::Busy);
            }
            // Every chunk is committed and the run still says running: finish it.
            repo::finish_run(c, run_id, None, now)?;
            return Ok(Step::Stopped);
        };
        let mut ready = None;
        if let Some(ra) = ahead {
            // No other connection can commit while this transaction holds the write
            // lock, so the version read here holds from its start to its commit.
            let version = crate::db::sqlite_data_version(c)?;
            let t = Instant::now();
            let got = ra.take();
            phases.wait += t.elapsed();
            if let (Some(v), Some(next)) = (version, chunks::pending_after(c, run_id, chunk.seq)?) {
                ra.request(next, v);
            }
            ready = got.filter(|a| a.chunk == chunk && Some(a.version) == version);
        }
        let (rows, computed) = match ready {
            Some(a) => {
                phases.ahead += 1;
                phases.read += a.read;
                phases.disputes += a.disputes;
                phases.compute += a.compute;
                (a.rows, a.computed)
            }
            None => {
                let t = Instant::now();
                let rows = repo_decl::filed_between(
                    c,
                    levy_year,
                    &pattern,
                    chunk.after_employer_id,
                    chunk.last_employer_id,
                )?;
                phases.read += t.elapsed();
                let t = Instant::now();
                let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
                let disputes = disputes_for(c, levy_year, &ids)?;
                phases.disputes += t.elapsed();
                let t = Instant::now();
                let computed = compute_chunk(provider, &rows, &disputes, now);
                phases.compute += t.elapsed();
                (rows, computed)
            }
        };
        let counts = write_rows(
            c,
            run_id,
            levy_year,
            &rows,
            computed,
            now,
            snapshot_ids,
            phases,
        )?;
        let t = Instant::now();
        let last = rows.last().map_or(chunk.after_employer_id, |(e, _)| e.id);
        chunks::mark_done(c, &chunk, worker, now)?;
        // The run row is locked from here to the commit, so the workers' last steps
        // take turns: the one that sees no pending chunk after its own is the last.
        repo::advance_run(c, run_id, last, counts)?;
        if chunks::pending(c, run_id)? == 0 {
            repo::finish_run(c, run_id, None, now)?;
        }
        let r = repo::run(c, run_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        commit_from = Some(t);
        Ok(Step::Committed(Box::new(r)))
    })
    .inspect_err(|_| {
        // A rolled-back chunk may have cached snapshot ids that were never
        // committed; forget them so the retry stores them again.
        snapshot_ids.clear();
    })?;
    if let (Step::Committed(_), Some(t)) = (&step, commit_from) {
        phases.chunks += 1;
        phases.commit += t.elapsed();
    }
    Ok(step)
}

/// Writes the computed assessments of one chunk (superseding changed ones, leaving
/// unchanged ones alone) and returns the chunk's counts.
#[allow(clippy::too_many_arguments)]
fn write_rows(
    c: &mut AnyConnection,
    run_id: i64,
    levy_year: i32,
    rows: &[(Employer, Declaration)],
    computed: Vec<(usize, Result<Computed, String>)>,
    now: chrono::NaiveDateTime,
    snapshot_ids: &mut HashMap<Arc<str>, i64>,
    phases: &mut Phases,
) -> Result<ChunkCounts, DbError> {
    let t = Instant::now();
    let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
    let current: HashMap<i64, (i64, String)> = repo::current_digests(c, &ids, levy_year)?
        .into_iter()
        .map(|(emp, id, digest)| (emp, (id, digest)))
        .collect();
    let mut counts = ChunkCounts {
        processed: rows.len() as i64,
        ..Default::default()
    };
    let mut supersede = Vec::new();
    let mut inserts: Vec<NewAssessment> = Vec::with_capacity(rows.len());
    for (i, r) in computed {
        let Some((employer, _)) = rows.get(i) else {
            continue;
        };
        let comp = match r {
            Ok(c) => c,
            Err(why) => {
                counts.failed += 1;
                tracing::warn!(run_id, uscc = %employer.uscc, reason = %why, "not assessed");
                continue;
            }
        };
        if comp.row.exempt {
            counts.exempt += 1;
        }
        if comp.below_quota {
            counts.below_quota += 1;
        }
        counts.payable_fen += comp.row.payable_fen;
        if let Some((old_id, digest)) = current.get(&employer.id) {
            if *digest == comp.row.inputs_digest {
                counts.unchanged += 1;
                continue;
            }
            supersede.push(*old_id);
        }
        let sid = match snapshot_ids.get(&comp.snapshot.digest) {
            Some(id) => *id,
            None => {
                let id = repo::snapshot_id(c, &comp.snapshot.digest, &comp.snapshot.json, now)?;
                snapshot_ids.insert(comp.snapshot.digest.clone(), id);
                id
            }
        };
        let mut row = comp.row;
        row.policy_snapshot_id = sid;
        row.run_id = Some(run_id);
        // A chunk computed ahead carries the time of its reading; the row is made now.
        row.computed_at = now;
        inserts.push(row);
    }
    counts.assessed = inserts.len() as i64;
    repo::supersede(c, &supersede, now)?;
    phases.check += t.elapsed();
    let t = Instant::now();
    repo::insert_many(c, &inserts)?;
    phases.insert += t.elapsed();
    Ok(counts)
}

/// How this process names itself in the chunks it commits: host, process id and
/// worker number (no personal data).
fn worker_name(n: usize) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}#{n}", std::process::id())
}

/// True for SQLite's "database is locked": the write lock could not be had in time.
fn sqlite_locked(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Query(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("database is locked")
    )
}

/// PostgreSQL aborted the transaction to break a deadlock (SQLSTATE 40P01): it rolled
/// back whole, so the chunk may simply be tried again.
fn pg_deadlock(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Query(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("deadlock detected")
    )
}

/// How long a worker waits before looking again when every pending chunk is held by
/// another worker.
const BUSY_WAIT: Duration = Duration::from_millis(200);

/// Works `run_id` with one worker until the run ends (see [`work`]).
pub fn execute(
    db: &Db,
    provider: &dyn PolicyProvider,
    run_id: i64,
    progress: &mut dyn FnMut(&Run),
) -> Result<Run, DbError> {
    work(db, provider, run_id, 1, progress)
}

/// Works `run_id` with `workers` threads of this process, each on its own connection,
/// alongside any other process working the same run, until the run is finished or
/// failed. `progress` is called after every chunk this process commits.
///
/// Each chunk is one transaction (see [`work_one`]); when every pending chunk is held
/// by another worker, a worker waits and looks again, so a chunk whose worker died
/// (its transaction rolled back, its lock released) is taken up by a live one. A
/// worker's error marks the run failed, and every worker then stops.
pub fn work(
    db: &Db,
    provider: &dyn PolicyProvider,
    run_id: i64,
    workers: usize,
    progress: &mut dyn FnMut(&Run),
) -> Result<Run, DbError> {
    let run = {
        let mut conn = db.conn()?;
        let run =
            repo::run(&mut conn, run_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        if run.status != "running" {
            return Ok(run);
        }
        ensure_chunks(&mut conn, run_id)?;
        run
    };
    let caching = CachingProvider::new(provider);
    let result = std::thread::scope(|s| -> Result<(), DbError> {
        let (tx, rx) = std::sync::mpsc::channel::<Box<Run>>();
        // SQLite has one writer, so one worker; it reads ahead on a second connection
        // when the pool can spare one (a pool of one just works without).
        let mut read_ahead_slot = None;
        if db.backend() == crate::config::Backend::Sqlite && workers <= 1 {
            if let Ok(mut reader) = db.conn_timeout(Duration::from_millis(500)) {
                let (ask, asks) = mpsc::channel();
                let (answer, answers) = mpsc::channel();
                let (caching, run) = (&caching, &run);
                s.spawn(move || read_ahead(&mut reader, caching, run, asks, answer));
                read_ahead_slot = Some(ReadAhead {
                    ask,
                    answers,
                    outstanding: false,
                });
            }
        }
        let handles: Vec<_> = (0..workers.max(1))
            .map(|n| {
                let (tx, caching, run) = (tx.clone(), &caching, &run);
                let mut ahead = read_ahead_slot.take();
                s.spawn(move || -> Result<(), DbError> {
                    let name = worker_name(n);
                    let mut conn = db.conn()?;
                    let mut snapshot_ids: HashMap<Arc<str>, i64> = HashMap::new();
                    let mut phases = Phases::default();
                    loop {
                        match work_one(
                            &mut conn,
                            caching,
                            run,
                            &name,
                            &mut snapshot_ids,
                            ahead.as_mut(),
                            &mut phases,
                        ) {
                            Ok(Step::Committed(r)) => {
                                // The receiver is gone only once every worker is done.
                                let _ = tx.send(r);
                            }
                            Ok(Step::Busy) => std::thread::sleep(BUSY_WAIT),
                            Ok(Step::Stopped) => {
                                phases.log(run_id);
                                return Ok(());
                            }
                            // SQLite: another process held the write lock past the busy
                            // timeout (a long chunk); PostgreSQL: two chunks' transactions
                            // met in a deadlock (e.g. both storing the same new policy
                            // snapshots in another order) and the server rolled this one
                            // back. Nothing of the chunk was done, so take a turn later.
                            Err(e) if sqlite_locked(&e) || pg_deadlock(&e) => {
                                std::thread::sleep(BUSY_WAIT)
                            }
                            Err(e) => {
                                // Tell the other workers (here and elsewhere) to stop.
                                let now = Utc::now().naive_utc();
                                let _ =
                                    repo::finish_run(&mut conn, run_id, Some(&e.to_string()), now);
                                phases.log(run_id);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for r in rx {
            progress(&r);
        }
        let mut first_error = None;
        for h in handles {
            let r = h
                .join()
                .unwrap_or_else(|_| Err(DbError::Task("an assessment worker panicked".into())));
            if let (Err(e), None) = (r, &first_error) {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    });
    let mut conn = db.conn()?;
    if let Err(e) = &result {
        repo::finish_run(
            &mut conn,
            run_id,
            Some(&e.to_string()),
            Utc::now().naive_utc(),
        )?;
    }
    result?;
    repo::run(&mut conn, run_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}
