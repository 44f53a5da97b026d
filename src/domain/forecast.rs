//! The in-year forecast (docs/forecast.md): from the months of the current year entered
//! so far, the year carried forward to December, and what it takes to reach a line —
//! found by running the levy engine itself, never by a formula of its own.
//!
//! Pure: the carried-forward year comes in as a [`LevyInput`] (built by the registry
//! from the months entered), the law as a [`ResolvedPolicy`].

use rust_decimal::Decimal;

use super::ids::VeteranCertificate;
use super::levy::{
    calculate, Certificate, Disabled, DisabledEmployee, Employment, ExplainMode, LevyError,
    LevyInput, LevyResult, MonthSet, Staff, VeteranGrade,
};
use super::policy::ResolvedPolicy;

/// The employment ratio of the lower reduction tier where no tier is in force (财政部公告
/// 2019年第98号: 1 %); while tiers are in force their own threshold is used.
const ONE_PERCENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Most extra employees the search tries (the calculator's roster bound).
pub const MAX_HIRES: u32 = 100_000;

/// A line the projection is measured against (docs/forecast.md, "Lines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Line {
    /// The employment ratio of the lower reduction tier (1 %): at or above it only half
    /// the fee is payable (财政部公告2019年第98号).
    OnePercent,
    /// The full quota ratio: no shortfall, nothing payable (残疾人就业保障金征收使用管理办法,
    /// 财税〔2015〕72号).
    FullRatio,
}

impl Line {
    /// Both lines, lower first.
    pub const ALL: [Line; 2] = [Line::OnePercent, Line::FullRatio];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Line::OnePercent => "one_percent",
            Line::FullRatio => "full_ratio",
        }
    }

    /// The warning point of falling below the line (the `[forecast] warn_on` names).
    pub fn warning_point(self) -> &'static str {
        match self {
            Line::OnePercent => "below_one_percent",
            Line::FullRatio => "below_full_ratio",
        }
    }

    /// The line of a warning point name.
    pub fn of_warning_point(s: &str) -> Option<Line> {
        Self::ALL.into_iter().find(|l| l.warning_point() == s)
    }
}

/// Whether a result reaches `line`. No staff: nothing is required, both are reached.
pub fn reaches(policy: &ResolvedPolicy, r: &LevyResult, line: Line) -> bool {
    if r.staff.is_zero() {
        return true;
    }
    match line {
        Line::FullRatio => r.shortfall.is_zero(),
        Line::OnePercent => {
            let threshold = policy
                .reduction_tiers
                .as_ref()
                .map_or(ONE_PERCENT, |t| t.value.threshold);
            // Exactly, as the engine tests its tiers: D × 12 ≥ threshold × N × 12.
            threshold
                .checked_mul(r.staff.twelfths())
                .is_some_and(|bar| r.disabled.twelfths() >= bar)
        }
    }
}

/// What it takes to reach a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HireAdvice {
    /// The projection reaches it already.
    Reached,
    /// One more full-time disabled employee, employed on the last day of `by_month` and
    /// every month after it to December, reaches it; from the month after, not.
    OneBy {
        /// The latest month (1–12) to hire by.
        by_month: u8,
    },
    /// One is not enough even from the first month still to come: `count` employees
    /// from `from_month` reach it, `count − 1` do not.
    Several {
        /// How many.
        count: u32,
        /// The first month still to come.
        from_month: u8,
    },
    /// December is entered: no month is left to hire in.
    NoMonthsLeft,
    /// Not reached with [`MAX_HIRES`] employees from the first month still to come.
    OutOfReach {
        /// The first month still to come.
        from_month: u8,
    },
}

/// `input` with `count` more full-time disabled employees from `from_month` (1–12) to
/// December: each is in-service staff too (one more on every month-end headcount from
/// `from_month`), weight 1, meeting every condition of docs/rules.md §4.2. Refused for a
/// certified count or an average headcount (a forecast has neither).
pub fn with_hires(input: &LevyInput, count: u32, from_month: u8) -> Result<LevyInput, LevyError> {
    let not_monthly = LevyError::InvalidInput {
        field: "monthly_headcount",
        reason: "a forecast needs monthly headcounts and a roster",
    };
    let mut out = input.clone();
    let Staff::Monthly(mut h) = input.staff else {
        return Err(not_monthly);
    };
    let Disabled::Roster(mut roster) = input.disabled.clone() else {
        return Err(not_monthly);
    };
    let months: Vec<u8> = (from_month.max(1)..=12).collect();
    let set = MonthSet::from_months(&months).ok_or(LevyError::Overflow)?;
    for m in set.iter() {
        let slot = &mut h[usize::from(m) - 1];
        *slot = slot.checked_add(count).ok_or(LevyError::Overflow)?;
    }
    let grade = VeteranGrade::new(4).ok_or(LevyError::Overflow)?;
    roster.reserve(count as usize);
    for i in 0..count {
        // A stand-in certificate of weight 1 (a 残疾军人证 of grade 4), never shown: the
        // number only keeps the roster free of duplicates.
        let number = VeteranCertificate::parse(&format!("FORECAST-HIRE-{i}"))
            .map_err(|_| LevyError::Overflow)?;
        roster.push(DisabledEmployee {
            certificate: Certificate::Veteran { number, grade },
            employment: Employment::Months(set),
            on_establishment: true,
            contract_months: None,
            social_insurance_paid: true,
            monthly_wage: None,
            fresh_graduate: false,
            disputed: MonthSet::EMPTY,
            counted_elsewhere: MonthSet::EMPTY,
            retirement_track: None,
            dispatch: None,
        });
    }
    out.staff = Staff::Monthly(h);
    out.disabled = Disabled::Roster(roster);
    Ok(out)
}

fn reached_with(
    policy: &ResolvedPolicy,
    input: &LevyInput,
    count: u32,
    from_month: u8,
    line: Line,
) -> Result<bool, LevyError> {
    let r = calculate(
        policy,
        &with_hires(input, count, from_month)?,
        ExplainMode::FiguresOnly,
    )?;
    Ok(reaches(policy, &r, line))
}

/// What it takes for the carried-forward year `input` (whose projection is `projected`)
/// to reach `line`, with `months_entered` months entered so far: the latest month by
/// which one more full-time disabled employee reaches it, or how many are needed from
/// the next month. Every answer is a calculation of the engine.
pub fn hire_advice(
    policy: &ResolvedPolicy,
    input: &LevyInput,
    projected: &LevyResult,
    months_entered: u8,
    line: Line,
) -> Result<HireAdvice, LevyError> {
    if reaches(policy, projected, line) {
        return Ok(HireAdvice::Reached);
    }
    if months_entered >= 12 {
        return Ok(HireAdvice::NoMonthsLeft);
    }
    let first = months_entered + 1;
    // A later hire counts fewer months, so the latest month that still reaches is
    // found from December backwards.
    for m in (first..=12).rev() {
        if reached_with(policy, input, 1, m, line)? {
            return Ok(HireAdvice::OneBy { by_month: m });
        }
    }
    // Several from the first month to come: double until reached, then bisect.
    let (mut low, mut high) = (1_u32, 2_u32);
    loop {
        if reached_with(policy, input, high, first, line)? {
            break;
        }
        if high >= MAX_HIRES {
            return Ok(HireAdvice::OutOfReach { from_month: first });
        }
        low = high;
        high = (high * 2).min(MAX_HIRES);
    }
    // Invariant: `low` does not reach, `high` does.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if reached_with(policy, input, mid, first, line)? {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(HireAdvice::Several {
        count: high,
        from_month: first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::levy::fixtures;
    use crate::domain::levy::Wages;
    use crate::domain::region::EmployerKind;

    fn year_of(h: u32) -> LevyInput {
        LevyInput {
            employer_kind: EmployerKind::PublicInstitution,
            registered_on: None,
            staff: Staff::Monthly([h; 12]),
            wages: Some(Wages::Average(Decimal::from(50_000))),
            disabled: Disabled::Roster(vec![]),
            // The fixture has no social average wage; the cap needs one.
            overrides: crate::domain::levy::Overrides {
                social_average_wage: Some(Decimal::from(100_000)),
                ..Default::default()
            },
        }
    }

    fn advice(h: u32, entered: u8, line: Line) -> HireAdvice {
        let policy = fixtures::national_2025();
        let input = year_of(h);
        let projected = calculate(&policy, &input, ExplainMode::FiguresOnly).unwrap();
        hire_advice(&policy, &input, &projected, entered, line).unwrap()
    }

    #[test]
    fn one_hire_by_the_latest_month_that_reaches_the_line() {
        // N 50, national 1.5 %. One hire counting x twelfths of a person also adds x to
        // N: 1 % needs x ≥ 0.01 × (50 + x), i.e. 7 months (June); the full ratio needs
        // x ≥ 0.015 × (50 + x), i.e. 10 months (March).
        assert_eq!(
            advice(50, 2, Line::OnePercent),
            HireAdvice::OneBy { by_month: 6 }
        );
        assert_eq!(
            advice(50, 2, Line::FullRatio),
            HireAdvice::OneBy { by_month: 3 }
        );
        // With March already entered, March is gone: one is no longer enough.
        assert_eq!(
            advice(50, 3, Line::FullRatio),
            HireAdvice::Several {
                count: 2,
                from_month: 4
            }
        );
        assert_eq!(advice(50, 12, Line::FullRatio), HireAdvice::NoMonthsLeft);
    }

    #[test]
    fn several_hires_are_the_fewest_that_reach_the_line() {
        // N 1000 from May (8 months to come): k hires count 8k/12; the full ratio needs
        // 8k/12 ≥ 0.015 × (1000 + 8k/12), i.e. k ≥ 22.84: 23.
        assert_eq!(
            advice(1000, 4, Line::FullRatio),
            HireAdvice::Several {
                count: 23,
                from_month: 5
            }
        );
    }

    #[test]
    fn with_hires_adds_staff_and_people_from_the_month() {
        let out = with_hires(&year_of(10), 2, 11).unwrap();
        let Staff::Monthly(h) = out.staff else {
            panic!("monthly")
        };
        assert_eq!(h, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 12, 12]);
        let Disabled::Roster(r) = out.disabled else {
            panic!("roster")
        };
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].certificate.weight(), 1);
    }
}
