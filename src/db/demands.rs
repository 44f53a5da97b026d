//! Written demands (催缴通知书) the tax bureau issued: who, for which levy year, the
//! figures printed on them and the deadline they gave.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

use super::schema::written_demands;
use super::{AnyConnection, DbError};

/// A recorded written demand.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = written_demands)]
pub struct DemandRow {
    /// Id: the demand's number.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year demanded.
    pub levy_year: i32,
    /// The date of issue.
    pub issued_on: NaiveDate,
    /// The payment deadline it gave.
    pub deadline: NaiveDate,
    /// Principal owed when issued, fen.
    pub principal_fen: i64,
    /// Surcharge owed when issued, fen.
    pub surcharge_fen: i64,
    /// Who issued it.
    pub issued_by: String,
    /// The request that issued it.
    pub request_id: Option<String>,
    /// When (UTC).
    pub issued_at: NaiveDateTime,
}

/// A demand to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = written_demands)]
pub struct NewDemand {
    /// See [`DemandRow`].
    pub employer_id: i64,
    /// See [`DemandRow`].
    pub levy_year: i32,
    /// See [`DemandRow`].
    pub issued_on: NaiveDate,
    /// See [`DemandRow`].
    pub deadline: NaiveDate,
    /// See [`DemandRow`].
    pub principal_fen: i64,
    /// See [`DemandRow`].
    pub surcharge_fen: i64,
    /// See [`DemandRow`].
    pub issued_by: String,
    /// See [`DemandRow`].
    pub request_id: Option<String>,
    /// See [`DemandRow`].
    pub issued_at: NaiveDateTime,
}

/// Inserts a demand and returns its id.
pub fn insert(conn: &mut AnyConnection, new: &NewDemand) -> Result<i64, DbError> {
    // RETURNING is not on the MultiBackend; both backends have it natively.
    let id = crate::per_backend!(&mut *conn, |c| diesel::insert_into(written_demands::table)
        .values(new)
        .returning(written_demands::id)
        .get_result::<i64>(c))?;
    Ok(id)
}

/// Demands by id, in id order.
pub fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<DemandRow>, DbError> {
    Ok(written_demands::table
        .filter(written_demands::id.eq_any(ids))
        .order(written_demands::id.asc())
        .select(DemandRow::as_select())
        .load(conn)?)
}

/// The demands of an employer for a levy year, oldest first.
pub fn of_employer(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Vec<DemandRow>, DbError> {
    Ok(written_demands::table
        .filter(written_demands::employer_id.eq(employer_id))
        .filter(written_demands::levy_year.eq(levy_year))
        .order(written_demands::id.asc())
        .select(DemandRow::as_select())
        .load(conn)?)
}

/// The deadline of the first demand issued on or before `as_of` (a demand issued later
/// was not known on that date), per employer of `employer_ids`.
pub fn first_deadlines(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
    as_of: NaiveDate,
) -> Result<HashMap<i64, NaiveDate>, DbError> {
    let rows: Vec<(i64, NaiveDate)> = written_demands::table
        .filter(written_demands::levy_year.eq(levy_year))
        .filter(written_demands::employer_id.eq_any(employer_ids))
        .filter(written_demands::issued_on.le(as_of))
        .order((written_demands::employer_id, written_demands::id.asc()))
        .select((written_demands::employer_id, written_demands::deadline))
        .load(conn)?;
    let mut first = HashMap::new();
    for (e, d) in rows {
        first.entry(e).or_insert(d);
    }
    Ok(first)
}
