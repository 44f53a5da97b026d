//! Policy types: the law as data. Every value carries its citation and a provisional
//! flag; `ResolvedPolicy` is what the region chain yields for one as-of date and data
//! year, and the only thing the calculation reads.
//!
//! The TOML packs and their loader live in `crate::policy`; this module only defines the
//! shapes, so that the engine stays free of file formats.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::region::{EmployerKind, RegionCode};

/// A policy value with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cited<T> {
    /// The value itself.
    pub value: T,
    /// The legal source, e.g. "财税〔2015〕72号" or "河南省人民政府令第127号".
    pub citation: String,
    /// True when the value is unconfirmed (secondary or recalled source, or an assumption).
    pub provisional: bool,
    /// The region whose pack supplied the value (`000000` for national).
    pub region: RegionCode,
}

impl<T> Cited<T> {
    /// A value with its citation, supplied by `region`.
    pub fn new(
        value: T,
        citation: impl Into<String>,
        provisional: bool,
        region: RegionCode,
    ) -> Self {
        Cited {
            value,
            citation: citation.into(),
            provisional,
            region,
        }
    }
}

/// The small-employer exemption in force (docs/rules.md §2). Enterprises only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExemptionRule {
    /// No exemption (from 2028-01-01, provisional).
    None,
    /// Enterprises with at most `max_staff` in-service staff (boundary included). When
    /// `max_years_since_registration` is set (2015-10-01 – 2017-03-31: 3), the enterprise
    /// must also be within that many years of its business registration on the as-of date.
    SmallEnterprise {
        /// Inclusive staff ceiling (20, later 30).
        max_staff: u32,
        /// Start-up window in years, or none.
        max_years_since_registration: Option<u32>,
    },
}

/// The reduction tiers (docs/rules.md §5): the share of the fee that is payable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReductionTiers {
    /// Employment ratio at or above which `share_at_or_above` applies (0.01).
    pub threshold: Decimal,
    /// Payable share at or above the threshold (0.5).
    pub share_at_or_above: Decimal,
    /// Payable share below the threshold (0.9).
    pub share_below: Decimal,
}

/// How over-quota persons are counted for a reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardPersons {
    /// Fractions allowed (Hunan).
    Fractional,
    /// Whole persons only, rounded down (Hainan, Guizhou).
    Whole,
}

/// A region's over-quota reward rule (docs/rules.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RewardRule {
    /// No rule is in force: reward 0, with a note saying so. `note` explains why (e.g.
    /// Sanmenxia promises rewards "per regulations" but publishes no amount).
    None {
        /// Shown with the zero reward.
        note: String,
    },
    /// over-quota persons × `multiple` × the monthly minimum wage in force on the last
    /// day of the data year.
    MinimumWageMultiple {
        /// 6 (Hunan), 5 (Hainan, Inner Mongolia, Ningxia), 0.5 (Shanxi).
        multiple: Decimal,
        /// Fractional or whole persons.
        persons: RewardPersons,
        /// Count a severely disabled person (weight 2) once (Hainan).
        severe_counted_once: bool,
        /// The excess must be at least this many persons before any reward (Shanxi: 1).
        min_excess: Option<Decimal>,
        /// Informational cap on consecutive years (Hainan: 6); not enforceable per year.
        max_years: Option<u32>,
        /// Only these employer kinds qualify; empty means all.
        eligible_kinds: Vec<EmployerKind>,
    },
    /// A fixed amount per whole extra person, capped per employer (Guizhou).
    FixedPerPerson {
        /// Yuan per extra person (2,000).
        amount: Decimal,
        /// Maximum per employer (100,000), or none.
        cap: Option<Decimal>,
        /// Fractional or whole persons.
        persons: RewardPersons,
        /// Only these employer kinds qualify; empty means all.
        eligible_kinds: Vec<EmployerKind>,
    },
}

/// The late-payment surcharge rule (docs/rules.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurchargeRule {
    /// Per calendar day: 0.005.
    pub daily_rate: Decimal,
    /// When true the surcharge never exceeds the principal it accrued on.
    pub capped_at_principal: bool,
}

/// Everything the calculation needs for one region, as-of date and data year, resolved
/// along the region chain (nearest value in force wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedPolicy {
    /// The region asked for.
    pub region: RegionCode,
    /// The date the rules were resolved for.
    pub as_of: NaiveDate,
    /// The data year (levy year − 1) for wage and minimum-wage figures.
    pub data_year: i32,
    /// Quota ratio `q` (0.015, Henan 0.016).
    pub quota_ratio: Cited<Decimal>,
    /// Wage cap multiple `k` (3, then 2); `None` before 2017-04-01.
    pub wage_cap_multiple: Option<Cited<Decimal>>,
    /// Social average wage `S` of the data year; `None` when no pack has it (the
    /// calculation then errors if a cap is in force and no override is given).
    pub social_average_wage: Option<Cited<Decimal>>,
    /// When `social_average_wage` stands in for a figure the packs do not have (Henan:
    /// the weighted average), why, in Chinese and English; a warning when used.
    pub social_average_wage_stand_in: Option<String>,
    /// Monthly minimum wage in force on the last day of each month of the data year
    /// (index 0 = January). `None` where no pack has a figure.
    pub minimum_wage_by_month: [Option<Cited<Decimal>>; 12],
    /// Small-employer exemption.
    pub exemption: Cited<ExemptionRule>,
    /// Reduction tiers, when in force.
    pub reduction_tiers: Option<Cited<ReductionTiers>>,
    /// A fresh graduate counted more than 6 months counts 12 (Henan).
    pub fresh_graduate_full_year: Cited<bool>,
    /// The working-age condition, where the region requires it (docs/rules.md §4.3);
    /// `None` elsewhere. Absent in assessments stored before it existed.
    #[serde(default)]
    pub working_age: Option<WorkingAgeRule>,
    /// Over-quota reward rule.
    pub reward: Cited<RewardRule>,
    /// Late-payment surcharge rule.
    pub surcharge: Cited<SurchargeRule>,
    /// Declaration (filing) deadline of the levy year.
    pub filing_deadline: Cited<NaiveDate>,
    /// Payment due date of the levy year.
    pub payment_due: Cited<NaiveDate>,
    /// Establishment size from which a public body must employ a disabled person
    /// (docs/rules.md §8), per kind.
    pub public_body_thresholds: Vec<(EmployerKind, Cited<u32>)>,
    /// Notes to show with every result (e.g. "region 411299 has no pack of its own").
    pub notes: Vec<String>,
}

impl ResolvedPolicy {
    /// The minimum wage in force on the last day of the data year (used for rewards).
    pub fn minimum_wage_year_end(&self) -> Option<&Cited<Decimal>> {
        self.minimum_wage_by_month[11].as_ref()
    }
}

/// Why policy parameters could not be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyLookupError {
    /// No pack covers this region or its province. The message does not repeat the
    /// region: it is the caller's input, answered back as is.
    #[error("unknown region: no policy pack covers it or its province")]
    UnknownRegion(RegionCode),
    /// Rules in force before 2015-10-01 are not modelled (docs/rules.md §1).
    #[error("the as-of date is before 2015-10-01; earlier provincial regimes are not modelled")]
    AsOfTooEarly(NaiveDate),
    /// The packs do not say what is needed for this date (a gap in a timeline).
    #[error("{0}")]
    Missing(String),
}

/// Where the calculation gets its law from. Implemented by `crate::policy::PolicyBook`
/// over the TOML packs; tests may implement it by hand.
pub trait PolicyProvider: Send + Sync {
    /// Resolves every parameter for `region` on `as_of`, with wage figures of `data_year`.
    fn resolve(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<ResolvedPolicy, PolicyLookupError>;

    /// [`PolicyProvider::resolve`], shared: a provider that keeps resolutions hands out
    /// the one it has instead of a copy of every value and citation.
    fn resolve_shared(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<std::sync::Arc<ResolvedPolicy>, PolicyLookupError> {
        self.resolve(region, as_of, data_year)
            .map(std::sync::Arc::new)
    }

    /// The default as-of date for a levy year: the filing deadline the region chain
    /// configures for that year (Henan: 31 October), else 31 December (docs/rules.md §1).
    fn default_as_of(
        &self,
        region: RegionCode,
        levy_year: i32,
    ) -> Result<NaiveDate, PolicyLookupError>;
}

/// A provider that always answers one stored resolution: replays an assessment with
/// exactly the policy values it used, whatever the packs say today.
#[derive(Debug, Clone)]
pub struct FrozenPolicy(pub ResolvedPolicy);

impl PolicyProvider for FrozenPolicy {
    fn resolve(
        &self,
        _region: RegionCode,
        _as_of: NaiveDate,
        _data_year: i32,
    ) -> Result<ResolvedPolicy, PolicyLookupError> {
        Ok(self.0.clone())
    }

    fn default_as_of(
        &self,
        _region: RegionCode,
        _levy_year: i32,
    ) -> Result<NaiveDate, PolicyLookupError> {
        Ok(self.0.as_of)
    }
}

/// Which retirement age applies to a woman (docs/rules.md §4.3): before the 2024 reform
/// a woman worker (女工人) retired at 50 and a woman cadre (女干部, a management or
/// professional post) at 55 (国发〔1978〕104号); the reform raises each on its own schedule.
/// The certificate number tells sex and birth date, not this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetirementTrack {
    /// 女工人: original age 50.
    Worker,
    /// 女干部 / 管理岗位、专业技术岗位: original age 55.
    Cadre,
}

impl RetirementTrack {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RetirementTrack::Worker => "worker",
            RetirementTrack::Cadre => "cadre",
        }
    }
}

/// One statutory retirement age and its gradual raise by birth cohort (全国人民代表大会常务
/// 委员会关于实施渐进式延迟法定退休年龄的决定, 2024-09-13, and the annex tables of its
/// 办法): a person born in or after `delay_from` (year, month) retires `base_years` plus
/// one month for each started block of `delay_every_months` birth months counted from
/// `delay_from`, at most `max_delay_months` more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementSchedule {
    /// The original age in whole years (60, 50, 55).
    pub base_years: u32,
    /// The first birth month (year, month 1–12) whose age is raised; `None` before the
    /// reform.
    pub delay_from: Option<(i32, u32)>,
    /// Birth months per month of raise (4; 2 for women of the original age 50).
    pub delay_every_months: u32,
    /// The largest raise in months (36; 60 for women of the original age 50).
    pub max_delay_months: u32,
}

impl RetirementSchedule {
    /// The retirement age, in months, of a person born in `birth_year`-`birth_month`.
    /// The annex tables: men born 1965-01..04 retire at 60 years 1 month, 1965-05..08 at
    /// 60 years 2 months, …, from 1976-09 at 63.
    pub fn age_months(&self, birth_year: i32, birth_month: u32) -> u32 {
        let base = self.base_years * 12;
        let Some((y0, m0)) = self.delay_from else {
            return base;
        };
        let since =
            (i64::from(birth_year) - i64::from(y0)) * 12 + i64::from(birth_month) - i64::from(m0);
        if since < 0 || self.delay_every_months == 0 {
            return base;
        }
        let blocks = since / i64::from(self.delay_every_months) + 1;
        let delay = u32::try_from(blocks)
            .unwrap_or(u32::MAX)
            .min(self.max_delay_months);
        base + delay
    }
}

/// The statutory retirement ages in force (docs/rules.md §4.3) and the lowest working
/// age: together, the working age of a disabled employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementAges {
    /// The lowest working age in years (16: 劳动法 第十五条).
    pub minimum_age: u32,
    /// Men.
    pub male: RetirementSchedule,
    /// Women workers (original age 50).
    pub female_worker: RetirementSchedule,
    /// Women cadres (original age 55).
    pub female_cadre: RetirementSchedule,
}

/// The working-age condition of a region that counts disabled employees of working age
/// only (docs/rules.md §4.3; Henan, Shanghai).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkingAgeRule {
    /// Where the region says so (its pack's `working_age_required`).
    pub required: Cited<bool>,
    /// The retirement ages in force on the last day of each month of the data year
    /// (index 0 = January); `None` where no pack has them.
    pub ages_by_month: [Option<Cited<RetirementAges>>; 12],
    /// The track used for a woman whose line does not say (docs/rules.md §4.3).
    pub default_track: Cited<RetirementTrack>,
}
