//! The calculation itself, stage by stage, with the exemption and the over-quota reward.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::money::round2;
use crate::domain::policy::{Cited, ExemptionRule, ResolvedPolicy, RewardPersons, RewardRule};
use crate::domain::region::EmployerKind;

use super::*;

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
    // §4.4 Dispatched disabled workers: the side the agreement names counts them in its
    // staff too. The declared wages stay those of the declared staff (W below).
    let declared_staff = staff;
    let staff = dispatch_staff(input, policy.data_year, staff, &mut warnings)?;
    if staff != declared_staff {
        if let Some(ex) = ex.as_mut() {
            ex.dispatch_staff(declared_staff, staff);
        }
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
            // Choice (docs/rules.md §4.4): the declared total wages are those of the
            // declared staff, so W divides by the declared N.
            Some(Wages::Total(t)) if !declared_staff.is_zero() => {
                exact::mul_div_round(&[t, TWELVE], declared_staff.twelfths(), 2)
                    .ok_or(LevyError::Overflow)?
            }
            Some(Wages::Total(_)) => {
                return Err(LevyError::InvalidInput {
                    field: "staff",
                    reason: "the declared staff is 0: give average_wage for the dispatched workers counted here",
                })
            }
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

/// The staff `N` after dispatch agreements (docs/rules.md §4.4; 财政部公告2019年第98号
/// 第三条): dispatched workers count at the agency unless the agreement names the host,
/// so a host line counted here adds the person's months employed, and an agency line
/// counted by the host removes them.
fn dispatch_staff(
    input: &LevyInput,
    data_year: i32,
    staff: Twelfths,
    warnings: &mut Vec<Warning>,
) -> Result<Twelfths, LevyError> {
    let Disabled::Roster(roster) = &input.disabled else {
        return Ok(staff);
    };
    let (mut added, mut removed) = (0u32, 0u32);
    for e in roster {
        let Some(d) = e.dispatch else { continue };
        if d.counted_by != DispatchRole::Host {
            continue;
        }
        let months = match e.employment {
            Employment::Months(s) => s,
            Employment::Period { from, to } => months_in_period(data_year, from, to),
        };
        match d.role {
            DispatchRole::Host => added += u32::from(months.len()),
            DispatchRole::Agency => removed += u32::from(months.len()),
        }
    }
    if added == 0 && removed == 0 {
        return Ok(staff);
    }
    let x12 = staff.twelfths() + Decimal::from(added) - Decimal::from(removed);
    if x12.is_sign_negative() {
        return Err(LevyError::InvalidInput {
            field: "disabled_employees",
            reason: "the dispatched workers counted by the host exceed the declared staff",
        });
    }
    warnings.push(Warning::DispatchStaffAdjusted {
        added_months: added,
        removed_months: removed,
    });
    Ok(Twelfths::from_twelfths(x12))
}
