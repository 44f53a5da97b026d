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
pub mod working_age;
// The output types and the calculation are their own files; their items are
// re-exported below so that callers name `levy::X` as before.
mod calculate;
mod result;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
pub(crate) mod tests;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::ids::{DisabilityCertificate, UnifiedSocialCreditCode, VeteranCertificate};
use super::policy::RetirementTrack;
use super::region::EmployerKind;
// The tests (`use super::*`) were written against this module's imports when the
// calculation lived here.
#[cfg(test)]
use super::lang::Language;
#[cfg(test)]
use super::policy::{ResolvedPolicy, RewardPersons, RewardRule};

pub(crate) use calculate::RewardFigures;
pub use calculate::{add_years, calculate};
pub use employees::{
    duplicate_certificates, exclusion_detail, months_in_period, EmployeeOutcome, Exclusions,
};
pub use exact::{parse_exact, Twelfths};
pub use explain::{ExplainMode, Explanation, Step};
pub use result::*;
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
    /// A woman's retirement track (docs/rules.md §4.3), which the certificate number
    /// cannot tell; `None` uses the region's default track.
    pub retirement_track: Option<RetirementTrack>,
    /// A dispatched worker (劳务派遣) and the agreement on who counts them
    /// (docs/rules.md §4.4).
    pub dispatch: Option<Dispatch>,
}

/// Which side of a labour dispatch (劳务派遣) an employer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DispatchRole {
    /// The host (用工单位) the person works at.
    Host,
    /// The dispatching agency (派遣单位) that employs the person.
    Agency,
}

impl DispatchRole {
    /// The API spelling: `host` or `agency`.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchRole::Host => "host",
            DispatchRole::Agency => "agency",
        }
    }
}

/// A dispatched disabled worker and the agreement between agency and host on which of
/// them counts the person, in its disabled count and its staff count, never both
/// (财税〔2015〕72号 第八条; 财政部公告2019年第98号 第二条; 发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”;
/// docs/rules.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispatch {
    /// The declaring employer's side.
    pub role: DispatchRole,
    /// The side the agreement names to count the person.
    pub counted_by: DispatchRole,
    /// The other employer of the agreement (the agency for a host, the host for an
    /// agency).
    pub partner: UnifiedSocialCreditCode,
}

impl Dispatch {
    /// True when the declaring employer counts the person.
    pub fn counted_here(&self) -> bool {
        self.role == self.counted_by
    }
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
