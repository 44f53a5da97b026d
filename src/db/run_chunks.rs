//! The chunks of a batch assessment run: fixed ranges of employer ids, each claimed by
//! one worker and committed with its assessments (see `jobs::assess`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::assessment_run_chunks as ch;
use super::{AnyConnection, DbError};

/// The upper bound of a run's last chunk: it takes every employer after the one
/// before it, including those filed after the run was prepared.
pub const OPEN_END: i64 = i64::MAX;

/// A chunk as a worker claims it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ch)]
pub struct Chunk {
    /// The run.
    pub run_id: i64,
    /// Position in the run, from 0.
    pub seq: i32,
    /// Employers with an id above this…
    pub after_employer_id: i64,
    /// …up to and including this one.
    pub last_employer_id: i64,
}

/// Cuts the employer ids `ids` (sorted, all above `after`) into chunks of `size` and
/// stores them for `run_id`; the last chunk is open-ended. A run with no employer
/// still gets one chunk, so that its worker finishes it the same way. Returns how many.
pub fn create(
    conn: &mut AnyConnection,
    run_id: i64,
    after: i64,
    ids: &[i64],
    size: usize,
) -> Result<usize, DbError> {
    let size = size.max(1);
    let mut rows: Vec<(i64, i32, i64, i64)> = Vec::with_capacity(ids.len() / size + 1);
    let mut lo = after;
    let parts: Vec<&[i64]> = ids.chunks(size).collect();
    for (seq, part) in parts.iter().enumerate() {
        let hi = if seq + 1 == parts.len() {
            OPEN_END
        } else {
            part.last().copied().unwrap_or(lo)
        };
        let seq = i32::try_from(seq).map_err(|_| {
            DbError::Conflict("too many chunks for one run: use a larger chunk size".into())
        })?;
        rows.push((run_id, seq, lo, hi));
        lo = hi;
    }
    if rows.is_empty() {
        rows.push((run_id, 0, after, OPEN_END));
    }
    for batch in rows.chunks(500) {
        let values: Vec<_> = batch
            .iter()
            .map(|&(run, seq, lo, hi)| {
                (
                    ch::run_id.eq(run),
                    ch::seq.eq(seq),
                    ch::after_employer_id.eq(lo),
                    ch::last_employer_id.eq(hi),
                )
            })
            .collect();
        // A multi-row insert compiles per backend, not for the MultiConnection.
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(ch::table)
            .values(&values)
            .execute(c))?;
    }
    Ok(rows.len())
}

/// How many chunks `run_id` has.
pub fn count(conn: &mut AnyConnection, run_id: i64) -> Result<i64, DbError> {
    Ok(ch::table
        .filter(ch::run_id.eq(run_id))
        .count()
        .get_result(conn)?)
}

/// How many chunks of `run_id` are not committed yet (claimed or not).
pub fn pending(conn: &mut AnyConnection, run_id: i64) -> Result<i64, DbError> {
    Ok(ch::table
        .filter(ch::run_id.eq(run_id))
        .filter(ch::done_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Claims the first pending chunk of `run_id` for the caller's transaction, which
/// must be open: on PostgreSQL the row lock (`FOR UPDATE SKIP LOCKED`) keeps other
/// workers off it until the transaction ends, and ends with it if the worker dies; on
/// SQLite the transaction already holds the database's one write lock. `None` when
/// every pending chunk is done or held by another worker.
pub fn claim(conn: &mut AnyConnection, run_id: i64) -> Result<Option<Chunk>, DbError> {
    // A macro, not a closure: the selection's type differs per backend.
    macro_rules! pending {
        () => {
            ch::table
                .filter(ch::run_id.eq(run_id))
                .filter(ch::done_at.is_null())
                .order(ch::seq.asc())
                .select(Chunk::as_select())
        };
    }
    Ok(match conn {
        AnyConnection::Postgresql(c) => {
            pending!().for_update().skip_locked().first(c).optional()?
        }
        AnyConnection::Sqlite(c) => pending!().first(c).optional()?,
    })
}

/// The first pending chunk of `run_id` after chunk `seq`, without claiming it: the one
/// SQLite's single worker will most likely claim next, to read ahead.
pub fn pending_after(
    conn: &mut AnyConnection,
    run_id: i64,
    seq: i32,
) -> Result<Option<Chunk>, DbError> {
    Ok(ch::table
        .filter(ch::run_id.eq(run_id))
        .filter(ch::done_at.is_null())
        .filter(ch::seq.gt(seq))
        .order(ch::seq.asc())
        .select(Chunk::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a claimed chunk committed, by `worker`.
pub fn mark_done(
    conn: &mut AnyConnection,
    chunk: &Chunk,
    worker: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let n = diesel::update(
        ch::table
            .filter(ch::run_id.eq(chunk.run_id))
            .filter(ch::seq.eq(chunk.seq))
            .filter(ch::done_at.is_null()),
    )
    .set((ch::done_at.eq(Some(now)), ch::worker.eq(Some(worker))))
    .execute(conn)?;
    if n != 1 {
        // Only possible if the claim did not hold; refuse rather than count it twice.
        return Err(DbError::Conflict(format!(
            "chunk {} of run {} was committed by another worker",
            chunk.seq, chunk.run_id
        )));
    }
    Ok(())
}
