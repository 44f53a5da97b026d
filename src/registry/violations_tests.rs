//! Tests of the violator list: each rule's figures and citation, the not-declared deadline, and the CSV rows.

use super::*;
use crate::domain::{Cited, SurchargeRule};
use rust_decimal_macros::dec;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn facts() -> EmployerFacts {
    EmployerFacts {
        uscc: "91350100M000100Y43".into(),
        name: "示例公司".into(),
        kind: "enterprise".into(),
        region: "411202".into(),
        establishment_size: None,
        committee_member: false,
        declared: true,
        filing_deadline: Some(d("2025-10-31")),
        assessment: None,
        roster: RosterFacts::default(),
        pending_disputes: 0,
        open_reserved_position: false,
    }
}

fn policy() -> ResolvedPolicy {
    crate::policy::PolicyBook::load_embedded()
        .unwrap()
        .resolve("411202".parse().unwrap(), d("2025-10-31"), 2024)
        .unwrap()
}

fn kinds(rows: &[ViolationRow]) -> Vec<ViolationKind> {
    rows.iter().map(|r| r.violation).collect()
}

#[test]
fn overdue_shows_figures_and_surcharge() {
    let mut p = policy();
    p.payment_due = Cited::new(d("2025-12-31"), "test", true, p.region);
    p.surcharge.value = SurchargeRule {
        daily_rate: dec!(0.005),
        capped_at_principal: true,
    };
    let mut f = facts();
    f.assessment = Some(AssessedFacts {
        payable: dec!(12000),
        disabled_x12_e4: 0,
        payments: vec![],
    });
    let rows = decide(&f, Some(&p), d("2026-01-30")).unwrap();
    // One money row: the debt is listed once.
    assert_eq!(kinds(&rows), vec![ViolationKind::Overdue]);
    assert_eq!(
        rows[0].why_en,
        "below quota: payable 12,000.00, paid 0.00, principal outstanding 12,000.00, 30 days past due 2025-12-31, surcharge 1,800.00"
    );
    assert_eq!(rows[0].outstanding, "13800.00");
    assert!(rows[0].citation.contains("财税〔2015〕72号"));
    // Before the due date: unpaid but not overdue.
    let rows = decide(&f, Some(&p), d("2025-12-01")).unwrap();
    assert_eq!(kinds(&rows), vec![ViolationKind::BelowQuotaUnpaid]);
    // Paid in full: nothing.
    f.assessment = Some(AssessedFacts {
        payable: dec!(12000),
        disabled_x12_e4: 0,
        payments: vec![Payment {
            date: d("2025-11-01"),
            amount: dec!(12000),
        }],
    });
    assert!(decide(&f, Some(&p), d("2026-01-30")).unwrap().is_empty());
    // The principal paid late, the surcharge not: listed for the surcharge alone.
    f.assessment = Some(AssessedFacts {
        payable: dec!(12000),
        disabled_x12_e4: 0,
        payments: vec![Payment {
            date: d("2026-01-30"),
            amount: dec!(12000),
        }],
    });
    let rows = decide(&f, Some(&p), d("2026-02-15")).unwrap();
    assert_eq!(kinds(&rows), vec![ViolationKind::SurchargeUnpaid]);
    assert_eq!(rows[0].outstanding, "1800.00");
}

#[test]
fn a_debtor_with_other_violations_carries_its_debt_on_one_row() {
    let mut p = policy();
    p.payment_due = Cited::new(d("2025-12-31"), "test", true, p.region);
    let mut f = facts();
    f.kind = "public_institution".into();
    f.establishment_size = Some(70);
    f.assessment = Some(AssessedFacts {
        payable: dec!(12000),
        disabled_x12_e4: 0,
        payments: vec![],
    });
    let rows = decide(&f, Some(&p), d("2026-01-30")).unwrap();
    assert_eq!(rows.len(), 2, "{:?}", kinds(&rows));
    let sum: Decimal = rows
        .iter()
        .map(|r| r.outstanding.parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(sum, dec!(13800.00));
    assert!(rows.iter().all(|r| r.employer_outstanding == "13800.00"));
}

#[test]
fn not_declared_only_after_the_deadline() {
    let mut f = facts();
    f.declared = false;
    assert!(decide(&f, None, d("2025-10-31")).unwrap().is_empty());
    let rows = decide(&f, None, d("2025-11-10")).unwrap();
    assert_eq!(kinds(&rows), vec![ViolationKind::NotDeclared]);
    assert!(rows[0].why_en.contains("10 days ago"));
}

#[test]
fn public_bodies_and_committee_members_without_disabled_employees() {
    let p = policy();
    let mut f = facts();
    f.kind = "public_institution".into();
    f.establishment_size = Some(70);
    f.committee_member = true;
    let rows = decide(&f, Some(&p), d("2025-11-01")).unwrap();
    assert_eq!(
        kinds(&rows),
        vec![
            ViolationKind::PublicBodyWithoutDisabledEmployee,
            ViolationKind::CommitteeMemberWithoutDisabledEmployee
        ]
    );
    assert!(
        rows[0].why_en.contains("threshold 63"),
        "{}",
        rows[0].why_en
    );
    assert!(rows[0].why_en.contains("kindergartens"));
    assert!(rows[1].citation.contains("三政〔2016〕23号"));
    f.establishment_size = Some(62);
    f.committee_member = false;
    assert!(decide(&f, Some(&p), d("2025-11-01")).unwrap().is_empty());
    // With a disabled employee: nothing.
    f.establishment_size = Some(70);
    f.committee_member = true;
    f.roster.lines = 1;
    assert!(decide(&f, Some(&p), d("2025-11-01")).unwrap().is_empty());
}

#[test]
fn labour_checks_count_lines() {
    let mut p = policy();
    p.minimum_wage_by_month =
        std::array::from_fn(|_| Some(Cited::new(dec!(2000), "最低工资通知", false, p.region)));
    let mut r = RosterFacts::default();
    add_line(&mut r, Some(&p), 0b1, true, None, true, Some(150_000));
    add_line(&mut r, Some(&p), 0b1, false, Some(12), false, Some(300_000));
    add_line(&mut r, Some(&p), 0b1, false, Some(6), true, Some(300_000));
    add_line(&mut r, Some(&p), 0, false, None, true, Some(100_000));
    assert_eq!(r.lines, 4);
    assert_eq!(
        r.below_minimum_wage, 1,
        "a line with no employed month is not below"
    );
    assert_eq!(r.no_social_insurance, 1);
    assert_eq!(r.short_contract, 2);
    let mut f = facts();
    f.roster = r;
    f.pending_disputes = 2;
    let rows = decide(&f, Some(&p), d("2025-11-01")).unwrap();
    assert_eq!(
        kinds(&rows),
        vec![
            ViolationKind::BelowMinimumWage,
            ViolationKind::NoSocialInsurance,
            ViolationKind::ShortContract,
            ViolationKind::DuplicateCertificate
        ]
    );
    assert!(rows[0].why_en.contains("1 of 4"));
    assert!(rows[0]
        .why_en
        .contains("lowest 1,500.00, minimum wage 2,000.00"));
    assert!(rows[0].citation.contains("三政〔2016〕23号 §3(4)"));
    assert!(rows[3].why_en.starts_with("2 roster lines"));
}

#[test]
fn kinds_round_trip_and_money_groups() {
    for k in ViolationKind::ALL {
        assert_eq!(ViolationKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(ViolationKind::parse("nope"), None);
    assert_eq!(grouped(dec!(1234567.5)), "1,234,567.50");
    assert_eq!(grouped(dec!(0)), "0.00");
    assert_eq!(grouped(dec!(999)), "999.00");
}
