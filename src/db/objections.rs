//! Objections to published notices (异议), as the federation records them: received,
//! handled (upheld or rejected with a note), answered by a correcting notice.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::notice_objections;
use super::{AnyConnection, DbError};

/// Status: received, not yet decided.
pub const OPEN: &str = "open";
/// Status: the claim holds; the notice needs a correction.
pub const UPHELD: &str = "upheld";
/// Status: the claim does not hold.
pub const REJECTED: &str = "rejected";

/// A recorded objection.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = notice_objections)]
pub struct Objection {
    /// Row id: the objection's number in the register.
    pub id: i64,
    /// The notice objected to.
    pub notice_id: i64,
    /// The entry (employer) objected to.
    pub entry_uscc: String,
    /// Who objected, as typed by the officer: personal data, for the register only.
    pub objector: String,
    /// When it was received.
    pub received_on: NaiveDate,
    /// What it claims.
    pub claim: String,
    /// `open`, `upheld` or `rejected`.
    pub status: String,
    /// How it was handled.
    pub handling_note: Option<String>,
    /// By whom (actor).
    pub handled_by: Option<String>,
    /// When.
    pub handled_at: Option<NaiveDateTime>,
    /// The correcting notice that answers it.
    pub answered_by: Option<i64>,
    /// Who recorded it (actor).
    pub recorded_by: String,
    /// When.
    pub recorded_at: NaiveDateTime,
}

/// An objection to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notice_objections)]
pub struct NewObjection<'a> {
    /// The notice.
    pub notice_id: i64,
    /// The entry.
    pub entry_uscc: &'a str,
    /// Who objected.
    pub objector: &'a str,
    /// When received.
    pub received_on: NaiveDate,
    /// The claim.
    pub claim: &'a str,
    /// `open`.
    pub status: &'a str,
    /// Who records it.
    pub recorded_by: &'a str,
    /// When.
    pub recorded_at: NaiveDateTime,
}

/// Records an objection; its id.
pub fn insert(conn: &mut AnyConnection, new: &NewObjection<'_>) -> Result<i64, DbError> {
    // RETURNING is not on the MultiBackend; both backends have it natively.
    let id = crate::per_backend!(&mut *conn, |c| diesel::insert_into(
        notice_objections::table
    )
    .values(new)
    .returning(notice_objections::id)
    .get_result::<i64>(c))?;
    Ok(id)
}

/// The objections to a notice, in the order received in the register.
pub fn for_notice(conn: &mut AnyConnection, notice_id: i64) -> Result<Vec<Objection>, DbError> {
    Ok(notice_objections::table
        .filter(notice_objections::notice_id.eq(notice_id))
        .order(notice_objections::id.asc())
        .select(Objection::as_select())
        .load(conn)?)
}

/// One objection.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Objection>, DbError> {
    Ok(notice_objections::table
        .find(id)
        .select(Objection::as_select())
        .first(conn)
        .optional()?)
}

/// Decides an open objection; false when it was no longer open (decided meanwhile).
pub fn decide(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    note: &str,
    actor: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        notice_objections::table
            .find(id)
            .filter(notice_objections::status.eq(OPEN)),
    )
    .set((
        notice_objections::status.eq(status),
        notice_objections::handling_note.eq(Some(note)),
        notice_objections::handled_by.eq(Some(actor)),
        notice_objections::handled_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Names the correcting notice that answers objections `ids`.
pub fn answer(conn: &mut AnyConnection, ids: &[i64], notice_id: i64) -> Result<(), DbError> {
    diesel::update(
        notice_objections::table
            .filter(notice_objections::id.eq_any(ids))
            .filter(notice_objections::answered_by.is_null()),
    )
    .set(notice_objections::answered_by.eq(Some(notice_id)))
    .execute(conn)?;
    Ok(())
}
