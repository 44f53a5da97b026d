//! The response of a calculation: the figures as strings (money to 2 decimals, counts
//! to 4, the ratio to 6), every parameter with its citation, and how each disabled
//! employee was counted.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use super::request::ParsedRequest;
use crate::domain::levy::{
    self, Disabled, DisabledEmployee, Explanation, LevyResult, Overrides, Twelfths,
};
use crate::domain::money::{format_count, format_money};
use crate::domain::{
    Cited, EmployerKind, ExemptionRule, Language, RegionCode, ResolvedPolicy, RewardPersons,
    RewardRule,
};

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// The calculation response. Money: strings with exactly 2 decimals; counts: strings
/// half-up to 4 decimals; `employment_ratio` to 6.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalcResponse {
    /// The levy year.
    pub levy_year: i32,
    /// levy_year − 1.
    pub data_year: i32,
    /// The region asked for.
    pub region: String,
    /// The as-of date used ("YYYY-MM-DD").
    pub as_of: String,
    /// The declared employer kind.
    pub employer_kind: &'static str,
    /// N.
    pub average_headcount: String,
    /// N × q.
    pub required: String,
    /// D (weighted).
    pub disabled_counted: String,
    /// max(0, required − D).
    pub shortfall: String,
    /// D / N to 6 decimals; null when staff is 0.
    pub employment_ratio: Option<String>,
    /// W; null when staff is 0.
    pub average_wage: Option<String>,
    /// W_used; null when staff is 0.
    pub wage_used: Option<String>,
    /// round2(shortfall × W_used).
    pub fee_due: String,
    /// The tier reduction.
    pub reduction: String,
    /// What is payable.
    pub levy_payable: String,
    /// max(0, D − required).
    pub over_quota: String,
    /// The over-quota reward.
    pub reward: String,
    /// The exemption applied, or null.
    pub exemption: Option<ExemptionOut>,
    /// Every parameter with its value, citation and provisional flag.
    pub parameters: Parameters,
    /// Per-employee counting (certificates masked).
    pub employees: Vec<EmployeeOut>,
    /// The ordered steps.
    pub explanation: Explanation,
    /// True when any value used is provisional.
    pub provisional: bool,
    /// What "provisional" means here, for a person, in the response's language; absent
    /// when nothing used is provisional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<String>,
    /// True when overrides were given.
    pub what_if: bool,
    /// Warnings, as sentences.
    pub warnings: Vec<String>,
    /// The language of the texts.
    pub language: Language,
}

/// The exemption applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExemptionOut {
    /// Stable id: `small_enterprise`.
    pub rule: &'static str,
    /// The staff ceiling (inclusive).
    pub max_staff: u32,
    /// The start-up window in years, when one applies.
    pub max_years_since_registration: Option<u32>,
    /// The rule's legal source.
    pub citation: String,
    /// True when provisional.
    pub provisional: bool,
}

/// A parameter as used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamOut {
    /// The value (strings for decimals and dates, objects for rules).
    pub value: Value,
    /// The legal source, or `overrides.<name> (what-if)`.
    pub citation: String,
    /// True when provisional.
    pub provisional: bool,
    /// The region whose pack supplied it (the request's region for an override).
    pub region: String,
    /// True when the request overrode it.
    pub overridden: bool,
}

/// The parameters of the result (null where not in force or not known).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameters {
    /// q.
    pub quota_ratio: ParamOut,
    /// k.
    pub wage_cap_multiple: Option<ParamOut>,
    /// S of the data year.
    pub social_average_wage: Option<ParamOut>,
    /// The monthly minimum wage on the last day of the data year (or the override).
    pub minimum_wage_monthly: Option<ParamOut>,
    /// The reduction tiers.
    pub reduction_tiers: Option<ParamOut>,
    /// The small-employer exemption rule.
    pub exemption_rule: ParamOut,
    /// The fresh-graduate full-year rule.
    pub fresh_graduate_full_year: ParamOut,
    /// The over-quota reward rule.
    pub reward_rule: ParamOut,
    /// The late-payment surcharge rule.
    pub surcharge: ParamOut,
    /// The filing deadline of the levy year.
    pub filing_deadline: ParamOut,
    /// The payment due date of the levy year.
    pub payment_due: ParamOut,
}

/// How one disabled employee was counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployeeOut {
    /// Roster index (0-based, as in the JSON pointer).
    pub index: usize,
    /// The masked certificate number.
    pub certificate: String,
    /// `disability` or `veteran`.
    pub certificate_kind: &'static str,
    /// The grade that counts.
    pub grade: u8,
    /// 1 or 2.
    pub weight: u8,
    /// Months employed on their last day.
    pub employed_months: Vec<u8>,
    /// Months counted (after conditions; 12 under the fresh-graduate rule).
    pub counted_months: u8,
    /// weight × counted_months.
    pub weighted_months: u32,
    /// Failed conditions' codes joined by commas (`short_contract`,
    /// `below_minimum_wage`, `no_social_insurance`), or null.
    pub excluded_reason: Option<String>,
    /// The same in words, or null.
    pub excluded_detail: Option<String>,
    /// Months employed but not counted.
    pub excluded_months: Vec<u8>,
    /// True when the fresh-graduate full-year rule applied.
    pub fresh_graduate_applied: bool,
}

// ---------------------------------------------------------------------------------------
// Building the response
// ---------------------------------------------------------------------------------------

fn count4(t: Twelfths) -> String {
    format_count(t.round(4), 4)
}

pub(super) fn dec_str(d: Decimal) -> String {
    d.normalize().to_string()
}

fn param(c: &Cited<impl Clone>, value: Value) -> ParamOut {
    ParamOut {
        value,
        citation: c.citation.clone(),
        provisional: c.provisional,
        region: c.region.to_string(),
        overridden: false,
    }
}

fn overridden(name: &str, value: Value, region: RegionCode) -> ParamOut {
    ParamOut {
        value,
        citation: format!("overrides.{name} (what-if)"),
        provisional: false,
        region: region.to_string(),
        overridden: true,
    }
}

fn reward_value(r: &RewardRule) -> Value {
    let persons = |p: RewardPersons| match p {
        RewardPersons::Fractional => "fractional",
        RewardPersons::Whole => "whole",
    };
    let kinds = |k: &[EmployerKind]| k.iter().map(|k| k.as_str()).collect::<Vec<_>>();
    match r {
        RewardRule::None { note } => json!({ "kind": "none", "note": note }),
        RewardRule::MinimumWageMultiple {
            multiple,
            persons: p,
            severe_counted_once,
            min_excess,
            max_years,
            eligible_kinds,
        } => json!({
            "kind": "minimum_wage_multiple",
            "multiple": dec_str(*multiple),
            "persons": persons(*p),
            "severe_counted_once": severe_counted_once,
            "min_excess": min_excess.map(dec_str),
            "max_years": max_years,
            "eligible_kinds": kinds(eligible_kinds),
        }),
        RewardRule::FixedPerPerson {
            amount,
            cap,
            persons: p,
            eligible_kinds,
        } => json!({
            "kind": "fixed_per_person",
            "amount": format_money(*amount),
            "cap": cap.map(format_money),
            "persons": persons(*p),
            "eligible_kinds": kinds(eligible_kinds),
        }),
    }
}

fn exemption_value(e: &ExemptionRule) -> Value {
    match e {
        ExemptionRule::None => json!({ "kind": "none" }),
        ExemptionRule::SmallEnterprise {
            max_staff,
            max_years_since_registration,
        } => json!({
            "kind": "small_enterprise",
            "max_staff": max_staff,
            "max_years_since_registration": max_years_since_registration,
        }),
    }
}

fn parameters(p: &ResolvedPolicy, o: &Overrides) -> Parameters {
    let r = p.region;
    Parameters {
        quota_ratio: match o.quota_ratio {
            Some(q) => overridden("quota_ratio", json!(dec_str(q)), r),
            None => param(&p.quota_ratio, json!(dec_str(p.quota_ratio.value))),
        },
        wage_cap_multiple: p
            .wage_cap_multiple
            .as_ref()
            .map(|k| param(k, json!(dec_str(k.value)))),
        social_average_wage: match o.social_average_wage {
            Some(s) => Some(overridden("social_average_wage", json!(format_money(s)), r)),
            None => p
                .social_average_wage
                .as_ref()
                .map(|s| param(s, json!(format_money(s.value)))),
        },
        minimum_wage_monthly: match o.minimum_wage_monthly {
            Some(w) => Some(overridden(
                "minimum_wage_monthly",
                json!(format_money(w)),
                r,
            )),
            None => p
                .minimum_wage_year_end()
                .map(|w| param(w, json!(format_money(w.value)))),
        },
        reduction_tiers: p.reduction_tiers.as_ref().map(|t| {
            param(
                t,
                json!({
                    "threshold": dec_str(t.value.threshold),
                    "share_at_or_above": dec_str(t.value.share_at_or_above),
                    "share_below": dec_str(t.value.share_below),
                }),
            )
        }),
        exemption_rule: param(&p.exemption, exemption_value(&p.exemption.value)),
        fresh_graduate_full_year: param(
            &p.fresh_graduate_full_year,
            json!(p.fresh_graduate_full_year.value),
        ),
        reward_rule: param(&p.reward, reward_value(&p.reward.value)),
        surcharge: param(
            &p.surcharge,
            json!({
                "daily_rate": dec_str(p.surcharge.value.daily_rate),
                "capped_at_principal": p.surcharge.value.capped_at_principal,
            }),
        ),
        filing_deadline: param(
            &p.filing_deadline,
            json!(p.filing_deadline.value.to_string()),
        ),
        payment_due: param(&p.payment_due, json!(p.payment_due.value.to_string())),
    }
}

/// Builds the response of a calculation (money to 2 decimals, counts to 4, ratio to 6).
pub fn build_response(req: &ParsedRequest, r: &LevyResult) -> CalcResponse {
    let p = &req.policy;
    let lang = req.lang;
    let roster: &[DisabledEmployee] = match &req.input.disabled {
        Disabled::Roster(v) => v,
        Disabled::Certified(_) => &[],
    };
    let employees = r
        .employees
        .iter()
        .zip(roster)
        .map(|(o, e)| EmployeeOut {
            index: o.index,
            certificate: e.certificate.masked(),
            certificate_kind: e.certificate.kind_str(),
            grade: o.grade,
            weight: o.weight,
            employed_months: o.employed.iter().collect(),
            counted_months: o.counted_months,
            weighted_months: o.weighted_months(),
            excluded_reason: o.excluded_reason(),
            excluded_detail: levy::exclusion_detail(
                o,
                e,
                p,
                req.input.overrides.minimum_wage_monthly,
                lang,
            ),
            excluded_months: o.excluded.iter().collect(),
            fresh_graduate_applied: o.fresh_graduate_applied,
        })
        .collect();
    let exemption = match (r.exempt, &p.exemption.value) {
        (
            true,
            ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration,
            },
        ) => Some(ExemptionOut {
            rule: "small_enterprise",
            max_staff: *max_staff,
            max_years_since_registration: *max_years_since_registration,
            citation: p.exemption.citation.clone(),
            provisional: p.exemption.provisional,
        }),
        _ => None,
    };
    CalcResponse {
        levy_year: req.levy_year,
        data_year: p.data_year,
        region: p.region.to_string(),
        as_of: p.as_of.to_string(),
        employer_kind: req.input.employer_kind.as_str(),
        average_headcount: count4(r.staff),
        required: count4(r.required),
        disabled_counted: count4(r.disabled),
        shortfall: count4(r.shortfall),
        employment_ratio: r.employment_ratio(6).map(|x| format_count(x, 6)),
        average_wage: r.average_wage.map(format_money),
        wage_used: r.wage_used.map(format_money),
        fee_due: format_money(r.fee_due),
        reduction: format_money(r.reduction),
        levy_payable: format_money(r.payable),
        over_quota: count4(r.over_quota),
        reward: format_money(r.reward),
        exemption,
        parameters: parameters(p, &req.input.overrides),
        employees,
        explanation: r.explanation.clone(),
        provisional: r.provisional,
        provisional_note: r.provisional.then(|| provisional_note(lang).to_owned()),
        what_if: r.what_if,
        warnings: r.warnings.iter().map(|w| w.message(p, lang)).collect(),
        language: lang,
    }
}

/// The sentence that explains "provisional" wherever a result rests on a provisional
/// value: the parameters marked `provisional` were taken from a secondary source or
/// chosen where no official text was found.
pub fn provisional_note(lang: Language) -> &'static str {
    lang.pick(
        "本结果使用了暂定参数（标为暂定的数值）：这些数值来自非官方转载，或在未找到正式文件时选定，待正式文件公布后可能调整，以税务机关核定为准。",
        "This result uses provisional values (those marked provisional): they come from a secondary source or were chosen where no official text was found, and may change once the official document is found; the tax bureau's assessment decides.",
    )
}
