//! Tests of the shipped packs, the resolver and the strict loader.

use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::{
    EmployerKind, ExemptionRule, PolicyLookupError, PolicyProvider, ReductionTiers, RewardPersons,
    RewardRule,
};

const NATIONAL: &str = include_str!("../../config/policies/000000-national.toml");

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn r(s: &str) -> RegionCode {
    s.parse().unwrap()
}

fn book() -> PolicyBook {
    match PolicyBook::load_embedded() {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

fn issues_of(files: &[(&str, &str)]) -> Vec<PolicyIssue> {
    match PolicyBook::load_sources(files) {
        Ok(_) => Vec::new(),
        Err(e) => e.issues,
    }
}

/// The first issue, rendered, for a national pack plus one extra file.
fn one_bad(name: &str, src: &str) -> Vec<String> {
    issues_of(&[("000000-national.toml", NATIONAL), (name, src)])
        .iter()
        .map(ToString::to_string)
        .collect()
}

const HENAN_HEAD: &str = "[region]\ncode = \"410000\"\nname = \"河南省\"\nname_en = \"Henan\"\n";

// ---- the shipped packs ------------------------------------------------------------------

#[test]
fn embedded_packs_load_without_errors() {
    let report = check_report(None);
    assert!(report.is_ok(), "{}", report.render_text());
    assert_eq!(
        report.provinces, 31,
        "every provincial-level division of mainland China"
    );
    assert!(report.values > 100);
    assert!(report.provisional > 0 && report.provisional < report.values);
    assert!(report.render_text().contains("OK"));
}

#[test]
fn embedded_list_matches_the_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/policies");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = embedded::FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        embedded, on_disk,
        "regenerate src/policy/embedded.rs from config/policies/"
    );
    // And the folder loads the same book.
    let from_dir = PolicyBook::load_dir(&dir).unwrap();
    assert_eq!(from_dir.counts(), book().counts());
}

#[test]
fn sanmenxia_on_filing_day_2025() {
    let p = book().resolve(r("411200"), d("2025-10-31"), 2024).unwrap();
    assert_eq!(p.quota_ratio.value, dec!(0.016));
    assert_eq!(p.quota_ratio.region, r("410000"));
    assert!(!p.quota_ratio.provisional);
    assert!(p.quota_ratio.citation.contains("127号"));

    let cap = p.wage_cap_multiple.as_ref().unwrap();
    assert_eq!(cap.value, dec!(2));
    assert_eq!(cap.region, RegionCode::NATIONAL);

    let tiers = p.reduction_tiers.as_ref().unwrap();
    assert_eq!(
        tiers.value,
        ReductionTiers {
            threshold: dec!(0.01),
            share_at_or_above: dec!(0.5),
            share_below: dec!(0.9)
        }
    );
    assert!(tiers.citation.contains("2023年第8号"));
    assert_eq!(
        p.exemption.value,
        ExemptionRule::SmallEnterprise {
            max_staff: 30,
            max_years_since_registration: None
        }
    );

    let s = p.social_average_wage.as_ref().unwrap();
    assert_eq!(s.value, dec!(86199));
    assert!(s.provisional, "S2 figure and a series choice");
    assert_eq!(s.region, r("410000"));
    assert!(s.citation.contains("urban_non_private"));

    match &p.reward.value {
        RewardRule::None { note } => assert!(note.contains("未公布")),
        other => panic!("{other:?}"),
    }
    assert!(p.reward.provisional);
    assert_eq!(p.reward.region, r("411200"));
    assert!(p.reward.citation.contains("三政〔2016〕23号"));

    assert_eq!(p.filing_deadline.value, d("2025-10-31"));
    assert_eq!(p.filing_deadline.region, r("410000"));
    assert_eq!(p.payment_due.value, d("2025-12-31"));
    assert!(p.payment_due.provisional);
    assert!(p.fresh_graduate_full_year.value);
    assert_eq!(p.surcharge.value.daily_rate, dec!(0.005));
    assert!(p.surcharge.value.capped_at_principal);
    assert!(p.surcharge.provisional, "the cap is a choice");

    let th: Vec<(EmployerKind, u32)> = p
        .public_body_thresholds
        .iter()
        .map(|(k, c)| (*k, c.value))
        .collect();
    assert_eq!(
        th,
        [
            (EmployerKind::GovernmentAgency, 50),
            (EmployerKind::PublicInstitution, 63)
        ]
    );
    // City level selects tier 1 (choice): 2024 table, 2,100 all year.
    assert!(p
        .minimum_wage_by_month
        .iter()
        .all(|m| m.as_ref().map(|c| c.value) == Some(dec!(2100))));
    assert!(p.notes.iter().any(|n| n.contains("残工委")));
}

#[test]
fn beijing_and_other_provinces() {
    let b = book();
    let bj = b.resolve(r("110000"), d("2025-12-31"), 2024).unwrap();
    assert_eq!(bj.quota_ratio.value, dec!(0.015));
    assert_eq!(bj.quota_ratio.region, r("110000"));
    assert!(bj.quota_ratio.provisional);
    assert_eq!(bj.social_average_wage.as_ref().unwrap().value, dec!(143244));
    assert_eq!(bj.filing_deadline.value, d("2025-12-31"));
    assert_eq!(
        b.resolve(r("110000"), d("2018-12-31"), 2017)
            .unwrap()
            .quota_ratio
            .value,
        dec!(0.017)
    );
    // Beijing's minimum wage starts 2025-09-01: months before it are not invented.
    let bj26 = b.resolve(r("110000"), d("2026-12-31"), 2025).unwrap();
    assert!(bj26.minimum_wage_by_month[7].is_none());
    assert_eq!(
        bj26.minimum_wage_by_month[8].as_ref().unwrap().value,
        dec!(2540)
    );

    let sc = b.resolve(r("510000"), d("2025-12-31"), 2024).unwrap();
    assert_eq!(sc.quota_ratio.value, dec!(0.016));
    // Sichuan has only a non-private figure; the national rule wants the weighted one,
    // so the province's declared fallback stands in, provisionally, and says so.
    let s = sc.social_average_wage.as_ref().unwrap();
    assert_eq!((s.value, s.region), (dec!(110177), r("510000")));
    assert!(s.provisional);
    assert!(sc
        .social_average_wage_stand_in
        .as_deref()
        .is_some_and(|n| n.contains("110177.00")));
    // Beijing: 1.7 % up to the day before its 2019 rules, 1.5 % from 2019-07-17.
    let ratio = |on: &str| {
        b.resolve(r("110000"), d(on), 2018)
            .unwrap()
            .quota_ratio
            .value
    };
    assert_eq!(ratio("2019-07-16"), dec!(0.017));
    assert_eq!(ratio("2019-07-17"), dec!(0.015));
    // Shanghai: 1.6 % (2016–2017 found; 2018–2019 kept by choice), 1.5 % from 2020.
    let sh = |on: &str, data: i32| b.resolve(r("310000"), d(on), data).unwrap().quota_ratio;
    assert_eq!(sh("2017-10-31", 2016).value, dec!(0.016));
    let kept = sh("2019-10-31", 2018);
    assert_eq!(kept.value, dec!(0.016));
    assert!(kept.provisional && kept.citation.starts_with("choice"));
    assert_eq!(sh("2020-10-31", 2019).value, dec!(0.015));
    let js = b.resolve(r("320000"), d("2025-12-31"), 2024).unwrap();
    assert_eq!(js.social_average_wage.as_ref().unwrap().value, dec!(99048));
    let hb = b.resolve(r("130000"), d("2025-12-31"), 2024).unwrap();
    assert_eq!(hb.payment_due.value, d("2025-11-30"));
    assert!(hb.payment_due.provisional);
    // A province with no figures of its own still resolves, through the national pack.
    let jl = b.resolve(r("220000"), d("2025-12-31"), 2024).unwrap();
    assert_eq!(jl.quota_ratio.region, RegionCode::NATIONAL);
    assert!(!jl.quota_ratio.provisional);
}

#[test]
fn reward_rules_of_the_provinces() {
    let b = book();
    let hunan = b.resolve(r("430000"), d("2026-12-31"), 2025).unwrap();
    assert!(matches!(
        hunan.reward.value,
        RewardRule::MinimumWageMultiple { multiple, persons: RewardPersons::Fractional, .. } if multiple == dec!(6)
    ));
    let hunan28 = b.resolve(r("430000"), d("2028-12-31"), 2027).unwrap();
    assert!(matches!(hunan28.reward.value, RewardRule::None { .. }));
    // Changsha's own minimum wage is used in the reward (in force at data-year end).
    let cs = b.resolve(r("430100"), d("2026-12-31"), 2025).unwrap();
    assert_eq!(cs.minimum_wage_year_end().unwrap().value, dec!(2200));

    let hainan = b.resolve(r("460000"), d("2026-03-01"), 2025).unwrap();
    assert!(matches!(
        hainan.reward.value,
        RewardRule::MinimumWageMultiple {
            persons: RewardPersons::Whole,
            severe_counted_once: true,
            max_years: Some(6),
            ..
        }
    ));
    assert!(matches!(
        b.resolve(r("460000"), d("2026-02-28"), 2025)
            .unwrap()
            .reward
            .value,
        RewardRule::None { .. }
    ));
    let gz = b.resolve(r("520000"), d("2025-12-31"), 2024).unwrap();
    match &gz.reward.value {
        RewardRule::FixedPerPerson {
            amount,
            cap,
            persons,
            eligible_kinds,
        } => {
            assert_eq!(
                (*amount, *cap, *persons),
                (dec!(2000), Some(dec!(100000)), RewardPersons::Whole)
            );
            assert_eq!(
                eligible_kinds,
                &[EmployerKind::Enterprise, EmployerKind::PrivateNonEnterprise]
            );
        }
        other => panic!("{other:?}"),
    }
    let sx = b.resolve(r("140000"), d("2025-12-31"), 2024).unwrap();
    assert!(matches!(
        sx.reward.value,
        RewardRule::MinimumWageMultiple { multiple, min_excess: Some(m), .. } if multiple == dec!(0.5) && m == Decimal::ONE
    ));
    for code in ["150000", "640000"] {
        let p = b.resolve(r(code), d("2025-12-31"), 2024).unwrap();
        assert!(
            matches!(p.reward.value, RewardRule::MinimumWageMultiple { multiple, .. } if multiple == dec!(5)),
            "{code}"
        );
    }
}

#[test]
fn national_timeline_switches() {
    let b = book();
    let at = |s: &str| b.resolve(RegionCode::NATIONAL, d(s), 2020).unwrap();

    let p = at("2015-10-01");
    assert!(p.wage_cap_multiple.is_none());
    assert_eq!(
        p.exemption.value,
        ExemptionRule::SmallEnterprise {
            max_staff: 20,
            max_years_since_registration: Some(3)
        }
    );
    assert!(p.reduction_tiers.is_none());
    assert!(at("2017-03-31").wage_cap_multiple.is_none());

    let p = at("2017-04-01");
    assert_eq!(p.wage_cap_multiple.as_ref().unwrap().value, dec!(3));
    assert_eq!(
        p.exemption.value,
        ExemptionRule::SmallEnterprise {
            max_staff: 30,
            max_years_since_registration: None
        }
    );
    assert!(p.exemption.provisional, "the 18号 reading is a Choice");
    assert_eq!(at("2018-03-31").wage_cap_multiple.unwrap().value, dec!(3));

    let p = at("2018-04-01");
    assert_eq!(p.wage_cap_multiple.as_ref().unwrap().value, dec!(2));
    assert!(!p.exemption.provisional);
    assert!(p.reduction_tiers.is_none());
    assert!(at("2019-12-31").reduction_tiers.is_none());

    let p = at("2020-01-01");
    assert!(p
        .reduction_tiers
        .as_ref()
        .unwrap()
        .citation
        .contains("98号"));
    assert!(!p.wage_cap_multiple.as_ref().unwrap().provisional);

    let p = at("2027-12-31");
    assert!(p.reduction_tiers.is_some());
    assert!(matches!(
        p.exemption.value,
        ExemptionRule::SmallEnterprise { max_staff: 30, .. }
    ));

    let p = at("2028-01-01");
    assert_eq!(p.exemption.value, ExemptionRule::None);
    assert!(p.exemption.provisional);
    assert!(p.reduction_tiers.is_none());
    assert_eq!(p.wage_cap_multiple.as_ref().unwrap().value, dec!(2));
    assert!(p.wage_cap_multiple.as_ref().unwrap().provisional);
    // The view still cites the provisional "no tiers" row.
    let v = b.view(RegionCode::NATIONAL, d("2028-01-01"), None).unwrap();
    let t = v
        .parameters
        .iter()
        .find(|p| p.key == "reduction_tiers")
        .unwrap();
    assert!(t.value.is_null() && t.provisional && t.citation.is_some());
}

#[test]
fn lookup_errors() {
    let b = book();
    assert_eq!(
        b.resolve(r("410000"), d("2015-09-30"), 2014),
        Err(PolicyLookupError::AsOfTooEarly(d("2015-09-30")))
    );
    assert!(b.resolve(r("410000"), d("2015-10-01"), 2014).is_ok());
    assert_eq!(
        b.resolve(r("990000"), d("2025-10-31"), 2024),
        Err(PolicyLookupError::UnknownRegion(r("990000")))
    );
    assert_eq!(
        b.resolve(r("000001"), d("2025-10-31"), 2024),
        Err(PolicyLookupError::UnknownRegion(r("000001")))
    );
    assert_eq!(
        b.default_as_of(r("990000"), 2025),
        Err(PolicyLookupError::UnknownRegion(r("990000")))
    );
    assert!(matches!(
        b.default_as_of(r("410000"), 2014),
        Err(PolicyLookupError::AsOfTooEarly(_))
    ));
}

#[test]
fn default_as_of_is_the_filing_deadline() {
    let b = book();
    assert_eq!(b.default_as_of(r("411202"), 2025).unwrap(), d("2025-10-31"));
    assert_eq!(b.default_as_of(r("410000"), 2016).unwrap(), d("2016-10-31"));
    assert_eq!(b.default_as_of(r("110000"), 2025).unwrap(), d("2025-12-31"));
    assert_eq!(
        b.default_as_of(RegionCode::NATIONAL, 2015).unwrap(),
        d("2015-12-31")
    );
}

#[test]
fn counties_resolve_their_minimum_wage_tier() {
    let b = book();
    let hubin = b.resolve(r("411202"), d("2026-10-31"), 2025).unwrap();
    let jan = hubin.minimum_wage_by_month[0].as_ref().unwrap();
    assert_eq!(jan.value, dec!(2100));
    assert_eq!(jan.region, r("410000"));
    assert!(jan.citation.contains("tier 1") && jan.citation.contains("411202"));
    assert!(jan.provisional, "the tier is a choice");
    assert_eq!(
        hubin.minimum_wage_by_month[10].as_ref().unwrap().value,
        dec!(2100)
    );
    // The 2025-12-01 standard is in force on 31 December.
    assert_eq!(hubin.minimum_wage_year_end().unwrap().value, dec!(2350));

    let mianchi = b.resolve(r("411221"), d("2025-10-31"), 2024).unwrap();
    assert!(mianchi
        .minimum_wage_by_month
        .iter()
        .all(|m| m.as_ref().unwrap().value == dec!(1800)));
    assert!(
        mianchi.minimum_wage_by_month[0]
            .as_ref()
            .unwrap()
            .provisional
    );
    // 2018: the 2017-10-01 table until September, 豫政〔2018〕26号 from October.
    let lushi = b.resolve(r("411224"), d("2019-10-31"), 2018).unwrap();
    assert_eq!(
        lushi.minimum_wage_by_month[8].as_ref().unwrap().value,
        dec!(1420)
    );
    assert_eq!(
        lushi.minimum_wage_by_month[9].as_ref().unwrap().value,
        dec!(1500)
    );
    // Henan as a whole selects no tier: nothing is invented, and a note says so.
    let henan = b.resolve(r("410000"), d("2025-10-31"), 2024).unwrap();
    assert!(henan.minimum_wage_by_month.iter().all(Option::is_none));
    assert!(henan.notes.iter().any(|n| n.contains("minimum wage")));
}

#[test]
fn missing_average_wage_is_not_invented() {
    let b = book();
    let p = b.resolve(r("410000"), d("2023-10-31"), 2022).unwrap();
    assert!(p.social_average_wage.is_none());
    assert!(p.notes.iter().any(|n| n.contains("data year 2022")));
    // From 2020 the cap wants Henan's province-wide weighted average: Sanmenxia's own
    // 2019 city figure (63,836) is not it. None is published, so the Henan fallback
    // (province-wide urban non-private) stands in, provisionally, and a note says so.
    let p = b.resolve(r("411202"), d("2020-10-31"), 2019).unwrap();
    let s = p.social_average_wage.as_ref().unwrap();
    assert_eq!((s.value, s.region), (dec!(67268), r("410000")));
    assert!(s.provisional, "a stand-in for the weighted figure");
    let note = p
        .social_average_wage_stand_in
        .as_deref()
        .expect("stand-in note");
    assert!(note.contains("weighted social average wage for data year 2019 not found"));
    assert!(note.contains("加权") && note.contains("67268.00") && note.contains("43194.00"));
    // Before 2020 the series is urban non-private and the city's figure is "当地".
    let p = b.resolve(r("411202"), d("2019-10-31"), 2018).unwrap();
    let s = p.social_average_wage.unwrap();
    assert_eq!((s.value, s.region), (dec!(63268), r("411200")));
    // Regions without a fallback keep asking for the figure (no stand-in invented).
    let p = b.resolve(r("130000"), d("2023-10-31"), 2022).unwrap();
    assert!(p.social_average_wage.is_none() && p.social_average_wage_stand_in.is_none());
    // 2017 Henan figure, official, under the pre-2020 national series choice.
    let p = b.resolve(r("410000"), d("2018-10-31"), 2017).unwrap();
    assert_eq!(p.social_average_wage.unwrap().value, dec!(55495));
}

/// Data year 2021 of every province (中国统计年鉴2022 as reprinted, docs/policy-data.md):
/// (code, urban non-private, urban private).
const YEARBOOK_2021: &[(&str, Decimal, Decimal)] = &[
    ("110000", dec!(194651), dec!(100011)),
    ("120000", dec!(123528), dec!(65272)),
    ("130000", dec!(82526), dec!(48185)),
    ("140000", dec!(82413), dec!(45748)),
    ("150000", dec!(90426), dec!(51270)),
    ("210000", dec!(86062), dec!(50169)),
    ("220000", dec!(83028), dec!(47886)),
    ("230000", dec!(80369), dec!(42071)),
    ("310000", dec!(191844), dec!(96011)),
    ("320000", dec!(115133), dec!(68868)),
    ("330000", dec!(122309), dec!(69228)),
    ("340000", dec!(93861), dec!(56154)),
    ("350000", dec!(98071), dec!(62433)),
    ("360000", dec!(83766), dec!(52667)),
    ("370000", dec!(94768), dec!(56521)),
    ("410000", dec!(74872), dec!(48117)),
    ("420000", dec!(96994), dec!(56429)),
    ("430000", dec!(85438), dec!(54469)),
    ("440000", dec!(118133), dec!(73231)),
    ("450000", dec!(88170), dec!(48494)),
    ("460000", dec!(97471), dec!(62284)),
    ("500000", dec!(101670), dec!(59307)),
    ("510000", dec!(96741), dec!(57399)),
    ("520000", dec!(94487), dec!(51557)),
    ("530000", dec!(98730), dec!(48940)),
    ("540000", dec!(140355), dec!(66311)),
    ("610000", dec!(90996), dec!(52331)),
    ("620000", dec!(84500), dec!(47212)),
    ("630000", dec!(109346), dec!(50068)),
    ("640000", dec!(105266), dec!(55327)),
    ("650000", dec!(94281), dec!(56123)),
];

#[test]
fn the_levy_of_2022_uses_each_provinces_2021_figures() {
    let b = book();
    for &(code, non_private, private) in YEARBOOK_2021 {
        // The levy of 2022 reads data year 2021; the weighted figure is unknown, so the
        // province's own non-private figure stands in and the note names both bounds.
        let p = b.resolve(r(code), d("2022-10-31"), 2021).unwrap();
        let s = p
            .social_average_wage
            .as_ref()
            .unwrap_or_else(|| panic!("{code}: no 2021 figure"));
        assert_eq!((s.value, s.region), (non_private, r(code)), "{code}");
        assert!(s.provisional, "{code}: a secondary source and a stand-in");
        assert!(
            s.citation.contains("中国统计年鉴2022"),
            "{code}: {}",
            s.citation
        );
        let note = p
            .social_average_wage_stand_in
            .as_deref()
            .unwrap_or_default();
        let (np, pr) = (
            crate::domain::money::format_money(non_private),
            crate::domain::money::format_money(private),
        );
        assert!(
            note.contains("data year 2021") && note.contains(&np) && note.contains(&pr),
            "{code}: {note}"
        );
    }
    // A county takes its province's figure, never a city's own.
    let p = b.resolve(r("411224"), d("2022-10-31"), 2021).unwrap();
    let s = p.social_average_wage.unwrap();
    assert_eq!((s.value, s.region), (dec!(74872), r("410000")));
    // Data year 2022 stays missing: nothing is carried over from 2021.
    let p = b.resolve(r("410000"), d("2023-10-31"), 2022).unwrap();
    assert!(p.social_average_wage.is_none() && p.social_average_wage_stand_in.is_none());
    // Jiangsu's 2022 pair (中国统计年鉴2023 as reported) serves its levy of 2023.
    let p = b.resolve(r("320000"), d("2023-10-31"), 2022).unwrap();
    assert_eq!(p.social_average_wage.unwrap().value, dec!(121724));
    let note = p.social_average_wage_stand_in.unwrap_or_default();
    assert!(note.contains("71835.00"), "{note}");
}

#[test]
fn regions_without_a_pack_resolve_through_the_chain() {
    let b = book();
    let p = b.resolve(r("411299"), d("2025-10-31"), 2024).unwrap();
    assert_eq!(p.region, r("411299"));
    assert_eq!(p.quota_ratio.value, dec!(0.016));
    assert!(p.notes[0].contains("411299") && p.notes[0].contains("411200 → 410000 → 000000"));
    // City tier 1 applies to an unknown county of Sanmenxia.
    assert_eq!(
        p.minimum_wage_by_month[0].as_ref().unwrap().value,
        dec!(2100)
    );
    let zz = b.resolve(r("410100"), d("2025-10-31"), 2024).unwrap();
    assert!(zz.notes[0].contains("no policy pack of its own"));
}

#[test]
fn view_and_show() {
    let b = book();
    let v = b.view(r("411202"), d("2025-10-31"), None).unwrap();
    assert_eq!(v.data_year, 2024);
    assert!(v.provisional);
    let json = serde_json::to_value(&v).unwrap();
    let params = json["parameters"].as_array().unwrap();
    let find = |k: &str| params.iter().find(|p| p["key"] == k).unwrap().clone();
    assert_eq!(find("quota_ratio")["value"], "0.016");
    assert_eq!(find("social_average_wage")["value"], "86199.00");
    assert_eq!(find("minimum_wage_monthly")["value"], "2100.00");
    assert_eq!(find("reward")["value"]["kind"], "none");
    assert_eq!(find("reward")["region"], "411200");
    assert_eq!(find("filing_deadline")["value"], "2025-10-31");
    assert_eq!(
        find("certification_window")["value"]["closes"],
        "2025-10-31"
    );
    assert_eq!(json["chain"][0]["name"], "湖滨区");

    let text = show(&b, r("411202"), Some(d("2025-10-31"))).unwrap();
    assert!(text.contains("quota_ratio: 1.6%"));
    assert!(text.contains("河南省人民政府令第127号"));
    assert!(text.contains("(provisional)"));
    assert!(text.contains("from 411200: 三政〔2016〕23号"));
    assert!(show(&b, r("990000"), None).is_err());
    let gz = serde_json::to_value(b.view(r("520000"), d("2025-12-31"), None).unwrap()).unwrap();
    let reward = gz["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "reward")
        .unwrap()
        .clone();
    assert_eq!(reward["value"]["amount"], "2000.00");
    assert_eq!(reward["value"]["cap"], "100000.00");
}

// ---- strictness ---------------------------------------------------------------------------

#[test]
fn unknown_key_names_file_line_and_key() {
    let src = format!(
        "{HENAN_HEAD}\n[[quota_ratio]]\nfrom = 2010-01-01\nvalue = \"1.6%\"\ncitation = \"x\"\nconfidence = \"S\"\nratio = 1\n"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("410000-henan.toml:11: quota_ratio[0].ratio: unknown field `ratio`"),
        "{e:?}"
    );
    // Also at the top level, and inside a value table.
    let e = one_bad(
        "410000-henan.toml",
        &format!("quota_ratios = []\n{HENAN_HEAD}"),
    );
    assert!(
        e[0].starts_with("410000-henan.toml:1: quota_ratios: unknown field"),
        "{e:?}"
    );
    let src = format!(
        "{HENAN_HEAD}\n[[exemption]]\nfrom = 2016-01-01\nvalue = {{ max_staf = 30 }}\ncitation = \"x\"\nconfidence = \"S\"\n"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert!(
        e[0].starts_with("410000-henan.toml:8: exemption[0].value.max_staf: unknown field"),
        "{e:?}"
    );
}

#[test]
fn missing_or_empty_citation_is_an_error() {
    let src = format!(
        "{HENAN_HEAD}\n[[quota_ratio]]\nfrom = 2010-01-01\nvalue = \"1.6%\"\nconfidence = \"S\"\n"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert!(
        e[0].starts_with("410000-henan.toml:6: quota_ratio[0]: missing field `citation`"),
        "{e:?}"
    );
    let src = format!(
        "{HENAN_HEAD}\n[[quota_ratio]]\nfrom = 2010-01-01\nvalue = \"1.6%\"\ncitation = \"  \"\nconfidence = \"S\"\n"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert!(
        e[0].starts_with(
            "410000-henan.toml:9: quota_ratio[0].citation: citation must not be empty"
        ),
        "{e:?}"
    );
}

#[test]
fn overlapping_ranges_are_an_error() {
    let src = format!(
        "{HENAN_HEAD}
[[quota_ratio]]
from = 2010-01-01
to = 2020-06-30
value = \"1.6%\"
citation = \"a\"
confidence = \"S\"

[[quota_ratio]]
from = 2020-01-01
value = \"1.5%\"
citation = \"b\"
confidence = \"S\"

[[minimum_wage_tiers]]
from = 2024-01-01
value = [2100]
citation = \"c\"
confidence = \"S\"

[[minimum_wage_tiers]]
from = 2024-01-01
value = [2200]
citation = \"d\"
confidence = \"S\"
"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert_eq!(e.len(), 2, "every overlap is reported: {e:?}");
    assert!(
        e[0].starts_with("410000-henan.toml:13: quota_ratio: dates overlap"),
        "{e:?}"
    );
    assert!(e[0].contains("line 6"));
    assert!(
        e[1].starts_with("410000-henan.toml:25: minimum_wage_tiers: dates overlap"),
        "{e:?}"
    );
}

#[test]
fn bad_dates_and_values_are_errors() {
    let src = format!(
        "{HENAN_HEAD}
[[quota_ratio]]
from = 2020-01-01
to = 2019-01-01
value = \"1.6%\"
citation = \"a\"
confidence = \"S\"

[[quota_ratio]]
from = 2021-01-01
value = \"160%\"
citation = \"a\"
confidence = \"S\"

[[social_average_wage]]
data_year = 2024
series = \"urban_non_private\"
value = -86199
citation = \"a\"
confidence = \"S2\"

[[minimum_wage]]
from = 2024-01-01
value = 2100.5
citation = \"a\"
confidence = \"S\"

[[payment_due]]
from = 2024-01-01
value = \"02-29\"
citation = \"a\"
confidence = \"choice\"

[[filing_deadline]]
from = 2024-01-01
value = \"10-31\"
citation = \"a\"
confidence = \"S2\"
provisional = false
"
    );
    let e = one_bad("410000-henan.toml", &src);
    let all = e.join("\n");
    assert!(
        all.contains(
            "410000-henan.toml:8: quota_ratio[0].to: `to` 2019-01-01 is before `from` 2020-01-01"
        ),
        "{all}"
    );
    assert!(all.contains("410000-henan.toml:15: quota_ratio[1].value: quota ratio 1.6 must lie strictly between 0 and 1"), "{all}");
    assert!(all.contains("410000-henan.toml:22: social_average_wage[0].value: average wage -86199 must be positive"), "{all}");
    assert!(
        all.contains("410000-henan.toml:28: minimum_wage[0].value: 2100.5 is a TOML float"),
        "{all}"
    );
    assert!(
        all.contains("410000-henan.toml:34: payment_due[0].value:"),
        "{all}"
    );
    assert!(all.contains("410000-henan.toml:43: filing_deadline[0].provisional: provisional = false needs confidence = \"S\""), "{all}");
    assert_eq!(e.len(), 6, "{all}");
}

#[test]
fn region_code_must_match_the_file_and_the_tree() {
    // Code does not match the file name.
    let e = one_bad(
        "410000-henan.toml",
        "[region]\ncode = \"420000\"\nname = \"湖北省\"\nname_en = \"Hubei\"\n",
    );
    assert!(
        e[0].starts_with("410000-henan.toml:2: region.code: region code 420000 does not match"),
        "{e:?}"
    );
    // Not a code at all.
    let e = one_bad(
        "41-henan.toml",
        "[region]\ncode = \"41\"\nname = \"河南省\"\nname_en = \"Henan\"\n",
    );
    assert!(
        e[0].starts_with("41-henan.toml:2: region.code: a region code is six digits"),
        "{e:?}"
    );
    // A county without its city and province.
    let e = one_bad(
        "411202-hubin.toml",
        "[region]\ncode = \"411202\"\nname = \"湖滨区\"\nname_en = \"Hubin\"\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("411202-hubin.toml:2: region.code: region 411202 needs a pack for 411200"),
        "{e:?}"
    );
    assert!(e[1].contains("needs a pack for 410000"), "{e:?}");
    // The same region twice.
    let e = issues_of(&[
        ("000000-national.toml", NATIONAL),
        ("410000-henan.toml", HENAN_HEAD),
        ("410000-henan-copy.toml", HENAN_HEAD),
    ]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].to_string().starts_with("410000-henan-copy.toml:2: region.code: region 410000 is already defined in 410000-henan.toml"));
    // No national pack.
    let e = issues_of(&[("410000-henan.toml", HENAN_HEAD)]);
    assert!(
        e.iter().any(|i| i.message.contains("no national pack")),
        "{e:?}"
    );
}

#[test]
fn reward_keys_must_fit_the_kind() {
    let src = format!(
        "{HENAN_HEAD}\n[[reward]]\nfrom = 2020-01-01\nvalue = {{ kind = \"minimum_wage_multiple\", multiple = 5, persons = \"whole\", cap = 100 }}\ncitation = \"x\"\nconfidence = \"S2\"\n\n[[reward]]\nfrom = 2021-01-01\nvalue = {{ kind = \"fixed_per_person\", persons = \"whole\" }}\ncitation = \"x\"\nconfidence = \"S2\"\n"
    );
    let e = one_bad("410000-henan.toml", &src);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("410000-henan.toml:8: reward[0].value.cap: `cap` does not apply"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with(
            "410000-henan.toml:14: reward[1].value.amount: this kind of reward rule needs `amount`"
        ),
        "{e:?}"
    );
}

#[test]
fn national_pack_must_cover_every_day() {
    let gap = NATIONAL.replacen(
        "from = 2017-04-01\nto = 2018-03-31\nvalue = 3",
        "from = 2017-05-01\nto = 2018-03-31\nvalue = 3",
        1,
    );
    let e = issues_of(&[("000000-national.toml", &gap)]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].key.as_deref(), Some("wage_cap_multiple"));
    assert!(e[0].message.contains("gap"), "{e:?}");
}

#[test]
fn load_dir_collects_errors_across_files_with_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("000000-national.toml"), NATIONAL).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a pack").unwrap();
    std::fs::write(
        dir.path().join("410000-henan.toml"),
        format!("{HENAN_HEAD}\n[[quota_ratio]]\nfrom = 2010-01-01\nvalue = \"1.6%\"\nconfidence = \"S\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("110000-beijing.toml"),
        "[region]\ncode = \"110000\"\nname = \"北京市\"\nname_en = \"Beijing\"\ncolour = \"red\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("120000-tianjin.toml"), "[region\ncode = ").unwrap();
    let err = PolicyBook::load_dir(dir.path()).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.issues.len(), 3, "{text}");
    let henan = dir.path().join("410000-henan.toml").display().to_string();
    let beijing = dir.path().join("110000-beijing.toml").display().to_string();
    let tianjin = dir.path().join("120000-tianjin.toml").display().to_string();
    assert!(
        text.contains(&format!(
            "{henan}:6: quota_ratio[0]: missing field `citation`"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{beijing}:5: region.colour: unknown field `colour`"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{tianjin}:1")), "{text}");
    let report = check_report(Some(dir.path()));
    assert!(!report.is_ok());
    assert_eq!(report.files, 4);
    assert!(report.render_text().contains("3 error(s)"));
    // A folder that does not exist is an error, not an empty book.
    assert!(PolicyBook::load_dir(&dir.path().join("nope")).is_err());
}

#[test]
fn load_prefers_a_configured_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("000000-national.toml"), NATIONAL).unwrap();
    let b = PolicyBook::load(Some(dir.path())).unwrap();
    assert_eq!(b.packs().count(), 1);
    assert_eq!(b.source(), dir.path().display().to_string());
    assert_eq!(PolicyBook::load(None).unwrap().source(), "embedded");
}

/// Citations are shown to employers and officers: they name a legal source or the
/// project's own docs (docs/rules.md, docs/policy-data.md), never a working file that is
/// not in the repository.
#[test]
fn citations_name_no_file_outside_the_repository() {
    fn of<T>(t: &super::model::Timeline<T>, out: &mut Vec<(usize, String)>) {
        out.extend(t.entries().iter().map(|e| (e.line, e.citation.clone())));
    }
    let mut checked = 0;
    for pack in book().packs() {
        let mut c = Vec::new();
        of(&pack.quota_ratio, &mut c);
        of(&pack.wage_cap_multiple, &mut c);
        of(&pack.average_wage_series, &mut c);
        of(&pack.minimum_wage, &mut c);
        of(&pack.minimum_wage_tiers, &mut c);
        of(&pack.minimum_wage_tier, &mut c);
        of(&pack.exemption, &mut c);
        of(&pack.reduction_tiers, &mut c);
        of(&pack.fresh_graduate_full_year, &mut c);
        of(&pack.reward, &mut c);
        of(&pack.surcharge_daily_rate, &mut c);
        of(&pack.surcharge_capped_at_principal, &mut c);
        of(&pack.filing_deadline, &mut c);
        of(&pack.payment_due, &mut c);
        of(&pack.certification_window, &mut c);
        of(&pack.threshold_government_agency, &mut c);
        of(&pack.threshold_public_institution, &mut c);
        of(&pack.notes, &mut c);
        // Notes and reward notes are read as sentences: the same rule holds for them.
        c.extend(
            pack.notes
                .entries()
                .iter()
                .map(|e| (e.line, e.value.clone())),
        );
        c.extend(pack.reward.entries().iter().filter_map(|e| match &e.value {
            RewardRule::None { note } => Some((e.line, note.clone())),
            _ => None,
        }));
        c.extend(
            pack.social_average_wage
                .iter()
                .map(|f| (f.line, f.citation.clone())),
        );
        for (line, text) in c {
            checked += 1;
            assert!(
                !text.trim().is_empty(),
                "{}:{line}: empty citation",
                pack.file
            );
            // docs/policy-data.md is the project's own document; a bare policy-data.md
            // is not.
            let rest = text.replace("docs/policy-data.md", "");
            for name in ["levy-rules", "policy-data.md", "design.md"] {
                assert!(
                    !rest.contains(name),
                    "{}:{line}: the citation names {name}: {text}",
                    pack.file
                );
            }
        }
    }
    assert!(checked > 100, "every pack's citations, {checked} checked");
}
