//! What a calculation gives: the result with its figures, the warnings about the input,
//! and the errors that stop it.

use rust_decimal::Decimal;

use crate::domain::lang::Language;
use crate::domain::money::round2;
use crate::domain::policy::{ResolvedPolicy, RewardRule};
use crate::domain::region::RegionCode;

use super::*;

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
    /// A woman's line without `retirement_track` whose count depends on it: the region's
    /// default track was used (docs/rules.md §4.3). Names the line and the masked number.
    RetirementTrackAssumed {
        /// Roster index.
        employee: usize,
        /// The certificate, shown masked.
        certificate: crate::domain::ids::DisabilityCertificate,
        /// The track used.
        track: crate::domain::policy::RetirementTrack,
    },
    /// Working age is required but the certificate tells no birth date (a veteran's):
    /// the age was not checked (docs/rules.md §4.3).
    WorkingAgeUnknown {
        /// Roster index.
        employee: usize,
    },
    /// Dispatched workers counted at the host changed the staff count (docs/rules.md
    /// §4.4): months added by a host, months removed by an agency.
    DispatchStaffAdjusted {
        /// Person-months added to the declared staff (a host that counts them).
        added_months: u32,
        /// Person-months removed (an agency whose workers the host counts).
        removed_months: u32,
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
            Warning::RetirementTrackAssumed { .. } => "retirement_track_assumed",
            Warning::WorkingAgeUnknown { .. } => "working_age_unknown",
            Warning::DispatchStaffAdjusted { .. } => "dispatch_staff_adjusted",
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
            Warning::RetirementTrackAssumed {
                employee,
                certificate,
                track,
            } => {
                let masked = certificate.masked();
                let (zh_track, en_track) = match track {
                    crate::domain::policy::RetirementTrack::Worker => (
                        "女职工（原法定退休年龄 50 周岁）",
                        "a woman worker (originally 50)",
                    ),
                    crate::domain::policy::RetirementTrack::Cadre => (
                        "管理或专业技术岗位女职工（原法定退休年龄 55 周岁）",
                        "a woman in a management or professional post (originally 55)",
                    ),
                };
                if zh {
                    format!(
                        "/disabled_employees/{employee}（证号 {masked}）：未申报 retirement_track，按{zh_track}计算法定退休年龄，计入月数取决于此；如不符，请申报 retirement_track（\"worker\" 或 \"cadre\"）。"
                    )
                } else {
                    format!(
                        "/disabled_employees/{employee} (certificate {masked}): no retirement_track given; the retirement age of {en_track} was used, and the months counted depend on it; if that is wrong, give retirement_track (\"worker\" or \"cadre\")."
                    )
                }
            }
            Warning::WorkingAgeUnknown { employee } => {
                if zh {
                    format!("/disabled_employees/{employee}：残疾军人证号不含出生日期，未核对是否在法定劳动年龄内（未因此剔除）。")
                } else {
                    format!(
                        "/disabled_employees/{employee}: a disabled veteran's certificate number gives no birth date; working age was not checked (not excluded for it)."
                    )
                }
            }
            Warning::DispatchStaffAdjusted {
                added_months,
                removed_months,
            } => {
                if zh {
                    format!(
                        "劳务派遣残疾人按派遣协议计入用工单位：在职职工人数加 {added_months} 人月、减 {removed_months} 人月（除以 12 计入年平均人数；发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”）。"
                    )
                } else {
                    format!(
                        "Dispatched disabled workers counted at the host under the dispatch agreement: {added_months} person-months added to and {removed_months} removed from the staff count (divided by 12 into the average; 发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”)."
                    )
                }
            }
            Warning::FeeFromExactShortfall {
                shortfall,
                shown,
                wage_used,
            } => {
                let exact = shortfall.exact_string();
                let w = crate::domain::money::format_money(wage_used);
                let product = crate::domain::money::format_money(round2(shown * wage_used));
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
