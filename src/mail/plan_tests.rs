//! Tests of the reminder plan: which stage applies on which day, catch-up, and who gets no reminder.

use super::*;
use rust_decimal_macros::dec;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn schedule() -> Schedule {
    Schedule {
        declare_days_before: vec![30, 7],
        // None here, so that the tests of the other kinds see only theirs; the 催报
        // has tests of its own.
        declare_overdue_days_after: Vec::new(),
        pay_days_before: vec![30, 7],
        overdue_days_after: vec![1, 30, 90],
    }
}

fn with_catch_up() -> Schedule {
    Schedule {
        declare_overdue_days_after: vec![1, 15, 30],
        ..schedule()
    }
}

fn terms() -> RegionTerms {
    RegionTerms {
        name_zh: "三门峡市".into(),
        name_en: "Sanmenxia".into(),
        filing_deadline: d("2025-10-31"),
        payment_due: d("2025-10-31"),
        surcharge: SurchargeRule {
            daily_rate: dec!(0.005),
            capped_at_principal: true,
        },
        surcharge_from: SurchargeFrom::DueDate,
    }
}

fn facts(declared: bool, principal: Option<Decimal>) -> EmployerFacts {
    EmployerFacts {
        employer_id: 7,
        uscc: "91411200MA44XXXX1A".into(),
        name: "三门峡测试有限公司".into(),
        region: "411202".into(),
        contact_email: Some("hr@example.org".into()),
        declared,
        in_levy_year: true,
        levy: principal.map(|p| LevyFacts {
            principal: p,
            payments: Vec::new(),
            first_demand_deadline: None,
        }),
    }
}

fn plan(as_of: &str, f: &EmployerFacts) -> Vec<Planned> {
    let t = terms();
    plan_employer(&schedule(), d(as_of), f, Some(&t), Some(&t))
}

fn stages(p: &[Planned]) -> Vec<(ReminderKind, String)> {
    p.iter().map(|p| (p.kind(), p.stage().to_owned())).collect()
}

#[test]
fn declare_stages_take_the_latest_reached() {
    let f = facts(false, None);
    assert!(plan("2025-09-30", &f).is_empty());
    assert_eq!(
        stages(&plan("2025-10-01", &f)),
        vec![(ReminderKind::Declare, "due-30d".into())]
    );
    assert_eq!(
        stages(&plan("2025-10-23", &f)),
        vec![(ReminderKind::Declare, "due-30d".into())]
    );
    assert_eq!(
        stages(&plan("2025-10-24", &f))[0].1,
        "due-7d",
        "7 days before"
    );
    assert_eq!(stages(&plan("2025-10-31", &f))[0].1, "due-7d");
    assert!(plan("2025-11-01", &f).is_empty(), "past the deadline");
    assert!(
        plan("2025-10-24", &facts(true, None)).is_empty(),
        "declared"
    );
}

#[test]
fn declare_overdue_follows_the_deadline_while_nothing_is_filed() {
    let t = terms();
    let at = |as_of: &str, f: &EmployerFacts| {
        plan_employer(&with_catch_up(), d(as_of), f, Some(&t), Some(&t))
    };
    let f = facts(false, None);
    assert_eq!(
        stages(&at("2025-10-31", &f)),
        vec![(ReminderKind::Declare, "due-7d".into())],
        "on the deadline day the declaration is not late yet"
    );
    assert_eq!(
        at("2025-11-01", &f),
        vec![Planned::DeclareOverdue {
            stage: "overdue-1".into(),
            deadline: d("2025-10-31"),
            as_of: d("2025-11-01"),
            days_overdue: 1,
        }]
    );
    assert_eq!(stages(&at("2025-11-14", &f))[0].1, "overdue-1");
    assert_eq!(stages(&at("2025-11-15", &f))[0].1, "overdue-15");
    // A first run late in the season: the latest stage only.
    assert_eq!(
        stages(&at("2026-03-01", &f)),
        vec![(ReminderKind::DeclareOverdue, "overdue-30".into())]
    );
    assert!(at("2025-11-15", &facts(true, None)).is_empty(), "declared");
    let mut newer = facts(false, None);
    newer.in_levy_year = false;
    assert!(at("2026-03-01", &newer).is_empty(), "did not exist in 2025");
    let mut no_mail = facts(false, None);
    no_mail.contact_email = None;
    assert!(at("2025-11-15", &no_mail).is_empty());
    // It asks to declare now: no date for the sender to find passed.
    assert_eq!(at("2025-11-15", &f)[0].act_by(), None);
}

#[test]
fn declare_overdue_renders_the_deadline_the_day_and_the_notice_status() {
    let templates = Templates::embedded().unwrap();
    let t = terms();
    let f = facts(false, None);
    let p = plan_employer(&with_catch_up(), d("2025-11-15"), &f, Some(&t), Some(&t));
    let r = render(
        &templates,
        &PaymentDirectory::default(),
        2025,
        &f,
        &t,
        &p[0],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (r.kind, r.stage.as_str(), r.act_by),
        (ReminderKind::DeclareOverdue, "overdue-15", None)
    );
    assert!(r.subject.contains("催报") && r.subject.contains("2025-10-31"));
    assert!(
        r.body_zh
            .contains("三门峡市2025年度残疾人就业保障金的申报截止日期为2025-10-31。截至2025-11-15，贵单位仍未提交申报。"),
        "{}",
        r.body_zh
    );
    // The status in the notice's own words, in each language.
    let (zh, en) = status_text("not_declared");
    assert!(r.body_zh.contains(&format!("“{zh}”")), "{}", r.body_zh);
    assert!(r.body_en.contains(&format!("\"{en}\"")), "{}", r.body_en);
    assert!(
        r.body_en.contains("in Sanmenxia was 2025-10-31"),
        "{}",
        r.body_en
    );
}

#[test]
fn no_address_no_reminder() {
    let mut f = facts(false, Some(dec!(100)));
    f.contact_email = Some("  ".into());
    assert!(plan("2025-10-24", &f).is_empty());
    f.contact_email = None;
    assert!(plan("2025-11-30", &f).is_empty());
}

#[test]
fn pay_reminders_need_an_outstanding_levy() {
    let f = facts(true, Some(dec!(12345.67)));
    let p = plan("2025-10-24", &f);
    assert_eq!(
        p,
        vec![Planned::Pay {
            stage: "due-7d".into(),
            due: d("2025-10-31"),
            days_left: 7,
            principal: dec!(12345.67),
            paid: dec!(0),
            outstanding: dec!(12345.67),
            daily_rate: dec!(0.005),
            trigger: SurchargeFrom::DueDate,
        }]
    );
    assert!(plan("2025-10-24", &facts(true, Some(dec!(0)))).is_empty());
    let mut paid = facts(true, Some(dec!(100)));
    if let Some(l) = paid.levy.as_mut() {
        l.payments.push(Payment {
            date: d("2025-10-20"),
            amount: dec!(100),
        });
    }
    assert!(plan("2025-10-24", &paid).is_empty());
}

#[test]
fn overdue_carries_the_statement_surcharge() {
    // docs/rules.md §10: 10,000.00 due 2025-10-31, 30 days later → 1,500.00.
    let f = facts(true, Some(dec!(10000.00)));
    let p = plan("2025-11-30", &f);
    assert_eq!(
        p,
        vec![Planned::Overdue {
            stage: "overdue-30".into(),
            due: d("2025-10-31"),
            as_of: d("2025-11-30"),
            days_overdue: 30,
            principal: dec!(10000.00),
            paid: dec!(0),
            surcharge: dec!(1500.00),
            outstanding: dec!(11500.00),
            outstanding_principal: dec!(10000.00),
            outstanding_surcharge: dec!(1500.00),
            cap: Some(dec!(10000.00)),
            capped: false,
            daily_rate: dec!(0.005),
            surcharge_from: Some(d("2025-11-01")),
            trigger: SurchargeFrom::DueDate,
            first_deadline: None,
        }]
    );
    assert_eq!(stages(&plan("2025-11-01", &f))[0].1, "overdue-1");
    assert_eq!(stages(&plan("2026-06-01", &f))[0].1, "overdue-90");
    assert!(plan("2025-10-31", &f)
        .iter()
        .all(|p| p.kind() != ReminderKind::Overdue));
    // Principal paid late: the surcharge is still owed, and reminded.
    let mut late = f.clone();
    if let Some(l) = late.levy.as_mut() {
        l.payments.push(Payment {
            date: d("2025-11-10"),
            amount: dec!(10000.00),
        });
        // Known only after the as-of date: ignored, as the statement does.
        l.payments.push(Payment {
            date: d("2025-12-31"),
            amount: dec!(500.00),
        });
    }
    match &plan("2025-11-30", &late)[0] {
        Planned::Overdue {
            surcharge,
            outstanding,
            paid,
            ..
        } => {
            assert_eq!(*surcharge, dec!(500.00));
            assert_eq!(*outstanding, dec!(500.00));
            assert_eq!(*paid, dec!(10000.00));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rendering_puts_the_api_formatted_amounts_in_both_languages() {
    let templates = Templates::embedded().unwrap();
    let f = facts(true, Some(dec!(10000)));
    let t = terms();
    let p = plan("2025-11-30", &f);
    let r = render(
        &templates,
        &PaymentDirectory::default(),
        2025,
        &f,
        &t,
        &p[0],
    )
    .unwrap()
    .unwrap();
    assert_eq!(r.kind, ReminderKind::Overdue);
    assert_eq!(r.stage, "overdue-30");
    assert_eq!(r.recipient, "hr@example.org");
    assert!(
        r.body_zh.contains("滞纳金（截至2025-11-30）：1500.00 元"),
        "{}",
        r.body_zh
    );
    assert!(r.body_zh.contains("应缴金额：10000.00 元"), "{}", r.body_zh);
    assert!(r.body_zh.contains("三门峡") || r.body_zh.contains("91411200MA44XXXX1A"));
    assert!(r.body_en.contains("1500.00 yuan"), "{}", r.body_en);
    assert!(r.body_en.contains("5 per mille"), "{}", r.body_en);
    assert!(r.subject.contains("11500.00") && r.subject.contains(" / "));
    let dp = render(
        &templates,
        &PaymentDirectory::default(),
        2025,
        &facts(false, None),
        &t,
        &plan("2025-10-24", &facts(false, None))[0],
    )
    .unwrap()
    .unwrap();
    assert!(
        dp.body_zh.contains("三门峡市的申报截止日期为2025-10-31"),
        "{}",
        dp.body_zh
    );
    assert!(
        dp.body_en.contains("in Sanmenxia is 2025-10-31"),
        "{}",
        dp.body_en
    );
}

/// The statement's figures of `f` on `as_of`, and its overdue mail.
fn overdue_mail(f: &EmployerFacts, as_of: &str) -> (SurchargeResult, NewReminder) {
    let t = terms();
    let levy = f.levy.as_ref().unwrap();
    let account = account(
        levy,
        t.payment_due,
        &t.surcharge,
        t.surcharge_from,
        d(as_of),
    )
    .unwrap();
    let p = plan(as_of, f);
    assert_eq!(p.len(), 1, "{p:?}");
    let r = render(
        &Templates::embedded().unwrap(),
        &PaymentDirectory::default(),
        2025,
        f,
        &t,
        &p[0],
    )
    .unwrap()
    .unwrap();
    assert_eq!(r.kind, ReminderKind::Overdue);
    (account.position, r)
}

#[test]
fn an_overdue_mail_says_the_surcharge_grows_only_while_it_does() {
    let f = facts(true, Some(dec!(10000.00)));
    // Growing: 30 days in, 1,500.00 of a cap of 10,000.00.
    let (s, r) = overdue_mail(&f, "2025-11-30");
    assert!(!s.capped && s.outstanding_principal > Decimal::ZERO);
    assert!(r.body_zh.contains("在缴清之前每日增加"), "{}", r.body_zh);
    assert!(
        r.body_en.contains("for each day until it is paid"),
        "{}",
        r.body_en
    );
    // Day 200 reaches the cap (5‰ × 200 = 100 %); on day 250 it is still the cap.
    let (s, r) = overdue_mail(&f, "2026-07-09");
    assert!(s.capped, "{s:?}");
    assert_eq!(s.cap, Some(dec!(10000.00)));
    assert_eq!(s.accrued, dec!(10000.00));
    for text in [&r.subject, &r.body_zh, &r.body_en] {
        assert!(
            !text.contains("每日增加") && !text.contains("for each day"),
            "{text}"
        );
    }
    assert!(
        r.body_zh.contains("滞纳金已达上限10000.00元") && r.body_zh.contains("不再增加"),
        "{}",
        r.body_zh
    );
    assert!(
        r.body_zh.contains("尚未缴纳的保障金10000.00元仍须缴纳"),
        "{}",
        r.body_zh
    );
    assert!(r.body_zh.contains("合计尚欠：20000.00 元"), "{}", r.body_zh);
    assert!(
        r.body_en.contains("reached its cap of 10000.00 yuan")
            && r.body_en.contains("grows no more"),
        "{}",
        r.body_en
    );
    assert!(r.subject.contains("滞纳金已达上限"), "{}", r.subject);
}

#[test]
fn an_overdue_mail_with_the_principal_paid_asks_only_for_the_surcharge() {
    // 10,000.00 paid 10 days late: 500.00 of surcharge is all that is owed.
    let mut f = facts(true, Some(dec!(10000.00)));
    if let Some(l) = f.levy.as_mut() {
        l.payments.push(Payment {
            date: d("2025-11-10"),
            amount: dec!(10000.00),
        });
    }
    let (s, r) = overdue_mail(&f, "2025-11-30");
    assert_eq!(s.outstanding_principal, dec!(0));
    assert_eq!(s.outstanding_surcharge, dec!(500.00));
    for text in [&r.subject, &r.body_zh] {
        assert!(
            !text.contains("已逾期"),
            "as if the levy were unpaid: {text}"
        );
        assert!(!text.contains("每日增加"), "{text}");
    }
    for text in [&r.subject, &r.body_en] {
        assert!(!text.contains("overdue"), "{text}");
    }
    assert!(r.subject.contains("已缴清") && r.subject.contains("尚欠滞纳金500.00元"));
    assert!(r.body_zh.contains("尚欠滞纳金：500.00 元"), "{}", r.body_zh);
    assert!(
        r.body_zh.contains("应缴金额：10000.00 元（已缴清）"),
        "{}",
        r.body_zh
    );
    assert!(r.body_zh.contains("滞纳金不再增加"), "{}", r.body_zh);
    assert!(
        r.body_en.contains("Surcharge outstanding:  500.00 yuan"),
        "{}",
        r.body_en
    );
    assert!(r.subject.contains("levy is paid; 500.00 yuan of surcharge"));
}

fn sanmenxia_payment() -> PaymentDirectory {
    let mut entries = std::collections::BTreeMap::new();
    entries.insert(
        "411200".to_owned(),
        crate::config::PaymentInstructions {
            payee: "测试收款单位".into(),
            bank: "测试银行三门峡分行".into(),
            account: "6222 0000 1111 2222".into(),
            etax_url: "https://etax.example.org/henan".into(),
            tax_office: "测试税务局".into(),
            tax_office_address: "三门峡市测试路1号".into(),
            tax_office_phone: "0398-1234567".into(),
        },
    );
    PaymentDirectory(entries)
}

#[test]
fn pay_and_overdue_mails_say_how_to_pay_in_the_region_or_whom_to_ask() {
    let templates = Templates::embedded().unwrap();
    let t = terms();
    let f = facts(true, Some(dec!(10000.00)));
    let configured = sanmenxia_payment();
    for as_of in ["2025-10-24", "2025-11-30", "2026-07-09"] {
        let p = plan(as_of, &f);
        assert!(matches!(
            p[0],
            Planned::Pay { .. } | Planned::Overdue { .. }
        ));
        // The employer is in a county of the city: the city's entry covers it.
        let r = render(&templates, &configured, 2025, &f, &t, &p[0])
            .unwrap()
            .unwrap();
        for line in [
            "收款单位：测试收款单位",
            "开户银行：测试银行三门峡分行",
            "账号：6222 0000 1111 2222",
            "https://etax.example.org/henan",
            "主管税务机关：测试税务局",
            "地址：三门峡市测试路1号",
            "电话：0398-1234567",
        ] {
            assert!(
                r.body_zh.contains(line),
                "{as_of}: {line} not in {}",
                r.body_zh
            );
        }
        assert!(!r.body_zh.contains("{{"), "{}", r.body_zh);
        for line in [
            "Payee:    测试收款单位",
            "Account:  6222 0000 1111 2222",
            "Your tax office: 测试税务局",
            "Phone:    0398-1234567",
        ] {
            assert!(
                r.body_en.contains(line),
                "{as_of}: {line} not in {}",
                r.body_en
            );
        }
        // No entry for the region: no account at all, the tax office to ask.
        let r = render(
            &templates,
            &PaymentDirectory::default(),
            2025,
            &f,
            &t,
            &p[0],
        )
        .unwrap()
        .unwrap();
        assert!(
            r.body_zh
                .contains("请向贵单位所在地的主管税务机关咨询缴款方式和收款账户"),
            "{}",
            r.body_zh
        );
        assert!(
            r.body_en.contains("please ask your local tax office"),
            "{}",
            r.body_en
        );
        assert!(!r.body_zh.contains("账号") && !r.body_en.contains("Account:"));
    }
    // Another province's employer: the Sanmenxia entry is not its tax office's.
    let mut elsewhere = f.clone();
    elsewhere.region = "110105".into();
    let p = plan("2025-10-24", &elsewhere);
    let r = render(&templates, &configured, 2025, &elsewhere, &t, &p[0])
        .unwrap()
        .unwrap();
    assert!(!r.body_zh.contains("测试收款单位"), "{}", r.body_zh);
    assert!(r.body_zh.contains("主管税务机关咨询"), "{}", r.body_zh);
    // Declaration mails ask for no money.
    let d = facts(false, None);
    let p = plan("2025-10-24", &d);
    let r = render(&templates, &configured, 2025, &d, &t, &p[0])
        .unwrap()
        .unwrap();
    assert!(!r.body_zh.contains("缴款方式"), "{}", r.body_zh);
}

#[test]
fn notice_reminder_is_one_per_notice() {
    let templates = Templates::embedded().unwrap();
    let n = NoticeFacts {
        notice_id: 17,
        levy_year: 2025,
        region: ("三门峡市".into(), "Sanmenxia".into()),
        status: "below_quota".into(),
        published_on: d("2025-12-01"),
        objection_until: d("2025-12-08"),
        url: "https://levy.example.org/notices/17".into(),
    };
    let now = chrono::Utc::now().naive_utc();
    let mut employer = crate::db::employers::Employer {
        id: 7,
        uscc: "91411200MA44XXXX1A".into(),
        name: "三门峡测试有限公司".into(),
        kind: "enterprise".into(),
        region: "411200".into(),
        registered_on: None,
        contact_email: Some("hr@example.org".into()),
        establishment_size: None,
        committee_member: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let r = notice_published(&templates, &employer, &n)
        .unwrap()
        .unwrap();
    assert_eq!(r.employer_id, 7);
    assert_eq!(r.stage, "notice-17");
    assert!(r.body_zh.contains("未达到规定比例"), "{}", r.body_zh);
    assert!(r.body_en.contains("below the quota"), "{}", r.body_en);
    assert!(r.body_en.contains("https://levy.example.org/notices/17"));
    employer.contact_email = None;
    assert!(notice_published(&templates, &employer, &n)
        .unwrap()
        .is_none());
    assert_eq!(
        notice_url("https://levy.example.org/", 17),
        "https://levy.example.org/notices/17"
    );
}

#[test]
fn deferred_links_take_the_base_in_force_when_resolved() {
    let text = format!(
        "公示全文：{}\nand {}",
        deferred_link("/notices/3"),
        deferred_link("/x")
    );
    assert_eq!(
        resolve_links(&text, "https://a.example.org/levy/"),
        "公示全文：https://a.example.org/levy/notices/3\nand https://a.example.org/levy/x"
    );
    assert_eq!(
        resolve_links(&text, "http://b.example.org"),
        "公示全文：http://b.example.org/notices/3\nand http://b.example.org/x"
    );
    assert_eq!(
        resolve_links("plain http://old/notices/1", "http://new"),
        "plain http://old/notices/1"
    );
    assert_eq!(resolve_links("a\u{2}/p", "http://h"), "ahttp://h/p");
}

#[test]
fn under_the_demand_rule_the_mails_follow_the_statement_s_start() {
    let mut t = terms();
    t.surcharge_from = SurchargeFrom::WrittenDemand;
    let f = facts(true, Some(dec!(10000.00)));
    let on = |as_of: &str, f: &EmployerFacts| {
        plan_employer(&schedule(), d(as_of), f, Some(&t), Some(&t))
    };
    // Before the due date: the pay mail is the one that names the written demand.
    let pay = on("2025-10-24", &f);
    assert_eq!(pay[0].variant(), Variant::OnDemand);
    // 30 days overdue, no demand: nothing accrued, the text says why.
    let p = on("2025-11-30", &f);
    match &p[0] {
        Planned::Overdue {
            surcharge,
            surcharge_from,
            outstanding,
            ..
        } => {
            assert_eq!(*surcharge, dec!(0));
            assert_eq!(*surcharge_from, None);
            assert_eq!(*outstanding, dec!(10000.00));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p[0].variant(), Variant::NotSurcharged);
    let r = render(
        &Templates::embedded().unwrap(),
        &PaymentDirectory::default(),
        2025,
        &f,
        &t,
        &p[0],
    )
    .unwrap()
    .unwrap();
    assert!(
        r.body_zh.contains("尚未发出催缴通知书，不加收滞纳金"),
        "{}",
        r.body_zh
    );
    assert!(r.body_zh.contains("滞纳金（截至2025-11-30）：0.00 元"));
    // A demand whose deadline (2025-11-20) has passed: 10 days × 50.00 from 2025-11-21,
    // as the statement reckons it.
    let mut demanded = f.clone();
    if let Some(l) = demanded.levy.as_mut() {
        l.first_demand_deadline = Some(d("2025-11-20"));
    }
    let p = on("2025-11-30", &demanded);
    match &p[0] {
        Planned::Overdue {
            surcharge,
            surcharge_from,
            ..
        } => {
            assert_eq!(*surcharge, dec!(500.00));
            assert_eq!(*surcharge_from, Some(d("2025-11-21")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p[0].variant(), Variant::Standard);
    let levy = demanded.levy.as_ref().unwrap();
    let statement_rule = crate::registry::payments::reckon_levy(
        &crate::registry::payments::SurchargeTerms {
            rule: &t.surcharge,
            due: t.payment_due,
            trigger: SurchargeFrom::WrittenDemand,
            first_deadline: levy.first_demand_deadline,
            relief: None,
        },
        levy.principal,
        &[],
        d("2025-11-30"),
    )
    .unwrap();
    assert_eq!(statement_rule.result.accrued, dec!(500.00));
}
