//! Counting disabled employees (docs/rules.md §4.2; 财税〔2015〕72号): which months of the
//! data year count, for whom, with which weight, and why a month does not count.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::num::Num;
use super::{Certificate, DisabledEmployee, Employment, MonthSet, Warning};
use crate::domain::lang::Language;
use crate::domain::policy::{Cited, ResolvedPolicy};

/// The conditions of docs/rules.md §4.2 that a person failed, as a small bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Exclusions(u8);

impl Exclusions {
    /// Condition 2: neither on the establishment nor a contract of at least 12 months.
    pub const SHORT_CONTRACT: Exclusions = Exclusions(1);
    /// Condition 3: monthly wage below the minimum wage in force (some or all months).
    pub const BELOW_MINIMUM_WAGE: Exclusions = Exclusions(2);
    /// Condition 4: social insurance not paid in full.
    pub const NO_SOCIAL_INSURANCE: Exclusions = Exclusions(4);
    /// The certificate is also declared by another employer for these months
    /// (docs/rules.md §4.2: counted by neither until resolved).
    pub const DUPLICATE_CERTIFICATE: Exclusions = Exclusions(8);
    /// The federation decided that another employer counts the person in these months.
    pub const COUNTED_ELSEWHERE: Exclusions = Exclusions(16);
    /// Outside the working age on the month's last day (docs/rules.md §4.3).
    pub const OUTSIDE_WORKING_AGE: Exclusions = Exclusions(32);
    /// A dispatched worker whom the dispatch agreement assigns to the other employer
    /// (docs/rules.md §4.4).
    pub const DISPATCH_COUNTED_BY_PARTNER: Exclusions = Exclusions(64);

    /// True when no condition failed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when `other`'s conditions are all in `self`.
    pub fn contains(self, other: Exclusions) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    fn add(&mut self, other: Exclusions) {
        self.0 |= other.0;
    }

    /// Stable codes of the failed conditions, in condition order: `short_contract`,
    /// `below_minimum_wage`, `no_social_insurance`, then `duplicate_certificate` and
    /// `counted_elsewhere`, `outside_working_age` and `dispatch_counted_by_partner`.
    pub fn codes(self) -> impl Iterator<Item = &'static str> {
        [
            (Self::SHORT_CONTRACT, "short_contract"),
            (Self::BELOW_MINIMUM_WAGE, "below_minimum_wage"),
            (Self::NO_SOCIAL_INSURANCE, "no_social_insurance"),
            (Self::DUPLICATE_CERTIFICATE, "duplicate_certificate"),
            (Self::COUNTED_ELSEWHERE, "counted_elsewhere"),
            (Self::OUTSIDE_WORKING_AGE, "outside_working_age"),
            (
                Self::DISPATCH_COUNTED_BY_PARTNER,
                "dispatch_counted_by_partner",
            ),
        ]
        .into_iter()
        .filter(move |(e, _)| self.contains(*e))
        .map(|(_, c)| c)
    }
}

/// How one disabled employee was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeeOutcome {
    /// Roster index (0-based, as in the JSON pointer).
    pub index: usize,
    /// The grade that counts.
    pub grade: u8,
    /// 1 or 2 (docs/rules.md §4.2).
    pub weight: u8,
    /// Months employed on their last day.
    pub employed: MonthSet,
    /// Months passing every condition.
    pub counted: MonthSet,
    /// Months employed but not counted because a condition failed.
    pub excluded: MonthSet,
    /// Months whose wage is below the minimum wage.
    pub below_minimum_wage: MonthSet,
    /// Months for which no minimum wage is known (wage condition not checked).
    pub minimum_wage_unknown: MonthSet,
    /// Conditions that failed.
    pub exclusions: Exclusions,
    /// Months counted: `counted.len()`, or 12 under the fresh-graduate rule.
    pub counted_months: u8,
    /// True when the fresh-graduate full-year rule raised the count to 12.
    pub fresh_graduate_applied: bool,
    /// The working-age limits that excluded months (docs/rules.md §4.3), if any.
    pub age_limit: Option<super::working_age::AgeLimit>,
}

impl EmployeeOutcome {
    /// `weight × counted_months`, the person's contribution to `D × 12`.
    pub fn weighted_months(&self) -> u32 {
        u32::from(self.weight) * u32::from(self.counted_months)
    }

    /// The failed conditions' codes joined by commas (`None` when none failed).
    pub fn excluded_reason(&self) -> Option<String> {
        if self.exclusions.is_empty() {
            return None;
        }
        Some(self.exclusions.codes().collect::<Vec<_>>().join(","))
    }
}

/// The monthly minimum wage for each month: the override for all months, else the
/// policy's figure in force on the month's last day.
pub(crate) struct MinimumWages<'a> {
    over: Option<Decimal>,
    by_month: &'a [Option<Cited<Decimal>>; 12],
    /// Each month's figure in whole fen, when it is one: wage comparisons are then integer
    /// comparisons (decimal comparisons dominated the figures-only path).
    fen: [Option<i64>; 12],
    /// The figure in fen when every month has the same one (the usual case), so that a
    /// person's wage is compared once rather than month by month.
    uniform: Option<i64>,
    /// Months whose figure is provisional.
    provisional: MonthSet,
}

/// An amount in whole fen, when it has at most two decimals and fits.
fn whole_fen(d: Decimal) -> Option<i64> {
    let scale = d.scale();
    if scale > 2 {
        return None;
    }
    let m = d.mantissa().checked_mul(if scale == 2 {
        1
    } else if scale == 1 {
        10
    } else {
        100
    })?;
    i64::try_from(m).ok()
}

impl<'a> MinimumWages<'a> {
    pub(crate) fn new(policy: &'a ResolvedPolicy, over: Option<Decimal>) -> Self {
        let by_month = &policy.minimum_wage_by_month;
        let fen: [Option<i64>; 12] = std::array::from_fn(|i| match over {
            Some(v) => whole_fen(v),
            None => by_month[i].as_ref().and_then(|c| whole_fen(c.value)),
        });
        let uniform = match fen {
            [Some(first), ref rest @ ..] if rest.iter().all(|f| *f == Some(first)) => Some(first),
            _ => None,
        };
        let mut provisional = MonthSet::EMPTY;
        if over.is_none() {
            for (i, c) in by_month.iter().enumerate() {
                if c.as_ref().is_some_and(|c| c.provisional) {
                    provisional.insert(i as u8 + 1);
                }
            }
        }
        MinimumWages {
            over,
            by_month,
            fen,
            uniform,
            provisional,
        }
    }

    /// The figure for month `m` (1–12) and its citation (none for an override).
    pub(crate) fn get(&self, m: u8) -> Option<(Decimal, Option<&'a Cited<Decimal>>)> {
        if let Some(v) = self.over {
            return Some((v, None));
        }
        self.by_month
            .get(usize::from(m).wrapping_sub(1))
            .and_then(Option::as_ref)
            .map(|c| (c.value, Some(c)))
    }

    /// Is `wage` below the figure of month `m`? `None` when no figure is known.
    fn below(
        &self,
        m: u8,
        wage: Decimal,
        wage_fen: Option<i64>,
    ) -> Option<(bool, Option<&'a Cited<Decimal>>)> {
        let i = usize::from(m).wrapping_sub(1);
        let cited = if self.over.is_some() {
            None
        } else {
            self.by_month.get(i)?.as_ref()
        };
        match (wage_fen, self.fen.get(i).copied().flatten()) {
            (Some(w), Some(min)) => Some((w < min, cited)),
            _ => self.get(m).map(|(min, c)| (wage < min, c)),
        }
    }
}

/// Last day of month `m` of `year`.
fn last_day(year: i32, m: u32) -> Option<NaiveDate> {
    if m == 12 {
        NaiveDate::from_ymd_opt(year, 12, 31)
    } else {
        NaiveDate::from_ymd_opt(year, m + 1, 1).and_then(|d| d.pred_opt())
    }
}

/// Months of `year` on whose last day the period `from ..= to` includes (docs/rules.md
/// §4.2: a month counts when employed on its last day).
pub fn months_in_period(year: i32, from: NaiveDate, to: Option<NaiveDate>) -> MonthSet {
    let mut set = MonthSet::EMPTY;
    for m in 1..=12u8 {
        if let Some(d) = last_day(year, u32::from(m)) {
            if from <= d && to.is_none_or(|t| d <= t) {
                set.insert(m);
            }
        }
    }
    set
}

/// Counts one employee under the conditions of docs/rules.md §4.2.
pub(crate) fn count(
    index: usize,
    e: &DisabledEmployee,
    policy: &ResolvedPolicy,
    min_wages: &MinimumWages<'_>,
    provisional: &mut bool,
    warnings: &mut Vec<Warning>,
) -> EmployeeOutcome {
    let employed = match e.employment {
        Employment::Months(s) => s,
        Employment::Period { from, to } => months_in_period(policy.data_year, from, to),
    };
    let mut exclusions = Exclusions::default();
    let mut excluded = MonthSet::EMPTY;
    // Condition 2: on the establishment, or a contract / service agreement of ≥ 12 months.
    // Choice: neither declared counts as not met (reason `short_contract`), not as unknown.
    if !(e.on_establishment || e.contract_months.is_some_and(|m| m >= 12)) {
        exclusions.add(Exclusions::SHORT_CONTRACT);
        excluded = employed;
    }
    // Condition 4: social insurance paid in full. Also a labour violation (§8).
    if !e.social_insurance_paid {
        exclusions.add(Exclusions::NO_SOCIAL_INSURANCE);
        excluded = employed;
        warnings.push(Warning::NoSocialInsurance { employee: index });
    }
    // Condition 3: wage ≥ the minimum wage in force on each month's last day. Choice: a
    // month with no known minimum wage is not excluded; a warning says it was not checked.
    let mut below = MonthSet::EMPTY;
    let mut unknown = MonthSet::EMPTY;
    if let Some(w) = e.monthly_wage {
        let wage_fen = whole_fen(w);
        if let (Some(wf), Some(min)) = (wage_fen, min_wages.uniform) {
            // Same minimum wage all year: one comparison.
            *provisional |= !employed.and(min_wages.provisional).is_empty();
            if wf < min {
                below = employed;
            }
        } else {
            for m in employed.iter() {
                match min_wages.below(m, w, wage_fen) {
                    Some((is_below, cited)) => {
                        *provisional |= cited.is_some_and(|c| c.provisional);
                        if is_below {
                            below.insert(m);
                        }
                    }
                    None => unknown.insert(m),
                }
            }
        }
        if !below.is_empty() {
            exclusions.add(Exclusions::BELOW_MINIMUM_WAGE);
            excluded = MonthSet(excluded.0 | below.0);
            warnings.push(Warning::BelowMinimumWage {
                employee: index,
                months: below,
            });
        }
        if !unknown.is_empty() {
            warnings.push(Warning::MinimumWageUnknown {
                employee: index,
                months: unknown,
            });
        }
    }
    // A certificate another employer also declares counts for neither in the common
    // months until the federation names the one that counts it (docs/rules.md §4.2).
    let disputed = MonthSet(employed.0 & e.disputed.0);
    if !disputed.is_empty() {
        exclusions.add(Exclusions::DUPLICATE_CERTIFICATE);
        excluded = MonthSet(excluded.0 | disputed.0);
    }
    let elsewhere = MonthSet(employed.0 & e.counted_elsewhere.0);
    if !elsewhere.is_empty() {
        exclusions.add(Exclusions::COUNTED_ELSEWHERE);
        excluded = MonthSet(excluded.0 | elsewhere.0);
    }
    // docs/rules.md §4.3: where the region counts employees of working age only.
    let mut age_limit = None;
    if let Some(rule) = policy.working_age.as_ref().filter(|r| r.required.value) {
        *provisional |= rule.required.provisional;
        let age = super::working_age::check(e, employed, rule, policy.data_year);
        if !age.outside.is_empty() {
            exclusions.add(Exclusions::OUTSIDE_WORKING_AGE);
            excluded = MonthSet(excluded.0 | age.outside.0);
            *provisional |= rule.ages_by_month.iter().flatten().any(|a| a.provisional);
        }
        if let (Some(track), Certificate::Disability(certificate)) =
            (age.track_assumed, &e.certificate)
        {
            *provisional |= rule.default_track.provisional;
            warnings.push(Warning::RetirementTrackAssumed {
                employee: index,
                certificate: *certificate,
                track,
            });
        }
        if age.unknown {
            warnings.push(Warning::WorkingAgeUnknown { employee: index });
        }
        age_limit = age.limit;
    }
    // docs/rules.md §4.4: a dispatched worker the agreement assigns to the other side.
    if e.dispatch.is_some_and(|d| !d.counted_here()) && !employed.is_empty() {
        exclusions.add(Exclusions::DISPATCH_COUNTED_BY_PARTNER);
        excluded = employed;
    }
    let counted = employed.minus(excluded);
    let mut counted_months = counted.len();
    let mut fresh_graduate_applied = false;
    // Henan implementing rules: a disabled fresh college graduate hired in the data year
    // and counted for more than 6 months (strictly) counts 12. Choice: not while the
    // person's certificate is disputed, or the full year would count a disputed month.
    if e.fresh_graduate
        && policy.fresh_graduate_full_year.value
        && disputed.is_empty()
        && elsewhere.is_empty()
        && age_limit.is_none()
    {
        *provisional |= policy.fresh_graduate_full_year.provisional;
        // Choice: with a month list the hire date is unknown, so the flag is taken as the
        // declaration that the graduate was hired in the data year.
        let hired_in_data_year = match e.employment {
            Employment::Period { from, .. } => from.year() == policy.data_year,
            Employment::Months(_) => true,
        };
        if !hired_in_data_year {
            warnings.push(Warning::FreshGraduateNotHiredInDataYear { employee: index });
        } else if counted_months > 6 {
            counted_months = 12;
            fresh_graduate_applied = true;
        }
    }
    EmployeeOutcome {
        index,
        grade: e.certificate.grade(),
        weight: e.certificate.weight(),
        employed,
        counted,
        excluded,
        below_minimum_wage: below,
        minimum_wage_unknown: unknown,
        exclusions,
        counted_months,
        fresh_graduate_applied,
        age_limit,
    }
}

/// The comparison key of a certificate. Choice: the holder's ID number for a 残疾人证 (one
/// person holds one certificate, whatever its re-issue suffix), the number for a veteran.
fn key(c: &Certificate) -> Key<'_> {
    match c {
        Certificate::Disability(d) => Key::Holder(d.holder_bytes()),
        Certificate::Veteran { number, .. } => Key::Veteran(number.expose()),
    }
}

/// What makes two roster entries the same certificate.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Holder(&'a [u8; 18]),
    Veteran(&'a str),
}

/// Pairs `(later, first)` of roster indices holding the same certificate (docs/rules.md
/// §4.2: "the same certificate twice in one roster is an error"), ordered by `later`.
pub fn duplicate_certificates(roster: &[DisabledEmployee]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if roster.len() <= 32 {
        // Small rosters: pairwise, without allocating unless a duplicate is found.
        for i in 1..roster.len() {
            let k = key(&roster[i].certificate);
            if let Some(j) = (0..i).find(|&j| key(&roster[j].certificate) == k) {
                out.push((i, j));
            }
        }
    } else {
        let mut keys: Vec<(Key<'_>, usize)> = roster
            .iter()
            .enumerate()
            .map(|(i, e)| (key(&e.certificate), i))
            .collect();
        keys.sort_unstable();
        for group in keys.chunk_by(|a, b| a.0 == b.0) {
            let first = group[0].1;
            out.extend(group[1..].iter().map(|&(_, i)| (i, first)));
        }
        out.sort_unstable();
    }
    out
}

/// A human sentence on why (some) months of an employee were not counted, or `None`
/// when every condition held.
pub fn exclusion_detail(
    o: &EmployeeOutcome,
    e: &DisabledEmployee,
    policy: &ResolvedPolicy,
    minimum_wage_override: Option<Decimal>,
    lang: Language,
) -> Option<String> {
    if o.exclusions.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(160);
    write_exclusion_detail(
        &mut out,
        o,
        e,
        &MinimumWages::new(policy, minimum_wage_override),
        lang,
    );
    Some(out)
}

/// [`exclusion_detail`], appended to `out` (the explanation writes it in place).
pub(crate) fn write_exclusion_detail(
    out: &mut String,
    o: &EmployeeOutcome,
    e: &DisabledEmployee,
    mw: &MinimumWages<'_>,
    lang: Language,
) {
    let zh = lang == Language::Zh;
    let sep = lang.pick("；", "; ");
    let mut first = true;
    let mut next = |out: &mut String| {
        if !first {
            out.push_str(sep);
        }
        first = false;
    };
    if o.exclusions.contains(Exclusions::SHORT_CONTRACT) {
        next(out);
        match e.contract_months {
            Some(m) => {
                out.push_str(lang.pick(
                    "非在编人员，劳动合同（服务协议）期限 ",
                    "not on the establishment and the contract or service agreement is ",
                ));
                out.push_str(Num::uint(u64::from(m)).as_str());
                out.push_str(lang.pick(" 个月，不满 12 个月", " months, under 12"));
            }
            None => out.push_str(lang.pick(
                "非在编人员，且未申报 12 个月以上的劳动合同（服务协议）",
                "not on the establishment and no contract or service agreement of 12 months or more was declared",
            )),
        }
    }
    if o.exclusions.contains(Exclusions::BELOW_MINIMUM_WAGE) {
        next(out);
        let wage = e.monthly_wage.map(Num::yuan);
        out.push_str(lang.pick("月工资 ", "monthly wage "));
        out.push_str(wage.as_ref().map_or("", Num::as_str));
        out.push_str(lang.pick(
            " 元低于当地最低工资标准：",
            " yuan is below the local minimum wage in ",
        ));
        // Runs of consecutive months under the same minimum wage: "1–11 月（2,100.00 元）".
        let mut runs = 0;
        let mut month = 1u8;
        while month <= 12 {
            if !o.below_minimum_wage.contains(month) {
                month += 1;
                continue;
            }
            let v = mw.get(month).map(|(v, _)| v);
            let mut last = month;
            while last < 12
                && o.below_minimum_wage.contains(last + 1)
                && mw.get(last + 1).map(|(v, _)| v) == v
            {
                last += 1;
            }
            if runs > 0 {
                out.push_str(lang.pick("、", ", "));
            }
            runs += 1;
            let v = v.map(Num::yuan);
            let v = v.as_ref().map_or("", Num::as_str);
            let (a, b) = (Num::uint(u64::from(month)), Num::uint(u64::from(last)));
            if !zh {
                out.push_str(if last > month { "months " } else { "month " });
            }
            out.push_str(a.as_str());
            if last > month {
                out.push('–');
                out.push_str(b.as_str());
            }
            out.push_str(lang.pick(" 月（", " ("));
            out.push_str(v);
            out.push_str(lang.pick(" 元）", " yuan)"));
            month = last + 1;
        }
    }
    if o.exclusions.contains(Exclusions::NO_SOCIAL_INSURANCE) {
        next(out);
        out.push_str(lang.pick("未足额缴纳社会保险", "social insurance not paid in full"));
    }
    if o.exclusions.contains(Exclusions::DUPLICATE_CERTIFICATE) {
        next(out);
        out.push_str(lang.pick(
            "同一残疾人证同期由另一用人单位申报，待残联认定前双方均不计入",
            "the same certificate is declared by another employer for the same months; neither counts it until the disabled persons' federation decides",
        ));
    }
    if o.exclusions.contains(Exclusions::COUNTED_ELSEWHERE) {
        next(out);
        out.push_str(lang.pick(
            "同一残疾人证同期由另一用人单位申报，残联已认定由另一用人单位计入",
            "the same certificate is declared by another employer for the same months; the disabled persons' federation decided that the other employer counts the person",
        ));
    }
    if let (true, Some(l)) = (
        o.exclusions.contains(Exclusions::OUTSIDE_WORKING_AGE),
        o.age_limit,
    ) {
        next(out);
        super::working_age::write_detail(out, &l, lang);
    }
    if o.exclusions
        .contains(Exclusions::DISPATCH_COUNTED_BY_PARTNER)
    {
        next(out);
        let side = e.dispatch.map(|d| d.counted_by);
        out.push_str(match side {
            Some(super::DispatchRole::Host) => lang.pick(
                "劳务派遣人员，派遣协议约定由用工单位计入（发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”）",
                "a dispatched worker whom the dispatch agreement assigns to the host (发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”)",
            ),
            _ => lang.pick(
                "劳务派遣人员，派遣协议约定由派遣单位计入（发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”）",
                "a dispatched worker whom the dispatch agreement assigns to the agency (发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”)",
            ),
        });
    }
    if zh {
        out.push('；');
        write_month_runs(out, o.excluded, lang);
        out.push_str("不计入");
    } else {
        out.push_str("; not counted in ");
        write_month_runs(out, o.excluded, lang);
    }
}

/// Months as a person writes them, in runs: "1–3、5 月" / "months 1–3, 5" ("month 5").
pub(crate) fn write_month_runs(out: &mut String, months: MonthSet, lang: Language) {
    let zh = lang == Language::Zh;
    if !zh {
        out.push_str(if months.len() == 1 {
            "month "
        } else {
            "months "
        });
    }
    let mut first = true;
    let mut m = 1u8;
    while m <= 12 {
        if !months.contains(m) {
            m += 1;
            continue;
        }
        let mut last = m;
        while last < 12 && months.contains(last + 1) {
            last += 1;
        }
        if !first {
            out.push_str(lang.pick("、", ", "));
        }
        first = false;
        out.push_str(Num::uint(u64::from(m)).as_str());
        if last > m {
            out.push('–');
            out.push_str(Num::uint(u64::from(last)).as_str());
        }
        m = last + 1;
    }
    if zh {
        out.push_str(" 月");
    }
}
