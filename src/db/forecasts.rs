//! In-year forecasts (docs/forecast.md): one per employer and year, replaced whole.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::forecasts;
use super::{AnyConnection, DbError};

/// A stored forecast.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = forecasts)]
pub struct ForecastRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// The calendar year entered (the data year of levy year `year + 1`).
    pub year: i32,
    /// Months entered so far, January first (1–12).
    pub months_entered: i32,
    /// The body as sent, canonical JSON (holds certificate numbers).
    pub body_json: String,
    /// Who saved it (audit name).
    pub updated_by: String,
    /// When (UTC).
    pub updated_at: NaiveDateTime,
}

/// A forecast to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = forecasts)]
pub struct NewForecast<'a> {
    /// See [`ForecastRow`].
    pub employer_id: i64,
    /// See [`ForecastRow`].
    pub year: i32,
    /// See [`ForecastRow`].
    pub months_entered: i32,
    /// See [`ForecastRow`].
    pub body_json: &'a str,
    /// See [`ForecastRow`].
    pub updated_by: &'a str,
    /// See [`ForecastRow`].
    pub updated_at: NaiveDateTime,
}

/// The forecast of an employer for a year.
pub fn get(
    conn: &mut AnyConnection,
    employer_id: i64,
    year: i32,
) -> Result<Option<ForecastRow>, DbError> {
    Ok(forecasts::table
        .filter(forecasts::employer_id.eq(employer_id))
        .filter(forecasts::year.eq(year))
        .select(ForecastRow::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces the employer's forecast for the year (delete and insert: the same on both
/// backends, inside the caller's transaction).
pub fn replace(conn: &mut AnyConnection, new: &NewForecast<'_>) -> Result<(), DbError> {
    diesel::delete(
        forecasts::table
            .filter(forecasts::employer_id.eq(new.employer_id))
            .filter(forecasts::year.eq(new.year)),
    )
    .execute(conn)?;
    diesel::insert_into(forecasts::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` forecasts of `year` with an employer id above `after`, by employer id
/// (the warning step reads them in chunks).
pub fn of_year_after(
    conn: &mut AnyConnection,
    year: i32,
    after: i64,
    limit: i64,
) -> Result<Vec<ForecastRow>, DbError> {
    Ok(forecasts::table
        .filter(forecasts::year.eq(year))
        .filter(forecasts::employer_id.gt(after))
        .order(forecasts::employer_id.asc())
        .limit(limit)
        .select(ForecastRow::as_select())
        .load(conn)?)
}
