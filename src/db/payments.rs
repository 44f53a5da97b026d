//! Payments of the levy.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::payments;
use super::{AnyConnection, DbError};

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year paid for.
    pub levy_year: i32,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Value date.
    pub paid_on: NaiveDate,
    /// The bank's reference.
    pub reference: String,
    /// The client's Idempotency-Key.
    pub idempotency_key: String,
    /// SHA-256 of what was asked.
    pub request_digest: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (UTC).
    pub recorded_at: NaiveDateTime,
}

/// A payment to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = payments)]
pub struct NewPayment {
    /// See [`PaymentRow`].
    pub employer_id: i64,
    /// See [`PaymentRow`].
    pub levy_year: i32,
    /// See [`PaymentRow`].
    pub amount_fen: i64,
    /// See [`PaymentRow`].
    pub paid_on: NaiveDate,
    /// See [`PaymentRow`].
    pub reference: String,
    /// See [`PaymentRow`].
    pub idempotency_key: String,
    /// See [`PaymentRow`].
    pub request_digest: String,
    /// See [`PaymentRow`].
    pub recorded_by: String,
    /// See [`PaymentRow`].
    pub recorded_at: NaiveDateTime,
}

/// The payment recorded for an employer under an idempotency key. Keys are the
/// caller's, per employer: two offices may happen to use one key for two employers.
pub fn by_key(
    conn: &mut AnyConnection,
    employer_id: i64,
    key: &str,
) -> Result<Option<PaymentRow>, DbError> {
    Ok(payments::table
        .filter(payments::employer_id.eq(employer_id))
        .filter(payments::idempotency_key.eq(key))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Inserts a payment. A key the employer used meanwhile (a concurrent retry) is a unique
/// violation ([`crate::db::is_unique_violation`]); on PostgreSQL it ends the enclosing
/// transaction, so callers that go on afterwards insert inside a savepoint.
pub fn insert(conn: &mut AnyConnection, p: &NewPayment) -> Result<(), DbError> {
    diesel::insert_into(payments::table)
        .values(p)
        .execute(conn)?;
    Ok(())
}

/// Payments of an employer for a year, by value date.
pub fn for_year(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Vec<PaymentRow>, DbError> {
    Ok(payments::table
        .filter(payments::employer_id.eq(employer_id))
        .filter(payments::levy_year.eq(levy_year))
        .order((payments::paid_on.asc(), payments::id.asc()))
        .select(PaymentRow::as_select())
        .load(conn)?)
}

/// Payments of many employers for a year, up to a value date (all when `None`), grouped
/// by employer in the statement's order: value date, then the order recorded (same-day
/// payments apply in the order they were recorded).
pub fn of_employers(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
    up_to: Option<NaiveDate>,
) -> Result<std::collections::HashMap<i64, Vec<crate::domain::levy::Payment>>, DbError> {
    let mut q = payments::table
        .filter(payments::levy_year.eq(levy_year))
        .filter(payments::employer_id.eq_any(employer_ids))
        .into_boxed();
    if let Some(d) = up_to {
        q = q.filter(payments::paid_on.le(d));
    }
    let rows: Vec<(i64, NaiveDate, i64)> = q
        .order((payments::paid_on.asc(), payments::id.asc()))
        .select((
            payments::employer_id,
            payments::paid_on,
            payments::amount_fen,
        ))
        .load(conn)?;
    let mut paid: std::collections::HashMap<i64, Vec<crate::domain::levy::Payment>> =
        std::collections::HashMap::new();
    for (employer, date, fen) in rows {
        paid.entry(employer)
            .or_default()
            .push(crate::domain::levy::Payment {
                date,
                amount: crate::domain::money::from_fen(fen),
            });
    }
    Ok(paid)
}
