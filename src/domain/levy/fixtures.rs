//! Hand-built policies for tests: the national timeline of docs/rules.md §2 and a Henan
//! policy (1.6 %, fresh-graduate rule, tier-1 minimum wages), with a `PolicyProvider`
//! over them ("130000" Hebei at the national default, "41xxxx" Henan). Social average
//! wages are deliberately absent: tests that need one give an override.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::domain::policy::{
    Cited, ExemptionRule, PolicyLookupError, PolicyProvider, ReductionTiers, ResolvedPolicy,
    RewardRule, SurchargeRule,
};
use crate::domain::region::RegionCode;

pub(crate) fn date(s: &str) -> NaiveDate {
    s.parse().expect("fixture date")
}

fn nat<T>(v: T, citation: &str) -> Cited<T> {
    Cited::new(v, citation, false, RegionCode::NATIONAL)
}

/// The national regime in force on `as_of` (docs/rules.md §2), for region `region`.
pub(crate) fn national(region: RegionCode, as_of: NaiveDate, data_year: i32) -> ResolvedPolicy {
    let d = |s: &str| date(s);
    let tiers = |c: &str| {
        Some(nat(
            ReductionTiers {
                threshold: dec!(0.01),
                share_at_or_above: dec!(0.5),
                share_below: dec!(0.9),
            },
            c,
        ))
    };
    let small30 = ExemptionRule::SmallEnterprise {
        max_staff: 30,
        max_years_since_registration: None,
    };
    let (cap, exemption, reduction_tiers) = if as_of < d("2017-04-01") {
        (
            None,
            nat(
                ExemptionRule::SmallEnterprise {
                    max_staff: 20,
                    max_years_since_registration: Some(3),
                },
                "财税〔2015〕72号",
            ),
            None,
        )
    } else if as_of < d("2018-04-01") {
        (
            Some(nat(dec!(3), "财税〔2017〕18号")),
            nat(small30, "财税〔2017〕18号"),
            None,
        )
    } else if as_of < d("2020-01-01") {
        (
            Some(nat(dec!(2), "财税〔2018〕39号")),
            nat(small30, "财税〔2018〕39号"),
            None,
        )
    } else if as_of < d("2023-01-01") {
        (
            Some(nat(dec!(2), "财政部公告2019年第98号")),
            nat(small30, "财政部公告2019年第98号"),
            tiers("财政部公告2019年第98号"),
        )
    } else if as_of < d("2028-01-01") {
        (
            Some(nat(dec!(2), "财政部公告2023年第8号")),
            nat(small30, "财政部公告2023年第8号"),
            tiers("财政部公告2023年第8号"),
        )
    } else {
        let prov = "provisional: the 2023 extension ends 2027-12-31";
        (
            Some(Cited::new(dec!(2), prov, true, RegionCode::NATIONAL)),
            Cited::new(ExemptionRule::None, prov, true, RegionCode::NATIONAL),
            None,
        )
    };
    let levy_year = data_year + 1;
    let dec31 = NaiveDate::from_ymd_opt(levy_year, 12, 31).expect("date");
    ResolvedPolicy {
        region,
        as_of,
        data_year,
        quota_ratio: nat(dec!(0.015), "残疾人就业条例; 财税〔2015〕72号"),
        wage_cap_multiple: cap,
        social_average_wage: None,
        minimum_wage_by_month: Default::default(),
        exemption,
        reduction_tiers,
        fresh_graduate_full_year: nat(false, "残疾人就业条例"),
        working_age: None,
        reward: nat(
            RewardRule::None {
                note: "未规定超比例奖励标准 (no over-quota reward rule; fixture)".into(),
            },
            "残疾人就业条例",
        ),
        surcharge: Cited::new(
            SurchargeRule {
                daily_rate: dec!(0.005),
                capped_at_principal: true,
            },
            "残疾人就业条例; 财税〔2015〕72号; 行政强制法 Art. 45",
            true,
            RegionCode::NATIONAL,
        ),
        filing_deadline: nat(dec31, "docs/rules.md §1"),
        payment_due: nat(dec31, "docs/rules.md §1"),
        public_body_thresholds: Vec::new(),
        social_average_wage_stand_in: None,
        notes: Vec::new(),
    }
}

/// Henan tier-1 monthly minimum wage in force on `day` (docs/policy-data.md).
fn henan_minimum_wage(day: NaiveDate) -> Option<Cited<Decimal>> {
    let table = [
        ("2015-07-01", dec!(1600), true, "R"),
        ("2017-10-01", dec!(1720), true, "R"),
        ("2018-10-01", dec!(1900), false, "豫政〔2018〕26号"),
        ("2022-01-01", dec!(2000), true, "豫政〔2021〕33号"),
        ("2024-01-01", dec!(2100), false, "豫政〔2023〕43号"),
        ("2025-12-01", dec!(2350), true, "S2"),
    ];
    table
        .iter()
        .rev()
        .find(|(from, ..)| date(from) <= day)
        .map(|(_, v, p, c)| Cited::new(*v, *c, *p, RegionCode::NATIONAL))
}

/// Henan (410000) over the national regime: 1.6 %, the fresh-graduate rule, tier-1
/// minimum wages, filing deadline 31 October.
pub(crate) fn henan(region: RegionCode, as_of: NaiveDate, data_year: i32) -> ResolvedPolicy {
    let mut p = national(region, as_of, data_year);
    let henan: RegionCode = "410000".parse().expect("code");
    p.quota_ratio = Cited::new(dec!(0.016), "河南省人民政府令第127号", false, henan);
    p.fresh_graduate_full_year = Cited::new(true, "郑州市2025年残保金审核通知", true, henan);
    for m in 0..12u32 {
        let last = if m == 11 {
            NaiveDate::from_ymd_opt(data_year, 12, 31)
        } else {
            NaiveDate::from_ymd_opt(data_year, m + 2, 1).and_then(|d| d.pred_opt())
        };
        p.minimum_wage_by_month[m as usize] = last.and_then(henan_minimum_wage);
    }
    let oct31 = NaiveDate::from_ymd_opt(data_year + 1, 10, 31).expect("date");
    p.filing_deadline = Cited::new(oct31, "河南省残保金申报通知", false, henan);
    p
}

/// `PolicyProvider` over the fixtures: `13xxxx` national, `41xxxx` Henan.
pub(crate) struct Fixtures;

impl PolicyProvider for Fixtures {
    fn resolve(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<ResolvedPolicy, PolicyLookupError> {
        if as_of < date("2015-10-01") {
            return Err(PolicyLookupError::AsOfTooEarly(as_of));
        }
        match &region.as_str()[..2] {
            "13" => Ok(national(region, as_of, data_year)),
            "41" => Ok(henan(region, as_of, data_year)),
            _ => Err(PolicyLookupError::UnknownRegion(region)),
        }
    }

    fn default_as_of(
        &self,
        region: RegionCode,
        levy_year: i32,
    ) -> Result<NaiveDate, PolicyLookupError> {
        let (m, d) = match &region.as_str()[..2] {
            "13" => (12, 31),
            "41" => (10, 31),
            _ => return Err(PolicyLookupError::UnknownRegion(region)),
        };
        NaiveDate::from_ymd_opt(levy_year, m, d)
            .ok_or_else(|| PolicyLookupError::Missing(format!("no date for {levy_year}")))
    }
}

/// The national policy of levy year 2025 (as-of 2025-10-31) for Hebei.
pub(crate) fn national_2025() -> ResolvedPolicy {
    national("130000".parse().expect("code"), date("2025-10-31"), 2024)
}

/// Henan, levy year 2025 (as-of 2025-10-31), for Sanmenxia.
pub(crate) fn henan_2025() -> ResolvedPolicy {
    henan("411200".parse().expect("code"), date("2025-10-31"), 2024)
}

#[test]
fn fixture_timeline_has_the_switches() {
    let r: RegionCode = "130000".parse().expect("code");
    let p = |s: &str| national(r, date(s), date(s).year() - 1);
    assert!(p("2017-03-31").wage_cap_multiple.is_none());
    assert_eq!(
        p("2017-04-01").wage_cap_multiple.map(|c| c.value),
        Some(dec!(3))
    );
    assert_eq!(
        p("2018-04-01").wage_cap_multiple.map(|c| c.value),
        Some(dec!(2))
    );
    assert!(p("2019-12-31").reduction_tiers.is_none());
    assert!(p("2020-01-01").reduction_tiers.is_some());
    assert!(p("2028-01-01").reduction_tiers.is_none());
    assert_eq!(p("2028-01-01").exemption.value, ExemptionRule::None);
    let h = henan_2025();
    assert_eq!(
        h.minimum_wage_by_month[11].as_ref().map(|c| c.value),
        Some(dec!(2100))
    );
    let h26 = henan("411200".parse().expect("code"), date("2026-10-31"), 2025);
    assert_eq!(
        h26.minimum_wage_by_month[10].as_ref().map(|c| c.value),
        Some(dec!(2100))
    );
    assert_eq!(
        h26.minimum_wage_by_month[11].as_ref().map(|c| c.value),
        Some(dec!(2350))
    );
}
