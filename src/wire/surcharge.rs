//! The late-payment surcharge contract (docs/rules.md, the surcharge): its request,
//! walked like the calculation's, and its response.

use serde::Serialize;
use serde_json::Value;

use super::faults::Fault;
use super::fields::{FieldError, Walker};
use super::response::dec_str;
use super::validate::{MONEY_RULE, POSITIVE_MONEY_RULE};
use crate::domain::levy::{surcharge, Payment, SurchargeError};
use crate::domain::money::format_money;
use crate::domain::{Language, PolicyProvider, RegionCode};

// ---------------------------------------------------------------------------------------
// Surcharge request (docs/rules.md §6)
// ---------------------------------------------------------------------------------------

/// The response of a surcharge calculation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurchargeResponse {
    /// The region.
    pub region: String,
    /// The levy year.
    pub levy_year: i32,
    /// The principal due.
    pub principal: String,
    /// The due date used.
    pub due_date: String,
    /// The as-of date.
    pub as_of: String,
    /// Per calendar day.
    pub daily_rate: String,
    /// Whether the surcharge is capped at the principal.
    pub capped_at_principal: bool,
    /// The rule's citation.
    pub citation: String,
    /// True when the rule is provisional.
    pub provisional: bool,
    /// What "provisional" means here, in the response's language; absent when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<String>,
    /// Surcharge accrued up to and including the as-of date.
    pub surcharge: String,
    /// True when the cap cut the surcharge.
    pub capped: bool,
    /// Payments applied to principal.
    pub principal_paid: String,
    /// Payments applied to the surcharge.
    pub surcharge_paid: String,
    /// Principal still owed.
    pub outstanding_principal: String,
    /// Surcharge still owed.
    pub outstanding_surcharge: String,
    /// Overpayment to refund.
    pub refund_due: String,
    /// Per run of days.
    pub segments: Vec<SegmentOut>,
}

/// One run of surcharged days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentOut {
    /// First day.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// Days.
    pub days: i64,
    /// Outstanding principal.
    pub principal: String,
    /// Surcharge of the run.
    pub amount: String,
}

/// Computes the late-payment surcharge of docs/rules.md §6 from a JSON request:
/// `{ region, levy_year, principal, due_date? (default: the policy's payment due date),
/// payments: [{ date, amount }], as_of }`. Collects every field error like
/// [`calculate_request`].
pub fn surcharge_request(
    provider: &dyn PolicyProvider,
    body: &Value,
    default_lang: Language,
) -> Result<SurchargeResponse, Vec<FieldError>> {
    let mut v = Walker::new(default_lang);
    let Some(m) = v.object(
        body,
        "",
        &[
            "region",
            "levy_year",
            "principal",
            "due_date",
            "payments",
            "as_of",
        ],
    ) else {
        return Err(v.errors);
    };
    let get = |k: &str| m.get(k).filter(|x| !x.is_null());
    let region = match get("region") {
        None => {
            v.required("/region");
            None
        }
        Some(x) => v
            .string(x, "/region")
            .and_then(|s| match s.parse::<RegionCode>() {
                Ok(r) => Some(r),
                Err(_) => {
                    v.fault("/region", Fault::Region);
                    None
                }
            }),
    };
    let levy_year = match get("levy_year") {
        None => {
            v.required("/levy_year");
            None
        }
        Some(x) => v
            .integer(x, "/levy_year", 2015, 2100)
            .and_then(|y| i32::try_from(y).ok()),
    };
    let principal = match get("principal") {
        None => {
            v.required("/principal");
            None
        }
        Some(x) => v.decimal(x, "/principal", &MONEY_RULE),
    };
    let due = get("due_date").and_then(|x| v.date(x, "/due_date"));
    let as_of = match get("as_of") {
        None => {
            v.required("/as_of");
            None
        }
        Some(x) => v.date(x, "/as_of"),
    };
    let mut payments = Vec::new();
    match get("payments") {
        None => {}
        Some(Value::Array(a)) => {
            for (i, p) in a.iter().enumerate() {
                let base = format!("/payments/{i}");
                if let Some(pm) = v.object(p, &base, &["date", "amount"]) {
                    let date = match pm.get("date") {
                        None => {
                            v.required(&format!("{base}/date"));
                            None
                        }
                        Some(x) => v.date(x, &format!("{base}/date")),
                    };
                    let amount = match pm.get("amount") {
                        None => {
                            v.required(&format!("{base}/amount"));
                            None
                        }
                        Some(x) => v.decimal(x, &format!("{base}/amount"), &POSITIVE_MONEY_RULE),
                    };
                    if let (Some(date), Some(amount)) = (date, amount) {
                        if as_of.is_some_and(|d| date > d) {
                            v.err(
                                &format!("{base}/date"),
                                "after_as_of",
                                "付款日期晚于 as_of",
                                "payment dated after as_of",
                            );
                        }
                        payments.push(Payment { date, amount });
                    }
                }
            }
        }
        Some(_) => v.fault("/payments", Fault::NotArray),
    }
    let policy = match (region, levy_year, as_of) {
        (Some(r), Some(y), Some(d)) => match provider.resolve(r, d, y - 1) {
            Ok(p) => Some(p),
            Err(e) => {
                v.lookup_err(&e);
                None
            }
        },
        _ => None,
    };
    let (Some(policy), Some(principal), Some(as_of), Some(levy_year), true) =
        (policy, principal, as_of, levy_year, v.errors.is_empty())
    else {
        return Err(v.errors);
    };
    let due = due.unwrap_or(policy.payment_due.value);
    let rule = &policy.surcharge;
    let s = surcharge(&rule.value, principal, due, &payments, as_of).map_err(|e| {
        let (pointer, code) = match e {
            SurchargeError::NegativePrincipal => ("/principal".to_owned(), "negative"),
            SurchargeError::NonPositivePayment { index } => {
                (format!("/payments/{index}/amount"), "out_of_range")
            }
            SurchargeError::PaymentAfterAsOf { index } => {
                (format!("/payments/{index}/date"), "after_as_of")
            }
        };
        vec![FieldError {
            pointer,
            code,
            message: e.to_string(),
        }]
    })?;
    Ok(SurchargeResponse {
        region: policy.region.to_string(),
        levy_year,
        principal: format_money(principal),
        due_date: due.to_string(),
        as_of: as_of.to_string(),
        daily_rate: dec_str(rule.value.daily_rate),
        capped_at_principal: rule.value.capped_at_principal,
        citation: rule.citation.clone(),
        provisional: rule.provisional,
        provisional_note: rule
            .provisional
            .then(|| crate::wire::response::provisional_note(v.lang).to_owned()),
        surcharge: format_money(s.accrued),
        capped: s.capped,
        principal_paid: format_money(s.principal_paid),
        surcharge_paid: format_money(s.surcharge_paid),
        outstanding_principal: format_money(s.outstanding_principal),
        outstanding_surcharge: format_money(s.outstanding_surcharge),
        refund_due: format_money(s.refund_due),
        segments: s
            .segments
            .iter()
            .map(|g| SegmentOut {
                from: g.from.to_string(),
                to: g.to.to_string(),
                days: g.days,
                principal: format_money(g.principal),
                amount: format_money(g.amount),
            })
            .collect(),
    })
}
