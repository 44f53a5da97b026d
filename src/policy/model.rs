//! A loaded, validated pack: one region's dated parameters in domain types.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::format::{Confidence, MonthDay, WageSeries};
use crate::domain::{
    ExemptionRule, ReductionTiers, RegionCode, RetirementAges, RetirementTrack, RewardRule,
};

/// One dated value of one parameter, as written in a pack and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<T> {
    /// First day in force.
    pub from: NaiveDate,
    /// Last day in force as written (`to`), if any.
    pub to: Option<NaiveDate>,
    /// Last day in force in effect: `to`, else the day before the next entry's `from`,
    /// else open-ended. A new dated value replaces the previous one, as a new notice does.
    pub until: Option<NaiveDate>,
    /// The value.
    pub value: T,
    /// The legal source.
    pub citation: String,
    /// How sure the value is.
    pub confidence: Confidence,
    /// Shown as provisional wherever it is used (always true unless `confidence = "S"`).
    pub provisional: bool,
    /// Line in the pack file, for messages.
    pub line: usize,
}

impl<T> Entry<T> {
    /// True when the value is in force on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        date >= self.from && self.until.is_none_or(|u| date <= u)
    }
}

/// The dated values of one parameter in one pack, sorted by `from`, never overlapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline<T>(pub(crate) Vec<Entry<T>>);

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline(Vec::new())
    }
}

impl<T> Timeline<T> {
    /// The value in force on `date`, if any.
    pub fn at(&self, date: NaiveDate) -> Option<&Entry<T>> {
        self.0.iter().find(|e| e.covers(date))
    }

    /// Every dated value, oldest first.
    pub fn entries(&self) -> &[Entry<T>] {
        &self.0
    }
}

/// A social average wage figure for one data year and series.
#[derive(Debug, Clone, PartialEq)]
pub struct WageFigure {
    /// The year the wages were earned (the levy year − 1 uses it).
    pub data_year: i32,
    /// Which published average.
    pub series: WageSeries,
    /// Yuan per year.
    pub value: Decimal,
    /// The legal or statistical source.
    pub citation: String,
    /// How sure the figure is.
    pub confidence: Confidence,
    /// Shown as provisional wherever it is used.
    pub provisional: bool,
    /// Line in the pack file.
    pub line: usize,
}

/// The disabled-employee certification window of the levy year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificationWindow {
    /// First day of the window.
    pub opens: MonthDay,
    /// Last day of the window.
    pub closes: MonthDay,
}

/// One region's pack, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionPack {
    /// The region the pack is for.
    pub code: RegionCode,
    /// Chinese name (三门峡市).
    pub name: String,
    /// English name (Sanmenxia).
    pub name_en: String,
    /// The file it came from, as shown in messages.
    pub file: String,
    pub(crate) region_line: usize,
    pub(crate) quota_ratio: Timeline<Decimal>,
    pub(crate) wage_cap_multiple: Timeline<Option<Decimal>>,
    pub(crate) average_wage_series: Timeline<WageSeries>,
    /// The series used, provisionally, when the selected one has no figure for the data
    /// year (Henan: the weighted average is not published). Searched from this pack up.
    pub(crate) average_wage_fallback_series: Timeline<WageSeries>,
    pub(crate) social_average_wage: Vec<WageFigure>,
    pub(crate) minimum_wage: Timeline<Decimal>,
    pub(crate) minimum_wage_tiers: Timeline<Vec<Decimal>>,
    pub(crate) minimum_wage_tier: Timeline<u32>,
    pub(crate) exemption: Timeline<ExemptionRule>,
    pub(crate) reduction_tiers: Timeline<Option<ReductionTiers>>,
    pub(crate) fresh_graduate_full_year: Timeline<bool>,
    pub(crate) reward: Timeline<RewardRule>,
    pub(crate) surcharge_daily_rate: Timeline<Decimal>,
    pub(crate) surcharge_capped_at_principal: Timeline<bool>,
    pub(crate) filing_deadline: Timeline<MonthDay>,
    pub(crate) payment_due: Timeline<MonthDay>,
    pub(crate) certification_window: Timeline<CertificationWindow>,
    /// Counts disabled employees of working age only (docs/rules.md §4.3).
    pub(crate) working_age_required: Timeline<bool>,
    /// The lowest working age and the statutory retirement ages (docs/rules.md §4.3).
    pub(crate) retirement_age: Timeline<RetirementAges>,
    /// The track of a woman whose roster line does not say (docs/rules.md §4.3).
    pub(crate) retirement_default_track: Timeline<RetirementTrack>,
    pub(crate) threshold_government_agency: Timeline<u32>,
    pub(crate) threshold_public_institution: Timeline<u32>,
    pub(crate) notes: Timeline<String>,
}

impl RegionPack {
    /// Number of dated values and figures in the pack, and how many are provisional.
    pub fn counts(&self) -> (usize, usize) {
        fn add<T>(t: &Timeline<T>, acc: &mut (usize, usize)) {
            acc.0 += t.0.len();
            acc.1 += t.0.iter().filter(|e| e.provisional).count();
        }
        let mut acc = (0, 0);
        add(&self.quota_ratio, &mut acc);
        add(&self.wage_cap_multiple, &mut acc);
        add(&self.average_wage_series, &mut acc);
        add(&self.average_wage_fallback_series, &mut acc);
        add(&self.minimum_wage, &mut acc);
        add(&self.minimum_wage_tiers, &mut acc);
        add(&self.minimum_wage_tier, &mut acc);
        add(&self.exemption, &mut acc);
        add(&self.reduction_tiers, &mut acc);
        add(&self.fresh_graduate_full_year, &mut acc);
        add(&self.reward, &mut acc);
        add(&self.surcharge_daily_rate, &mut acc);
        add(&self.surcharge_capped_at_principal, &mut acc);
        add(&self.filing_deadline, &mut acc);
        add(&self.payment_due, &mut acc);
        add(&self.certification_window, &mut acc);
        add(&self.working_age_required, &mut acc);
        add(&self.retirement_age, &mut acc);
        add(&self.retirement_default_track, &mut acc);
        add(&self.threshold_government_agency, &mut acc);
        add(&self.threshold_public_institution, &mut acc);
        add(&self.notes, &mut acc);
        acc.0 += self.social_average_wage.len();
        acc.1 += self
            .social_average_wage
            .iter()
            .filter(|f| f.provisional)
            .count();
        acc
    }
}
