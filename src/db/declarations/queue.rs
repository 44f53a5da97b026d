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
/// The declaration carries its employer's region (kept by triggers, migration
/// `2026-12-06-100_declarations_queue_region`), so the queue's order is one index,
/// `declarations_queue_order` (levy year, status, region, submission time, id). The
/// rows after a key are asked for in up to three parts, each one seek of that index in
/// its order with no sort: the same region and time after the key's id, the same region
/// later, then the regions after it. A row-value comparison would be one statement, but
/// SQLite does not seek on the rowid inside one, so declarations submitted together
/// (a bulk submission, demonstration data) were read from the first of them. Each part
/// then reads the employer by its primary key: `limit` rows in all, whatever the size of
/// the region (BENCHMARKS.md, "Lists", has the plans).
pub fn queue(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    county: Option<&str>,
    after: Option<&QueueKey>,
    limit: i64,
) -> Result<Vec<QueueRow>, DbError> {
    // A range rather than LIKE: SQLite's LIKE ignores case and so cannot use the index;
    // codes are digits, and '~' sorts after every digit.
    let upper = format!("{region_prefix}~");
    let lowest = county.unwrap_or(region_prefix);
    let parts: &[Part] = match after {
        // A key before the scope (a link of another scope) starts at its beginning.
        Some(k) if k.region.as_str() >= lowest => match county {
            Some(_) => &[Part::Tie, Part::Later],
            None => &[Part::Tie, Part::Later, Part::Rest],
        },
        _ => &[Part::Start],
    };
    let mut rows: Vec<QueueRow> = Vec::new();
    for part in parts {
        let left = limit - rows.len() as i64;
        if left <= 0 {
            break;
        }
        let mut q = declarations::table
            .inner_join(employers::table)
            .filter(declarations::levy_year.eq(levy_year))
            .filter(declarations::status.eq(Status::Submitted.as_str()))
            .into_boxed();
        let in_scope = |q: declarations_in_scope::Q<'static>| match county {
            Some(c) => q.filter(declarations::region.eq(c.to_owned())),
            None if region_prefix.is_empty() => q,
            None => q.filter(declarations::region.lt(upper.clone())),
        };
        q = match (part, after) {
            (Part::Start, _) | (_, None) => {
                let q = in_scope(q);
                if county.is_none() && !region_prefix.is_empty() {
                    q.filter(declarations::region.ge(region_prefix.to_owned()))
                } else {
                    q
                }
            }
            (Part::Tie, Some(k)) => in_scope(q)
                .filter(declarations::region.eq(k.region.clone()))
                .filter(declarations::submitted_at.eq(k.submitted_at))
                .filter(declarations::id.gt(k.id)),
            (Part::Later, Some(k)) => in_scope(q)
                .filter(declarations::region.eq(k.region.clone()))
                .filter(declarations::submitted_at.gt(k.submitted_at)),
            // The key is within the scope here, so it is the lower bound alone: with
            // the prefix as a second one SQLite might seek from the prefix instead.
            (Part::Rest, Some(k)) => in_scope(q).filter(declarations::region.gt(k.region.clone())),
        };
        let found: Vec<QueueRow> = q
            .order((
                declarations::region.asc(),
                declarations::submitted_at.asc(),
                declarations::id.asc(),
            ))
            .limit(left)
            .select((
                declarations::id,
                declarations::version,
                declarations::submitted_at,
                employers::uscc,
                employers::name,
                // The declaration's copy, equal to the employer's: the key of the next
                // page must be the index's own value.
                declarations::region,
            ))
            .load(conn)?;
        rows.extend(found);
    }
    Ok(rows)
}

/// A part of the queue after a key (see [`queue`]).
enum Part {
    /// No key: the scope from its start.
    Start,
    /// The key's region and submission time, ids after the key's.
    Tie,
    /// The key's region, submitted later.
    Later,
    /// The regions after the key's.
    Rest,
}

/// The type of the queue's boxed query.
mod declarations_in_scope {
    use crate::db::schema::{declarations, employers};
    /// The boxed join of declarations and employers, on either backend.
    pub type Q<'a> = diesel::helper_types::IntoBoxed<
        'a,
        diesel::helper_types::Filter<
            diesel::helper_types::Filter<
                diesel::helper_types::InnerJoin<declarations::table, employers::table>,
                diesel::helper_types::Eq<declarations::levy_year, i32>,
            >,
            diesel::helper_types::Eq<declarations::status, &'static str>,
        >,
        <crate::db::AnyConnection as diesel::Connection>::Backend,
    >;
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
