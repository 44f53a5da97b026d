//! The on-disk shape of a policy pack: what `config/policies/*.toml` may contain.
//!
//! These types mirror the TOML exactly and reject anything else (`deny_unknown_fields`),
//! so a misspelt key is an error with its line, never a silently ignored setting.
//! Positions are kept (`Spanned`) wherever a later semantic check needs to name a line.
//! Turning these raw values into domain types, and every check that needs more than
//! one value, happens in `load.rs`.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::domain::EmployerKind;

/// The dated values of one parameter, each kept even when malformed.
pub(crate) type Entries<T> = Vec<Spanned<Lenient<RawDated<T>>>>;

/// One pack file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPack {
    pub region: RawRegion,
    #[serde(default)]
    pub quota_ratio: Entries<Dec>,
    #[serde(default)]
    pub wage_cap_multiple: Entries<OrNone<Dec>>,
    #[serde(default)]
    pub average_wage_series: Entries<WageSeries>,
    #[serde(default)]
    pub average_wage_fallback_series: Entries<WageSeries>,
    #[serde(default)]
    pub social_average_wage: Vec<Spanned<Lenient<RawWageFigure>>>,
    #[serde(default)]
    pub minimum_wage: Entries<Dec>,
    #[serde(default)]
    pub minimum_wage_tiers: Entries<Vec<Spanned<Dec>>>,
    #[serde(default)]
    pub minimum_wage_tier: Entries<u32>,
    #[serde(default)]
    pub exemption: Entries<OrNone<RawSmallEnterprise>>,
    #[serde(default)]
    pub reduction_tiers: Entries<OrNone<RawTiers>>,
    #[serde(default)]
    pub fresh_graduate_full_year: Entries<bool>,
    #[serde(default)]
    pub reward: Entries<RawReward>,
    #[serde(default)]
    pub surcharge_daily_rate: Entries<Dec>,
    #[serde(default)]
    pub surcharge_capped_at_principal: Entries<bool>,
    #[serde(default)]
    pub filing_deadline: Entries<MonthDay>,
    #[serde(default)]
    pub payment_due: Entries<MonthDay>,
    #[serde(default)]
    pub certification_window: Entries<RawWindow>,
    #[serde(default)]
    pub working_age_required: Entries<bool>,
    #[serde(default)]
    pub retirement_age: Entries<RawRetirementAges>,
    #[serde(default)]
    pub retirement_default_track: Entries<crate::domain::RetirementTrack>,
    #[serde(default)]
    pub public_body_threshold: RawThresholds,
    #[serde(default)]
    pub note: Entries<String>,
}

/// An entry that may be malformed: the error is kept (with the path inside the entry)
/// instead of ending the whole file, so that one `policy check` lists every bad entry.
#[derive(Debug)]
pub(crate) enum Lenient<T> {
    Ok(T),
    Err { path: String, message: String },
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_path_to_error::deserialize::<_, T>(d) {
            Ok(v) => Ok(Lenient::Ok(v)),
            Err(e) => {
                let path = path_string(e.path());
                // Without the source text toml prints the message, then the keys; the
                // path already names the key, so keep the first line only.
                let full = e.into_inner().to_string();
                let message = full.lines().next().unwrap_or_default().trim().to_owned();
                Ok(Lenient::Err { path, message })
            }
        }
    }
}

/// `quota_ratio[1].citation`, without serde_spanned's private wrapper keys.
pub(crate) fn path_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if key.starts_with("$__") {
                    continue;
                }
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// `[region]`: which region the file is for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    pub code: Spanned<String>,
    pub name: String,
    pub name_en: String,
}

/// One dated value: `{ from, to?, value, citation, confidence, provisional? }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDated<T> {
    pub from: Spanned<TomlDate>,
    #[serde(default)]
    pub to: Option<Spanned<TomlDate>>,
    pub value: Spanned<T>,
    pub citation: Spanned<String>,
    pub confidence: Spanned<Confidence>,
    #[serde(default)]
    pub provisional: Option<Spanned<bool>>,
}

/// A social average wage figure, keyed by data year rather than by date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWageFigure {
    pub data_year: Spanned<i32>,
    pub series: WageSeries,
    pub value: Spanned<Dec>,
    pub citation: Spanned<String>,
    pub confidence: Spanned<Confidence>,
    #[serde(default)]
    pub provisional: Option<Spanned<bool>>,
}

/// The small-enterprise exemption (`"none"` is handled by `OrNone`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSmallEnterprise {
    pub max_staff: u32,
    #[serde(default)]
    pub max_years_since_registration: Option<u32>,
}

/// Reduction tiers (`"none"` is handled by `OrNone`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTiers {
    pub threshold: Dec,
    pub share_at_or_above: Dec,
    pub share_below: Dec,
}

/// A reward rule, flat: `kind` says which of the other keys apply. Flat rather than a
/// tagged enum so that every key keeps its position for the error message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReward {
    pub kind: RewardKind,
    #[serde(default)]
    pub note: Option<Spanned<String>>,
    #[serde(default)]
    pub multiple: Option<Spanned<Dec>>,
    #[serde(default)]
    pub amount: Option<Spanned<Dec>>,
    #[serde(default)]
    pub cap: Option<Spanned<Dec>>,
    #[serde(default)]
    pub persons: Option<Spanned<Persons>>,
    #[serde(default)]
    pub severe_counted_once: Option<Spanned<bool>>,
    #[serde(default)]
    pub min_excess: Option<Spanned<Dec>>,
    #[serde(default)]
    pub max_years: Option<Spanned<u32>>,
    #[serde(default)]
    pub eligible_kinds: Option<Spanned<Vec<EmployerKind>>>,
}

/// The shapes of reward rule (docs/rules.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RewardKind {
    None,
    MinimumWageMultiple,
    FixedPerPerson,
}

/// Fractional or whole over-quota persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Persons {
    Fractional,
    Whole,
}

/// The disabled-employee certification window, as month-days of the levy year.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    pub opens: MonthDay,
    pub closes: MonthDay,
}

/// `retirement_age.value`: the lowest working age and the three retirement schedules
/// (docs/rules.md §4.3).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetirementAges {
    pub minimum_age: u32,
    pub male: RawSchedule,
    pub female_worker: RawSchedule,
    pub female_cadre: RawSchedule,
}

/// One retirement schedule: `{ years = 60 }`, or with the reform's raise by birth
/// cohort `{ years = 60, delay_from_birth = "1965-01", delay_every_months = 4,
/// max_delay_months = 36 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    pub years: u32,
    #[serde(default)]
    pub delay_from_birth: Option<String>,
    #[serde(default)]
    pub delay_every_months: Option<u32>,
    #[serde(default)]
    pub max_delay_months: Option<u32>,
}

/// `[public_body_threshold]`: one timeline per kind, so that a province can override
/// one kind (Henan: institutions 63) and inherit the other.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThresholds {
    #[serde(default)]
    pub government_agency: Entries<u32>,
    #[serde(default)]
    pub public_institution: Entries<u32>,
}

/// How sure a value is (docs/policy-data.md): `S` official, `S2` secondary, `R` recalled,
/// `choice` a decision of docs/rules.md or of the pack author where the law is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confidence {
    /// An official page or a full reprint of the official notice.
    S,
    /// A secondary source (news, payroll site, dataset citing an official address).
    S2,
    /// Recalled, unconfirmed.
    R,
    /// A documented choice where the law is silent or ambiguous.
    #[serde(rename = "choice")]
    Choice,
}

impl Confidence {
    /// Only official sources may be non-provisional.
    pub fn is_official(self) -> bool {
        self == Confidence::S
    }

    /// The spelling used in the packs.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::S => "S",
            Confidence::S2 => "S2",
            Confidence::R => "R",
            Confidence::Choice => "choice",
        }
    }
}

/// Which published average wage a figure is (docs/policy-data.md: Henan publishes the
/// non-private and private series; the national rule from 2020 wants the weighted one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WageSeries {
    /// 城镇非私营单位就业人员平均工资.
    UrbanNonPrivate,
    /// 城镇私营单位就业人员平均工资.
    UrbanPrivate,
    /// 全口径城镇单位就业人员加权平均工资 (财政部公告2019年第98号).
    Weighted,
    /// The social-insurance contribution base average (Shanghai's published figure).
    SocialInsuranceBase,
}

impl WageSeries {
    /// The spelling used in the packs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            WageSeries::UrbanNonPrivate => "urban_non_private",
            WageSeries::UrbanPrivate => "urban_private",
            WageSeries::Weighted => "weighted",
            WageSeries::SocialInsuranceBase => "social_insurance_base",
        }
    }
}

/// A TOML local date (`2015-10-01`, unquoted). Times and offsets are rejected: the law
/// changes on days.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TomlDate(pub NaiveDate);

impl<'de> Deserialize<'de> for TomlDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let dt = toml::value::Datetime::deserialize(d)?;
        match (dt.date, dt.time, dt.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .map(TomlDate)
            .ok_or_else(|| de::Error::custom(format!("{dt} is not a calendar date"))),
            _ => Err(de::Error::custom(format!(
                "expected a plain date such as 2015-10-01, found {dt}"
            ))),
        }
    }
}

/// An exact decimal. Written as an integer (`86199`) or a string (`"0.016"`, `"1.6%"`,
/// `"5‰"`); a TOML float is refused because it is binary and inexact (docs/architecture.md, Conventions: no
/// floating point near money or ratios).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dec(pub Decimal);

/// Parses `"0.016"`, `"1.6%"` or `"5‰"` into an exact decimal.
pub(crate) fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix('%') {
        (n.trim_end(), Decimal::ONE_HUNDRED)
    } else if let Some(n) = t.strip_suffix('‰') {
        (n.trim_end(), Decimal::ONE_THOUSAND)
    } else {
        (t, Decimal::ONE)
    };
    let d: Decimal = num
        .parse()
        .map_err(|_| format!("{s:?} is not a decimal number (e.g. \"0.016\", \"1.6%\", \"5‰\")"))?;
    d.checked_div(scale)
        .ok_or_else(|| format!("{s:?} is out of range"))
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DecVisitor)
    }
}

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Dec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a decimal string such as \"0.016\", \"1.6%\" or \"5‰\"")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        Err(E::custom(format!(
            "{v} is a TOML float, which is inexact; write it as a string, e.g. \"{v}\" or a percentage"
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        parse_decimal(v).map(Dec).map_err(E::custom)
    }
}

/// Either `"none"` (the parameter is not in force for that range) or a value.
#[derive(Debug)]
pub(crate) enum OrNone<T> {
    None,
    Some(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrNone<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OrNoneVisitor(std::marker::PhantomData))
    }
}

struct OrNoneVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OrNoneVisitor<T> {
    type Value = OrNone<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"none\" or a value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == "none" {
            Ok(OrNone::None)
        } else {
            T::deserialize(v.into_deserializer()).map(OrNone::Some)
        }
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.visit_str(&v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OrNone::Some)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OrNone::Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OrNone::Some)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OrNone::Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(OrNone::Some)
    }
}

/// A month and day of the levy year, written `"10-31"`. 29 February is refused: a
/// deadline must exist every year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MonthDay {
    /// 1–12.
    pub month: u32,
    /// 1–31, valid for the month in a common year.
    pub day: u32,
}

impl MonthDay {
    /// Parses `"MM-DD"`.
    pub fn parse(s: &str) -> Result<MonthDay, String> {
        let bad =
            || format!("{s:?} is not a month-day such as \"10-31\" (29 February is not allowed)");
        let (m, d) = s.split_once('-').ok_or_else(bad)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let month: u32 = m.parse().map_err(|_| bad())?;
        let day: u32 = d.parse().map_err(|_| bad())?;
        // 2001 is a common year: rejects 02-29 as well as 04-31.
        NaiveDate::from_ymd_opt(2001, month, day).ok_or_else(bad)?;
        Ok(MonthDay { month, day })
    }

    /// This month-day in `year`; `None` only for years chrono cannot represent.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MonthDay::parse(&s).map_err(de::Error::custom)
    }
}
