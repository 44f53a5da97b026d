//! Payments from a bank's file: each row recorded once under its bank reference
//! (unique per employer), so that the same file imported twice records nothing twice;
//! every payment audited in the transaction that records it.

use chrono::{NaiveDate, Utc};
use diesel::Connection;
use serde_json::json;

use crate::db::audit::{self, AuditEntry};
use crate::db::bank_payments::{self as repo, NewBankPayment};
use crate::db::payments::{self as payments_repo, NewPayment};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::money::{format_money, from_fen};
use crate::registry::payments::PaymentRequest;

/// One payment of a bank file, checked.
#[derive(Debug, Clone)]
pub struct BankPayment {
    /// Employer row id.
    pub employer_id: i64,
    /// Its USCC, for the audit log.
    pub uscc: String,
    /// Levy year paid for.
    pub levy_year: i32,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Value date.
    pub paid_on: NaiveDate,
    /// The bank's reference.
    pub bank_reference: String,
}

/// What recording one did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankOutcome {
    /// Recorded now.
    Recorded,
    /// Recorded before with the same figures: nothing new.
    AlreadyRecorded,
    /// The reference was recorded before for another payment (another amount, date or
    /// levy year): nothing recorded.
    Conflict,
}

/// The idempotency key a bank payment is recorded under: its reference, marked so that
/// it cannot be taken for a key an officer's form or an API client chose.
pub fn key_of(reference: &str) -> String {
    format!("bank:{reference}")
}

/// How a payment already recorded under the reference compares with `p`.
pub fn judge(p: &BankPayment, recorded: &repo::Recorded) -> BankOutcome {
    if *recorded == (p.levy_year, p.amount_fen, p.paid_on) {
        BankOutcome::AlreadyRecorded
    } else {
        BankOutcome::Conflict
    }
}

/// Records `items` inside the caller's transaction (an import's batch), each with its
/// bank reference and an audit entry naming the import. A reference recorded meanwhile
/// by a concurrent import of the same file is judged as already recorded.
pub fn record_many(
    conn: &mut AnyConnection,
    items: &[BankPayment],
    import_id: &str,
    actor: &str,
) -> Result<Vec<BankOutcome>, DbError> {
    let keys: Vec<(i64, String)> = items
        .iter()
        .map(|p| (p.employer_id, p.bank_reference.clone()))
        .collect();
    let before = repo::recorded(conn, &keys)?;
    let mut out = Vec::with_capacity(items.len());
    for p in items {
        if let Some(r) = before.get(&(p.employer_id, p.bank_reference.clone())) {
            out.push(judge(p, r));
            continue;
        }
        let req = PaymentRequest {
            amount_fen: p.amount_fen,
            paid_on: p.paid_on,
            reference: p.bank_reference.clone(),
        };
        let key = key_of(&p.bank_reference);
        let new = NewPayment {
            employer_id: p.employer_id,
            levy_year: p.levy_year,
            amount_fen: p.amount_fen,
            paid_on: p.paid_on,
            reference: p.bank_reference.clone(),
            idempotency_key: key.clone(),
            request_digest: req.digest(p.employer_id, p.levy_year),
            recorded_by: actor.to_owned(),
            recorded_at: Utc::now().naive_utc(),
        };
        // In a savepoint: a concurrent import that won leaves the transaction usable.
        let inserted = conn.transaction(|c| {
            payments_repo::insert(c, &new)?;
            let row = payments_repo::by_key(c, p.employer_id, &key)?
                .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
            repo::insert(
                c,
                &NewBankPayment {
                    payment_id: row.id,
                    employer_id: p.employer_id,
                    bank_reference: p.bank_reference.clone(),
                    import_id: import_id.to_owned(),
                },
            )?;
            Ok::<_, DbError>(row)
        });
        let row = match inserted {
            Ok(row) => row,
            Err(e) if crate::db::is_unique_violation(&e) => {
                let now = repo::recorded(conn, &[(p.employer_id, p.bank_reference.clone())])?;
                out.push(match now.values().next() {
                    Some(r) => judge(p, r),
                    None => BankOutcome::Conflict,
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        audit::record(
            conn,
            AuditEntry {
                actor,
                action: "payment.import",
                entity_type: "payment",
                entity_id: &format!("{}/{}/{}", p.uscc, p.levy_year, row.id),
                before: None,
                after: Some(json!({
                    "amount": format_money(from_fen(row.amount_fen)), "paid_on": row.paid_on,
                    // A bank reference is free text; a number in it may be personal.
                    "reference": mask_numbers_in(&row.reference),
                })),
                request_id: Some(import_id),
            },
        )?;
        out.push(BankOutcome::Recorded);
    }
    Ok(out)
}
