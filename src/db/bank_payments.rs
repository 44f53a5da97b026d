//! The bank references of payments imported from a bank's file: one per payment,
//! unique per employer (migrations/*/2026-12-04-000200_collection), so that a file
//! imported twice records nothing twice.

use diesel::prelude::*;
use std::collections::HashMap;

use super::schema::{bank_payments, payments};
use super::{AnyConnection, DbError};

/// A bank reference to record with its payment.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bank_payments)]
pub struct NewBankPayment {
    /// The payment it identifies.
    pub payment_id: i64,
    /// The employer (the reference is unique per employer).
    pub employer_id: i64,
    /// The bank's reference.
    pub bank_reference: String,
    /// The import that recorded it.
    pub import_id: String,
}

/// What was recorded under a bank reference: (levy year, amount in fen, value date).
pub type Recorded = (i32, i64, chrono::NaiveDate);

/// The payments already recorded under these (employer id, bank reference) pairs.
pub fn recorded(
    conn: &mut AnyConnection,
    keys: &[(i64, String)],
) -> Result<HashMap<(i64, String), Recorded>, DbError> {
    let mut found = HashMap::new();
    let employer_ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let refs: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
    for (ids, rs) in employer_ids.chunks(400).zip(refs.chunks(400)) {
        let rows: Vec<(i64, String, i32, i64, chrono::NaiveDate)> = bank_payments::table
            .inner_join(payments::table)
            .filter(bank_payments::employer_id.eq_any(ids))
            .filter(bank_payments::bank_reference.eq_any(rs))
            .select((
                bank_payments::employer_id,
                bank_payments::bank_reference,
                payments::levy_year,
                payments::amount_fen,
                payments::paid_on,
            ))
            .load(conn)?;
        for (e, r, y, a, d) in rows {
            found.insert((e, r), (y, a, d));
        }
    }
    Ok(found)
}

/// Inserts a bank reference. One recorded meanwhile for the employer (a concurrent
/// import of the same file) is a unique violation ([`crate::db::is_unique_violation`]).
pub fn insert(conn: &mut AnyConnection, row: &NewBankPayment) -> Result<(), DbError> {
    diesel::insert_into(bank_payments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
