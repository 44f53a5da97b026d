//! The federation's certification queue (submitted declarations of a year, by county
//! and submission time, a page at a time by keyset) and a declaration's return to its
//! employer.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{declarations, employers};
use crate::db::{AnyConnection, DbError};

use super::{set_status, Declaration, Status};

/// Where a page of the queue starts: after this county, submission time and row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueKey {
    /// The employer's region (a county code).
    pub region: String,
    /// When the declaration was submitted.
    pub submitted_at: NaiveDateTime,
    /// The declaration's row id (ties of one second).
    pub id: i64,
}

/// One declaration waiting for certification.
#[derive(Debug, Clone, Queryable)]
pub struct QueueRow {
    /// Declaration row id.
    pub id: i64,
    /// Its version (a certification names the version it saw).
    pub version: i32,
    /// When submitted.
    pub submitted_at: Option<NaiveDateTime>,
    /// The employer.
    pub uscc: String,
    /// Its name.
    pub name: String,
    /// Its region (county).
    pub region: String,
}

impl QueueRow {
    /// The key of the page after this row.
    pub fn key(&self) -> QueueKey {
        QueueKey {
            region: self.region.clone(),
            submitted_at: self.submitted_at.unwrap_or_default(),
            id: self.id,
        }
    }
}

/// Up to `limit` submitted declarations of `levy_year` whose employer's region starts
/// with `region_prefix` (exactly `county` when given), ordered by region, submission
/// time and id, after `after`. A keyset, not an offset: a page costs the same however
/// deep it is, and a declaration certified meanwhile does not shift the next page.
/// `county` must lie within the prefix (the caller checks the officer's scope).
///
/// The plan SQLite makes (`EXPLAIN QUERY PLAN`, 5,000 employers): `SEARCH e USING
/// INDEX employers_region_kind (region>? AND region<?)` (or `region=?` for a county),
/// then `SEARCH d USING INDEX declarations_queue (levy_year=? AND employer_id=? AND
/// status=?)`, then `USE TEMP B-TREE FOR RIGHT PART OF ORDER BY`: employers are walked
/// in region order from the key on, and only the declarations of the counties a page
/// reaches are sorted by time, so the work of a page is bounded by the counties it
/// touches, never by how deep it is.
pub fn queue(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    county: Option<&str>,
    after: Option<&QueueKey>,
    limit: i64,
) -> Result<Vec<QueueRow>, DbError> {
    let mut q = declarations::table
        .inner_join(employers::table)
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.eq(Status::Submitted.as_str()))
        .into_boxed();
    if let Some(c) = county {
        q = q.filter(employers::region.eq(c.to_owned()));
    } else if !region_prefix.is_empty() {
        // A range rather than LIKE: SQLite's LIKE ignores case and so cannot use the
        // region index; codes are digits, and '~' sorts after every digit.
        q = q
            .filter(employers::region.ge(region_prefix.to_owned()))
            .filter(employers::region.lt(format!("{region_prefix}~")));
    }
    if let Some(k) = after {
        let at = declarations::submitted_at.assume_not_null();
        q = q.filter(
            employers::region
                .gt(k.region.clone())
                .or(employers::region.eq(k.region.clone()).and(
                    at.gt(k.submitted_at)
                        .or(at.eq(k.submitted_at).and(declarations::id.gt(k.id))),
                )),
        );
    }
    Ok(q.order((
        employers::region.asc(),
        declarations::submitted_at.asc(),
        declarations::id.asc(),
    ))
    .limit(limit)
    .select((
        declarations::id,
        declarations::version,
        declarations::submitted_at,
        employers::uscc,
        employers::name,
        employers::region,
    ))
    .load(conn)?)
}

/// Why and when a declaration was last returned to its employer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ReturnNote {
    /// The federation's reason, as written.
    pub reason: String,
    /// When.
    pub returned_at: NaiveDateTime,
    /// By whom (actor).
    pub returned_by: String,
}

/// The return standing on declaration `id`, if it has one (cleared when submitted
/// again).
pub fn return_note(conn: &mut AnyConnection, id: i64) -> Result<Option<ReturnNote>, DbError> {
    let row: Option<(Option<String>, Option<NaiveDateTime>, Option<String>)> = declarations::table
        .find(id)
        .select((
            declarations::returned_reason,
            declarations::returned_at,
            declarations::returned_by,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((Some(reason), Some(returned_at), Some(returned_by))) => Some(ReturnNote {
            reason,
            returned_at,
            returned_by,
        }),
        _ => None,
    })
}

/// Moves `d` to `returned` (a new version, as every step) with the reason.
pub fn set_returned(
    conn: &mut AnyConnection,
    d: &Declaration,
    reason: &str,
    actor: &str,
) -> Result<Declaration, DbError> {
    let after = set_status(conn, d, Status::Returned, actor)?;
    diesel::update(declarations::table.find(d.id))
        .set((
            declarations::returned_reason.eq(Some(reason)),
            declarations::returned_at.eq(Some(Utc::now().naive_utc())),
            declarations::returned_by.eq(Some(actor)),
        ))
        .execute(conn)?;
    Ok(after)
}

/// Clears the return of declaration `id` (it was submitted again).
pub fn clear_returned(conn: &mut AnyConnection, id: i64) -> Result<(), DbError> {
    diesel::update(declarations::table.find(id))
        .set((
            declarations::returned_reason.eq(None::<String>),
            declarations::returned_at.eq(None::<NaiveDateTime>),
            declarations::returned_by.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}
