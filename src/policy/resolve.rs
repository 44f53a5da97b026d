//! Resolution along the region chain: the nearest region with a value in force wins.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::format::{MonthDay, WageSeries};
use super::model::{CertificationWindow, Entry, RegionPack, Timeline};
use super::{PolicyBook, FIRST_MODELLED_DAY};
use crate::domain::{
    Cited, EmployerKind, PolicyLookupError, PolicyProvider, RegionCode, ResolvedPolicy,
    SurchargeRule,
};

/// A value found in the chain, with the pack that supplied it.
pub(crate) type Found<'a, T> = (&'a RegionPack, &'a Entry<T>);

fn cited<T: Clone>((pack, e): Found<'_, T>) -> Cited<T> {
    Cited::new(
        e.value.clone(),
        e.citation.clone(),
        e.provisional,
        pack.code,
    )
}

/// The nearest value in force on `date`.
pub(crate) fn nearest<'a, T>(
    chain: &[&'a RegionPack],
    date: NaiveDate,
    pick: impl Fn(&'a RegionPack) -> &'a Timeline<T>,
) -> Option<Found<'a, T>> {
    chain.iter().find_map(|p| pick(p).at(date).map(|e| (*p, e)))
}

/// The last day of `month` in `year`.
fn month_end(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

impl PolicyBook {
    /// The packs of the chain of `region`, nearest first. A region needs a pack for its
    /// province (or is national); regions below that without a pack of their own resolve
    /// through their parents.
    pub(crate) fn chain_packs(
        &self,
        region: RegionCode,
    ) -> Result<Vec<&RegionPack>, PolicyLookupError> {
        if !region.is_national() {
            let province = region.province();
            if province.is_national() || !self.packs.contains_key(&province) {
                return Err(PolicyLookupError::UnknownRegion(region));
            }
        }
        let chain: Vec<&RegionPack> = region
            .chain()
            .iter()
            .filter_map(|c| self.packs.get(c))
            .collect();
        if chain.last().is_none_or(|p| !p.code.is_national()) {
            return Err(PolicyLookupError::UnknownRegion(region));
        }
        Ok(chain)
    }

    /// The average-wage series the chain selects on `as_of`.
    pub(crate) fn series<'a>(
        &self,
        chain: &[&'a RegionPack],
        as_of: NaiveDate,
    ) -> Option<Found<'a, WageSeries>> {
        nearest(chain, as_of, |p| &p.average_wage_series)
    }

    /// The social average wage of `data_year` in the series selected on `as_of`: the
    /// nearest region that publishes that figure.
    pub(crate) fn social_average_wage(
        &self,
        chain: &[&RegionPack],
        as_of: NaiveDate,
        data_year: i32,
    ) -> Option<Cited<Decimal>> {
        let (sp, se) = self.series(chain, as_of)?;
        chain.iter().find_map(|p| {
            p.social_average_wage
                .iter()
                .find(|f| f.data_year == data_year && f.series == se.value)
                .map(|f| {
                    Cited::new(
                        f.value,
                        format!(
                            "{} (series {}: {} [{}])",
                            f.citation,
                            se.value.as_str(),
                            se.citation,
                            sp.code
                        ),
                        f.provisional || se.provisional,
                        p.code,
                    )
                })
        })
    }

    /// As [`Self::social_average_wage`]; when the selected series has no figure for
    /// `data_year`, the fallback series a pack of the chain declares for `as_of`,
    /// searched from that pack upward (so a city's own figures never stand in for a
    /// province-wide one). Such a figure is provisional, and the second value is the
    /// note (zh + en) that says which series and value were used instead, and that the
    /// figure the law asks for is unknown.
    pub(crate) fn social_average_wage_or_fallback(
        &self,
        chain: &[&RegionPack],
        as_of: NaiveDate,
        data_year: i32,
    ) -> (Option<Cited<Decimal>>, Option<String>) {
        if let Some(c) = self.social_average_wage(chain, as_of, data_year) {
            return (Some(c), None);
        }
        let Some((_, se)) = self.series(chain, as_of) else {
            return (None, None);
        };
        let Some((start, fe)) = chain
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.average_wage_fallback_series.at(as_of).map(|e| (i, e)))
        else {
            return (None, None);
        };
        let fp = chain[start];
        let figure = |series: WageSeries| {
            chain[start..].iter().find_map(|p| {
                p.social_average_wage
                    .iter()
                    .find(|f| f.data_year == data_year && f.series == series)
                    .map(|f| (*p, f))
            })
        };
        let Some((p, f)) = figure(fe.value) else {
            return (None, None);
        };
        let wanted = se.value.as_str();
        let used = fe.value.as_str();
        let value = crate::domain::money::format_money(f.value);
        // A weighted average lies between its two series: name the other bound when known.
        let bound = match (se.value, fe.value) {
            (WageSeries::Weighted, WageSeries::UrbanNonPrivate) => {
                figure(WageSeries::UrbanPrivate).map(|(_, lo)| {
                    let lo = crate::domain::money::format_money(lo.value);
                    (
                        format!("；加权平均工资介于城镇私营 {lo} 元与城镇非私营 {value} 元之间，按非私营计算的上限可能偏高"),
                        format!("; the weighted average lies between the urban private {lo} and the urban non-private {value} yuan, so the cap used may be too high"),
                    )
                })
            }
            _ => None,
        }
        .unwrap_or_default();
        let zh_name = |s: WageSeries| match s {
            WageSeries::UrbanNonPrivate => "城镇非私营单位",
            WageSeries::UrbanPrivate => "城镇私营单位",
            WageSeries::Weighted => "加权",
            WageSeries::SocialInsuranceBase => "社保缴费基数",
        };
        let note = format!(
            "{data_year} 年度{}社会平均工资未找到（真实数值未知），工资上限暂按{}平均工资 {value} 元计算，结果为暂定值{} \
             ({wanted} social average wage for data year {data_year} not found (the true figure is unknown); \
             the wage cap uses the {used} figure {value} yuan instead, provisionally{}) [{}: {}]",
            zh_name(se.value),
            zh_name(fe.value),
            bound.0,
            bound.1,
            fp.code,
            fe.citation
        );
        let c = Cited::new(
            f.value,
            format!(
                "{} (series {used} in place of {wanted}: {} [{}])",
                f.citation, fe.citation, fp.code
            ),
            true,
            p.code,
        );
        (Some(c), Some(note))
    }

    /// The monthly minimum wage in force on `date`: a region's own figure, or the tier it
    /// selects in the nearest tier table (Henan: county tier → province table).
    pub(crate) fn minimum_wage_on(
        &self,
        chain: &[&RegionPack],
        date: NaiveDate,
    ) -> Option<Cited<Decimal>> {
        for (i, p) in chain.iter().enumerate() {
            if let Some(e) = p.minimum_wage.at(date) {
                return Some(cited((p, e)));
            }
            if let Some(sel) = p.minimum_wage_tier.at(date) {
                let (tp, table) = nearest(&chain[i..], date, |q| &q.minimum_wage_tiers)?;
                let idx = usize::try_from(sel.value).ok()?.checked_sub(1)?;
                let amount = *table.value.get(idx)?;
                return Some(Cited::new(
                    amount,
                    format!(
                        "{} tier {} (tier set by {}: {})",
                        table.citation, sel.value, p.code, sel.citation
                    ),
                    table.provisional || sel.provisional,
                    tp.code,
                ));
            }
        }
        None
    }

    /// The month-day of a deadline for `levy_year`: the value whose date range contains
    /// that very day, so the deadline of a year is the rule in force for it.
    pub(crate) fn deadline<'a>(
        chain: &[&'a RegionPack],
        levy_year: i32,
        pick: impl Fn(&'a RegionPack) -> &'a Timeline<MonthDay>,
    ) -> Option<(Cited<NaiveDate>, &'a Entry<MonthDay>)> {
        chain.iter().find_map(|p| {
            pick(p).entries().iter().find_map(|e| {
                let day = e.value.in_year(levy_year)?;
                e.covers(day).then(|| {
                    (
                        Cited::new(day, e.citation.clone(), e.provisional, p.code),
                        e,
                    )
                })
            })
        })
    }

    /// The certification window of `levy_year`, placed in that year.
    pub(crate) fn certification_window(
        &self,
        chain: &[&RegionPack],
        as_of: NaiveDate,
    ) -> Option<Cited<CertificationWindow>> {
        nearest(chain, as_of, |p| &p.certification_window).map(cited)
    }
}

fn missing(what: &str, region: RegionCode, as_of: NaiveDate) -> PolicyLookupError {
    PolicyLookupError::Missing(format!(
        "no {what} in force on {as_of} for region {region} or any region above it"
    ))
}

/// Resolutions kept: a parameter set depends only on the packs and (region, as-of date,
/// data year), and building one copies every value and citation. Bounded, because the
/// as-of date is the caller's: when full it starts again.
#[derive(Default)]
pub(crate) struct Resolutions(Mutex<HashMap<(RegionCode, NaiveDate, i32), Arc<ResolvedPolicy>>>);

/// More distinct (region, as-of, data year) triples than the service meets in a day.
const RESOLUTIONS_KEPT: usize = 4096;

impl Resolutions {
    /// The kept resolution of `key`, or `resolve`'s, kept.
    pub(crate) fn get_or_resolve(
        &self,
        key: (RegionCode, NaiveDate, i32),
        resolve: impl FnOnce() -> Result<Arc<ResolvedPolicy>, PolicyLookupError>,
    ) -> Result<Arc<ResolvedPolicy>, PolicyLookupError> {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(p) = kept {
            return Ok(p);
        }
        // Resolved outside the lock: another thread may resolve the same key meanwhile,
        // to the same value.
        let p = resolve()?;
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if m.len() >= RESOLUTIONS_KEPT {
            m.clear();
        }
        m.insert(key, p.clone());
        Ok(p)
    }
}

impl Clone for Resolutions {
    /// A copy of a book may be changed (a draft pack): it starts with none.
    fn clone(&self) -> Self {
        Resolutions::default()
    }
}

impl std::fmt::Debug for Resolutions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolutions")
    }
}

impl PolicyProvider for PolicyBook {
    fn resolve_shared(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<Arc<ResolvedPolicy>, PolicyLookupError> {
        self.resolved
            .get_or_resolve((region, as_of, data_year), || {
                self.resolve(region, as_of, data_year).map(Arc::new)
            })
    }

    fn resolve(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<ResolvedPolicy, PolicyLookupError> {
        if as_of < FIRST_MODELLED_DAY {
            return Err(PolicyLookupError::AsOfTooEarly(as_of));
        }
        let chain = self.chain_packs(region)?;
        let levy_year = data_year + 1;
        let mut notes = Vec::new();
        if chain.first().is_none_or(|p| p.code != region) {
            let via: Vec<String> = chain.iter().map(|p| p.code.to_string()).collect();
            notes.push(format!(
                "region {region} has no policy pack of its own; its parameters come from {}",
                via.join(" → ")
            ));
        }

        let quota_ratio = nearest(&chain, as_of, |p| &p.quota_ratio)
            .map(cited)
            .ok_or_else(|| missing("quota ratio", region, as_of))?;
        let wage_cap_multiple =
            nearest(&chain, as_of, |p| &p.wage_cap_multiple).and_then(|(p, e)| {
                e.value
                    .map(|v| Cited::new(v, e.citation.clone(), e.provisional, p.code))
            });
        let (social_average_wage, fallback_note) =
            self.social_average_wage_or_fallback(&chain, as_of, data_year);
        if social_average_wage.is_none() && wage_cap_multiple.is_some() {
            let series = self
                .series(&chain, as_of)
                .map_or("(no series selected)", |(_, e)| e.value.as_str());
            notes.push(format!(
                "no social average wage ({series}) for data year {data_year} in the packs of \
                 region {region}; the wage cap needs one (give overrides.social_average_wage)"
            ));
        }
        let minimum_wage_by_month: [Option<Cited<Decimal>>; 12] = std::array::from_fn(|i| {
            let month = u32::try_from(i + 1).unwrap_or(12);
            month_end(data_year, month).and_then(|d| self.minimum_wage_on(&chain, d))
        });
        let missing_months = minimum_wage_by_month.iter().filter(|m| m.is_none()).count();
        if missing_months > 0 {
            notes.push(format!(
                "no monthly minimum wage in the packs of region {region} for {missing_months} \
                 month(s) of data year {data_year} (give overrides.minimum_wage_monthly)"
            ));
        }
        let exemption = nearest(&chain, as_of, |p| &p.exemption)
            .map(cited)
            .ok_or_else(|| missing("exemption rule", region, as_of))?;
        let reduction_tiers = nearest(&chain, as_of, |p| &p.reduction_tiers).and_then(|(p, e)| {
            e.value
                .clone()
                .map(|v| Cited::new(v, e.citation.clone(), e.provisional, p.code))
        });
        let fresh_graduate_full_year = nearest(&chain, as_of, |p| &p.fresh_graduate_full_year)
            .map(cited)
            .ok_or_else(|| missing("fresh-graduate rule", region, as_of))?;
        // docs/rules.md §4.3: only where the region requires working age; the ages are
        // those in force on each month's last day, the default track that of the as-of day.
        let working_age = match nearest(&chain, as_of, |p| &p.working_age_required) {
            Some(found) if found.1.value => {
                let ages_by_month = std::array::from_fn(|i| {
                    let month = u32::try_from(i + 1).unwrap_or(12);
                    month_end(data_year, month)
                        .and_then(|d| nearest(&chain, d, |p| &p.retirement_age))
                        .map(cited)
                });
                let default_track = nearest(&chain, as_of, |p| &p.retirement_default_track)
                    .map(cited)
                    .ok_or_else(|| missing("retirement default track", region, as_of))?;
                Some(crate::domain::WorkingAgeRule {
                    required: cited(found),
                    ages_by_month,
                    default_track,
                })
            }
            _ => None,
        };
        let reward = nearest(&chain, as_of, |p| &p.reward)
            .map(cited)
            .ok_or_else(|| missing("reward rule", region, as_of))?;
        let rate = nearest(&chain, as_of, |p| &p.surcharge_daily_rate)
            .ok_or_else(|| missing("surcharge daily rate", region, as_of))?;
        let cap = nearest(&chain, as_of, |p| &p.surcharge_capped_at_principal)
            .ok_or_else(|| missing("surcharge cap setting", region, as_of))?;
        // Two parameters, one domain value: cite both, provisional if either is, and name
        // the nearer of the two regions.
        let nearer = if chain.iter().position(|p| p.code == cap.0.code)
            < chain.iter().position(|p| p.code == rate.0.code)
        {
            cap.0.code
        } else {
            rate.0.code
        };
        let surcharge = Cited::new(
            SurchargeRule {
                daily_rate: rate.1.value,
                capped_at_principal: cap.1.value,
            },
            format!(
                "rate: {}; cap at principal {}: {}",
                rate.1.citation,
                if cap.1.value { "on" } else { "off" },
                cap.1.citation
            ),
            rate.1.provisional || cap.1.provisional,
            nearer,
        );
        let filing_deadline = Self::deadline(&chain, levy_year, |p| &p.filing_deadline)
            .map(|(c, _)| c)
            .ok_or_else(|| {
                missing(
                    &format!("filing deadline for levy year {levy_year}"),
                    region,
                    as_of,
                )
            })?;
        let payment_due = Self::deadline(&chain, levy_year, |p| &p.payment_due)
            .map(|(c, _)| c)
            .ok_or_else(|| {
                missing(
                    &format!("payment due date for levy year {levy_year}"),
                    region,
                    as_of,
                )
            })?;
        let mut public_body_thresholds = Vec::new();
        if let Some(f) = nearest(&chain, as_of, |p| &p.threshold_government_agency) {
            public_body_thresholds.push((EmployerKind::GovernmentAgency, cited(f)));
        }
        if let Some(f) = nearest(&chain, as_of, |p| &p.threshold_public_institution) {
            public_body_thresholds.push((EmployerKind::PublicInstitution, cited(f)));
        }
        for p in &chain {
            if let Some(n) = p.notes.at(as_of) {
                notes.push(format!("{} [{}: {}]", n.value, p.code, n.citation));
            }
        }

        Ok(ResolvedPolicy {
            region,
            as_of,
            data_year,
            quota_ratio,
            wage_cap_multiple,
            social_average_wage,
            social_average_wage_stand_in: fallback_note,
            minimum_wage_by_month,
            exemption,
            reduction_tiers,
            fresh_graduate_full_year,
            working_age,
            reward,
            surcharge,
            filing_deadline,
            payment_due,
            public_body_thresholds,
            notes,
        })
    }

    fn default_as_of(
        &self,
        region: RegionCode,
        levy_year: i32,
    ) -> Result<NaiveDate, PolicyLookupError> {
        let chain = self.chain_packs(region)?;
        if let Some((c, _)) = Self::deadline(&chain, levy_year, |p| &p.filing_deadline) {
            return Ok(c.value);
        }
        let year_end = NaiveDate::from_ymd_opt(levy_year, 12, 31).ok_or_else(|| {
            PolicyLookupError::Missing(format!("levy year {levy_year} is out of range"))
        })?;
        if year_end < FIRST_MODELLED_DAY {
            Err(PolicyLookupError::AsOfTooEarly(year_end))
        } else {
            Err(PolicyLookupError::Missing(format!(
                "no filing deadline for levy year {levy_year} in the packs of region {region}"
            )))
        }
    }
}
