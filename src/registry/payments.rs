//! Recording payments exactly once, and the statement an employer sees: principal,
//! each payment, the surcharge accrued day by day (docs/rules.md §6), what is outstanding.

use chrono::{NaiveDate, Utc};
use diesel::Connection;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::SurchargeFrom;
use crate::db::assessments as assessments_repo;
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::Employer;
use crate::db::payments::{self as repo, NewPayment, PaymentRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::levy::{surcharge, Payment, SurchargeError, SurchargeResult};
use crate::domain::money::{format_money, from_fen};
use crate::domain::Language;
use crate::domain::{Cited, PolicyProvider, ResolvedPolicy, SurchargeRule};
use crate::registry::hardship::Relief;

/// The largest single payment accepted, in fen: ten billion yuan. The levy of the
/// largest employer in China (over a million staff, wage at the cap) is a few billion
/// yuan, so a larger figure is a typing error; it also keeps every sum of a region's
/// roll far inside `i64` fen.
pub const MAX_PAYMENT_FEN: i64 = 1_000_000_000_000;

/// A validated payment request.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// Amount, fen.
    pub amount_fen: i64,
    /// Value date.
    pub paid_on: NaiveDate,
    /// Bank reference.
    pub reference: String,
}

impl PaymentRequest {
    /// What identifies the request for idempotency: the same key with another request
    /// is a conflict, not a replay.
    pub fn digest(&self, employer_id: i64, levy_year: i32) -> String {
        let text = format!(
            "{employer_id}|{levy_year}|{}|{}|{}",
            self.amount_fen, self.paid_on, self.reference
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// What recording did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// Recorded now.
    New(PaymentRow),
    /// The key was used before for the same request: nothing new recorded.
    Replayed(PaymentRow),
    /// The key was used before for a different request.
    KeyReused,
}

/// Records a payment under an idempotency key.
pub fn record(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    req: &PaymentRequest,
    key: &str,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Recorded, DbError> {
    let digest = req.digest(employer.id, levy_year);
    let judge = |row: PaymentRow| {
        if row.request_digest == digest {
            Recorded::Replayed(row)
        } else {
            Recorded::KeyReused
        }
    };
    crate::db::write_transaction(conn, |c| -> Result<Recorded, DbError> {
        if let Some(row) = repo::by_key(c, employer.id, key)? {
            return Ok(judge(row));
        }
        let new = NewPayment {
            employer_id: employer.id,
            levy_year,
            amount_fen: req.amount_fen,
            paid_on: req.paid_on,
            reference: req.reference.clone(),
            idempotency_key: key.to_owned(),
            request_digest: digest.clone(),
            recorded_by: actor.to_owned(),
            recorded_at: Utc::now().naive_utc(),
        };
        // In a savepoint: when a concurrent request with the same key wins, the
        // transaction stays usable to read the winner and answer as it did.
        match c.transaction(|c| repo::insert(c, &new)) {
            Ok(()) => {}
            Err(e) if crate::db::is_unique_violation(&e) => {
                return repo::by_key(c, employer.id, key)?.map(judge).ok_or(e);
            }
            Err(e) => return Err(e),
        }
        let row = repo::by_key(c, employer.id, key)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "payment.record",
                entity_type: "payment",
                entity_id: &format!("{}/{}/{}", employer.uscc, levy_year, row.id),
                before: None,
                after: Some(json!({
                    "amount": format_money(from_fen(row.amount_fen)), "paid_on": row.paid_on,
                    // A bank reference is free text; a number in it may be personal.
                    "reference": mask_numbers_in(&row.reference),
                })),
                request_id,
            },
        )?;
        Ok(Recorded::New(row))
    })
}

/// One payment on a statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementPayment {
    /// Value date.
    pub paid_on: NaiveDate,
    /// Amount.
    pub amount: String,
    /// Bank reference.
    pub reference: String,
}

/// One stretch of days at a constant principal.
#[derive(Debug, Clone, Serialize)]
pub struct StatementSegment {
    /// First day surcharged.
    pub from: NaiveDate,
    /// Last day surcharged.
    pub to: NaiveDate,
    /// Days.
    pub days: i64,
    /// Principal outstanding over those days.
    pub principal: String,
    /// Surcharge for the stretch.
    pub surcharge: String,
}

/// An employer's account for a levy year on a date.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// Employer.
    pub uscc: String,
    /// Levy year.
    pub levy_year: i32,
    /// The date the statement is drawn up for.
    pub as_of: NaiveDate,
    /// Payment due date of the region and year.
    pub due_date: NaiveDate,
    /// Its source.
    pub due_date_citation: String,
    /// The levy payable by the current assessment ("0.00" when not assessed).
    pub principal: String,
    /// True when there is a current assessment.
    pub assessed: bool,
    /// Payments up to the as-of date.
    pub payments: Vec<StatementPayment>,
    /// Paid towards the principal.
    pub principal_paid: String,
    /// Surcharge accrued (5‰ a day of the overdue principal).
    pub surcharge: String,
    /// Its rule and source.
    pub surcharge_citation: String,
    /// The most the surcharge may reach: the amount in default (the principal still
    /// owed on the first day surcharged); `None` while nothing is surcharged or when
    /// the region's rule has no cap.
    pub surcharge_cap: Option<String>,
    /// True when the cap stopped the surcharge: it grows no more.
    pub surcharge_capped: bool,
    /// How the surcharge was reckoned, for a person (Chinese, then English).
    pub surcharge_note: String,
    /// Paid towards the surcharge.
    pub surcharge_paid: String,
    /// Principal still owed.
    pub outstanding_principal: String,
    /// Surcharge still owed.
    pub outstanding_surcharge: String,
    /// Total still owed.
    pub outstanding: String,
    /// Paid beyond everything owed.
    pub refund_due: String,
    /// The surcharge day by day, in stretches.
    pub segments: Vec<StatementSegment>,
    /// The rule that says when the surcharge starts (`collection.surcharge_from`):
    /// `due_date` or `written_demand`.
    pub surcharge_trigger: &'static str,
    /// The first day the surcharge may accrue on; `None` while it may not (the written
    /// demand rule, before a demand's deadline has passed).
    pub surcharge_from: Option<NaiveDate>,
    /// The trigger, for a person (Chinese, then English), with its legal source.
    pub surcharge_trigger_note: String,
    /// The tax bureau's hardship decision on the year, if any (docs/rules.md §6a): the
    /// principal and the due date above already reflect an approved one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardship: Option<crate::registry::hardship::HardshipView>,
    /// True when a provisional value (due date, surcharge cap) was used.
    pub provisional: bool,
    /// What "provisional" means, in Chinese with the English after it; absent when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<String>,
    /// The over-quota reward of the year (due, approved, paid); absent when not assessed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward: Option<crate::registry::rewards::EmployerReward>,
}

/// One sentence on how the surcharge stands, in Chinese with the English after it:
/// whether it still grows, and what it is capped at (行政强制法 第四十五条).
fn surcharge_note(r: &crate::domain::levy::surcharge::SurchargeResult) -> String {
    let cap = r.cap.map(format_money);
    match (&cap, r.capped, r.outstanding_principal.is_zero()) {
        (None, _, _) if r.accrued.is_zero() => {
            "未产生滞纳金 (no surcharge has accrued)".to_owned()
        }
        (Some(cap), true, _) => format!(
            "滞纳金已达上限 {cap} 元（逾期未缴的金额，行政强制法第四十五条），不再增加              (the surcharge has reached its cap of {cap} yuan, the amount in default; it grows no more)"
        ),
        (_, _, true) => "本金已缴清，滞纳金不再增加，仅剩未缴滞纳金              (the principal is paid; the surcharge grows no more, only what accrued is left)"
            .to_owned(),
        (Some(cap), false, false) => format!(
            "滞纳金按日加收千分之五（5‰），以逾期未缴的金额 {cap} 元为上限              (5‰ a day on the unpaid principal, capped at the amount in default, {cap} yuan)"
        ),
        (None, _, false) => "滞纳金按日加收 5‰，无上限 (5‰ a day on the unpaid principal, no cap)"
            .to_owned(),
    }
}

/// Why a statement could not be drawn up.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The policy packs do not cover the employer's region or date.
    #[error("{0}")]
    Policy(String),
    /// The stored data does not add up (a bug).
    #[error("{0}")]
    Internal(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The statement of `employer` for `levy_year` as of `as_of`, the surcharge from the
/// due date. The due date and the surcharge rule are those the current assessment used
/// (its policy snapshot), or the packs' when it has none.
pub fn statement(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    as_of: NaiveDate,
) -> Result<Statement, StatementError> {
    statement_under(
        conn,
        provider,
        employer,
        levy_year,
        as_of,
        SurchargeFrom::DueDate,
    )
}

/// The last day not surcharged: the surcharge accrues from the day after it
/// (docs/rules.md §6). From the due date; or, under the written demand rule, from the
/// deadline of the first demand once it has passed, and not at all before (the as-of
/// date itself is returned then, so that nothing accrues up to it).
pub fn surcharge_start(
    trigger: SurchargeFrom,
    due: NaiveDate,
    first_deadline: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Option<NaiveDate> {
    match (trigger, first_deadline) {
        (SurchargeFrom::DueDate, _) => Some(due),
        (SurchargeFrom::WrittenDemand, Some(d)) if d < as_of => Some(d.max(due)),
        (SurchargeFrom::WrittenDemand, _) => None,
    }
}

/// What a statement says of the rule that started the surcharge, in `lang`: the
/// statement shows both languages ([`trigger_note`]), an overdue reminder the sentence of
/// its own language.
pub fn trigger_text(
    trigger: SurchargeFrom,
    first_deadline: Option<NaiveDate>,
    as_of: NaiveDate,
    lang: Language,
) -> String {
    match (trigger, first_deadline, lang) {
        (SurchargeFrom::DueDate, _, Language::Zh) => {
            "滞纳金自缴款期限届满次日起按日加收".to_owned()
        }
        (SurchargeFrom::DueDate, _, Language::En) => {
            "the surcharge accrues from the day after the due date".to_owned()
        }
        (SurchargeFrom::WrittenDemand, Some(d), Language::Zh) if d < as_of => {
            format!("滞纳金自催缴通知书限期 {d} 届满次日起按日加收（残疾人就业条例第二十七条）")
        }
        (SurchargeFrom::WrittenDemand, Some(d), Language::En) if d < as_of => format!(
            "the surcharge accrues from the day after the written demand's deadline, {d}: \
             Regulations on the Employment of Persons with Disabilities, art. 27"
        ),
        (SurchargeFrom::WrittenDemand, Some(d), Language::Zh) => {
            format!("已发出催缴通知书，限期 {d} 届满前不加收滞纳金（残疾人就业条例第二十七条）")
        }
        (SurchargeFrom::WrittenDemand, Some(d), Language::En) => format!(
            "a written demand was issued; no surcharge accrues before its deadline, {d} \
             (Regulations on the Employment of Persons with Disabilities, art. 27)"
        ),
        (SurchargeFrom::WrittenDemand, None, Language::Zh) => {
            "尚未发出催缴通知书，不加收滞纳金（残疾人就业条例第二十七条）".to_owned()
        }
        (SurchargeFrom::WrittenDemand, None, Language::En) => {
            "no written demand has been issued, so no surcharge accrues \
             (Regulations on the Employment of Persons with Disabilities, art. 27)"
                .to_owned()
        }
    }
}

/// [`trigger_text`] in Chinese, then in English, as the statement shows it.
fn trigger_note(
    trigger: SurchargeFrom,
    first_deadline: Option<NaiveDate>,
    as_of: NaiveDate,
) -> String {
    format!(
        "{} ({})",
        trigger_text(trigger, first_deadline, as_of, Language::Zh),
        trigger_text(trigger, first_deadline, as_of, Language::En)
    )
}

/// What the surcharge of one levy depends on besides its principal and payments: the
/// rule of its policy snapshot, the region's due date, the trigger
/// (`collection.surcharge_from`), the deadline of the first written demand known on the
/// day, and an approved hardship decision (docs/rules.md §6a).
#[derive(Debug, Clone, Copy)]
pub struct SurchargeTerms<'a> {
    /// Rate, cap.
    pub rule: &'a SurchargeRule,
    /// The region's due date, before any deferral.
    pub due: NaiveDate,
    /// When the surcharge starts.
    pub trigger: SurchargeFrom,
    /// The first demand's deadline, of a demand issued on or before the day.
    pub first_deadline: Option<NaiveDate>,
    /// An approved reduction or deferral.
    pub relief: Option<&'a Relief>,
}

/// One levy reckoned on a day.
#[derive(Debug, Clone)]
pub struct LevyPosition {
    /// The principal after an approved reduction.
    pub principal: Decimal,
    /// The due date after an approved deferral.
    pub due: NaiveDate,
    /// The last day not surcharged; `None` while nothing may accrue (the written demand
    /// rule before a demand's deadline has passed).
    pub start: Option<NaiveDate>,
    /// Principal, surcharge, what is owed.
    pub result: SurchargeResult,
}

impl LevyPosition {
    /// The first surcharged day, if the surcharge has started.
    pub fn surcharge_from(&self) -> Option<NaiveDate> {
        self.start.and_then(|d| d.succ_opt())
    }
}

/// The one reckoning of a levy's surcharge that the statement, the levy roll, the tax
/// pages and the reminders share, so that they cannot disagree: a hardship decision
/// lowers the principal or moves the due date, the trigger decides the first surcharged
/// day ([`surcharge_start`]), and [`surcharge`] does the arithmetic up to `as_of`.
pub fn reckon_levy(
    terms: &SurchargeTerms<'_>,
    payable: Decimal,
    payments: &[Payment],
    as_of: NaiveDate,
) -> Result<LevyPosition, SurchargeError> {
    let (principal, due) = match terms.relief {
        Some(r) => (r.principal(payable), r.due(terms.due)),
        None => (payable, terms.due),
    };
    let start = surcharge_start(terms.trigger, due, terms.first_deadline, as_of);
    // Before the start nothing accrues: reckoned from the as-of date itself (or the due
    // date, if later), the surcharge of no day is counted.
    let result = surcharge(
        terms.rule,
        principal,
        start.unwrap_or(as_of.max(due)),
        payments,
        as_of,
    )?;
    Ok(LevyPosition {
        principal,
        due,
        start,
        result,
    })
}

/// [`statement`] with the surcharge started by `trigger` (`collection.surcharge_from`):
/// under the written demand rule it reads the employer's recorded demands.
pub fn statement_under(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<Statement, StatementError> {
    let current = assessments_repo::current(conn, employer.id, levy_year)?;
    let policy: ResolvedPolicy = match &current {
        Some(a) => serde_json::from_str(&assessments_repo::snapshot_json(
            conn,
            a.policy_snapshot_id,
        )?)
        .map_err(|e| StatementError::Internal(format!("policy snapshot unreadable: {e}")))?,
        None => {
            let region = employer
                .region
                .parse()
                .map_err(|_| StatementError::Internal("bad region".into()))?;
            let on = provider
                .default_as_of(region, levy_year)
                .map_err(|e| StatementError::Policy(e.to_string()))?;
            provider
                .resolve(region, on, levy_year - 1)
                .map_err(|e| StatementError::Policy(e.to_string()))?
        }
    };
    let principal = current
        .as_ref()
        .map_or(Decimal::ZERO, |a| from_fen(a.payable_fen));
    let rows: Vec<PaymentRow> = repo::for_year(conn, employer.id, levy_year)?
        .into_iter()
        .filter(|p| p.paid_on <= as_of)
        .collect();
    let payments: Vec<Payment> = rows
        .iter()
        .map(|p| Payment {
            date: p.paid_on,
            amount: from_fen(p.amount_fen),
        })
        .collect();
    let rule: &Cited<SurchargeRule> = &policy.surcharge;
    let hardship = crate::registry::hardship::relief_of(conn, employer.id, levy_year)?;
    let first_deadline = match trigger {
        SurchargeFrom::DueDate => None,
        SurchargeFrom::WrittenDemand => {
            crate::db::demands::first_deadlines(conn, levy_year, &[employer.id], as_of)?
                .remove(&employer.id)
        }
    };
    let terms = SurchargeTerms {
        rule: &rule.value,
        due: policy.payment_due.value,
        trigger,
        first_deadline,
        relief: hardship.as_ref().map(|(relief, _)| relief),
    };
    let position = reckon_levy(&terms, principal, &payments, as_of)
        .map_err(|e| StatementError::Internal(e.to_string()))?;
    let (principal, due, start) = (position.principal, position.due, position.start);
    let r = position.result;
    let outstanding = r.outstanding_principal + r.outstanding_surcharge;
    let reward = crate::registry::rewards::of_employer(conn, employer, levy_year)?;
    Ok(Statement {
        reward,
        uscc: employer.uscc.clone(),
        levy_year,
        as_of,
        due_date: due,
        due_date_citation: policy.payment_due.citation.clone(),
        principal: format_money(principal),
        assessed: current.is_some(),
        payments: rows
            .iter()
            .map(|p| StatementPayment {
                paid_on: p.paid_on,
                amount: format_money(from_fen(p.amount_fen)),
                reference: p.reference.clone(),
            })
            .collect(),
        principal_paid: format_money(r.principal_paid),
        surcharge: format_money(r.accrued),
        surcharge_citation: rule.citation.clone(),
        surcharge_cap: r.cap.map(format_money),
        surcharge_capped: r.capped,
        surcharge_note: surcharge_note(&r),
        surcharge_paid: format_money(r.surcharge_paid),
        outstanding_principal: format_money(r.outstanding_principal),
        outstanding_surcharge: format_money(r.outstanding_surcharge),
        outstanding: format_money(outstanding),
        refund_due: format_money(r.refund_due),
        segments: r
            .segments
            .iter()
            .map(|s| StatementSegment {
                from: s.from,
                to: s.to,
                days: s.days,
                principal: format_money(s.principal),
                surcharge: format_money(s.amount),
            })
            .collect(),
        surcharge_trigger: trigger.as_str(),
        surcharge_from: start.and_then(|d| d.succ_opt()),
        surcharge_trigger_note: trigger_note(trigger, first_deadline, as_of),
        hardship: hardship.map(|(_, view)| view),
        provisional: policy.payment_due.provisional || rule.provisional,
        provisional_note: (policy.payment_due.provisional || rule.provisional).then(|| {
            format!(
                "{} ({})",
                crate::wire::provisional_note(crate::domain::Language::Zh),
                crate::wire::provisional_note(crate::domain::Language::En)
            )
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_surcharge_starts_after_the_due_date_or_after_a_demand_s_deadline() {
        let due = d("2025-12-31");
        let (deadline, before, after) = (d("2026-02-16"), d("2026-02-16"), d("2026-02-17"));
        assert_eq!(
            surcharge_start(SurchargeFrom::DueDate, due, None, after),
            Some(due)
        );
        assert_eq!(
            surcharge_start(SurchargeFrom::DueDate, due, Some(deadline), after),
            Some(due)
        );
        // No demand, or its deadline not passed: nothing may accrue.
        assert_eq!(
            surcharge_start(SurchargeFrom::WrittenDemand, due, None, after),
            None
        );
        assert_eq!(
            surcharge_start(SurchargeFrom::WrittenDemand, due, Some(deadline), before),
            None
        );
        assert_eq!(
            surcharge_start(SurchargeFrom::WrittenDemand, due, Some(deadline), after),
            Some(deadline)
        );
        // A demand before the due date does not start the surcharge earlier.
        assert_eq!(
            surcharge_start(
                SurchargeFrom::WrittenDemand,
                due,
                Some(d("2025-11-01")),
                after
            ),
            Some(due)
        );
    }
}
