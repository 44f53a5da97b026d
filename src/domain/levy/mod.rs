//! The levy calculation of docs/rules.md §1–7: staff, disabled employees with weights,
//! conditions and counted months, required count, shortfall, wage cap, fee, exemption,
//! tiers, payable, over-quota and reward — and, on request, the explanation of every
//! step. The late-payment surcharge of §6 is its own function in [`surcharge`].
//!
//! Pure: the law comes in as a [`ResolvedPolicy`], the declaration as a [`LevyInput`] of
//! validated domain values. Counts are exact [`Twelfths`]; money is exact decimal, rounded
//! half-up to the fen only where §5 says (average wage, fee, reduction, reward).

mod employees;
pub mod exact;
pub mod explain;
mod num;
pub mod surcharge;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
pub(crate) mod tests;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::ids::{DisabilityCertificate, VeteranCertificate};
use super::lang::Language;
use super::money::round2;
use super::policy::{Cited, ExemptionRule, ResolvedPolicy, RewardPersons, RewardRule};
use super::region::{EmployerKind, RegionCode};

pub use employees::{
    duplicate_certificates, exclusion_detail, months_in_period, EmployeeOutcome, Exclusions,
};
pub use exact::{parse_exact, Twelfths};
pub use explain::{ExplainMode, Explanation, Step};
pub use surcharge::{surcharge, Payment, SurchargeError, SurchargeResult, SurchargeSegment};

/// Where the calculation's own rules (not parameters) come from: the national levy
/// rules, 财税〔2015〕72号 (formula, counting, weights, conditions).
pub const LEVY_RULES: &str = "财税〔2015〕72号";

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

/// A declaration, as validated domain values (built by `crate::wire` from the API).
#[derive(Debug, Clone, PartialEq)]
pub struct LevyInput {
    /// The declared kind of employer (docs/rules.md §2: only enterprises can be exempt).
    pub employer_kind: EmployerKind,
    /// Business registration date; needed only for the 2015–2017 start-up window.
    pub registered_on: Option<NaiveDate>,
    /// In-service staff of the data year (docs/rules.md §4.1).
    pub staff: Staff,
    /// Wages of the data year; required when staff is not zero.
    pub wages: Option<Wages>,
    /// Disabled employees of the data year (docs/rules.md §4.2).
    pub disabled: Disabled,
    /// What-if overrides of policy parameters.
    pub overrides: Overrides,
}

/// In-service staff `N` (docs/rules.md §4.1).
#[derive(Debug, Clone, PartialEq)]
pub enum Staff {
    /// Staff on the last day of each month of the data year, January first.
    Monthly([u32; 12]),
    /// The annual average, at most 4 decimals, taken as exact (as on real forms).
    Average(Decimal),
}

/// The wage figure of the data year (docs/rules.md §5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wages {
    /// Total wages paid to in-service staff; `W = round2(total / N)`.
    Total(Decimal),
    /// The average annual wage `W` itself.
    Average(Decimal),
}

/// Disabled employees `D` (docs/rules.md §4.2).
#[derive(Debug, Clone, PartialEq)]
pub enum Disabled {
    /// A roster, counted by the engine (weights, conditions, months).
    Roster(Vec<DisabledEmployee>),
    /// The weighted annual average certified by the disabled persons' employment service
    /// agency, taken as given (at most 4 decimals).
    Certified(Decimal),
}

/// What-if replacements for resolved policy values; any one set makes the result a
/// what-if result.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Overrides {
    /// Replaces the quota ratio `q` (a fraction: 0.016 for 1.6 %).
    pub quota_ratio: Option<Decimal>,
    /// Replaces the social average wage `S` of the data year (yuan per year).
    pub social_average_wage: Option<Decimal>,
    /// Replaces the monthly minimum wage for every month of the data year.
    pub minimum_wage_monthly: Option<Decimal>,
}

impl Overrides {
    /// True when any override is given.
    pub fn any(&self) -> bool {
        self.quota_ratio.is_some()
            || self.social_average_wage.is_some()
            || self.minimum_wage_monthly.is_some()
    }
}

/// One disabled employee of the roster (docs/rules.md §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct DisabledEmployee {
    /// The certificate held (condition 1).
    pub certificate: Certificate,
    /// Which months of the data year the person was employed on the month's last day.
    pub employment: Employment,
    /// On the establishment (在编) — satisfies condition 2 by itself.
    pub on_establishment: bool,
    /// Length of the labour contract or service agreement in months (condition 2: ≥ 12).
    pub contract_months: Option<u32>,
    /// Social insurance paid in full (condition 4).
    pub social_insurance_paid: bool,
    /// Monthly wage (condition 3: ≥ the minimum wage in force). When absent the wage
    /// condition is not checked (the certifying agency has checked it).
    pub monthly_wage: Option<Decimal>,
    /// A disabled fresh college graduate hired in the data year (Henan rule).
    pub fresh_graduate: bool,
    /// Months the same certificate is also declared by another employer: counted by
    /// neither until the disabled persons' federation decides (docs/rules.md §4.2). Set by
    /// the registry from other employers' rosters; empty on a self-check.
    pub disputed: MonthSet,
    /// Months of a dispute the federation decided for another employer: this one does
    /// not count the person then. Set by the registry; empty on a self-check.
    pub counted_elsewhere: MonthSet,
}

/// The certificate a disabled employee holds (docs/rules.md §4.2 condition 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Certificate {
    /// 残疾人证; the grade is read from the number (docs/rules.md §9).
    Disability(DisabilityCertificate),
    /// 残疾军人证 with its declared grade 1–8.
    Veteran {
        /// The certificate number (free format).
        number: VeteranCertificate,
        /// Grade 1–8.
        grade: VeteranGrade,
    },
}

/// A disabled veteran's grade, 1 (most severe) to 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VeteranGrade(u8);

impl VeteranGrade {
    /// A grade 1–8, else `None`.
    pub fn new(grade: u8) -> Option<Self> {
        (1..=8).contains(&grade).then_some(VeteranGrade(grade))
    }

    /// The grade number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Certificate {
    /// The grade that counts: from the number for a 残疾人证, declared for a 残疾军人证.
    pub fn grade(&self) -> u8 {
        match self {
            Certificate::Disability(c) => c.grade(),
            Certificate::Veteran { grade, .. } => grade.get(),
        }
    }

    /// Levy-rules §4.2 (财税〔2015〕72号): weight 2 for a 残疾人证 of grade 1–2 or a
    /// 残疾军人证 of grade 1–3, otherwise 1.
    pub fn weight(&self) -> u8 {
        match self {
            Certificate::Disability(c) if c.grade() <= 2 => 2,
            Certificate::Veteran { grade, .. } if grade.get() <= 3 => 2,
            _ => 1,
        }
    }

    /// The API spelling of the kind: `disability` or `veteran`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            Certificate::Disability(_) => "disability",
            Certificate::Veteran { .. } => "veteran",
        }
    }

    /// The masked number, for display.
    pub fn masked(&self) -> String {
        match self {
            Certificate::Disability(c) => c.masked(),
            Certificate::Veteran { number, .. } => number.masked(),
        }
    }
}

/// Months of the data year as a set (bit `m − 1` for month `m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MonthSet(u16);

impl MonthSet {
    /// No month.
    pub const EMPTY: MonthSet = MonthSet(0);
    /// All twelve months.
    pub const ALL: MonthSet = MonthSet(0x0fff);

    /// The set of the given months; `None` if any is outside 1–12.
    pub fn from_months(months: &[u8]) -> Option<MonthSet> {
        let mut bits = 0u16;
        for &m in months {
            if !(1..=12).contains(&m) {
                return None;
            }
            bits |= 1 << (m - 1);
        }
        Some(MonthSet(bits))
    }

    /// True when month `m` (1–12) is in the set.
    pub fn contains(self, m: u8) -> bool {
        (1..=12).contains(&m) && self.0 & (1 << (m - 1)) != 0
    }

    /// Adds month `m` (1–12).
    pub fn insert(&mut self, m: u8) {
        if (1..=12).contains(&m) {
            self.0 |= 1 << (m - 1);
        }
    }

    /// Number of months in the set.
    pub fn len(self) -> u8 {
        self.0.count_ones() as u8
    }

    /// True when no month is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The months in ascending order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (1..=12u8).filter(move |&m| self.contains(m))
    }

    /// Months in both.
    pub fn and(self, other: MonthSet) -> MonthSet {
        MonthSet(self.0 & other.0)
    }

    /// Months in `self` but not in `other`.
    pub fn minus(self, other: MonthSet) -> MonthSet {
        MonthSet(self.0 & !other.0)
    }

    /// The months as "1,2,3" (empty string for none).
    pub fn to_list(self) -> String {
        let mut s = String::new();
        for m in self.iter() {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(itoa_small(m));
        }
        s
    }
}

/// Month numbers as static text, to build lists without formatting machinery.
fn itoa_small(m: u8) -> &'static str {
    const T: [&str; 13] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
    ];
    T.get(usize::from(m)).copied().unwrap_or("?")
}

/// When a disabled employee was employed during the data year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Employment {
    /// The months (1–12) on whose last day the person was employed.
    Months(MonthSet),
    /// An employment period; a month counts when its last day lies within it
    /// (docs/rules.md §4.2: "on the last day of that month"). `to` is the last day employed.
    Period {
        /// First day employed.
        from: NaiveDate,
        /// Last day employed; `None` while still employed.
        to: Option<NaiveDate>,
    },
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/// Which reduction tier applied (docs/rules.md §5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierApplied {
    /// True when `r ≥ threshold`.
    pub at_or_above: bool,
    /// The payable share (0.5 or 0.9).
    pub share: Decimal,
}

/// The figures of one calculation, and its explanation when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct LevyResult {
    /// In-service staff `N` (exact).
    pub staff: Twelfths,
    /// Disabled employees counted `D`, weighted (exact).
    pub disabled: Twelfths,
    /// The quota ratio used (resolved or overridden).
    pub quota_ratio: Decimal,
    /// `required = N × q` (exact).
    pub required: Twelfths,
    /// `max(0, required − D)` (exact).
    pub shortfall: Twelfths,
    /// `max(0, D − required)` (exact).
    pub over_quota: Twelfths,
    /// `W`; `None` when staff is 0.
    pub average_wage: Option<Decimal>,
    /// `k × S` when a cap is in force and staff is not 0.
    pub wage_cap: Option<Decimal>,
    /// The social average wage used for the cap (resolved or overridden).
    pub social_average_wage: Option<Decimal>,
    /// `W_used = min(W, k × S)`; `None` when staff is 0.
    pub wage_used: Option<Decimal>,
    /// `round2(shortfall × W_used)`.
    pub fee_due: Decimal,
    /// The tier applied, when tiers are in force, shortfall > 0 and not exempt.
    pub tier: Option<TierApplied>,
    /// `round2(fee_due × (1 − share))`, 0 when no tier applies.
    pub reduction: Decimal,
    /// True when the small-enterprise exemption applies (docs/rules.md §2); the exemption
    /// rule and its citation are `policy.exemption`.
    pub exempt: bool,
    /// `fee_due − reduction`, 0 when exempt.
    pub payable: Decimal,
    /// Over-quota persons the reward is paid on (after whole-person and severe-once
    /// rules); `None` when no reward rule applies.
    pub reward_persons: Option<Twelfths>,
    /// The minimum wage used for the reward, when one was used.
    pub reward_minimum_wage: Option<Decimal>,
    /// The over-quota reward (docs/rules.md §7).
    pub reward: Decimal,
    /// Per-employee counting, in roster order (empty for a certified count).
    pub employees: Vec<EmployeeOutcome>,
    /// The explanation; empty for [`ExplainMode::FiguresOnly`].
    pub explanation: Explanation,
    /// True when any policy value used is provisional.
    pub provisional: bool,
    /// True when overrides were given.
    pub what_if: bool,
    /// Things the reader should know; render with [`Warning::message`].
    pub warnings: Vec<Warning>,
}

impl LevyResult {
    /// The employment ratio `r = D / N` rounded half-up to `dp` decimals; `None` when
    /// staff is 0 (the ratio is undefined).
    pub fn employment_ratio(&self, dp: u32) -> Option<Decimal> {
        if self.staff.is_zero() {
            return None;
        }
        exact::mul_div_round(&[self.disabled.twelfths()], self.staff.twelfths(), dp)
    }
}

/// A warning attached to a result. Kept structured (no text) so that the figures-only
/// path does not allocate strings; [`Warning::message`] renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// `policy.notes[i]`, copied onto every result.
    PolicyNote(usize),
    /// A monthly wage was given but no minimum wage is known for these months: the wage
    /// condition was not checked there (the employee is not excluded for it).
    MinimumWageUnknown {
        /// Roster index.
        employee: usize,
        /// Months without a known minimum wage.
        months: MonthSet,
    },
    /// Wage below the minimum wage: not counted for those months, and a labour violation
    /// (docs/rules.md §8; 三政〔2016〕23号 §3(4)).
    BelowMinimumWage {
        /// Roster index.
        employee: usize,
        /// Months below the minimum wage.
        months: MonthSet,
    },
    /// Social insurance not paid in full: not counted, and a labour violation (§8).
    NoSocialInsurance {
        /// Roster index.
        employee: usize,
    },
    /// Marked as fresh graduate but hired before the data year: the full-year rule does
    /// not apply.
    FreshGraduateNotHiredInDataYear {
        /// Roster index.
        employee: usize,
    },
    /// Over quota, but no reward rule is in force (the rule's note says why).
    NoRewardRule,
    /// Over quota, but this kind of employer is not eligible for the region's reward.
    RewardNotEligible,
    /// Over quota, but by less than the rule's minimum excess.
    RewardBelowMinimumExcess,
    /// The reward rule counts a severely disabled person once, but only a certified
    /// weighted count was given: the weighted count was used.
    SevereOnceWithCertifiedCount,
    /// The social average wage used for the cap stands in for one the packs do not have
    /// (`policy.social_average_wage_stand_in` says which and why).
    SocialAverageWageStandIn,
    /// The declared 4-decimal average headcount is a twelfth printed rounded; the exact
    /// twelfth `twelfths / 12` was used.
    AverageHeadcountTwelfth {
        /// The average as declared (e.g. 32.3333).
        given: Decimal,
        /// Twelve times the value used (e.g. 388).
        twelfths: Decimal,
    },
    /// The shortfall shown (4 decimals) times W_used does not give the fee: the fee is
    /// computed from the exact shortfall, which the message shows.
    FeeFromExactShortfall {
        /// The exact shortfall.
        shortfall: Twelfths,
        /// The shortfall as shown, rounded to 4 decimals.
        shown: Decimal,
        /// W_used.
        wage_used: Decimal,
    },
}

/// The part of a pack's note in `lang`. Notes are written "中文 (English)"; a note in
/// that shape gives its Chinese part for Chinese and the part in brackets for English,
/// so that a Chinese sentence does not end in English. Any other note is shown whole.
pub(crate) fn note_in(note: &str, lang: Language) -> &str {
    let bilingual = note
        .strip_suffix(')')
        .and_then(|n| n.split_once(" ("))
        .filter(|(zh, en)| !zh.is_ascii() && en.is_ascii() && !en.contains('('));
    match (bilingual, lang) {
        (Some((zh, _)), Language::Zh) => zh.trim_end(),
        (Some((_, en)), Language::En) => en,
        (None, _) => note,
    }
}

impl Warning {
    /// A stable code for the warning.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::PolicyNote(_) => "policy_note",
            Warning::MinimumWageUnknown { .. } => "minimum_wage_unknown",
            Warning::BelowMinimumWage { .. } => "below_minimum_wage",
            Warning::NoSocialInsurance { .. } => "no_social_insurance",
            Warning::FreshGraduateNotHiredInDataYear { .. } => {
                "fresh_graduate_not_hired_in_data_year"
            }
            Warning::NoRewardRule => "no_reward_rule",
            Warning::RewardNotEligible => "reward_not_eligible",
            Warning::RewardBelowMinimumExcess => "reward_below_minimum_excess",
            Warning::SevereOnceWithCertifiedCount => "severe_once_with_certified_count",
            Warning::SocialAverageWageStandIn => "social_average_wage_stand_in",
            Warning::AverageHeadcountTwelfth { .. } => "average_headcount_twelfth",
            Warning::FeeFromExactShortfall { .. } => "fee_from_exact_shortfall",
        }
    }

    /// The warning as a sentence in `lang`.
    pub fn message(&self, policy: &ResolvedPolicy, lang: Language) -> String {
        let zh = lang == Language::Zh;
        match *self {
            Warning::PolicyNote(i) => policy
                .notes
                .get(i)
                .map(|n| note_in(n, lang).to_owned())
                .unwrap_or_default(),
            Warning::MinimumWageUnknown { employee, months } => {
                if zh {
                    format!(
                        "/disabled_employees/{employee}：第 {} 月的最低工资标准未知，未核对工资条件（未因此剔除）。",
                        months.to_list()
                    )
                } else {
                    format!(
                        "/disabled_employees/{employee}: no minimum wage is known for month(s) {}; \
                         the wage condition was not checked there (not excluded for it).",
                        months.to_list()
                    )
                }
            }
            Warning::BelowMinimumWage { employee, months } => {
                if zh {
                    format!(
                        "/disabled_employees/{employee}：第 {} 月工资低于当地最低工资标准，该月不计入，且属劳动违法（三政〔2016〕23号）。",
                        months.to_list()
                    )
                } else {
                    format!(
                        "/disabled_employees/{employee}: wage below the local minimum wage in month(s) {}; \
                         not counted there, and a labour violation (三政〔2016〕23号).",
                        months.to_list()
                    )
                }
            }
            Warning::NoSocialInsurance { employee } => {
                if zh {
                    format!("/disabled_employees/{employee}：未足额缴纳社会保险，不计入，且属劳动违法（三政〔2016〕23号）。")
                } else {
                    format!(
                        "/disabled_employees/{employee}: social insurance not paid in full; not counted, \
                         and a labour violation (三政〔2016〕23号)."
                    )
                }
            }
            Warning::FreshGraduateNotHiredInDataYear { employee } => {
                if zh {
                    format!("/disabled_employees/{employee}：标为应届毕业生，但入职早于数据年度，不适用按全年计算的规定。")
                } else {
                    format!(
                        "/disabled_employees/{employee}: marked as a fresh graduate but hired before the \
                         data year; the full-year rule does not apply."
                    )
                }
            }
            Warning::NoRewardRule => {
                let note = match &policy.reward.value {
                    RewardRule::None { note } => note_in(note, lang),
                    _ => "",
                };
                match (zh, note.is_empty()) {
                    (true, true) => {
                        "超比例安排残疾人就业，但本地区无有效的超比例奖励规定，奖励按 0 计。".to_owned()
                    }
                    (true, false) => format!(
                        "超比例安排残疾人就业，但本地区无有效的超比例奖励规定，奖励按 0 计（{note}）。"
                    ),
                    (false, true) => {
                        "Over quota, but no over-quota reward rule is in force here; reward 0.".to_owned()
                    }
                    (false, false) => format!(
                        "Over quota, but no over-quota reward rule is in force here; reward 0 ({note})."
                    ),
                }
            }
            Warning::RewardNotEligible => lang
                .pick(
                    "超比例安排残疾人就业，但本地区奖励规定不适用于该类用人单位。",
                    "Over quota, but the region's reward rule does not cover this kind of employer.",
                )
                .to_owned(),
            Warning::RewardBelowMinimumExcess => lang
                .pick(
                    "超比例人数未达到奖励规定的最低人数，无奖励。",
                    "The excess over the quota is below the reward rule's minimum; no reward.",
                )
                .to_owned(),
            Warning::SevereOnceWithCertifiedCount => lang
                .pick(
                    "奖励规定中重度残疾人只计一人，但只提供了认定的加权人数，已按加权人数计算奖励。",
                    "The reward rule counts a severely disabled person once, but only a certified \
                     weighted count was given; the weighted count was used.",
                )
                .to_owned(),
            Warning::SocialAverageWageStandIn => policy
                .social_average_wage_stand_in
                .clone()
                .unwrap_or_default(),
            Warning::AverageHeadcountTwelfth { given, twelfths } => {
                let exact = format!("{}/12", twelfths.normalize());
                if zh {
                    format!(
                        "在职职工年平均人数 {given} 与 {exact} 相差不到 0.00005，视为其四舍五入到 4 位小数的结果，按精确值 {exact} 计算。"
                    )
                } else {
                    format!(
                        "The average headcount {given} is within 0.00005 of {exact}: taken as that twelfth rounded to 4 decimals, and computed with the exact {exact}."
                    )
                }
            }
            Warning::FeeFromExactShortfall {
                shortfall,
                shown,
                wage_used,
            } => {
                let exact = shortfall.exact_string();
                let w = super::money::format_money(wage_used);
                let product = super::money::format_money(round2(shown * wage_used));
                if zh {
                    format!(
                        "应缴保障金按精确的未按比例安排人数 {exact} × {w} 计算；显示的 {shown} 为四舍五入值（{shown} × {w} = {product}，与应缴额不同）。"
                    )
                } else {
                    format!(
                        "The fee is computed from the exact shortfall {exact} × {w}; the {shown} shown is rounded ({shown} × {w} = {product}, not the fee)."
                    )
                }
            }
        }
    }
}

/// Why a calculation cannot be done. The request layer turns each into a field error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LevyError {
    /// A parameter the calculation needs is missing from the policy and not overridden
    /// (docs/rules.md §3: "a clear error naming the region, year and parameter").
    #[error("no {parameter} is configured for region {region} and data year {data_year}; give overrides.{parameter}")]
    MissingParameter {
        /// The region asked for.
        region: RegionCode,
        /// The data year whose figure is missing.
        data_year: i32,
        /// The override field that would supply it (`social_average_wage`,
        /// `minimum_wage_monthly`).
        parameter: &'static str,
    },
    /// The 2015–2017 start-up window applies and no registration date was given.
    #[error("the business registration date is needed: the small-enterprise exemption in force requires registration within {years} years")]
    MissingRegistrationDate {
        /// The window in years.
        years: u32,
    },
    /// Staff is not zero and no wage figure was given.
    #[error("total_wages or average_wage is needed when staff is not zero")]
    MissingWages,
    /// The same certificate (holder) appears twice in the roster (docs/rules.md §4.2).
    #[error("disabled employee {index} has the same certificate as employee {first}")]
    DuplicateCertificate {
        /// The later occurrence.
        index: usize,
        /// The first occurrence.
        first: usize,
    },
    /// A value outside what the domain accepts (negative count, too many decimals).
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The API field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Intermediate figures too large for exact arithmetic.
    #[error("figures too large to compute exactly")]
    Overflow,
}

// ---------------------------------------------------------------------------------------
// The calculation
// ---------------------------------------------------------------------------------------

/// Decimal 12.
const TWELVE: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

/// 0.0006: twelve times the 0.00005 within which a 4-decimal average is a rounded twelfth.
const TWELFTH_SNAP: Decimal = Decimal::from_parts(6, 0, 0, false, 4);

/// Computes the levy of docs/rules.md §4–7 for one declaration under one resolved policy.
///
/// `ExplainMode::FiguresOnly` builds no explanation text at all (the hot path of batch
/// runs); `ExplainMode::Full(lang)` adds the ordered steps.
pub fn calculate(
    policy: &ResolvedPolicy,
    input: &LevyInput,
    mode: ExplainMode,
) -> Result<LevyResult, LevyError> {
    let mut ex = match mode {
        ExplainMode::FiguresOnly => None,
        ExplainMode::Full(lang) => Some(explain::Explainer::new(lang)),
    };
    let mut provisional = false;
    let mut warnings: Vec<Warning> = (0..policy.notes.len()).map(Warning::PolicyNote).collect();
    let ov = &input.overrides;

    // §4.1 In-service staff N, in twelfths: Σ monthly headcounts, or the average × 12.
    let staff = match &input.staff {
        Staff::Monthly(h) => {
            Twelfths::from_twelfths(Decimal::from(h.iter().map(|&x| u64::from(x)).sum::<u64>()))
        }
        Staff::Average(a) => {
            if a.is_sign_negative() || a.scale() > 4 {
                return Err(LevyError::InvalidInput {
                    field: "staff.average_headcount",
                    reason: "must be non-negative with at most 4 decimals",
                });
            }
            let n = Twelfths::from_value(*a).ok_or(LevyError::Overflow)?;
            // Choice: a 4-decimal average within 0.00005 of a twelfth is that twelfth
            // printed rounded (a form's 32.3333 is 388/12: |x − k/12| < 0.00005 ⇔
            // |12x − k| < 0.0006); the exact twelfth is used, and the result says so.
            let k = n.twelfths().round();
            if n.twelfths() != k && (n.twelfths() - k).abs() < TWELFTH_SNAP {
                warnings.push(Warning::AverageHeadcountTwelfth {
                    given: *a,
                    twelfths: k,
                });
                Twelfths::from_twelfths(k)
            } else {
                n
            }
        }
    };
    if let Some(ex) = ex.as_mut() {
        ex.average_headcount(&input.staff, staff);
    }

    // §4.2 Disabled employees D, in twelfths: Σ weight × counted months, or certified × 12.
    let mut outcomes = Vec::new();
    let mut unweighted_months: u64 = 0;
    let disabled = match &input.disabled {
        Disabled::Roster(roster) => {
            if let Some(&(index, first)) = duplicate_certificates(roster).first() {
                return Err(LevyError::DuplicateCertificate { index, first });
            }
            outcomes.reserve_exact(roster.len());
            let mut weighted: u64 = 0;
            let min_wages = employees::MinimumWages::new(policy, ov.minimum_wage_monthly);
            for (i, e) in roster.iter().enumerate() {
                let o = employees::count(i, e, policy, &min_wages, &mut provisional, &mut warnings);
                weighted += u64::from(o.weighted_months());
                unweighted_months += u64::from(o.counted_months);
                if let Some(ex) = ex.as_mut() {
                    ex.disabled_employee(e, &o, policy, &min_wages);
                }
                outcomes.push(o);
            }
            Twelfths::from_twelfths(Decimal::from(weighted))
        }
        Disabled::Certified(d) => {
            if d.is_sign_negative() || d.scale() > 4 {
                return Err(LevyError::InvalidInput {
                    field: "disabled_count",
                    reason: "must be non-negative with at most 4 decimals",
                });
            }
            Twelfths::from_value(*d).ok_or(LevyError::Overflow)?
        }
    };
    if let Some(ex) = ex.as_mut() {
        ex.disabled_counted(&input.disabled, disabled);
    }

    // §5 required = N × q, exact; shortfall and over-quota, exact.
    let q = cited_or_override(&policy.quota_ratio, ov.quota_ratio, &mut provisional);
    let required = Twelfths::from_twelfths(
        staff
            .twelfths()
            .checked_mul(q.value)
            .ok_or(LevyError::Overflow)?,
    );
    let shortfall = required.saturating_sub(disabled);
    let over_quota = disabled.saturating_sub(required);
    if let Some(ex) = ex.as_mut() {
        ex.required(staff, q, required);
        ex.shortfall(required, disabled, shortfall);
    }

    // §5 wages: W = round2(total / N); W_used = min(W, k × S) while a cap is in force.
    let (mut average_wage, mut wage_cap, mut wage_used, mut social_average_wage) =
        (None, None, None, None);
    let fee_due = if staff.is_zero() {
        // §5: N = 0 — nothing is required, nothing payable, W undefined. Choice: the
        // employment ratio is undefined too (reported as null).
        if let Some(ex) = ex.as_mut() {
            ex.fee_no_staff();
        }
        Decimal::ZERO
    } else {
        let w = match input.wages {
            Some(Wages::Total(t)) => exact::mul_div_round(&[t, TWELVE], staff.twelfths(), 2)
                .ok_or(LevyError::Overflow)?,
            Some(Wages::Average(a)) => round2(a),
            None => return Err(LevyError::MissingWages),
        };
        if w.is_sign_negative() {
            return Err(LevyError::InvalidInput {
                field: "total_wages",
                reason: "must not be negative",
            });
        }
        average_wage = Some(w);
        if let Some(ex) = ex.as_mut() {
            ex.average_wage(input.wages, staff, w);
        }
        // Choice: while a cap is in force, S is needed whenever staff is not 0 (W_used is
        // reported even when the shortfall is 0), so a missing S is an error then.
        let used = match &policy.wage_cap_multiple {
            Some(k) => {
                provisional |= k.provisional;
                let (s, s_cited) = match (ov.social_average_wage, &policy.social_average_wage) {
                    (Some(s), _) => (s, None),
                    (None, Some(c)) => (c.value, Some(c)),
                    (None, None) => {
                        return Err(LevyError::MissingParameter {
                            region: policy.region,
                            data_year: policy.data_year,
                            parameter: "social_average_wage",
                        })
                    }
                };
                provisional |= s_cited.is_some_and(|c| c.provisional);
                if s_cited.is_some() && policy.social_average_wage_stand_in.is_some() {
                    warnings.push(Warning::SocialAverageWageStandIn);
                }
                let cap = k.value.checked_mul(s).ok_or(LevyError::Overflow)?;
                social_average_wage = Some(s);
                wage_cap = Some(cap);
                let used = w.min(cap);
                if let Some(ex) = ex.as_mut() {
                    ex.wage_cap(w, k, s, s_cited, cap, used);
                }
                used
            }
            None => {
                if let Some(ex) = ex.as_mut() {
                    ex.no_wage_cap(w);
                }
                w
            }
        };
        wage_used = Some(used);
        // §5 fee_due = round2(shortfall × W_used), divided last.
        let fee = exact::mul_div_round(&[shortfall.twelfths(), used], TWELVE, 2)
            .ok_or(LevyError::Overflow)?;
        // The response shows the shortfall to 4 decimals and W_used to the fen; when those
        // rounded figures do not give the fee, say that it comes from the exact values.
        let shown = shortfall.round(4);
        if round2(shown * used) != fee {
            warnings.push(Warning::FeeFromExactShortfall {
                shortfall,
                shown,
                wage_used: used,
            });
        }
        if let Some(ex) = ex.as_mut() {
            ex.fee_due(shortfall, used, fee);
            ex.employment_ratio(disabled, staff);
        }
        fee
    };

    // §2 small-enterprise exemption (enterprises only; boundary included).
    let exempt = exemption(policy, input, staff, &mut provisional)?;
    if let Some(ex) = ex.as_mut() {
        ex.exemption(policy, input, staff, exempt);
    }

    // §5 reduction tiers, only while in force, shortfall > 0 and something is payable.
    // Choice: an exempt employer gets reduction 0 (nothing is payable to reduce); the
    // exemption step explains why payable is 0 although fee_due is shown.
    let mut tier = None;
    let mut reduction = Decimal::ZERO;
    match &policy.reduction_tiers {
        Some(t) if !shortfall.is_zero() && !exempt => {
            provisional |= t.provisional;
            // r ≥ threshold tested exactly: D × 12 ≥ threshold × N × 12.
            let bar = t
                .value
                .threshold
                .checked_mul(staff.twelfths())
                .ok_or(LevyError::Overflow)?;
            let at_or_above = disabled.twelfths() >= bar;
            let share = if at_or_above {
                t.value.share_at_or_above
            } else {
                t.value.share_below
            };
            reduction = round2(fee_due * (Decimal::ONE - share));
            tier = Some(TierApplied { at_or_above, share });
            if let Some(ex) = ex.as_mut() {
                ex.reduction(t, fee_due, disabled, staff, share, reduction);
            }
        }
        tiers => {
            if let Some(ex) = ex.as_mut() {
                ex.no_reduction(tiers.is_some(), exempt, shortfall.is_zero());
            }
        }
    }
    let payable = if exempt {
        Decimal::ZERO
    } else {
        fee_due - reduction
    };
    if let Some(ex) = ex.as_mut() {
        ex.payable(policy, fee_due, reduction, exempt, payable);
        ex.over_quota(disabled, required, over_quota);
    }

    // §7 over-quota reward.
    let reward = reward(
        policy,
        input,
        required,
        over_quota,
        unweighted_months,
        &mut provisional,
        &mut warnings,
    )?;
    if let Some(ex) = ex.as_mut() {
        ex.reward(policy, input, over_quota, &reward);
    }

    Ok(LevyResult {
        staff,
        disabled,
        quota_ratio: q.value,
        required,
        shortfall,
        over_quota,
        average_wage,
        wage_cap,
        social_average_wage,
        wage_used,
        fee_due,
        tier,
        reduction,
        exempt,
        payable,
        reward_persons: reward.persons,
        reward_minimum_wage: reward.minimum_wage,
        reward: reward.amount,
        employees: outcomes,
        explanation: ex.map(|e| e.expl).unwrap_or_default(),
        provisional,
        what_if: ov.any(),
        warnings,
    })
}

/// The value used for a parameter: the override when given (not provisional, no
/// citation), else the resolved one (whose provisional flag then counts).
fn cited_or_override<'a>(
    cited: &'a Cited<Decimal>,
    over: Option<Decimal>,
    provisional: &mut bool,
) -> explain::Used<'a> {
    match over {
        Some(v) => explain::Used {
            value: v,
            cited: None,
        },
        None => {
            *provisional |= cited.provisional;
            explain::Used {
                value: cited.value,
                cited: Some(cited),
            }
        }
    }
}

/// `date + years`, same calendar day; 29 February rolls to 28 February (docs/rules.md §2).
pub fn add_years(date: NaiveDate, years: u32) -> Option<NaiveDate> {
    let y = date.year().checked_add(i32::try_from(years).ok()?)?;
    date.with_year(y)
        .or_else(|| NaiveDate::from_ymd_opt(y, date.month(), 28))
}

/// Levy-rules §2: is the employer exempt under the rule in force?
fn exemption(
    policy: &ResolvedPolicy,
    input: &LevyInput,
    staff: Twelfths,
    provisional: &mut bool,
) -> Result<bool, LevyError> {
    // The exemptions cover enterprises only (企业); other kinds are never exempt.
    if input.employer_kind != EmployerKind::Enterprise {
        return Ok(false);
    }
    *provisional |= policy.exemption.provisional;
    match policy.exemption.value {
        ExemptionRule::None => Ok(false),
        ExemptionRule::SmallEnterprise {
            max_staff,
            max_years_since_registration,
        } => {
            // "≤ 20", "≤ 30" include the boundary, tested on the exact N.
            if staff.twelfths() > Decimal::from(max_staff) * TWELVE {
                return Ok(false);
            }
            match max_years_since_registration {
                None => Ok(true),
                // Choice (docs/rules.md §2): the 3-year window is tested on the as-of date.
                Some(years) => match input.registered_on {
                    None => Err(LevyError::MissingRegistrationDate { years }),
                    Some(reg) => Ok(add_years(reg, years).is_some_and(|end| policy.as_of <= end)),
                },
            }
        }
    }
}

/// The reward figures (docs/rules.md §7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RewardFigures {
    pub(crate) amount: Decimal,
    pub(crate) persons: Option<Twelfths>,
    pub(crate) minimum_wage: Option<Decimal>,
    /// Over-quota persons before whole-person rounding, after the severe-once rule.
    pub(crate) base_over: Twelfths,
    /// Why no reward, when over quota and none is paid.
    pub(crate) none_because: Option<Warning>,
}

fn reward(
    policy: &ResolvedPolicy,
    input: &LevyInput,
    required: Twelfths,
    over_quota: Twelfths,
    unweighted_months: u64,
    provisional: &mut bool,
    warnings: &mut Vec<Warning>,
) -> Result<RewardFigures, LevyError> {
    let mut out = RewardFigures {
        amount: Decimal::ZERO,
        persons: None,
        minimum_wage: None,
        base_over: over_quota,
        none_because: None,
    };
    if over_quota.is_zero() {
        return Ok(out);
    }
    // The rule only matters (and its provisional flag only counts) when over quota.
    *provisional |= policy.reward.provisional;
    let (kinds, persons_rule) = match &policy.reward.value {
        RewardRule::None { .. } => {
            out.none_because = Some(Warning::NoRewardRule);
            warnings.push(Warning::NoRewardRule);
            return Ok(out);
        }
        RewardRule::MinimumWageMultiple {
            eligible_kinds,
            persons,
            ..
        } => (eligible_kinds, *persons),
        RewardRule::FixedPerPerson {
            eligible_kinds,
            persons,
            ..
        } => (eligible_kinds, *persons),
    };
    if !kinds.is_empty() && !kinds.contains(&input.employer_kind) {
        out.none_because = Some(Warning::RewardNotEligible);
        warnings.push(Warning::RewardNotEligible);
        return Ok(out);
    }
    // Hainan: a severely disabled person counts once — over-quota on the unweighted D.
    if let RewardRule::MinimumWageMultiple {
        severe_counted_once: true,
        ..
    } = policy.reward.value
    {
        match input.disabled {
            Disabled::Roster(_) => {
                let d1 = Twelfths::from_twelfths(Decimal::from(unweighted_months));
                out.base_over = d1.saturating_sub(required);
            }
            Disabled::Certified(_) => warnings.push(Warning::SevereOnceWithCertifiedCount),
        }
    }
    let persons = match persons_rule {
        RewardPersons::Fractional => out.base_over,
        RewardPersons::Whole => Twelfths::from_value(
            exact::mul_div_floor(&[out.base_over.twelfths()], TWELVE).ok_or(LevyError::Overflow)?,
        )
        .ok_or(LevyError::Overflow)?,
    };
    out.persons = Some(persons);
    if let RewardRule::MinimumWageMultiple {
        min_excess: Some(min),
        ..
    } = &policy.reward.value
    {
        if persons.twelfths() < *min * TWELVE {
            out.none_because = Some(Warning::RewardBelowMinimumExcess);
            warnings.push(Warning::RewardBelowMinimumExcess);
            return Ok(out);
        }
    }
    if persons.is_zero() {
        return Ok(out);
    }
    out.amount = match &policy.reward.value {
        RewardRule::MinimumWageMultiple { multiple, .. } => {
            // §7: the minimum wage in force on the last day of the data year. Choice: a
            // missing one is an error (docs/rules.md §3: never a silent zero) — but only when a
            // reward is actually due, so that the levy itself is never blocked by it.
            let mw = match (
                input.overrides.minimum_wage_monthly,
                policy.minimum_wage_year_end(),
            ) {
                (Some(v), _) => v,
                (None, Some(c)) => {
                    *provisional |= c.provisional;
                    c.value
                }
                (None, None) => {
                    return Err(LevyError::MissingParameter {
                        region: policy.region,
                        data_year: policy.data_year,
                        parameter: "minimum_wage_monthly",
                    })
                }
            };
            out.minimum_wage = Some(mw);
            exact::mul_div_round(&[persons.twelfths(), *multiple, mw], TWELVE, 2)
                .ok_or(LevyError::Overflow)?
        }
        RewardRule::FixedPerPerson { amount, cap, .. } => {
            let r = exact::mul_div_round(&[persons.twelfths(), *amount], TWELVE, 2)
                .ok_or(LevyError::Overflow)?;
            cap.map_or(r, |c| r.min(c))
        }
        RewardRule::None { .. } => Decimal::ZERO,
    };
    Ok(out)
}
