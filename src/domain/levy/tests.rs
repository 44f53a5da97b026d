//! Tests of the levy engine: the worked examples of docs/rules.md §10, every boundary of
//! the rules, counting rules, rewards, the explanation (recomputed from its own inputs) and
//! property tests.

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::fixtures::{date, henan, henan_2025, national, national_2025};
use super::*;
use crate::domain::ids::DisabilityCertificate;
use crate::domain::money::{format_count, format_money};
use crate::domain::policy::{Cited, ReductionTiers};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A valid certificate number for holder `seq`, computed by a straightforward
/// implementation of GB 11643-1999 (not the one under test).
pub(crate) fn cert_no(seq: u32, category: u8, grade: u8) -> String {
    let body = format!("41120219900101{:03}", seq % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}{category}{grade}")
}

fn cert(seq: u32, grade: u8) -> Certificate {
    Certificate::Disability(DisabilityCertificate::parse(&cert_no(seq, 4, grade)).expect("valid"))
}

fn employee(seq: u32, grade: u8, months: &[u8]) -> DisabledEmployee {
    DisabledEmployee {
        certificate: cert(seq, grade),
        employment: Employment::Months(MonthSet::from_months(months).expect("months")),
        on_establishment: true,
        contract_months: None,
        social_insurance_paid: true,
        monthly_wage: None,
        fresh_graduate: false,
        disputed: MonthSet::EMPTY,
        counted_elsewhere: MonthSet::EMPTY,
        retirement_track: None,
        dispatch: None,
    }
}

const ALL: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

fn input(kind: EmployerKind, staff: Staff, w: Decimal, disabled: Disabled) -> LevyInput {
    LevyInput {
        employer_kind: kind,
        registered_on: None,
        staff,
        wages: Some(Wages::Average(w)),
        disabled,
        overrides: Overrides {
            social_average_wage: Some(dec!(1000000)),
            ..Default::default()
        },
    }
}

fn avg(n: Decimal) -> Staff {
    Staff::Average(n)
}

fn none() -> Disabled {
    Disabled::Roster(Vec::new())
}

fn calc(p: &ResolvedPolicy, i: &LevyInput) -> LevyResult {
    let full = calculate(p, i, ExplainMode::Full(Language::Zh)).expect("calculates");
    let figures = calculate(p, i, ExplainMode::FiguresOnly).expect("calculates");
    assert!(
        figures.explanation.is_empty(),
        "figures-only builds no explanation"
    );
    assert_eq!(
        LevyResult {
            explanation: Explanation::default(),
            ..full.clone()
        },
        figures,
        "same figures either way"
    );
    check_explanation(&full);
    full
}

fn at(s: &str) -> ResolvedPolicy {
    let d = date(s);
    national("130000".parse().expect("code"), d, d.year() - 1)
}

use chrono::Datelike;

// ---------------------------------------------------------------------------------------
// Recomputing the explanation from its own inputs
// ---------------------------------------------------------------------------------------

fn num(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("not a decimal: {s}"))
}

fn tw(s: &str) -> Twelfths {
    parse_exact(s).unwrap_or_else(|| panic!("not an exact count: {s}"))
}

/// Recomputes every step's result from the step's inputs and checks it against the
/// step's result and the result's figures.
pub(crate) fn check_explanation(r: &LevyResult) {
    let twelve = dec!(12);
    let mut weighted_sum = 0u32;
    let mut seen = Vec::new();
    for s in r.explanation.iter() {
        let i = |k: &str| {
            s.input(k)
                .unwrap_or_else(|| panic!("{}: no input {k}", s.step()))
        };
        assert!(
            !s.text().is_empty() && !s.citation().is_empty(),
            "{}: text and citation",
            s.step()
        );
        // The sentence is for the employer: no notation, no untranslated words.
        for bad in [
            "=",
            "×",
            "÷",
            "Σ",
            "−",
            "max(",
            "W_used",
            "/disabled_employees",
        ] {
            assert!(
                !s.text().contains(bad),
                "{}: {bad:?} in {}",
                s.step(),
                s.text()
            );
        }
        assert!(
            !s.text().contains("provisional"),
            "{}: {}",
            s.step(),
            s.text()
        );
        seen.push(s.step());
        match s.step() {
            "average_headcount" => {
                let n = if let Some(list) = s.input("monthly_headcount") {
                    let sum: u64 = list
                        .split(',')
                        .map(|x| x.parse::<u64>().expect("int"))
                        .sum();
                    assert_eq!(num(i("sum")), Decimal::from(sum));
                    Twelfths::from_twelfths(Decimal::from(sum))
                } else if let Some(k) = s.input("taken_as") {
                    // A rounded twelfth: within 0.00005 of the twelfth it is taken as.
                    let taken = tw(k);
                    let given = Twelfths::from_value(num(i("average_headcount"))).expect("fits");
                    let diff = (taken.twelfths() - given.twelfths()).abs();
                    assert!(diff > Decimal::ZERO && diff < dec!(0.0006), "{k}");
                    taken
                } else {
                    Twelfths::from_value(num(i("average_headcount"))).expect("fits")
                };
                assert_eq!(tw(s.result()), n);
                assert_eq!(n, r.staff);
            }
            "disabled_employee" => {
                let w: u32 = i("weight").parse().expect("int");
                let m: u32 = i("counted_months").parse().expect("int");
                assert_eq!(s.result(), (w * m).to_string());
                weighted_sum += w * m;
            }
            "disabled_counted" => {
                let d = match s.input("weighted_months") {
                    Some(wm) => {
                        assert_eq!(num(wm), Decimal::from(weighted_sum), "Σ of employee steps");
                        Twelfths::from_twelfths(num(wm))
                    }
                    None => Twelfths::from_value(num(i("disabled_count"))).expect("fits"),
                };
                assert_eq!(tw(s.result()), d);
                assert_eq!(d, r.disabled);
            }
            "required" => {
                let req = tw(i("N")).twelfths() * num(i("q"));
                assert_eq!(tw(s.result()).twelfths(), req);
                assert_eq!(tw(s.result()), r.required);
            }
            "shortfall" => {
                let v = tw(i("required")).saturating_sub(tw(i("D")));
                assert_eq!(tw(s.result()), v);
                assert_eq!(v, r.shortfall);
            }
            "average_wage" => {
                let w = match s.input("total_wages") {
                    Some(t) => exact::mul_div_round(&[num(t), twelve], tw(i("N")).twelfths(), 2)
                        .expect("fits"),
                    None => num(i("average_wage")),
                };
                assert_eq!(s.result(), format_money(w));
                assert_eq!(Some(w), r.average_wage);
            }
            "wage_cap" => {
                let w = num(i("W"));
                let used = match s.input("k") {
                    Some(k) => w.min(num(k) * num(i("S"))),
                    None => w,
                };
                assert_eq!(s.result(), format_money(used));
                assert_eq!(Some(used), r.wage_used);
            }
            "fee_due" => {
                let fee = match s.input("shortfall") {
                    Some(sf) => {
                        exact::mul_div_round(&[tw(sf).twelfths(), num(i("W_used"))], twelve, 2)
                            .expect("fits")
                    }
                    None => Decimal::ZERO,
                };
                assert_eq!(s.result(), format_money(fee));
                assert_eq!(fee, r.fee_due);
            }
            "employment_ratio" => {
                let ratio =
                    exact::mul_div_round(&[tw(i("D")).twelfths()], tw(i("N")).twelfths(), 6)
                        .expect("fits");
                assert_eq!(s.result(), format_count(ratio, 6));
                assert_eq!(Some(ratio), r.employment_ratio(6));
            }
            "exemption" => assert_eq!(s.result(), r.exempt.to_string()),
            "reduction" => {
                let red = if s.inputs().next().is_none() {
                    Decimal::ZERO
                } else {
                    let bar = num(i("threshold")) * tw(i("N")).twelfths();
                    let share = if tw(i("D")).twelfths() >= bar {
                        num(i("share_at_or_above"))
                    } else {
                        num(i("share_below"))
                    };
                    assert_eq!(num(i("share")), share);
                    crate::domain::money::round2(num(i("fee_due")) * (Decimal::ONE - share))
                };
                assert_eq!(s.result(), format_money(red));
                assert_eq!(red, r.reduction);
            }
            "payable" => {
                let pay = if s.input("exempt").is_some() {
                    Decimal::ZERO
                } else {
                    num(i("fee_due")) - num(i("reduction"))
                };
                assert_eq!(s.result(), format_money(pay));
                assert_eq!(pay, r.payable);
            }
            "over_quota" => {
                let v = tw(i("D")).saturating_sub(tw(i("required")));
                assert_eq!(tw(s.result()), v);
                assert_eq!(v, r.over_quota);
            }
            "reward" => {
                if let Some(mw) = s.input("minimum_wage") {
                    let persons = tw(i("persons"));
                    let over = tw(i("over_quota"));
                    assert!(persons <= over);
                    let v = exact::mul_div_round(
                        &[persons.twelfths(), num(i("multiple")), num(mw)],
                        twelve,
                        2,
                    )
                    .expect("fits");
                    assert_eq!(s.result(), format_money(v));
                } else if let Some(per) = s.input("amount_per_person") {
                    let mut v =
                        exact::mul_div_round(&[tw(i("persons")).twelfths(), num(per)], twelve, 2)
                            .expect("fits");
                    if let Some(c) = s.input("cap") {
                        v = v.min(num(c));
                    }
                    assert_eq!(s.result(), format_money(v));
                }
                assert_eq!(s.result(), format_money(r.reward));
            }
            other => panic!("unknown step {other}"),
        }
    }
    for must in [
        "average_headcount",
        "disabled_counted",
        "required",
        "shortfall",
        "fee_due",
        "exemption",
        "reduction",
        "payable",
        "over_quota",
        "reward",
    ] {
        assert!(seen.contains(&must), "step {must} missing");
    }
    if !r.staff.is_zero() {
        for must in ["average_wage", "wage_cap", "employment_ratio"] {
            assert!(seen.contains(&must), "step {must} missing");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Worked examples (docs/rules.md §10), directly on the engine
// ---------------------------------------------------------------------------------------

#[test]
fn worked_examples_national() {
    let p = national_2025();
    let e = EmployerKind::Enterprise;
    let cases: [(EmployerKind, Decimal, Decimal, Decimal, &str, &str, &str); 8] = [
        (
            e,
            dec!(100),
            dec!(0),
            dec!(120000),
            "180000.00",
            "18000.00",
            "162000.00",
        ),
        (
            e,
            dec!(100),
            dec!(1),
            dec!(120000),
            "60000.00",
            "30000.00",
            "30000.00",
        ),
        (e, dec!(100), dec!(2), dec!(120000), "0.00", "0.00", "0.00"),
        (
            e,
            dec!(31),
            dec!(0),
            dec!(100000),
            "46500.00",
            "4650.00",
            "41850.00",
        ),
        (
            e,
            dec!(30),
            dec!(0),
            dec!(100000),
            "45000.00",
            "0.00",
            "0.00",
        ),
        (
            EmployerKind::PublicInstitution,
            dec!(30),
            dec!(0),
            dec!(100000),
            "45000.00",
            "4500.00",
            "40500.00",
        ),
        (
            e,
            dec!(200),
            dec!(0),
            dec!(80000),
            "240000.00",
            "24000.00",
            "216000.00",
        ),
        (e, dec!(200), dec!(3), dec!(70000), "0.00", "0.00", "0.00"),
    ];
    for (kind, n, d, w, fee, red, pay) in cases {
        let r = calc(&p, &input(kind, avg(n), w, Disabled::Certified(d)));
        assert_eq!(
            (
                format_money(r.fee_due).as_str(),
                format_money(r.reduction).as_str(),
                format_money(r.payable).as_str()
            ),
            (fee, red, pay),
            "N {n} D {d}"
        );
    }
}

#[test]
fn example_7_wage_cap() {
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(300000),
        none(),
    );
    i.overrides.social_average_wage = Some(dec!(96000));
    let r = calc(&national_2025(), &i);
    assert_eq!(r.wage_used, Some(dec!(192000)));
    assert_eq!(r.fee_due, dec!(288000.00));
    assert_eq!(r.payable, dec!(259200.00));
    assert!(r.what_if);
}

#[test]
fn example_8_exact_twelfths() {
    let mut h = [32u32; 12];
    h[8..].fill(33);
    let r = calc(
        &national_2025(),
        &input(
            EmployerKind::Enterprise,
            Staff::Monthly(h),
            dec!(36292.00),
            none(),
        ),
    );
    assert_eq!(r.staff.twelfths(), dec!(388));
    assert_eq!(r.fee_due, dec!(17601.62));
    assert_eq!(r.reduction, dec!(1760.16));
    assert_eq!(r.payable, dec!(15841.46));
    assert_eq!(r.explanation.get(0).expect("step").result(), "388/12");
}

#[test]
fn example_9_no_tiers() {
    let r = calc(
        &at("2019-10-31"),
        &input(
            EmployerKind::Enterprise,
            avg(dec!(201)),
            dec!(99502.49),
            Disabled::Certified(dec!(0.83)),
        ),
    );
    assert_eq!(r.fee_due, dec!(217412.94));
    assert_eq!(r.reduction, dec!(0));
    assert_eq!(r.payable, dec!(217412.94));
    assert!(r.tier.is_none());
}

#[test]
fn example_10_grade_two_weighs_two() {
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(200)),
        dec!(80000),
        Disabled::Roster(vec![employee(1, 2, &ALL)]),
    );
    let r = calc(&national_2025(), &i);
    assert_eq!(r.disabled.round(4), dec!(2));
    assert_eq!(r.employment_ratio(6), Some(dec!(0.01)));
    assert_eq!(r.fee_due, dec!(80000.00));
    assert_eq!(r.payable, dec!(40000.00));
}

#[test]
fn henan_examples() {
    let p = henan_2025();
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Certified(dec!(1)),
        ),
    );
    assert_eq!(r.shortfall.round(4), dec!(0.6));
    assert_eq!((r.fee_due, r.payable), (dec!(42000.00), dec!(21000.00)));
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(200)),
            dec!(70000),
            Disabled::Certified(dec!(3)),
        ),
    );
    assert_eq!(r.shortfall.round(4), dec!(0.2));
    assert_eq!((r.fee_due, r.payable), (dec!(14000.00), dec!(7000.00)));
    let r = calc(
        &national_2025(),
        &input(
            EmployerKind::Enterprise,
            avg(dec!(200)),
            dec!(70000),
            Disabled::Certified(dec!(3)),
        ),
    );
    assert_eq!(r.payable, dec!(0));
}

// ---------------------------------------------------------------------------------------
// Boundaries
// ---------------------------------------------------------------------------------------

#[test]
fn staff_20_21_under_2015_rules_and_the_window() {
    let p = at("2016-06-30");
    let mut i = input(EmployerKind::Enterprise, avg(dec!(20)), dec!(50000), none());
    i.registered_on = Some(date("2015-01-01"));
    assert!(calc(&p, &i).exempt);
    i.staff = avg(dec!(21));
    assert!(!calc(&p, &i).exempt);
    // 20.0001 is above 20.
    i.staff = avg(dec!(20.0001));
    assert!(!calc(&p, &i).exempt);
    // Registration needed only when the window decides.
    i.registered_on = None;
    assert!(!calc(&p, &i).exempt);
    i.staff = avg(dec!(20));
    assert_eq!(
        calculate(&p, &i, ExplainMode::FiguresOnly),
        Err(LevyError::MissingRegistrationDate { years: 3 })
    );
}

#[test]
fn staff_30_31_from_2017() {
    let p = national_2025();
    let i = input(
        EmployerKind::Enterprise,
        Staff::Monthly([30; 12]),
        dec!(100000),
        none(),
    );
    assert!(calc(&p, &i).exempt);
    let mut h = [30u32; 12];
    h[11] = 31; // N = 361/12 > 30
    let i = input(
        EmployerKind::Enterprise,
        Staff::Monthly(h),
        dec!(100000),
        none(),
    );
    let r = calc(&p, &i);
    assert!(!r.exempt);
    assert!(r.payable > Decimal::ZERO);
}

#[test]
fn three_year_window_day() {
    let mut i = input(EmployerKind::Enterprise, avg(dec!(10)), dec!(50000), none());
    i.registered_on = Some(date("2013-06-15"));
    assert!(
        calc(&at("2016-06-15"), &i).exempt,
        "the anniversary itself is within 3 years"
    );
    assert!(!calc(&at("2016-06-16"), &i).exempt);
}

#[test]
fn window_from_29_february() {
    assert_eq!(add_years(date("2016-02-29"), 3), Some(date("2019-02-28")));
    assert_eq!(add_years(date("2016-02-29"), 4), Some(date("2020-02-29")));
    assert_eq!(add_years(date("2015-03-01"), 3), Some(date("2018-03-01")));
    // A hand-built policy with the start-up window on dates where 29 February matters.
    let mut p = at("2016-06-30");
    let mut i = input(EmployerKind::Enterprise, avg(dec!(10)), dec!(50000), none());
    i.registered_on = Some(date("2016-02-29"));
    p.as_of = date("2019-02-28");
    assert!(calc(&p, &i).exempt);
    p.as_of = date("2019-03-01");
    assert!(!calc(&p, &i).exempt);
}

#[test]
fn ratio_exactly_one_percent() {
    let p = national_2025();
    // D 1 of N 100: r = 1 % exactly → 50 %.
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(120000),
            Disabled::Certified(dec!(1)),
        ),
    );
    assert_eq!(r.tier.map(|t| t.share), Some(dec!(0.5)));
    // D 0.9999: just below → 90 %.
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(120000),
            Disabled::Certified(dec!(0.9999)),
        ),
    );
    assert_eq!(r.tier.map(|t| t.share), Some(dec!(0.9)));
    // N 1201/12, D 1: r = 12/1201 < 1 %? 1 % of 100.0833 is 1.000833 > 1 → below.
    let mut h = [100u32; 12];
    h[0] = 101;
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            Staff::Monthly(h),
            dec!(120000),
            Disabled::Certified(dec!(1)),
        ),
    );
    assert_eq!(r.tier.map(|t| t.share), Some(dec!(0.9)));
}

#[test]
fn wage_exactly_at_the_cap() {
    let p = national_2025();
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(192000.00),
        none(),
    );
    i.overrides.social_average_wage = Some(dec!(96000));
    let r = calc(&p, &i);
    assert_eq!(
        (r.average_wage, r.wage_used),
        (Some(dec!(192000.00)), Some(dec!(192000.00)))
    );
    i.wages = Some(Wages::Average(dec!(192000.01)));
    let r = calc(&p, &i);
    assert_eq!(r.wage_used, Some(dec!(192000)));
}

#[test]
fn weights_for_grades() {
    assert_eq!(cert(1, 1).weight(), 2);
    assert_eq!(cert(1, 2).weight(), 2);
    assert_eq!(cert(1, 3).weight(), 1);
    assert_eq!(cert(1, 4).weight(), 1);
    let vet = |g| Certificate::Veteran {
        number: crate::domain::ids::VeteranCertificate::parse("军残字第0001号").expect("ok"),
        grade: VeteranGrade::new(g).expect("grade"),
    };
    assert_eq!(vet(3).weight(), 2);
    assert_eq!(vet(4).weight(), 1);
    assert_eq!(vet(8).weight(), 1);
    assert!(VeteranGrade::new(9).is_none());
    assert!(VeteranGrade::new(0).is_none());
    // In a calculation: grade 3 all year counts 1, grade 2 counts 2.
    let p = national_2025();
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(200)),
            dec!(80000),
            Disabled::Roster(vec![employee(1, 3, &ALL)]),
        ),
    );
    assert_eq!(r.disabled.round(4), dec!(1));
    let mut e = employee(2, 4, &ALL);
    e.certificate = vet(3);
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(200)),
            dec!(80000),
            Disabled::Roster(vec![e]),
        ),
    );
    assert_eq!(r.disabled.round(4), dec!(2));
}

#[test]
fn half_fen_rounds_up() {
    let p = national_2025();
    // shortfall 1.5 × 12,345.67 = 18,518.505 exactly → 18,518.51 (banker's would say .50)
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(12345.67),
            none(),
        ),
    );
    assert_eq!(r.fee_due, dec!(18518.51));
    // reduction 10 % of 18,518.51 = 1,851.851 → 1,851.85
    assert_eq!(r.reduction, dec!(1851.85));
    // shortfall 0.5 × W 0.10 = fee 0.05; r = 1 % → share 0.5 → reduction exactly 0.025 → 0.03
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(0.10),
            Disabled::Certified(dec!(1)),
        ),
    );
    assert_eq!(r.fee_due, dec!(0.05));
    assert_eq!(r.reduction, dec!(0.03));
    assert_eq!(r.payable, dec!(0.02));
}

#[test]
fn switch_2017_04_01() {
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(25)),
        dec!(300000),
        none(),
    );
    i.registered_on = Some(date("2010-01-01"));
    i.overrides.social_average_wage = Some(dec!(96000));
    let before = calc(&at("2017-03-31"), &i);
    assert!(!before.exempt, "≤ 20 and within 3 years until 2017-03-31");
    assert_eq!(
        before.wage_used,
        Some(dec!(300000)),
        "no cap before 2017-04-01"
    );
    let after = calc(&at("2017-04-01"), &i);
    assert!(after.exempt, "every enterprise ≤ 30 from 2017-04-01");
    assert_eq!(after.wage_used, Some(dec!(288000)), "3 × S");
}

#[test]
fn switch_2018_04_01() {
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(300000),
        none(),
    );
    i.overrides.social_average_wage = Some(dec!(96000));
    assert_eq!(calc(&at("2018-03-31"), &i).wage_used, Some(dec!(288000)));
    assert_eq!(calc(&at("2018-04-01"), &i).wage_used, Some(dec!(192000)));
}

#[test]
fn switch_2020_01_01() {
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(120000),
        none(),
    );
    let r = calc(&at("2019-12-31"), &i);
    assert_eq!((r.fee_due, r.payable), (dec!(180000), dec!(180000)));
    let r = calc(&at("2020-01-01"), &i);
    assert_eq!((r.fee_due, r.payable), (dec!(180000), dec!(162000)));
}

#[test]
fn switch_2028_01_01() {
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(30)),
        dec!(100000),
        none(),
    );
    let r = calc(&at("2027-12-31"), &i);
    assert!(r.exempt);
    assert!(!r.provisional);
    let r = calc(&at("2028-01-01"), &i);
    assert!(!r.exempt, "no exemption from 2028 (provisional)");
    assert!(r.tier.is_none(), "no tiers from 2028");
    assert_eq!(r.payable, dec!(45000));
    assert!(r.provisional, "the 2028 row is provisional");
}

#[test]
fn non_enterprises_at_30_are_never_exempt() {
    let p = national_2025();
    for kind in EmployerKind::ALL {
        let r = calc(&p, &input(kind, avg(dec!(30)), dec!(100000), none()));
        assert_eq!(r.exempt, kind == EmployerKind::Enterprise, "{kind:?}");
        if kind != EmployerKind::Enterprise {
            assert_eq!(r.payable, dec!(40500));
        }
    }
    // Not even under the 2015 rules with a young registration.
    let mut i = input(
        EmployerKind::SocialOrganization,
        avg(dec!(5)),
        dec!(100000),
        none(),
    );
    i.registered_on = Some(date("2016-01-01"));
    assert!(!calc(&at("2016-06-30"), &i).exempt);
}

#[test]
fn staff_zero() {
    let p = national_2025();
    let mut i = input(
        EmployerKind::GovernmentAgency,
        Staff::Monthly([0; 12]),
        dec!(0),
        none(),
    );
    i.wages = None;
    let r = calc(&p, &i);
    assert_eq!((r.fee_due, r.payable), (dec!(0), dec!(0)));
    assert_eq!((r.average_wage, r.wage_used), (None, None));
    assert_eq!(r.employment_ratio(6), None);
    assert!(r.required.is_zero());
}

#[test]
fn missing_parameters_are_errors() {
    let p = national_2025();
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(100000),
        none(),
    );
    i.overrides = Overrides::default();
    assert_eq!(
        calculate(&p, &i, ExplainMode::FiguresOnly),
        Err(LevyError::MissingParameter {
            region: "130000".parse().expect("code"),
            data_year: 2024,
            parameter: "social_average_wage"
        })
    );
    // No cap in force (2016): S is not needed.
    assert!(calculate(&at("2016-06-30"), &i, ExplainMode::FiguresOnly).is_ok());
    // Wages missing with staff.
    i.wages = None;
    assert_eq!(
        calculate(&at("2016-06-30"), &i, ExplainMode::FiguresOnly),
        Err(LevyError::MissingWages)
    );
}

#[test]
fn overrides_replace_and_mark_what_if() {
    let p = henan_2025();
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Certified(dec!(1)),
    );
    i.overrides.quota_ratio = Some(dec!(0.015));
    let r = calc(&p, &i);
    assert_eq!(r.quota_ratio, dec!(0.015));
    assert_eq!(r.fee_due, dec!(35000));
    assert!(r.what_if);
    let req = r
        .explanation
        .iter()
        .find(|s| s.step() == "required")
        .expect("step");
    assert!(req.citation().contains("overrides.quota_ratio"));
}

// ---------------------------------------------------------------------------------------
// Counting disabled employees
// ---------------------------------------------------------------------------------------

#[test]
fn months_from_periods_use_the_last_day() {
    let y = 2024;
    let m = months_in_period(y, date("2024-03-15"), Some(date("2024-09-29")));
    assert_eq!(m.iter().collect::<Vec<_>>(), vec![3, 4, 5, 6, 7, 8]);
    let m = months_in_period(y, date("2024-01-01"), Some(date("2024-02-28")));
    assert_eq!(
        m.iter().collect::<Vec<_>>(),
        vec![1],
        "29 Feb 2024 is the last day"
    );
    let m = months_in_period(y, date("2024-12-31"), None);
    assert_eq!(m.iter().collect::<Vec<_>>(), vec![12]);
    assert!(months_in_period(y, date("2025-01-01"), None).is_empty());
    assert_eq!(
        months_in_period(y, date("2020-01-01"), Some(date("2030-01-01"))),
        MonthSet::ALL
    );
}

#[test]
fn conditions_exclude_with_reasons() {
    let p = henan("411200".parse().expect("code"), date("2026-10-31"), 2025);
    let mut short = employee(1, 3, &ALL);
    short.on_establishment = false;
    short.contract_months = Some(11);
    let mut contract = employee(2, 3, &ALL);
    contract.on_establishment = false;
    contract.contract_months = Some(12);
    let mut no_si = employee(3, 3, &ALL);
    no_si.social_insurance_paid = false;
    let mut low = employee(4, 3, &ALL);
    low.monthly_wage = Some(dec!(2200.00)); // ≥ 2,100 until November, < 2,350 in December 2025
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(1000)),
            dec!(70000),
            Disabled::Roster(vec![short, contract, no_si, low]),
        ),
    );
    let e = &r.employees;
    assert_eq!(
        (e[0].counted_months, e[0].excluded_reason().as_deref()),
        (0, Some("short_contract"))
    );
    assert_eq!((e[1].counted_months, e[1].excluded_reason()), (12, None));
    assert_eq!(
        (e[2].counted_months, e[2].excluded_reason().as_deref()),
        (0, Some("no_social_insurance"))
    );
    assert_eq!(
        (e[3].counted_months, e[3].excluded_reason().as_deref()),
        (11, Some("below_minimum_wage"))
    );
    assert_eq!(e[3].excluded.iter().collect::<Vec<_>>(), vec![12]);
    assert_eq!(r.disabled.twelfths(), dec!(23));
    assert!(r
        .warnings
        .contains(&Warning::NoSocialInsurance { employee: 2 }));
    assert!(r
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::BelowMinimumWage { employee: 3, .. })));
    let step = r
        .explanation
        .iter()
        .filter(|s| s.step() == "disabled_employee")
        .nth(3)
        .expect("step");
    assert!(step.text().contains("2,350.00 元"), "{}", step.text());
}

#[test]
fn unknown_minimum_wage_is_a_warning_not_an_exclusion() {
    let p = national_2025();
    let mut e = employee(1, 3, &ALL);
    e.monthly_wage = Some(dec!(100.00));
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Roster(vec![e.clone()]),
        ),
    );
    assert_eq!(r.employees[0].counted_months, 12);
    assert!(r
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::MinimumWageUnknown { employee: 0, .. })));
    // With an override the condition is checked.
    let mut i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Roster(vec![e]),
    );
    i.overrides.minimum_wage_monthly = Some(dec!(2000));
    assert_eq!(calc(&p, &i).employees[0].counted_months, 0);
}

#[test]
fn fresh_graduate_rule() {
    let p = henan_2025();
    let grad = |from: &str| DisabledEmployee {
        employment: Employment::Period {
            from: date(from),
            to: None,
        },
        fresh_graduate: true,
        ..employee(1, 3, &[])
    };
    let run = |p: &ResolvedPolicy, e: DisabledEmployee| {
        calc(
            p,
            &input(
                EmployerKind::Enterprise,
                avg(dec!(100)),
                dec!(70000),
                Disabled::Roster(vec![e]),
            ),
        )
        .employees[0]
    };
    let o = run(&p, grad("2024-06-15")); // June–December: 7 months > 6
    assert_eq!((o.counted_months, o.fresh_graduate_applied), (12, true));
    let o = run(&p, grad("2024-07-01")); // July–December: 6, not more than 6
    assert_eq!((o.counted_months, o.fresh_graduate_applied), (6, false));
    let o = run(&p, grad("2023-06-15")); // hired before the data year
    assert_eq!(o.counted_months, 12);
    assert!(!o.fresh_graduate_applied);
    let o = run(&national_2025(), grad("2024-06-15")); // no rule nationally
    assert_eq!((o.counted_months, o.fresh_graduate_applied), (7, false));
}

#[test]
fn duplicate_certificates_are_errors() {
    let p = national_2025();
    let a = employee(1, 3, &ALL);
    let mut b = employee(2, 3, &ALL);
    // Same holder, re-issued certificate with another grade: still the same person.
    let reissued = format!("{}B1", cert_no(1, 4, 2));
    b.certificate =
        Certificate::Disability(DisabilityCertificate::parse(&reissued).expect("valid"));
    let roster = vec![a, employee(3, 3, &ALL), b];
    assert_eq!(duplicate_certificates(&roster), vec![(2, 0)]);
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Roster(roster),
    );
    assert_eq!(
        calculate(&p, &i, ExplainMode::FiguresOnly),
        Err(LevyError::DuplicateCertificate { index: 2, first: 0 })
    );
    // Large rosters take the sorting path and agree.
    let mut big: Vec<_> = (0..40).map(|s| employee(s, 3, &ALL)).collect();
    big.push(employee(7, 4, &ALL));
    big.push(employee(7, 1, &ALL));
    assert_eq!(duplicate_certificates(&big), vec![(40, 7), (41, 7)]);
}

// ---------------------------------------------------------------------------------------
// Rewards (docs/rules.md §7)
// ---------------------------------------------------------------------------------------

fn with_reward(rule: RewardRule, year_end_minimum_wage: Option<Decimal>) -> ResolvedPolicy {
    let mut p = national_2025();
    p.reward = Cited::new(rule, "test rule", false, p.region);
    p.minimum_wage_by_month[11] =
        year_end_minimum_wage.map(|v| Cited::new(v, "test wage", false, p.region));
    p
}

#[test]
fn rewards() {
    let e = EmployerKind::Enterprise;
    // Hunan: fractions × 6 × minimum wage: over 1.5 × 6 × 2,200 = 19,800.
    let hunan = with_reward(
        RewardRule::MinimumWageMultiple {
            multiple: dec!(6),
            persons: RewardPersons::Fractional,
            severe_counted_once: false,
            min_excess: None,
            max_years: None,
            eligible_kinds: vec![],
        },
        Some(dec!(2200)),
    );
    let r = calc(
        &hunan,
        &input(e, avg(dec!(100)), dec!(70000), Disabled::Certified(dec!(3))),
    );
    assert_eq!(
        (r.over_quota.round(4), r.reward),
        (dec!(1.5), dec!(19800.00))
    );

    // Hainan: whole persons, severe once, × 5: three grade-1 holders all year with N 100:
    // weighted D 6, unweighted 3 → over 1.5 → 1 person → 5 × 2,250 = 11,250.
    let hainan = with_reward(
        RewardRule::MinimumWageMultiple {
            multiple: dec!(5),
            persons: RewardPersons::Whole,
            severe_counted_once: true,
            min_excess: None,
            max_years: Some(6),
            eligible_kinds: vec![],
        },
        Some(dec!(2250)),
    );
    let roster = Disabled::Roster((1..=3).map(|s| employee(s, 1, &ALL)).collect());
    let r = calc(&hainan, &input(e, avg(dec!(100)), dec!(70000), roster));
    assert_eq!(r.over_quota.round(4), dec!(4.5));
    assert_eq!(r.reward_persons.map(|t| t.round(4)), Some(dec!(1)));
    assert_eq!(r.reward, dec!(11250.00));
    // Two severe holders: unweighted over 0.5 → no whole person → 0.
    let roster = Disabled::Roster((1..=2).map(|s| employee(s, 1, &ALL)).collect());
    assert_eq!(
        calc(&hainan, &input(e, avg(dec!(100)), dec!(70000), roster)).reward,
        dec!(0)
    );

    // Shanxi: at least 1 extra person, 0.5 × minimum wage.
    let shanxi = with_reward(
        RewardRule::MinimumWageMultiple {
            multiple: dec!(0.5),
            persons: RewardPersons::Fractional,
            severe_counted_once: false,
            min_excess: Some(dec!(1)),
            max_years: None,
            eligible_kinds: vec![],
        },
        Some(dec!(2000)),
    );
    let r = calc(
        &shanxi,
        &input(e, avg(dec!(100)), dec!(70000), Disabled::Certified(dec!(2))),
    );
    assert_eq!(r.reward, dec!(0));
    assert!(r.warnings.contains(&Warning::RewardBelowMinimumExcess));
    let r = calc(
        &shanxi,
        &input(e, avg(dec!(100)), dec!(70000), Disabled::Certified(dec!(3))),
    );
    assert_eq!(r.reward, dec!(1500.00));

    // Guizhou: 2,000 per whole person, at most 100,000, private employers only.
    let guizhou = with_reward(
        RewardRule::FixedPerPerson {
            amount: dec!(2000),
            cap: Some(dec!(100000)),
            persons: RewardPersons::Whole,
            eligible_kinds: vec![EmployerKind::Enterprise, EmployerKind::PrivateNonEnterprise],
        },
        None,
    );
    let r = calc(
        &guizhou,
        &input(
            e,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Certified(dec!(10)),
        ),
    );
    assert_eq!(r.reward, dec!(16000.00)); // over 8.5 → 8 × 2,000
    let r = calc(
        &guizhou,
        &input(
            e,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Certified(dec!(60)),
        ),
    );
    assert_eq!(r.reward, dec!(100000));
    let r = calc(
        &guizhou,
        &input(
            EmployerKind::PublicInstitution,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Certified(dec!(10)),
        ),
    );
    assert_eq!(r.reward, dec!(0));
    assert!(r.warnings.contains(&Warning::RewardNotEligible));

    // No rule: 0 with a note; no minimum wage for a rule that needs one: an error.
    let r = calc(
        &national_2025(),
        &input(e, avg(dec!(100)), dec!(70000), Disabled::Certified(dec!(3))),
    );
    assert_eq!(r.reward, dec!(0));
    assert!(r.warnings.contains(&Warning::NoRewardRule));
    let no_wage = with_reward(hunan.reward.value.clone(), None);
    assert!(matches!(
        calculate(
            &no_wage,
            &input(e, avg(dec!(100)), dec!(70000), Disabled::Certified(dec!(3))),
            ExplainMode::FiguresOnly
        ),
        Err(LevyError::MissingParameter {
            parameter: "minimum_wage_monthly",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Explanation, warnings, provisional
// ---------------------------------------------------------------------------------------

#[test]
fn explanation_order_language_and_citations() {
    let mut p = national_2025();
    p.notes
        .push("region 130000 has no pack of its own (test)".into());
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(120000),
        Disabled::Roster(vec![employee(1, 3, &ALL)]),
    );
    let zh = calculate(&p, &i, ExplainMode::Full(Language::Zh)).expect("ok");
    let en = calculate(&p, &i, ExplainMode::Full(Language::En)).expect("ok");
    let ids: Vec<_> = zh.explanation.iter().map(|s| s.step()).collect();
    assert_eq!(
        ids,
        [
            "average_headcount",
            "disabled_employee",
            "disabled_counted",
            "required",
            "shortfall",
            "average_wage",
            "wage_cap",
            "fee_due",
            "employment_ratio",
            "exemption",
            "reduction",
            "payable",
            "over_quota",
            "reward"
        ]
    );
    assert!(zh
        .explanation
        .get(3)
        .expect("step")
        .text()
        .contains("应安排"));
    assert!(en
        .explanation
        .get(3)
        .expect("step")
        .text()
        .starts_with("Required"));
    assert_eq!(
        zh.explanation.get(3).expect("step").citation(),
        "残疾人就业条例; 财税〔2015〕72号"
    );
    assert!(zh
        .explanation
        .get(10)
        .expect("step")
        .citation()
        .contains("2023年第8号"));
    assert_eq!(zh.warnings, vec![Warning::PolicyNote(0)]);
    assert_eq!(
        zh.warnings[0].message(&p, Language::En),
        "region 130000 has no pack of its own (test)"
    );
    // The certificate is masked in the explanation.
    let emp = zh.explanation.get(1).expect("step");
    assert!(!emp.text().contains("1990010100"), "{}", emp.text());
    assert_eq!(
        emp.input("certificate").map(|c| c.contains('*')),
        Some(true)
    );
    let json = serde_json::to_value(zh.explanation.get(3).expect("step")).expect("serializes");
    assert_eq!(json["inputs"]["q"], "0.015");
    check_explanation(&zh);
    check_explanation(&en);
}

#[test]
fn provisional_values_mark_the_result() {
    let mut p = national_2025();
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(120000),
        none(),
    );
    assert!(!calc(&p, &i).provisional);
    p.quota_ratio.provisional = true;
    assert!(calc(&p, &i).provisional);
    // An overridden value is not "used": its provisional flag does not count.
    let mut j = i.clone();
    j.overrides.quota_ratio = Some(dec!(0.015));
    assert!(!calc(&p, &j).provisional);
    // A provisional S counts when the cap is applied.
    let mut p = national_2025();
    p.social_average_wage = Some(Cited::new(dec!(96000), "S2", true, p.region));
    let mut k = i;
    k.overrides.social_average_wage = None;
    assert!(calc(&p, &k).provisional);
}

#[test]
fn tiers_from_a_hand_built_policy() {
    let mut p = at("2019-06-30");
    p.reduction_tiers = Some(Cited::new(
        ReductionTiers {
            threshold: dec!(0.02),
            share_at_or_above: dec!(0.3),
            share_below: dec!(0.8),
        },
        "test tiers",
        false,
        p.region,
    ));
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(100000),
            Disabled::Certified(dec!(0)),
        ),
    );
    assert_eq!(
        (r.fee_due, r.reduction, r.payable),
        (dec!(150000), dec!(30000), dec!(120000))
    );
}

#[test]
fn invalid_domain_values_are_rejected() {
    let p = national_2025();
    let i = input(EmployerKind::Enterprise, avg(dec!(-1)), dec!(1), none());
    assert!(matches!(
        calculate(&p, &i, ExplainMode::FiguresOnly),
        Err(LevyError::InvalidInput { .. })
    ));
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(1.00001)),
        dec!(1),
        none(),
    );
    assert!(matches!(
        calculate(&p, &i, ExplainMode::FiguresOnly),
        Err(LevyError::InvalidInput { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

fn policy_strategy() -> impl Strategy<Value = ResolvedPolicy> {
    prop_oneof![
        Just(national_2025()),
        Just(henan_2025()),
        Just(at("2016-06-30")),
        Just(at("2017-06-30")),
        Just(at("2018-06-30")),
        Just(at("2021-06-30")),
        Just(at("2028-06-30")),
    ]
}

fn kind_strategy() -> impl Strategy<Value = EmployerKind> {
    prop::sample::select(EmployerKind::ALL.to_vec())
}

fn staff_strategy() -> impl Strategy<Value = Staff> {
    prop_oneof![
        prop::array::uniform12(0u32..400).prop_map(Staff::Monthly),
        (0i64..4_000_000).prop_map(|x| Staff::Average(Decimal::new(x, 4))),
    ]
}

fn employee_strategy() -> impl Strategy<Value = DisabledEmployee> {
    (
        1u8..=4,
        any::<u16>(),
        any::<bool>(),
        prop::option::of(0u32..40),
        prop::bool::weighted(0.9),
        prop::option::of(150_000i64..300_000),
        any::<bool>(),
        any::<bool>(),
        1u32..13,
    )
        .prop_map(
            |(grade, months, on_est, contract, si, wage, fresh, period, from_month)| {
                DisabledEmployee {
                    certificate: cert(0, grade), // renumbered below to stay unique
                    employment: if period {
                        Employment::Period {
                            from: NaiveDate::from_ymd_opt(2024, from_month, 10)
                                .unwrap_or(NaiveDate::MIN),
                            to: None,
                        }
                    } else {
                        Employment::Months(MonthSet(months & 0x0fff))
                    },
                    on_establishment: on_est,
                    contract_months: contract,
                    social_insurance_paid: si,
                    monthly_wage: wage.map(|w| Decimal::new(w, 2)),
                    fresh_graduate: fresh,
                    disputed: MonthSet::EMPTY,
                    counted_elsewhere: MonthSet::EMPTY,
                    retirement_track: None,
                    dispatch: None,
                }
            },
        )
}

fn renumber(mut roster: Vec<DisabledEmployee>) -> Vec<DisabledEmployee> {
    for (i, e) in roster.iter_mut().enumerate() {
        e.certificate = cert(i as u32, e.certificate.grade());
    }
    roster
}

fn input_strategy() -> impl Strategy<Value = LevyInput> {
    (
        kind_strategy(),
        staff_strategy(),
        0i64..60_000_000,
        prop_oneof![
            prop::collection::vec(employee_strategy(), 0..6)
                .prop_map(|r| Disabled::Roster(renumber(r))),
            (0i64..200_000).prop_map(|d| Disabled::Certified(Decimal::new(d, 4))),
        ],
        any::<bool>(),
    )
        .prop_map(|(kind, staff, wage, disabled, total)| LevyInput {
            employer_kind: kind,
            registered_on: Some(date("2014-05-01")),
            staff,
            wages: Some(if total {
                Wages::Total(Decimal::new(wage * 37, 2))
            } else {
                Wages::Average(Decimal::new(wage, 2))
            }),
            disabled,
            overrides: Overrides {
                social_average_wage: Some(dec!(96000.00)),
                ..Default::default()
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn payable_never_exceeds_fee_and_exempt_pays_nothing(p in policy_strategy(), i in input_strategy()) {
        let r = calculate(&p, &i, ExplainMode::Full(Language::Zh)).expect("valid input");
        prop_assert!(r.payable <= r.fee_due);
        prop_assert!(r.payable >= Decimal::ZERO);
        prop_assert!(r.reduction >= Decimal::ZERO);
        if r.exempt {
            prop_assert_eq!(r.payable, Decimal::ZERO);
        }
        check_explanation(&r);
        let figures = calculate(&p, &i, ExplainMode::FiguresOnly).expect("valid input");
        prop_assert_eq!(figures.payable, r.payable);
        prop_assert_eq!(figures.fee_due, r.fee_due);
    }

    #[test]
    fn adding_disabled_employees_never_raises_payable(
        p in policy_strategy(),
        i in input_strategy(),
        extra in prop::collection::vec(employee_strategy(), 1..4),
    ) {
        let roster = match &i.disabled {
            Disabled::Roster(r) => r.clone(),
            Disabled::Certified(_) => Vec::new(),
        };
        let before_input = LevyInput { disabled: Disabled::Roster(roster.clone()), ..i.clone() };
        let before = calculate(&p, &before_input, ExplainMode::FiguresOnly).expect("valid");
        let mut more = roster;
        more.extend(extra);
        let after_input = LevyInput { disabled: Disabled::Roster(renumber(more)), ..i };
        let after = calculate(&p, &after_input, ExplainMode::FiguresOnly).expect("valid");
        prop_assert!(after.payable <= before.payable, "{} > {}", after.payable, before.payable);
        prop_assert!(after.disabled >= before.disabled);
    }
}

#[test]
fn provisional_minimum_wage_counts_only_for_months_checked() {
    let mut p = henan_2025();
    if let Some(c) = p.minimum_wage_by_month[11].as_mut() {
        c.provisional = true; // same figure all year, December provisional
    }
    let mut e = employee(1, 3, &[1, 2, 3, 4, 5, 6]);
    e.monthly_wage = Some(dec!(3000));
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Roster(vec![e.clone()]),
    );
    assert!(!calc(&p, &i).provisional);
    e.employment = Employment::Months(MonthSet::ALL);
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Roster(vec![e.clone()]),
    );
    assert!(calc(&p, &i).provisional);
    // A different figure in one month takes the month-by-month path: same answers.
    if let Some(c) = p.minimum_wage_by_month[0].as_mut() {
        c.value = dec!(2000);
    }
    assert!(calc(&p, &i).provisional);
    e.monthly_wage = Some(dec!(2050));
    let i = input(
        EmployerKind::Enterprise,
        avg(dec!(100)),
        dec!(70000),
        Disabled::Roster(vec![e]),
    );
    let r = calc(&p, &i);
    assert_eq!(r.employees[0].counted.iter().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn months_the_federation_gave_another_employer_are_not_counted_and_say_so() {
    let p = national_2025();
    let mut e = employee(1, 3, &ALL);
    e.counted_elsewhere = MonthSet::from_months(&[11, 12]).expect("months");
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Roster(vec![e]),
        ),
    );
    let o = &r.employees[0];
    assert_eq!(o.counted_months, 10);
    assert_eq!(o.excluded_reason().as_deref(), Some("counted_elsewhere"));
    assert_eq!(o.excluded.iter().collect::<Vec<_>>(), vec![11, 12]);
}

#[test]
fn disputed_months_count_for_neither() {
    let p = national_2025();
    let mut e = employee(1, 3, &ALL);
    e.disputed = MonthSet::from_months(&[11, 12]).expect("months");
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(70000),
            Disabled::Roster(vec![e]),
        ),
    );
    let o = &r.employees[0];
    assert_eq!(o.counted_months, 10);
    assert_eq!(
        o.excluded_reason().as_deref(),
        Some("duplicate_certificate")
    );
    assert_eq!(o.excluded.iter().collect::<Vec<_>>(), vec![11, 12]);
}

// ---------------------------------------------------------------------------------------
// A 4-decimal average that is a rounded twelfth; the fee from the exact shortfall
// ---------------------------------------------------------------------------------------

/// The Guangdong form of docs/rules.md §10 example 8 printed N as 32.3333, meaning 388/12:
/// with W 36,292.00 the form's fee is 17,601.62 (0.485 × 36,292.00), whereas 32.3333
/// taken literally gives 17,601.60.
#[test]
fn four_decimal_average_within_half_a_unit_of_a_twelfth_is_that_twelfth() {
    let p = national_2025();
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(32.3333)),
            dec!(36292.00),
            none(),
        ),
    );
    assert_eq!(r.staff, Twelfths::from_twelfths(dec!(388)));
    assert_eq!(format_money(r.fee_due), "17601.62");
    let w = Warning::AverageHeadcountTwelfth {
        given: dec!(32.3333),
        twelfths: dec!(388),
    };
    assert!(r.warnings.contains(&w));
    assert!(w.message(&p, Language::Zh).contains("388/12"));
    assert!(w.message(&p, Language::En).contains("388/12"));
    // The rounded figures shown now give the fee: no contradiction to explain.
    assert!(!r
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::FeeFromExactShortfall { .. })));
    // Not a rounded twelfth: taken as given (20.0001 is 0.0012 twelfths off 240/12;
    // 32.333 has 3 decimals, 0.004 off). Exact twelfths need no warning (32.25), and
    // other rounded twelfths are taken as theirs (32.6667 → 392/12, 32.0833 → 385/12).
    for (n, x12, warned) in [
        (dec!(20.0001), dec!(240.0012), false),
        (dec!(32.333), dec!(387.996), false),
        (dec!(32.25), dec!(387), false),
        (dec!(32.6667), dec!(392), true),
        (dec!(32.0833), dec!(385), true),
    ] {
        let r = calc(
            &p,
            &input(EmployerKind::Enterprise, avg(n), dec!(36292.00), none()),
        );
        assert_eq!(r.staff.twelfths(), x12, "N {n}");
        let got = r
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::AverageHeadcountTwelfth { .. }));
        assert_eq!(got, warned, "N {n}");
    }
}

#[test]
fn fee_from_exact_shortfall_is_said_when_the_rounded_figures_do_not_give_it() {
    let p = national_2025();
    // Shortfall 1.5 − 0.9999 = 0.5001 is a 4-decimal figure: 0.5001 × 80,000.00 is the
    // fee, nothing to explain.
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(80000.00),
            Disabled::Certified(dec!(0.9999)),
        ),
    );
    assert_eq!(format_money(r.fee_due), "40008.00");
    assert!(!r
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::FeeFromExactShortfall { .. })));
    // A roster gives repeating shortfalls: N 100, one employee counted 7 months →
    // D = 7/12, shortfall 1.5 − 7/12 = 11/12,
    // shown 0.9167; × 70,000.00: exact 64,166.67, shown 0.9167 × 70,000 = 64,169.00.
    let r = calc(
        &p,
        &input(
            EmployerKind::Enterprise,
            avg(dec!(100)),
            dec!(70000.00),
            Disabled::Roster(vec![employee(1, 3, &[1, 2, 3, 4, 5, 6, 7])]),
        ),
    );
    assert_eq!(format_money(r.fee_due), "64166.67");
    let w = r
        .warnings
        .iter()
        .find(|w| matches!(w, Warning::FeeFromExactShortfall { .. }))
        .copied()
        .expect("the response says the fee comes from the exact shortfall");
    let zh = w.message(&p, Language::Zh);
    let en = w.message(&p, Language::En);
    assert!(
        zh.contains("11/12") && zh.contains("0.9167") && zh.contains("70000.00"),
        "{zh}"
    );
    assert!(en.contains("11/12") && en.contains("64169.00"), "{en}");
}
