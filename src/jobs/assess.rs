//! The batch assessment of a levy year (and optionally a region): the job behind
//! `quota-levy assess` and `POST /api/v1/assessment-runs`.
//!
//! Employers are processed in id order, in chunks. Each chunk is one transaction that
//! writes its assessments AND advances the run's progress mark, so a process killed at
//! any point (even `kill -9`) resumes exactly after the last committed chunk: no
//! employer is missed and none is assessed twice. Independently, an employer whose
//! current assessment already has the same inputs and policy values is left alone, so
//! even a fresh run over finished work writes nothing new.

use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;

use crate::db::assessments::{self as repo, ChunkCounts, NewAssessment, Run};
use crate::db::declarations as repo_decl;
use crate::db::declarations::Declaration;
use crate::db::employers::Employer;
use crate::db::{AnyConnection, Db, DbError};
use crate::domain::{PolicyProvider, RegionCode};
use crate::registry::assessments::{compute, CachingProvider, Computed, SnapshotCache};
use crate::registry::disputes::{disputes_for, LineDispute};

/// Employers per chunk (and per transaction).
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

/// Creates the run record, or returns the unfinished run of the same year and scope
/// (a restart after a crash resumes it).
pub fn prepare(conn: &mut AnyConnection, job: &AssessJob) -> Result<i64, DbError> {
    let region = job.region.map(|r| r.to_string());
    if let Some(run) = repo::unfinished_run(conn, job.levy_year, region.as_deref())? {
        return Ok(run.id);
    }
    let total = repo_decl::count_filed(conn, job.levy_year, &region_pattern(region.as_deref()))?;
    Ok(repo::start_run(
        conn,
        job.levy_year,
        region.as_deref(),
        total,
        &job.actor,
        Utc::now().naive_utc(),
    )?
    .id)
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

/// One chunk read and computed, ready to be written.
struct Prepared {
    rows: Vec<(Employer, Declaration)>,
    computed: Vec<(usize, Result<Computed, String>)>,
    /// The chunk's last employer id: the progress mark once it is written.
    last: i64,
    /// When it was computed.
    now: chrono::NaiveDateTime,
}

/// Reads the next chunk after `after` and computes it; `None` at the end.
fn prepare_next(
    conn: &mut AnyConnection,
    provider: &CachingProvider<'_>,
    levy_year: i32,
    pattern: &str,
    after: i64,
) -> Result<Option<Prepared>, DbError> {
    let rows = repo_decl::filed_after(conn, levy_year, pattern, after, CHUNK)?;
    let Some(last) = rows.last().map(|(e, _)| e.id) else {
        return Ok(None);
    };
    let now = Utc::now().naive_utc();
    let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
    let disputes = disputes_for(conn, levy_year, &ids)?;
    let computed = compute_chunk(provider, &rows, &disputes, now);
    Ok(Some(Prepared {
        rows,
        computed,
        last,
        now,
    }))
}

/// Writes one prepared chunk and advances the run's progress mark, in one transaction.
fn write_prepared(
    conn: &mut AnyConnection,
    run_id: i64,
    levy_year: i32,
    p: Prepared,
    snapshot_ids: &mut HashMap<Arc<str>, i64>,
) -> Result<(), DbError> {
    let Prepared {
        rows,
        computed,
        last,
        now,
    } = p;
    crate::db::write_transaction(conn, |c| -> Result<(), DbError> {
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
            let (employer, _) = &rows[i];
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
            inserts.push(row);
        }
        counts.assessed = inserts.len() as i64;
        repo::supersede(c, &supersede, now)?;
        repo::insert_many(c, &inserts)?;
        repo::advance_run(c, run_id, last, counts)?;
        Ok(())
    })
    .inspect_err(|_| {
        // A rolled-back chunk may have cached snapshot ids that were never
        // committed; forget them so the retry stores them again.
        snapshot_ids.clear();
    })
}

/// Runs (or resumes) `run_id` to the end. `progress` is called after every chunk.
///
/// Reading and computing the next chunk (on a second connection, when the pool has
/// one to spare) overlaps with writing the current one; only the writer's
/// transactions advance the progress mark, so a crash anywhere still resumes exactly.
pub fn execute(
    db: &Db,
    provider: &dyn PolicyProvider,
    run_id: i64,
    progress: &mut dyn FnMut(&Run),
) -> Result<Run, DbError> {
    let mut conn = db.conn()?;
    let run =
        repo::run(&mut conn, run_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    if run.status != "running" {
        return Ok(run);
    }
    let pattern = region_pattern(run.region.as_deref());
    let caching = CachingProvider::new(provider);
    let mut snapshot_ids: HashMap<Arc<str>, i64> = HashMap::new();
    let levy_year = run.levy_year;
    let start = run.last_employer_id;
    let result = std::thread::scope(|s| -> Result<(), DbError> {
        let conn: &mut AnyConnection = &mut conn;
        let mut write = |conn: &mut AnyConnection, p: Prepared| -> Result<(), DbError> {
            write_prepared(conn, run_id, levy_year, p, &mut snapshot_ids)?;
            if let Some(r) = repo::run(conn, run_id)? {
                progress(&r);
            }
            Ok(())
        };
        match db.conn_timeout(std::time::Duration::from_millis(500)) {
            Ok(mut reader) => {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Prepared, DbError>>(1);
                let (caching, pattern) = (&caching, pattern.as_str());
                s.spawn(move || {
                    let mut after = start;
                    loop {
                        match prepare_next(&mut reader, caching, levy_year, pattern, after) {
                            Ok(Some(p)) => {
                                after = p.last;
                                if tx.send(Ok(p)).is_err() {
                                    return; // the writer stopped
                                }
                            }
                            Ok(None) => return,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                });
                for p in rx {
                    write(conn, p?)?;
                }
            }
            // No second connection (a pool of one): read, compute and write in turn.
            Err(_) => {
                let mut after = start;
                while let Some(p) = prepare_next(conn, &caching, levy_year, &pattern, after)? {
                    after = p.last;
                    write(conn, p)?;
                }
            }
        }
        Ok(())
    });
    let now = Utc::now().naive_utc();
    match &result {
        Ok(()) => repo::finish_run(&mut conn, run_id, None, now)?,
        Err(e) => repo::finish_run(&mut conn, run_id, Some(&e.to_string()), now)?,
    }
    result?;
    repo::run(&mut conn, run_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}
