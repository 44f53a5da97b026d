//! Hardship reduction and deferral (docs/rules.md §6a; 财税〔2015〕72号 第十七条 as
//! reprinted): after force majeure or a major loss, the tax bureau may reduce at most one
//! year's levy, or defer its payment by at most 6 months. The decision is recorded here,
//! audited; the statement, the surcharge, the reminders and the violator list read its
//! effect through [`Relief`].

use chrono::{Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

use crate::db::assessments as assessments_repo;
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::Employer;
use crate::db::hardship::{self as repo, HardshipRow, NewHardship};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::money::{format_money, from_fen};
use crate::domain::{Language, PolicyProvider, ResolvedPolicy};
use crate::wire::FieldError;

/// Where the rule comes from, for every answer that applies it.
pub const HARDSHIP_CITATION: &str = "财税〔2015〕72号 第十七条 (as reprinted); docs/rules.md §6a";

/// The longest deferral: 6 months from the due date.
pub const MAX_DEFERRAL_MONTHS: u32 = 6;

/// Reduction or deferral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 减免: part or all of the year's levy is not owed.
    Reduction,
    /// 缓缴: the payment is due later.
    Deferral,
}

impl Kind {
    /// The API and table spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reduction => "reduction",
            Kind::Deferral => "deferral",
        }
    }
}

/// A decision as the bureau records it, validated for its form.
#[derive(Debug, Clone, PartialEq)]
pub struct HardshipRequest {
    /// Reduction or deferral.
    pub kind: Kind,
    /// True when approved, false when refused.
    pub approved: bool,
    /// The amount reduced, fen (an approved reduction only).
    pub amount_fen: Option<i64>,
    /// The new due date (an approved deferral only).
    pub deferred_to: Option<NaiveDate>,
    /// When the employer applied.
    pub applied_on: NaiveDate,
    /// When the bureau decided.
    pub decided_on: NaiveDate,
    /// Why, in the bureau's words (the force majeure or the loss).
    pub reason: String,
}

/// What an approved decision changes in a levy year's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relief {
    /// Taken off the levy payable.
    pub reduction: Decimal,
    /// The due date instead of the region's.
    pub deferred_to: Option<NaiveDate>,
}

impl Relief {
    /// The relief of a stored decision: nothing unless approved.
    pub fn of(row: &HardshipRow) -> Relief {
        if row.decision != "approved" {
            return Relief::default();
        }
        Relief {
            reduction: row.amount_fen.map_or(Decimal::ZERO, from_fen),
            deferred_to: row.deferred_to,
        }
    }

    /// The principal owed after the reduction (never below zero).
    pub fn principal(&self, payable: Decimal) -> Decimal {
        (payable - self.reduction).max(Decimal::ZERO)
    }

    /// The due date after the deferral.
    pub fn due(&self, due: NaiveDate) -> NaiveDate {
        self.deferred_to.map_or(due, |d| d.max(due))
    }

    /// True while a deferral is in force on `day` (no overdue reminder, not overdue).
    pub fn deferring_on(&self, due: NaiveDate, day: NaiveDate) -> bool {
        self.deferred_to.is_some_and(|d| day > due && day <= d)
    }
}

/// `policy` with the due date moved by the relief's deferral, for the readers that take
/// the due date from a policy (the violator list, the reminders).
pub fn relieved_policy(policy: &ResolvedPolicy, relief: &Relief) -> ResolvedPolicy {
    let mut p = policy.clone();
    p.payment_due.value = relief.due(p.payment_due.value);
    p
}

/// The approved reliefs of a year among these employers, by employer id.
pub fn reliefs(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, Relief>, DbError> {
    Ok(repo::approved(conn, levy_year, employer_ids)?
        .into_iter()
        .map(|r| (r.employer_id, Relief::of(&r)))
        .collect())
}

/// The relief of one employer's year, and a sentence on it (Chinese, then English) for
/// the statement; `None` without a decision.
pub fn relief_of(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<(Relief, HardshipView)>, DbError> {
    Ok(repo::current(conn, employer_id, levy_year)?.map(|r| (Relief::of(&r), view(&r))))
}

/// A decision as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardshipView {
    /// `reduction` or `deferral`.
    pub kind: String,
    /// `approved` or `refused`.
    pub decision: String,
    /// The amount reduced (an approved reduction).
    pub amount: Option<String>,
    /// The new due date (an approved deferral).
    pub deferred_to: Option<NaiveDate>,
    /// When the employer applied.
    pub applied_on: NaiveDate,
    /// When the bureau decided.
    pub decided_on: NaiveDate,
    /// The bureau's reason.
    pub reason: String,
    /// What the decision does, in Chinese with the English after it.
    pub note: String,
    /// The rule.
    pub citation: &'static str,
}

/// The API view of a stored decision.
pub fn view(r: &HardshipRow) -> HardshipView {
    let amount = r.amount_fen.map(|f| format_money(from_fen(f)));
    let note = match (r.kind.as_str(), r.decision.as_str(), &amount, r.deferred_to) {
        ("reduction", "approved", Some(a), _) => format!(
            "税务机关批准减免保障金 {a} 元，应缴本金相应减少（财税〔2015〕72号 第十七条） (the tax bureau approved a reduction of {a} yuan; the principal owed is lower by as much)"
        ),
        ("deferral", "approved", _, Some(d)) => format!(
            "税务机关批准缓缴至 {d}，缓缴期内不加收滞纳金、不催缴（财税〔2015〕72号 第十七条） (the tax bureau deferred payment to {d}; no surcharge and no overdue reminder until then)"
        ),
        _ => "税务机关未批准减免或缓缴申请，按原缴款期限缴纳 (the tax bureau refused the application; the levy is due as before)".to_owned(),
    };
    HardshipView {
        kind: r.kind.clone(),
        decision: r.decision.clone(),
        amount,
        deferred_to: r.deferred_to,
        applied_on: r.applied_on,
        decided_on: r.decided_on,
        reason: r.reason.clone(),
        note,
        citation: HARDSHIP_CITATION,
    }
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum HardshipError {
    /// The decision breaks a limit of the rule (field errors, in the caller's language).
    #[error("the decision is outside the rule's limits")]
    Invalid(Vec<FieldError>),
    /// The policy packs do not cover the employer's region or year.
    #[error("{0}")]
    Policy(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for HardshipError {
    fn from(e: diesel::result::Error) -> Self {
        HardshipError::Db(DbError::Query(e))
    }
}

/// The levy payable and due date the decision is measured against: the current
/// assessment's (its policy snapshot's due date), or the packs' when not assessed.
fn levy_terms(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
) -> Result<(Option<Decimal>, NaiveDate), HardshipError> {
    let current = assessments_repo::current(conn, employer.id, levy_year)?;
    let policy: ResolvedPolicy = match &current {
        Some(a) => serde_json::from_str(&assessments_repo::snapshot_json(
            conn,
            a.policy_snapshot_id,
        )?)
        .map_err(|e| HardshipError::Policy(format!("policy snapshot unreadable: {e}")))?,
        None => {
            let region = employer
                .region
                .parse()
                .map_err(|_| HardshipError::Policy("bad region".into()))?;
            let on = provider
                .default_as_of(region, levy_year)
                .map_err(|e| HardshipError::Policy(e.to_string()))?;
            provider
                .resolve(region, on, levy_year - 1)
                .map_err(|e| HardshipError::Policy(e.to_string()))?
        }
    };
    Ok((
        current.map(|a| from_fen(a.payable_fen)),
        policy.payment_due.value,
    ))
}

fn invalid(pointer: &str, code: &'static str, zh: &str, en: &str, lang: Language) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        code,
        message: lang.pick(zh, en).to_owned(),
    }
}

/// Checks the decision against the rule: a reduction of at most the year's levy
/// payable (so the year must be assessed), a deferral to a day after the due date and
/// at most 6 months after it.
fn check(
    req: &HardshipRequest,
    payable: Option<Decimal>,
    due: NaiveDate,
    lang: Language,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if req.decided_on < req.applied_on {
        errors.push(invalid(
            "/decided_on",
            "before_application",
            "决定日期不得早于申请日期",
            "decided_on may not be before applied_on",
            lang,
        ));
    }
    if !req.approved {
        return errors;
    }
    match req.kind {
        Kind::Reduction => match (payable, req.amount_fen) {
            (None, _) => errors.push(invalid(
                "/amount",
                "not_assessed",
                "该年度尚未核定保障金，无从减免",
                "the levy year is not assessed yet: there is nothing to reduce",
                lang,
            )),
            (Some(p), Some(a)) if from_fen(a) > p => errors.push(invalid(
                "/amount",
                "above_levy",
                "减免额不得超过该年度应缴保障金（至多减免一年的应缴额）",
                "a reduction may not exceed the year's levy payable (at most one year's amount)",
                lang,
            )),
            _ => {}
        },
        Kind::Deferral => {
            let latest = due.checked_add_months(Months::new(MAX_DEFERRAL_MONTHS));
            if let Some(d) = req.deferred_to {
                if d <= due || latest.is_some_and(|l| d > l) {
                    let (zh, en) = (
                        format!(
                            "缓缴期限应晚于原缴款期限 {due}，且至多 6 个月（不晚于 {}）",
                            latest.map(|l| l.to_string()).unwrap_or_default()
                        ),
                        format!(
                            "must be after the due date {due} and at most 6 months after it (by {})",
                            latest.map(|l| l.to_string()).unwrap_or_default()
                        ),
                    );
                    errors.push(invalid("/deferred_to", "out_of_range", &zh, &en, lang));
                }
            }
        }
    }
    errors
}

/// Records the bureau's decision for `employer`'s `levy_year`, replacing an earlier
/// one, audited in the same transaction.
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    req: &HardshipRequest,
    actor: &str,
    request_id: Option<&str>,
    lang: Language,
) -> Result<HardshipRow, HardshipError> {
    crate::db::write_transaction(conn, |c| -> Result<HardshipRow, HardshipError> {
        let (payable, due) = levy_terms(c, provider, employer, levy_year)?;
        let errors = check(req, payable, due, lang);
        if !errors.is_empty() {
            return Err(HardshipError::Invalid(errors));
        }
        let before = repo::current(c, employer.id, levy_year)?;
        let new = NewHardship {
            employer_id: employer.id,
            levy_year,
            kind: req.kind.as_str().to_owned(),
            decision: if req.approved { "approved" } else { "refused" }.to_owned(),
            amount_fen: req.amount_fen.filter(|_| req.approved),
            deferred_to: req.deferred_to.filter(|_| req.approved),
            applied_on: req.applied_on,
            decided_on: req.decided_on,
            reason: req.reason.clone(),
            decided_by: actor.to_owned(),
            recorded_at: Utc::now().naive_utc(),
        };
        repo::replace(c, &new)?;
        let row = repo::current(c, employer.id, levy_year)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        let audit_view = |r: &HardshipRow| {
            json!({
                "kind": r.kind, "decision": r.decision,
                "amount": r.amount_fen.map(|f| format_money(from_fen(f))),
                "deferred_to": r.deferred_to, "applied_on": r.applied_on,
                "decided_on": r.decided_on,
                // Free text: a number typed into it may be personal.
                "reason": mask_numbers_in(&r.reason),
            })
        };
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "hardship.decide",
                entity_type: "hardship_decision",
                entity_id: &format!("{}/{}", employer.uscc, levy_year),
                before: before.as_ref().map(audit_view),
                after: Some(audit_view(&row)),
                request_id,
            },
        )?;
        Ok(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn req(kind: Kind, amount_fen: Option<i64>, deferred_to: Option<&str>) -> HardshipRequest {
        HardshipRequest {
            kind,
            approved: true,
            amount_fen,
            deferred_to: deferred_to.map(d),
            applied_on: d("2025-11-01"),
            decided_on: d("2025-11-20"),
            reason: "洪灾".into(),
        }
    }

    #[test]
    fn limits_of_the_rule() {
        let due = d("2025-12-31");
        let p = Some(Decimal::new(1_000_000, 2));
        let lang = Language::En;
        assert!(check(&req(Kind::Reduction, Some(1_000_000), None), p, due, lang).is_empty());
        assert_eq!(
            check(&req(Kind::Reduction, Some(1_000_001), None), p, due, lang)[0].code,
            "above_levy"
        );
        assert_eq!(
            check(&req(Kind::Reduction, Some(1), None), None, due, lang)[0].code,
            "not_assessed"
        );
        // 6 months after 31 December is 30 June.
        assert!(check(&req(Kind::Deferral, None, Some("2026-06-30")), p, due, lang).is_empty());
        assert_eq!(
            check(&req(Kind::Deferral, None, Some("2026-07-01")), p, due, lang)[0].pointer,
            "/deferred_to"
        );
        assert!(!check(&req(Kind::Deferral, None, Some("2025-12-31")), p, due, lang).is_empty());
    }

    #[test]
    fn a_relief_lowers_the_principal_and_moves_the_due_date() {
        let r = Relief {
            reduction: Decimal::new(500, 0),
            deferred_to: Some(d("2026-03-31")),
        };
        assert_eq!(r.principal(Decimal::new(300, 0)), Decimal::ZERO);
        assert_eq!(r.principal(Decimal::new(800, 0)), Decimal::new(300, 0));
        assert_eq!(r.due(d("2025-12-31")), d("2026-03-31"));
        assert!(r.deferring_on(d("2025-12-31"), d("2026-01-15")));
        assert!(!r.deferring_on(d("2025-12-31"), d("2026-04-01")));
    }
}
