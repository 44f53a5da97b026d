//! Hardship decisions (docs/rules.md §6a): the tax bureau's reduction or deferral of one
//! employer's levy year, one current decision per employer and year.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::hardship_decisions;
use super::{AnyConnection, DbError};

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = hardship_decisions)]
pub struct HardshipRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year decided on.
    pub levy_year: i32,
    /// `reduction` or `deferral`.
    pub kind: String,
    /// `approved` or `refused`.
    pub decision: String,
    /// The amount reduced, fen (an approved reduction).
    pub amount_fen: Option<i64>,
    /// The new due date (an approved deferral).
    pub deferred_to: Option<NaiveDate>,
    /// When the employer applied.
    pub applied_on: NaiveDate,
    /// When the bureau decided.
    pub decided_on: NaiveDate,
    /// The reason, in the bureau's words.
    pub reason: String,
    /// Who recorded the decision.
    pub decided_by: String,
    /// When it was recorded (UTC).
    pub recorded_at: NaiveDateTime,
}

/// A decision to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = hardship_decisions)]
pub struct NewHardship {
    /// See [`HardshipRow`].
    pub employer_id: i64,
    /// See [`HardshipRow`].
    pub levy_year: i32,
    /// See [`HardshipRow`].
    pub kind: String,
    /// See [`HardshipRow`].
    pub decision: String,
    /// See [`HardshipRow`].
    pub amount_fen: Option<i64>,
    /// See [`HardshipRow`].
    pub deferred_to: Option<NaiveDate>,
    /// See [`HardshipRow`].
    pub applied_on: NaiveDate,
    /// See [`HardshipRow`].
    pub decided_on: NaiveDate,
    /// See [`HardshipRow`].
    pub reason: String,
    /// See [`HardshipRow`].
    pub decided_by: String,
    /// See [`HardshipRow`].
    pub recorded_at: NaiveDateTime,
}

/// The current decision of an employer for a year.
pub fn current(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<HardshipRow>, DbError> {
    Ok(hardship_decisions::table
        .filter(hardship_decisions::employer_id.eq(employer_id))
        .filter(hardship_decisions::levy_year.eq(levy_year))
        .select(HardshipRow::as_select())
        .first(conn)
        .optional()?)
}

/// The approved decisions of a year among these employers.
pub fn approved(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<Vec<HardshipRow>, DbError> {
    let mut out = Vec::new();
    // SQLite binds one parameter per id.
    let per = conn.rows_per_statement(1).max(1);
    for chunk in employer_ids.chunks(per) {
        out.extend(
            hardship_decisions::table
                .filter(hardship_decisions::levy_year.eq(levy_year))
                .filter(hardship_decisions::employer_id.eq_any(chunk))
                .filter(hardship_decisions::decision.eq("approved"))
                .select(HardshipRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Replaces the employer's decision for the year with `new`.
pub fn replace(conn: &mut AnyConnection, new: &NewHardship) -> Result<(), DbError> {
    diesel::delete(
        hardship_decisions::table
            .filter(hardship_decisions::employer_id.eq(new.employer_id))
            .filter(hardship_decisions::levy_year.eq(new.levy_year)),
    )
    .execute(conn)?;
    diesel::insert_into(hardship_decisions::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}
