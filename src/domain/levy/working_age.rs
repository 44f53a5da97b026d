//! The working-age condition (docs/rules.md §4.3): where a region counts disabled
//! employees of working age only (Henan, Shanghai), a month counts while, on its last
//! day, the holder is at least the lowest working age and has not reached the statutory
//! retirement age — read from the birth date and sex in the certificate number, with the
//! retirement ages of the gradual reform (全国人民代表大会常务委员会关于实施渐进式延迟法定
//! 退休年龄的决定, 2024-09-13) as dated policy values.

use chrono::{Months, NaiveDate};

use super::{Certificate, DisabledEmployee, MonthSet};
use crate::domain::ids::Sex;
use crate::domain::policy::{RetirementAges, RetirementTrack, WorkingAgeRule};

/// The age limit that excluded months of one employee, for the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeLimit {
    /// Months excluded because the holder was below the lowest working age.
    pub too_young: MonthSet,
    /// The day the holder reaches the lowest working age.
    pub working_age_from: Option<NaiveDate>,
    /// Months excluded because the holder had reached the retirement age.
    pub retired: MonthSet,
    /// The retirement age that applied, in months (e.g. 60 × 12 + 3).
    pub retirement_age_months: u32,
    /// The day the holder reaches it.
    pub retires_on: Option<NaiveDate>,
    /// The track used for a woman (given or assumed).
    pub track: Option<RetirementTrack>,
}

/// What the working-age check found for one employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AgeCheck {
    /// Months outside the working age (not counted).
    pub outside: MonthSet,
    /// The limits, when any month is outside.
    pub limit: Option<AgeLimit>,
    /// A woman's line without `retirement_track` whose count depends on it: the default
    /// track was used (a warning names the line).
    pub track_assumed: Option<RetirementTrack>,
    /// The number gives no birth date (a veteran's certificate): not checked.
    pub unknown: bool,
    /// Months with no retirement ages in the packs: not checked there.
    pub no_rule: MonthSet,
}

/// Last day of month `m` of `year`.
fn month_end(year: i32, m: u32) -> Option<NaiveDate> {
    match m {
        12 => NaiveDate::from_ymd_opt(year, 12, 31),
        _ => NaiveDate::from_ymd_opt(year, m + 1, 1).and_then(|d| d.pred_opt()),
    }
}

/// The retirement age in months of a holder born on `birth` of `sex` on `track` under
/// `ages` (docs/rules.md §4.3).
pub fn retirement_age_months(
    ages: &RetirementAges,
    birth: NaiveDate,
    sex: Sex,
    track: RetirementTrack,
) -> u32 {
    use chrono::Datelike;
    let schedule = match (sex, track) {
        (Sex::Male, _) => &ages.male,
        (Sex::Female, RetirementTrack::Worker) => &ages.female_worker,
        (Sex::Female, RetirementTrack::Cadre) => &ages.female_cadre,
    };
    schedule.age_months(birth.year(), birth.month())
}

/// The months of `employed` outside `track`'s working age, with the limits used.
fn outside_on(
    rule: &WorkingAgeRule,
    data_year: i32,
    employed: MonthSet,
    birth: NaiveDate,
    sex: Sex,
    track: RetirementTrack,
) -> (MonthSet, AgeLimit, MonthSet) {
    let mut limit = AgeLimit {
        too_young: MonthSet::EMPTY,
        working_age_from: None,
        retired: MonthSet::EMPTY,
        retirement_age_months: 0,
        retires_on: None,
        track: (sex == Sex::Female).then_some(track),
    };
    let mut no_rule = MonthSet::EMPTY;
    // The ages rarely differ between the months of a year: the anniversaries are worked
    // out once per age rather than once per month (they were most of a calculation's
    // time for a roster).
    let mut from_of: Option<(u32, Option<NaiveDate>)> = None;
    let mut retires_of: Option<(u32, Option<NaiveDate>)> = None;
    for m in employed.iter() {
        let (Some(day), Some(ages)) = (
            month_end(data_year, u32::from(m)),
            rule.ages_by_month[usize::from(m) - 1].as_ref(),
        ) else {
            no_rule.insert(m);
            continue;
        };
        let ages = &ages.value;
        // A person reaches an age on the anniversary (the last day of a shorter month
        // for one born on the 29th–31st): from that day the month no longer counts.
        let from = match from_of {
            Some((years, from)) if years == ages.minimum_age => from,
            _ => {
                let from = birth.checked_add_months(Months::new(ages.minimum_age * 12));
                from_of = Some((ages.minimum_age, from));
                from
            }
        };
        if from.is_none_or(|f| day < f) {
            limit.too_young.insert(m);
            limit.working_age_from = from;
        }
        let age = retirement_age_months(ages, birth, sex, track);
        let retires = match retires_of {
            Some((months, retires)) if months == age => retires,
            _ => {
                let retires = birth.checked_add_months(Months::new(age));
                retires_of = Some((age, retires));
                retires
            }
        };
        if retires.is_some_and(|r| day >= r) {
            limit.retired.insert(m);
            limit.retirement_age_months = age;
            limit.retires_on = retires;
        }
    }
    let outside = MonthSet(limit.too_young.0 | limit.retired.0);
    (outside, limit, no_rule)
}

/// Checks one employee's months against the working age (docs/rules.md §4.3).
pub(crate) fn check(
    e: &DisabledEmployee,
    employed: MonthSet,
    rule: &WorkingAgeRule,
    data_year: i32,
) -> AgeCheck {
    let Certificate::Disability(c) = &e.certificate else {
        // Choice: a 残疾军人证 number tells no birth date; the month is not excluded, and
        // a warning says the age was not checked.
        return AgeCheck {
            unknown: !employed.is_empty(),
            ..AgeCheck::default()
        };
    };
    let holder = c.holder();
    let Some(birth) = holder.birth_date() else {
        return AgeCheck {
            unknown: !employed.is_empty(),
            ..AgeCheck::default()
        };
    };
    let sex = holder.sex();
    let given = e.retirement_track;
    let track = given.unwrap_or(rule.default_track.value);
    let (outside, limit, no_rule) = outside_on(rule, data_year, employed, birth, sex, track);
    // The default track is named only where it changes what counts.
    let track_assumed = if sex == Sex::Female && given.is_none() {
        let other = match track {
            RetirementTrack::Worker => RetirementTrack::Cadre,
            RetirementTrack::Cadre => RetirementTrack::Worker,
        };
        let (alt, _, _) = outside_on(rule, data_year, employed, birth, sex, other);
        (alt != outside).then_some(track)
    } else {
        None
    };
    AgeCheck {
        outside,
        limit: (!outside.is_empty()).then_some(limit),
        track_assumed,
        unknown: false,
        no_rule,
    }
}

/// Appends why months fell outside the working age: "已达法定退休年龄 60 岁 3 个月
/// （2025-04-15）" / "reached the statutory retirement age of 60 years 3 months on
/// 2025-04-15".
pub(crate) fn write_detail(out: &mut String, l: &AgeLimit, lang: crate::domain::Language) {
    use std::fmt::Write;
    let zh = lang == crate::domain::Language::Zh;
    if !l.too_young.is_empty() {
        match (zh, l.working_age_from) {
            (true, Some(d)) => {
                let _ = write!(out, "未满 16 周岁（{d} 满 16 周岁），不在法定劳动年龄内");
            }
            (false, Some(d)) => {
                let _ = write!(
                    out,
                    "under the lowest working age of 16 (reached on {d}), not of working age"
                );
            }
            (true, None) => out.push_str("未满 16 周岁，不在法定劳动年龄内"),
            (false, None) => out.push_str("under the lowest working age of 16"),
        }
        if !l.retired.is_empty() {
            out.push_str(if zh { "；" } else { "; " });
        }
    }
    if !l.retired.is_empty() {
        let (y, m) = (l.retirement_age_months / 12, l.retirement_age_months % 12);
        let track = match (l.track, zh) {
            (Some(RetirementTrack::Worker), true) => "（女职工，原法定退休年龄 50 周岁）",
            (Some(RetirementTrack::Cadre), true) => {
                "（女职工，管理或专业技术岗位，原法定退休年龄 55 周岁）"
            }
            (Some(RetirementTrack::Worker), false) => " (a woman worker, originally 50)",
            (Some(RetirementTrack::Cadre), false) => {
                " (a woman in a management or professional post, originally 55)"
            }
            (None, _) => "",
        };
        let on = l.retires_on.map(|d| d.to_string()).unwrap_or_default();
        if zh {
            let _ = write!(out, "已达法定退休年龄{track} {y} 周岁");
            if m > 0 {
                let _ = write!(out, " {m} 个月");
            }
            let _ = write!(out, "（{on} 达到），不在法定劳动年龄内");
        } else {
            let _ = write!(
                out,
                "reached the statutory retirement age{track} of {y} years"
            );
            if m > 0 {
                let _ = write!(out, " {m} months");
            }
            let _ = write!(out, " on {on}, no longer of working age");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::policy::{RetirementAges, RetirementSchedule};

    fn reform() -> RetirementAges {
        let s = |years, from, every, max| RetirementSchedule {
            base_years: years,
            delay_from: Some(from),
            delay_every_months: every,
            max_delay_months: max,
        };
        RetirementAges {
            minimum_age: 16,
            male: s(60, (1965, 1), 4, 36),
            female_worker: s(50, (1975, 1), 2, 60),
            female_cadre: s(55, (1970, 1), 4, 36),
        }
    }

    #[test]
    fn a_month_ends_on_its_last_calendar_day() {
        use chrono::NaiveDate;
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(super::month_end(2024, 2), d(2024, 2, 29));
        assert_eq!(super::month_end(2025, 2), d(2025, 2, 28));
        assert_eq!(super::month_end(2025, 4), d(2025, 4, 30));
        assert_eq!(super::month_end(2025, 12), d(2025, 12, 31));
        assert_eq!(super::month_end(2025, 13), None);
    }

    /// Rows of the annex tables of 国务院关于渐进式延迟法定退休年龄的办法 (birth month →
    /// age in years and months), as docs/policy-data.md lists them.
    #[test]
    fn the_cohort_schedule_gives_the_annex_rows() {
        let a = reform();
        let ym = |m: u32| (m / 12, m % 12);
        // 附件1 男职工
        assert_eq!(ym(a.male.age_months(1964, 12)), (60, 0));
        assert_eq!(ym(a.male.age_months(1965, 1)), (60, 1));
        assert_eq!(ym(a.male.age_months(1965, 4)), (60, 1));
        assert_eq!(ym(a.male.age_months(1965, 5)), (60, 2));
        assert_eq!(ym(a.male.age_months(1966, 1)), (60, 4));
        assert_eq!(ym(a.male.age_months(1976, 8)), (62, 11));
        assert_eq!(ym(a.male.age_months(1976, 9)), (63, 0));
        assert_eq!(ym(a.male.age_months(1990, 1)), (63, 0));
        // 附件2 原法定退休年龄五十五周岁的女职工
        assert_eq!(ym(a.female_cadre.age_months(1969, 12)), (55, 0));
        assert_eq!(ym(a.female_cadre.age_months(1970, 6)), (55, 2));
        assert_eq!(ym(a.female_cadre.age_months(1970, 9)), (55, 3));
        assert_eq!(ym(a.female_cadre.age_months(1971, 6)), (55, 5));
        assert_eq!(ym(a.female_cadre.age_months(1981, 9)), (58, 0));
        // 附件3 原法定退休年龄五十周岁的女职工
        assert_eq!(ym(a.female_worker.age_months(1974, 12)), (50, 0));
        assert_eq!(ym(a.female_worker.age_months(1975, 1)), (50, 1));
        assert_eq!(ym(a.female_worker.age_months(1975, 2)), (50, 1));
        assert_eq!(ym(a.female_worker.age_months(1975, 6)), (50, 3));
        assert_eq!(ym(a.female_worker.age_months(1976, 6)), (50, 9));
        assert_eq!(ym(a.female_worker.age_months(1977, 1)), (51, 1));
        assert_eq!(ym(a.female_worker.age_months(1984, 10)), (54, 11));
        assert_eq!(ym(a.female_worker.age_months(1984, 11)), (55, 0));
        assert_eq!(ym(a.female_worker.age_months(1995, 3)), (55, 0));
    }
}
