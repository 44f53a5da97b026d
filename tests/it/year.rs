//! Levy year 2025 (data year 2024) in Sanmenxia (411200), walked whole on the app's
//! clock: registration, declaration reminders, declarations, certification, a disputed
//! certificate, the assessment run, the notice and its correction, 催报, payments,
//! surcharges, overdue reminders, the violator list and next year's declaration. Every
//! figure a person reads is computed here from the rules (docs/rules.md), not read back.

use crate::helpers::smtp::text_part;
use crate::helpers::{spawn_app_with_smtp, uscc_with_check, TestApp};
use chrono::NaiveDate;
use reqwest::Method;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const YEAR: i32 = 2025;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Half-up to the fen (docs/rules.md §5: `round2`).
fn round2(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Money as the service writes it: two decimals, no grouping.
fn money(x: Decimal) -> String {
    let mut v = round2(x);
    v.rescale(2);
    v.to_string()
}

/// Money as the violator list's sentences write it: grouped by thousands.
fn grouped(x: Decimal) -> String {
    let s = money(x);
    let (int, frac) = s.split_once('.').expect("two decimals");
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{frac}")
}

fn count4(x: Decimal) -> String {
    let mut v = x.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(4);
    v.to_string()
}

/// A valid 18-character resident ID number (GB 11643, ISO 7064 MOD 11-2 check), for
/// certificates of people who exist only in this test.
fn id_number(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// A second-generation disability certificate: the ID number, category 4 (physical),
/// grade 3, which weighs 1 (docs/rules.md §4.2).
fn certificate(first17: &str) -> String {
    format!("{}43", id_number(first17))
}

/// The levy of docs/rules.md §5 for a data year's `n` staff, `d` disabled (weighted) and
/// average wage `w`, in Henan (quota 1.6 %, docs/rules.md §3) in 2025, when tiers are in
/// force (docs/rules.md §2) and the wage cap (2 × 86,199) is far above `w`.
struct Levy {
    required: Decimal,
    payable: Decimal,
}

fn levy(n: Decimal, disabled: Decimal, w: Decimal) -> Levy {
    let q = dec("0.016");
    let required = n * q;
    let shortfall = (required - disabled).max(Decimal::ZERO);
    let fee_due = round2(shortfall * w);
    let share = if shortfall.is_zero() {
        Decimal::ONE
    } else if disabled / n >= dec("0.01") {
        dec("0.5")
    } else {
        dec("0.9")
    };
    let reduction = round2(fee_due * (Decimal::ONE - share));
    Levy {
        required,
        payable: fee_due - reduction,
    }
}

/// An account on `as_of` by docs/rules.md §6, day by day: 5‰ a day of the principal
/// outstanding at the start of the day, from the day after `due` up to and including
/// the payment day; payments go to principal first, then surcharge; the surcharge never
/// exceeds the principal in default on its first day.
#[derive(Debug, Clone, PartialEq)]
struct Account {
    paid: Decimal,
    surcharge: Decimal,
    capped: bool,
    cap: Decimal,
    outstanding_principal: Decimal,
    outstanding_surcharge: Decimal,
}

impl Account {
    fn outstanding(&self) -> Decimal {
        self.outstanding_principal + self.outstanding_surcharge
    }
}

fn account(
    principal: Decimal,
    due: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
    as_of: NaiveDate,
) -> Account {
    let rate = dec("0.005");
    let mut owed = principal;
    let mut accrued = Decimal::ZERO;
    let mut to_surcharge = Decimal::ZERO;
    let mut cap = None;
    let mut day = due;
    let pay = |day: NaiveDate, owed: &mut Decimal, accrued: Decimal, to_s: &mut Decimal| {
        for (_, amount) in payments.iter().filter(|(on, _)| *on == day) {
            let p = (*amount).min(*owed);
            *owed -= p;
            *to_s += (*amount - p).min(accrued - *to_s);
        }
    };
    for (_, amount) in payments.iter().filter(|(on, _)| *on <= due) {
        owed -= (*amount).min(owed);
    }
    while day < as_of {
        day = day.succ_opt().expect("date");
        if owed > Decimal::ZERO {
            let c = *cap.get_or_insert(owed);
            accrued = (accrued + owed * rate).min(c);
        }
        pay(day, &mut owed, accrued, &mut to_surcharge);
    }
    let cap = cap.unwrap_or(principal);
    // Every amount in this test is a whole number of fen a day, so no rounding
    // (docs/rules.md §6: round2 on each computed amount) is ever needed here.
    assert_eq!(round2(accrued), accrued, "figures chosen to be exact");
    Account {
        paid: payments
            .iter()
            .filter(|(on, _)| *on <= as_of)
            .map(|(_, a)| *a)
            .sum(),
        surcharge: accrued,
        capped: accrued > Decimal::ZERO && accrued == cap,
        cap,
        outstanding_principal: owed,
        outstanding_surcharge: accrued - to_surcharge,
    }
}

/// One employer of the year.
struct Firm {
    uscc: String,
    name: &'static str,
    region: &'static str,
    region_name: &'static str,
    email: String,
}

fn firm(n: u32, name: &'static str, region: &'static str, region_name: &'static str) -> Firm {
    Firm {
        uscc: uscc_with_check(&format!("91{region}MA{n:07}")),
        name,
        region,
        region_name,
        email: format!("finance{n}@firm{n}.example.cn"),
    }
}

fn decl_path(u: &str, year: i32) -> String {
    format!("/api/v1/employers/{u}/declarations/{year}")
}

/// The mails that arrived for `to`.
fn mails_to<'a>(all: &'a [Value], to: &str) -> Vec<&'a Value> {
    all.iter()
        .filter(|m| m["to"].to_string().contains(to))
        .collect()
}

/// The overdue mail (principal or surcharge owed) that reached `x` with the figures of
/// `as_of`.
fn overdue_mail(mails: &[Value], x: &Firm, as_of: NaiveDate) -> Value {
    let on = format!("截至{as_of}尚欠");
    mails_to(mails, &x.email)
        .into_iter()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains(&on)))
        .cloned()
        .unwrap_or_else(|| panic!("{}: no overdue mail", x.name))
}

/// The subject says `zh` first (an English line may follow).
fn assert_subject(m: &Value, zh: impl AsRef<str>) {
    let subject = m["subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with(zh.as_ref()),
        "{subject} / {}",
        zh.as_ref()
    );
}

/// Rows of a CSV answer (UTF-8 with BOM), header first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("CSV row").iter().map(str::to_owned).collect())
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<String>], uscc: &str) -> Vec<&'a Vec<String>> {
    rows.iter().filter(|r| r[0] == uscc).collect()
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, v) = app.call(method.clone(), path, Some(token), body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {v}"
    );
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_levy_year_from_registration_to_the_next_declaration() {
    let started = std::time::Instant::now();
    // Overdue reminders 1, 30 and 210 days after the due date: by day 210 a levy never
    // paid has reached its cap (5‰ × 200 days = 100 %).
    let app = spawn_app_with_smtp(&[("QUOTA_LEVY__MAIL__OVERDUE_DAYS_AFTER", "1,30,210")]).await;
    let admin = app.admin().await;
    let tax = app.tax(Some("411200")).await;
    let fed = app.federation(Some("411200")).await;
    let inspector = app.inspector(Some("411200")).await;

    // The region's dates for levy year 2025 (docs/rules.md §3): declarations close on
    // 31 October (Henan), payment is due on 31 December (the national default).
    let deadline = d("2025-10-31");
    let due = d("2025-12-31");

    let a = firm(1, "三门峡甲机械有限公司", "411202", "湖滨区");
    let b = firm(2, "三门峡乙商贸有限公司", "411202", "湖滨区");
    let c = firm(3, "陕州丙建材有限公司", "411203", "陕州区");
    let dd = firm(4, "渑池丁物流有限公司", "411221", "渑池县");
    let e = firm(5, "三门峡戊餐饮有限公司", "411202", "湖滨区");
    let f = firm(6, "三门峡己印刷有限公司", "411202", "湖滨区");
    // Disabled employees: P1 works for A; P2 for C; DUP is on both B's and C's rosters.
    let p1 = certificate("41120219800101003");
    let p2 = certificate("41120319850615004");
    let dup = certificate("41120219900320005");

    // ---- 1 September: registration, by the API and by a CSV import.
    app.clock.set(d("2025-09-01"));
    for x in [&a, &dd, &f] {
        let body = json!({"uscc": x.uscc, "name": x.name, "kind": "enterprise",
                          "region": x.region, "registered_on": "2010-06-01",
                          "contact_email": x.email});
        ok(&app, Method::POST, "/api/v1/employers", &admin, Some(body)).await;
    }
    // A registration dated tomorrow, on the app's date, is a typing error.
    let late = uscc_with_check("91411202MA0000099");
    let (status, p) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&tax),
            Some(
                json!({"uscc": late, "name": "明日有限公司", "kind": "enterprise",
                        "region": "411202", "registered_on": "2025-09-02"}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/registered_on", "{p}");
    let mut employers_csv = String::from(
        "\u{feff}统一社会信用代码,单位名称,单位类型,行政区划代码,成立日期,联系邮箱,编制人数,残工委成员单位\n",
    );
    for x in [&b, &c, &e] {
        employers_csv += &format!(
            "{},{},企业,{},2015-05-01,{},,否\n",
            x.uscc, x.name, x.region, x.email
        );
    }
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            "text/csv",
            employers_csv.into_bytes(),
        )
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("report");
    assert_eq!(report["counts"]["imported"], 3, "{report}");
    let listed = ok(
        &app,
        Method::GET,
        "/api/v1/employers?per_page=100",
        &tax,
        None,
    )
    .await;
    assert_eq!(listed["total"], 6, "{listed}");

    // ---- 1 October: 30 days before the deadline, every employer is reminded. The
    // worker also plans the previous levy year, whose filing deadline (2024-10-31) these
    // employers, registered for years, passed undeclared: each gets that year's latest
    // 催报 stage, once (the stages are a schedule, not a window).
    app.clock.set(deadline - chrono::Duration::days(30));
    let jobs = app.run_jobs().await;
    assert_eq!(
        jobs.queued,
        BTreeMap::from([("declare", 6), ("declare_overdue", 6)])
    );
    // The first pass also sends the activation mail each employer was given when it
    // was registered with a contact address: twelve reminders and six invitations.
    assert_eq!((jobs.pass.sent, jobs.pass.cancelled), (18, 0));
    let sink = app.smtp.as_ref().expect("smtp");
    let mails = sink.messages();
    for x in [&a, &b, &c, &dd, &e, &f] {
        let got = mails_to(&mails, &x.email);
        assert_eq!(got.len(), 3, "{}: {mails:?}", x.email);
        let invited = got.iter().filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("【残疾人就业保障金】请激活贵单位的账户"))
        });
        assert_eq!(invited.count(), 1, "{}: {got:?}", x.name);
        let declare = format!("【残疾人就业保障金】请于{deadline}前完成{YEAR}年度申报");
        let m = got
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(&declare))
            })
            .unwrap_or_else(|| panic!("{}: {got:?}", x.name));
        let zh = text_part(m, "zh-CN");
        assert!(
            zh.contains(&format!("{}（统一社会信用代码：{}）", x.name, x.uscc)),
            "{zh}"
        );
        assert!(
            zh.contains(&format!("{}的申报截止日期为{deadline}", x.region_name)),
            "{zh}"
        );
        assert!(text_part(m, "en").contains(&deadline.to_string()));
        let overdue = got
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("【残疾人就业保障金】催报"))
            })
            .expect("last year's 催报");
        assert_subject(
            overdue,
            "【残疾人就业保障金】催报：2024年度申报已于2024-10-31截止，请尽快申报",
        );
        assert!(text_part(overdue, "zh-CN").contains("截至2025-10-01，贵单位仍未提交申报"));
    }

    // ---- 10 October: declarations. A and E file their own; the tax bureau imports
    // and files B's, C's and F's.
    app.clock.set(d("2025-10-10"));
    let months: Vec<u32> = (1..=12).collect();
    let a_body = json!({
        "staff": {"monthly_headcount": vec![100; 12]},
        "total_wages": "7000000.00",
        "disabled_employees": [{"certificate_no": p1, "months": months,
            "on_establishment": true, "social_insurance_paid": true, "monthly_wage": "3000.00"}]
    });
    let e_body = json!({"staff": {"average_headcount": "40"}, "average_wage": "50000",
                        "disabled_count": "0"});
    for (x, body) in [(&a, a_body.clone()), (&e, e_body)] {
        let tok = app.employer(&x.uscc).await;
        let path = decl_path(&x.uscc, YEAR);
        ok(&app, Method::PUT, &path, &tok, Some(body)).await;
        let v = ok(&app, Method::POST, &format!("{path}/submit"), &tok, None).await;
        assert_eq!(v["status"], "submitted", "{v}");
    }
    let header = [
        "统一社会信用代码",
        "单位名称",
        "1月",
        "2月",
        "3月",
        "4月",
        "5月",
        "6月",
        "7月",
        "8月",
        "9月",
        "10月",
        "11月",
        "12月",
        "在职职工年平均人数",
        "工资总额",
        "经认证的残疾职工人数",
        "残疾证号",
        "在职月份",
        "劳动合同期限（月）",
        "是否足额缴纳社会保险",
        "月工资",
    ];
    let line = |cells: &[(&str, String)]| -> String {
        let row: Vec<String> = header
            .iter()
            .map(|h| {
                cells
                    .iter()
                    .find(|(k, _)| k == h)
                    .map_or(String::new(), |(_, v)| v.clone())
            })
            .collect();
        row.join(",") + "\n"
    };
    let monthly = |n: u32| -> Vec<(&'static str, String)> {
        header[2..14].iter().map(|m| (*m, n.to_string())).collect()
    };
    let roster = |u: &str, cert: &str| {
        line(&[
            ("统一社会信用代码", u.to_owned()),
            ("残疾证号", cert.to_owned()),
            ("在职月份", "1-12".into()),
            ("劳动合同期限（月）", "36".into()),
            ("是否足额缴纳社会保险", "是".into()),
            ("月工资", "3000".into()),
        ])
    };
    let mut decl_csv = header.join(",") + "\n";
    let mut cells = vec![
        ("统一社会信用代码", b.uscc.clone()),
        ("单位名称", b.name.into()),
    ];
    cells.extend(monthly(50));
    cells.push(("工资总额", "3000000.00".into()));
    decl_csv += &line(&cells);
    decl_csv += &roster(&b.uscc, &dup);
    let mut cells = vec![
        ("统一社会信用代码", c.uscc.clone()),
        ("单位名称", c.name.into()),
    ];
    cells.extend(monthly(200));
    cells.push(("工资总额", "16000000.00".into()));
    decl_csv += &line(&cells);
    decl_csv += &roster(&c.uscc, &dup);
    decl_csv += &roster(&c.uscc, &p2);
    decl_csv += &line(&[
        ("统一社会信用代码", f.uscc.clone()),
        ("单位名称", f.name.into()),
        ("在职职工年平均人数", "50".into()),
        ("工资总额", "2500000.00".into()),
        ("经认证的残疾职工人数", "0".into()),
    ]);
    let r = app
        .upload(
            &format!("/api/v1/imports/declarations?levy_year={YEAR}&submit=true"),
            Some(&tax),
            "text/csv",
            decl_csv.into_bytes(),
        )
        .await;
    let status = r.status();
    let report: Value = r.json().await.expect("report");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["counts"]["declarations"], 3, "{report}");
    for x in [&b, &c, &f] {
        let v = ok(&app, Method::GET, &decl_path(&x.uscc, YEAR), &tax, None).await;
        assert_eq!(v["status"], "submitted", "{}: {v}", x.uscc);
    }
    // The federation certifies A's roster before the assessment.
    let v = ok(
        &app,
        Method::POST,
        &format!("{}/certify", decl_path(&a.uscc, YEAR)),
        &fed,
        None,
    )
    .await;
    assert_eq!(v["status"], "certified", "{v}");

    // ---- 24 October: seven days before the deadline only D is still undeclared; its
    // reminder is queued, but the mail server is not reached before the deadline.
    app.clock.set(deadline - chrono::Duration::days(7));
    assert_eq!(app.plan_reminders().await, BTreeMap::from([("declare", 1)]));

    // ---- 25 October: the batch assessment. The certificate on two rosters counts for
    // neither until the federation decides (docs/rules.md §4.2).
    app.clock.set(d("2025-10-25"));
    let run = app.queue_assessment_run(YEAR, Some("411200")).await;
    let runs = app.run_assessments().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].id, runs[0].status.as_str()),
        (run, "finished"),
        "{:?}",
        runs[0]
    );
    assert_eq!((runs[0].assessed, runs[0].failed), (5, 0), "{:?}", runs[0]);
    let n = |x: &str| dec(x);
    // A: N 100, D 1 (1 %: 50 % payable), W 7,000,000 / 100.
    let lev_a = levy(n("100"), n("1"), n("70000"));
    // B: N 50, D 0 while disputed, W 3,000,000 / 50.
    let lev_b_disputed = levy(n("50"), n("0"), n("60000"));
    // B once the person is its own: D 1 ≥ 0.8 required.
    let lev_b = levy(n("50"), n("1"), n("60000"));
    // C: N 200, D 1 (P2 only, the disputed person never counts for C), W 80,000.
    let lev_c = levy(n("200"), n("1"), n("80000"));
    let lev_e = levy(n("40"), n("0"), n("50000"));
    let lev_f = levy(n("50"), n("0"), n("2500000") / n("50"));
    for (x, l) in [
        (&a, &lev_a),
        (&b, &lev_b_disputed),
        (&c, &lev_c),
        (&e, &lev_e),
        (&f, &lev_f),
    ] {
        let v = ok(
            &app,
            Method::GET,
            &format!("/api/v1/employers/{}/assessments/{YEAR}", x.uscc),
            &tax,
            None,
        )
        .await;
        assert_eq!(
            v["result"]["levy_payable"],
            money(l.payable),
            "{}: {v}",
            x.name
        );
    }
    let total: Decimal = [&lev_a, &lev_b_disputed, &lev_c, &lev_e, &lev_f]
        .iter()
        .map(|l| l.payable)
        .sum();
    assert_eq!(Decimal::new(runs[0].payable_total_fen, 2), total);
    assert_eq!(money(lev_a.payable), "21000.00", "the README's example");

    // The federation certifies C after the assessment: the assessment stays current,
    // and the next run finds nothing to change.
    let assessment_c = format!("/api/v1/employers/{}/assessments/{YEAR}", c.uscc);
    let before = ok(&app, Method::GET, &assessment_c, &tax, None).await;
    ok(
        &app,
        Method::POST,
        &format!("{}/certify", decl_path(&c.uscc, YEAR)),
        &fed,
        None,
    )
    .await;
    app.queue_assessment_run(YEAR, Some("411200")).await;
    let again = app.run_assessments().await;
    assert_eq!(
        (again[0].assessed, again[0].failed),
        (0, 0),
        "{:?}",
        again[0]
    );
    let after = ok(&app, Method::GET, &assessment_c, &tax, None).await;
    assert_eq!(
        after["id"], before["id"],
        "still the current assessment: {after}"
    );
    assert_eq!(after["result"]["levy_payable"], money(lev_c.payable));

    // ---- 1 November: the deadline has passed. D's seven-day reminder is cancelled at
    // send time (its date is gone), and the 催报 goes out instead.
    app.clock.set(deadline + chrono::Duration::days(1));
    let jobs = app.run_jobs().await;
    assert!(jobs.runs.is_empty(), "no run was left unfinished");
    assert_eq!(jobs.queued, BTreeMap::from([("declare_overdue", 1)]));
    assert_eq!(
        (jobs.pass.sent, jobs.pass.cancelled),
        (1, 1),
        "{:?}",
        jobs.pass
    );
    let mails = sink.messages();
    let to_d = mails_to(&mails, &dd.email);
    assert_eq!(
        to_d.len(),
        4,
        "the mails of 1 October (with the invitation) and this 催报"
    );
    let m = to_d
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("催报：2025年度"))
        })
        .expect("催报");
    assert_subject(
        m,
        format!("【残疾人就业保障金】催报：{YEAR}年度申报已于{deadline}截止，请尽快申报"),
    );
    let zh = text_part(m, "zh-CN");
    assert!(
        zh.contains(&format!(
            "{}{YEAR}年度残疾人就业保障金的申报截止日期为{deadline}。截至2025-11-01，贵单位仍未提交申报",
            dd.region_name
        )),
        "{zh}"
    );
    assert!(zh.contains("“未申报”"), "{zh}");

    // ---- 3 November: the notice (公示), with a week for objections.
    app.clock.set(d("2025-11-03"));
    let n1 = ok(
        &app,
        Method::POST,
        "/api/v1/notices",
        &fed,
        Some(json!({"region": "411200", "levy_year": YEAR, "objection_days": 7})),
    )
    .await;
    let n1_id = n1["id"].as_i64().expect("id");
    assert_eq!(n1["published_on"], "2025-11-03");
    assert_eq!(n1["objection_until"], "2025-11-10");
    assert_eq!(n1["reminders_queued"], 6);
    let entries = |notice: &Value| -> BTreeMap<String, Value> {
        notice["content"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| (e["uscc"].as_str().expect("uscc").to_owned(), e.clone()))
            .collect()
    };
    let check_entry = |all: &BTreeMap<String, Value>,
                       x: &Firm,
                       status: &str,
                       staff: &str,
                       counted: &str,
                       required: Decimal| {
        let en = &all[&x.uscc];
        assert_eq!(en["name"], x.name, "{en}");
        assert_eq!(en["region_name"], x.region_name, "{en}");
        assert_eq!(en["status"], status, "{}: {en}", x.name);
        assert_eq!(en["staff"], staff, "{en}");
        assert_eq!(en["counted"], counted, "{en}");
        assert_eq!(en["required"], count4(required), "{en}");
    };
    let v = ok(
        &app,
        Method::GET,
        &format!("/api/v1/notices/{n1_id}"),
        &fed,
        None,
    )
    .await;
    let first = entries(&v);
    assert_eq!(first.len(), 6);
    check_entry(
        &first,
        &a,
        "below_quota",
        "100.0000",
        "1.0000",
        lev_a.required,
    );
    check_entry(
        &first,
        &b,
        "below_quota",
        "50.0000",
        "0.0000",
        lev_b.required,
    );
    check_entry(
        &first,
        &c,
        "below_quota",
        "200.0000",
        "1.0000",
        lev_c.required,
    );
    check_entry(
        &first,
        &e,
        "below_quota",
        "40.0000",
        "0.0000",
        lev_e.required,
    );
    check_entry(
        &first,
        &f,
        "below_quota",
        "50.0000",
        "0.0000",
        lev_f.required,
    );
    assert_eq!(first[&dd.uscc]["status"], "not_declared");
    assert_eq!(first[&dd.uscc]["staff"], Value::Null);
    let jobs = app.run_jobs().await;
    assert_eq!(jobs.pass.sent, 6, "{:?}", jobs.pass);
    let mails = sink.messages();
    let notice_mail = mails_to(&mails, &b.email)
        .into_iter()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains("公示")))
        .expect("B's notice mail");
    let zh = text_part(notice_mail, "zh-CN");
    assert!(
        zh.contains(&format!(
            "（编号{n1_id}）已于2025-11-03发布，贵单位列入公示，公示状态为：未达到规定比例"
        )),
        "{zh}"
    );
    assert!(zh.contains("公示期至2025-11-10止"), "{zh}");

    // ---- 5 November: B objects: the person on both rosters works for B. The
    // federation decides, both claimants are re-assessed, and the notice is corrected.
    app.clock.set(d("2025-11-05"));
    let disputes = ok(
        &app,
        Method::GET,
        &format!("/api/v1/certificate-disputes?levy_year={YEAR}"),
        &fed,
        None,
    )
    .await;
    assert_eq!(
        disputes["items"].as_array().map(Vec::len),
        Some(1),
        "{disputes}"
    );
    let resolved = ok(
        &app,
        Method::POST,
        "/api/v1/certificate-disputes/resolve",
        &fed,
        Some(
            json!({"levy_year": YEAR, "certificate_no": dup, "counted_by": b.uscc,
                    "note": "劳动合同在乙公司"}),
        ),
    )
    .await;
    assert_eq!(resolved["reassessed"]["assessed"], 2, "{resolved}");
    for (x, l) in [(&b, &lev_b), (&c, &lev_c)] {
        let v = ok(
            &app,
            Method::GET,
            &format!("/api/v1/employers/{}/assessments/{YEAR}", x.uscc),
            &tax,
            None,
        )
        .await;
        assert_eq!(
            v["result"]["levy_payable"],
            money(l.payable),
            "{}: {v}",
            x.name
        );
    }
    assert_eq!(money(lev_b.payable), "0.00");
    let n2 = ok(
        &app,
        Method::POST,
        "/api/v1/notices",
        &fed,
        Some(
            json!({"region": "411200", "levy_year": YEAR, "objection_days": 7,
                    "replaces": n1_id, "correction_reason": "乙公司残疾职工由残联认定计入乙公司"}),
        ),
    )
    .await;
    let n2_id = n2["id"].as_i64().expect("id");
    assert_eq!(n2["replaces"], n1_id);
    let v = ok(
        &app,
        Method::GET,
        &format!("/api/v1/notices/{n2_id}"),
        &fed,
        None,
    )
    .await;
    let second = entries(&v);
    check_entry(
        &second,
        &b,
        "compliant",
        "50.0000",
        "1.0000",
        lev_b.required,
    );
    check_entry(
        &second,
        &c,
        "below_quota",
        "200.0000",
        "1.0000",
        lev_c.required,
    );
    assert_eq!(v["content"]["replaces"]["id"], n1_id);
    let old = ok(
        &app,
        Method::GET,
        &format!("/api/v1/notices/{n1_id}"),
        &fed,
        None,
    )
    .await;
    assert_eq!(old["state"], "superseded", "{old}");
    assert_eq!(entries(&old), first, "a published notice is never edited");
    app.run_jobs().await;

    // ---- 20 December: A pays in full, and the bank's retry is answered, not recorded.
    app.clock.set(d("2025-12-20"));
    let pay = |x: &Firm, key: &str, amount: Decimal, on: NaiveDate| {
        app.client
            .post(app.url(&format!("/api/v1/employers/{}/payments/{YEAR}", x.uscc)))
            .bearer_auth(&tax)
            .header("Idempotency-Key", key.to_owned())
            .json(&json!({"amount": money(amount), "paid_on": on.to_string(),
                          "reference": format!("BANK-{key}")}))
            .send()
    };
    let r = pay(&a, "a-1", lev_a.payable, d("2025-12-21"))
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        422,
        "tomorrow, on the app's date, is in the future"
    );
    let r = pay(&a, "a-2", lev_a.payable, d("2025-12-20"))
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let first_answer: Value = r.json().await.expect("json");
    let r = pay(&a, "a-2", lev_a.payable, d("2025-12-20"))
        .await
        .expect("send");
    assert_eq!(r.status(), 201, "a replay answers the first status");
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.json::<Value>().await.expect("json"), first_answer);

    // ---- After the due date: C pays part 10 days late, F all of it 20 days late.
    let c_paid = dec("100000.00");
    app.clock.set(d("2026-01-10"));
    assert_eq!(
        pay(&c, "c-1", c_paid, d("2026-01-10"))
            .await
            .expect("send")
            .status(),
        201
    );
    app.clock.set(d("2026-01-20"));
    assert_eq!(
        pay(&f, "f-1", lev_f.payable, d("2026-01-20"))
            .await
            .expect("send")
            .status(),
        201
    );

    // ---- 30 January: thirty days overdue.
    let day30 = due + chrono::Duration::days(30);
    app.clock.set(day30);
    let acc_a = account(
        lev_a.payable,
        due,
        &[(d("2025-12-20"), lev_a.payable)],
        day30,
    );
    let acc_c = account(lev_c.payable, due, &[(d("2026-01-10"), c_paid)], day30);
    let acc_e = account(lev_e.payable, due, &[], day30);
    let acc_f = account(
        lev_f.payable,
        due,
        &[(d("2026-01-20"), lev_f.payable)],
        day30,
    );
    // 10 days on 158,400 then 20 on 58,400: 7,920 + 5,840.
    assert_eq!(money(acc_c.surcharge), "13760.00");

    // Statements, on the app's date by default.
    for (x, l, acc) in [
        (&a, &lev_a, &acc_a),
        (&c, &lev_c, &acc_c),
        (&e, &lev_e, &acc_e),
        (&f, &lev_f, &acc_f),
    ] {
        let s = ok(
            &app,
            Method::GET,
            &format!("/api/v1/employers/{}/statements/{YEAR}", x.uscc),
            &tax,
            None,
        )
        .await;
        assert_eq!(s["as_of"], day30.to_string(), "{s}");
        assert_eq!(s["due_date"], due.to_string());
        assert_eq!(s["principal"], money(l.payable), "{}: {s}", x.name);
        assert_eq!(s["surcharge"], money(acc.surcharge), "{}: {s}", x.name);
        assert_eq!(s["outstanding_principal"], money(acc.outstanding_principal));
        assert_eq!(s["outstanding_surcharge"], money(acc.outstanding_surcharge));
        assert_eq!(
            s["outstanding"],
            money(acc.outstanding()),
            "{}: {s}",
            x.name
        );
    }
    let s = ok(
        &app,
        Method::GET,
        &format!("/api/v1/employers/{}/statements/{YEAR}", a.uscc),
        &tax,
        None,
    )
    .await;
    assert_eq!(
        s["payments"].as_array().map(Vec::len),
        Some(1),
        "recorded once: {s}"
    );

    // The overdue reminders: C and E owe principal, F only the surcharge; and D, still
    // undeclared, gets the 30-day 催报.
    let seen = sink.messages().len();
    let jobs = app.run_jobs().await;
    assert_eq!(
        jobs.queued,
        BTreeMap::from([("declare_overdue", 1), ("overdue", 3)]),
        "A paid in time and B owes nothing"
    );
    assert_eq!(jobs.pass.sent, 4, "{:?}", jobs.pass);
    let mails = sink.messages();
    assert_eq!(mails.len(), seen + 4);
    for (x, l, acc) in [(&c, &lev_c, &acc_c), (&e, &lev_e, &acc_e)] {
        let m = overdue_mail(&mails, x, day30);
        assert_subject(
            &m,
            format!(
                "【残疾人就业保障金】{YEAR}年度已逾期30天，截至{day30}尚欠{}元",
                money(acc.outstanding())
            ),
        );
        let zh = text_part(&m, "zh-CN");
        for want in [
            format!("缴款期限已于{due}届满，截至{day30}已逾期30天"),
            format!("应缴金额：{} 元", money(l.payable)),
            format!("已缴金额：{} 元", money(acc.paid)),
            format!("滞纳金（截至{day30}）：{} 元", money(acc.surcharge)),
            format!("合计尚欠：{} 元", money(acc.outstanding())),
            "按日加收未缴金额的5‰".to_owned(),
        ] {
            assert!(zh.contains(&want), "{}: {want} not in {zh}", x.name);
        }
    }
    let m = overdue_mail(&mails, &f, day30);
    assert_subject(
        &m,
        format!(
            "【残疾人就业保障金】{YEAR}年度保障金已缴清，截至{day30}尚欠滞纳金{}元",
            money(acc_f.outstanding_surcharge)
        ),
    );
    let zh = text_part(&m, "zh-CN");
    for want in [
        format!("应缴金额：{} 元（已缴清）", money(lev_f.payable)),
        format!("已缴金额：{} 元", money(acc_f.paid)),
        format!("滞纳金：{} 元", money(acc_f.surcharge)),
        format!("尚欠滞纳金：{} 元", money(acc_f.outstanding_surcharge)),
        "保障金缴清后滞纳金不再增加".to_owned(),
    ] {
        assert!(zh.contains(&want), "F: {want} not in {zh}");
    }
    assert_eq!(
        money(acc_f.outstanding_surcharge),
        "3600.00",
        "20 days × 5‰ × 36,000"
    );

    // The levy roll, as CSV for Chinese Excel, on the app's date.
    let text = app
        .get_text(
            &format!("/api/v1/levy-roll?levy_year={YEAR}&region=411200&format=csv"),
            Some(&tax),
        )
        .await;
    let rows = csv_rows(&text);
    let status_cell = |s: &str| match s {
        "compliant" => "已达到规定比例 (compliant)",
        _ => "未达到规定比例 (below_quota)",
    };
    let zero = account(Decimal::ZERO, due, &[], day30);
    let expected_roll = [
        (&a, "100.0000", &lev_a, "1.0000", &acc_a, "below_quota"),
        (&b, "50.0000", &lev_b, "1.0000", &zero, "compliant"),
        (&c, "200.0000", &lev_c, "1.0000", &acc_c, "below_quota"),
        (&e, "40.0000", &lev_e, "0.0000", &acc_e, "below_quota"),
        (&f, "50.0000", &lev_f, "0.0000", &acc_f, "below_quota"),
    ];
    assert_eq!(
        rows.len(),
        1 + expected_roll.len() + 1,
        "header, rows, totals: {text}"
    );
    for (x, staff, l, counted, acc, status) in expected_roll {
        let found = row_of(&rows, &x.uscc);
        assert_eq!(found.len(), 1, "{}: {text}", x.name);
        let want: Vec<String> = [
            x.uscc.as_str(),
            x.name,
            "企业",
            x.region,
            staff,
            &count4(l.required),
            counted,
            &money(l.payable),
            &money(acc.paid),
            &money(acc.surcharge),
            &money(acc.outstanding()),
            &due.to_string(),
            status_cell(status),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(found[0], &want, "{}", x.name);
    }
    let totals = rows.last().expect("totals");
    let sum = |pick: fn(&Levy, &Account) -> Decimal| {
        money(expected_roll.iter().map(|r| pick(r.2, r.4)).sum())
    };
    assert_eq!(totals[0], "合计 (total)");
    assert_eq!(totals[1], "5");
    assert_eq!(totals[7], sum(|l, _| l.payable));
    assert_eq!(totals[8], sum(|_, a| a.paid));
    assert_eq!(totals[9], sum(|_, a| a.surcharge));
    assert_eq!(totals[10], sum(|_, a| a.outstanding()));

    // The violator list: one money row per debtor, so that the column sums.
    let text = app
        .get_text(
            &format!("/api/v1/violations?levy_year={YEAR}&region=411200&format=csv"),
            Some(&inspector),
        )
        .await;
    let rows = csv_rows(&text);
    let kinds =
        |u: &str| -> Vec<String> { row_of(&rows, u).iter().map(|r| r[4].clone()).collect() };
    assert!(kinds(&a.uscc).is_empty(), "paid in time: {text}");
    assert!(kinds(&b.uscc).is_empty(), "compliant: {text}");
    assert_eq!(kinds(&c.uscc), ["逾期未缴 (overdue)"]);
    assert_eq!(kinds(&e.uscc), ["逾期未缴 (overdue)"]);
    assert_eq!(kinds(&f.uscc).len(), 1, "{text}");
    assert!(kinds(&f.uscc)[0].ends_with("(surcharge_unpaid)"), "{text}");
    assert_eq!(kinds(&dd.uscc).len(), 1, "{text}");
    assert!(kinds(&dd.uscc)[0].ends_with("(not_declared)"), "{text}");
    for x in [&c, &dd, &e, &f] {
        let r = &row_of(&rows, &x.uscc)[0];
        assert_eq!(
            (r[1].as_str(), r[2].as_str(), r[3].as_str()),
            (x.name, "企业", x.region)
        );
    }
    let outstanding_of = |u: &str| row_of(&rows, u)[0][8].clone();
    assert_eq!(outstanding_of(&c.uscc), money(acc_c.outstanding()));
    assert_eq!(outstanding_of(&e.uscc), money(acc_e.outstanding()));
    assert_eq!(outstanding_of(&f.uscc), money(acc_f.outstanding_surcharge));
    assert_eq!(outstanding_of(&dd.uscc), "0.00");
    let c_row = &row_of(&rows, &c.uscc)[0];
    assert_eq!(
        c_row[6],
        format!(
            "below quota: payable {}, paid {}, principal outstanding {}, 30 days past due {due}, surcharge {}",
            grouped(lev_c.payable),
            grouped(c_paid),
            grouped(acc_c.outstanding_principal),
            grouped(acc_c.surcharge)
        )
    );
    let f_row = &row_of(&rows, &f.uscc)[0];
    assert_eq!(
        f_row[6],
        format!(
            "levy {} paid; surcharge {} of which 0.00 paid, {} outstanding",
            grouped(lev_f.payable),
            grouped(acc_f.surcharge),
            grouped(acc_f.outstanding_surcharge)
        )
    );
    assert_eq!(
        f_row[5],
        format!(
            "保障金 {} 已缴清，滞纳金 {} 已缴 0.00，尚欠滞纳金 {}",
            grouped(lev_f.payable),
            grouped(acc_f.surcharge),
            grouped(acc_f.outstanding_surcharge)
        )
    );
    assert_eq!(
        row_of(&rows, &dd.uscc)[0][6],
        format!("no declaration filed; deadline {deadline}, 91 days ago")
    );
    let listed: Decimal = rows[1..].iter().map(|r| dec(&r[8])).sum();
    assert_eq!(
        money(listed),
        money(acc_c.outstanding() + acc_e.outstanding() + acc_f.outstanding_surcharge)
    );

    // ---- 29 July 2026, 210 days overdue: E never paid, and its surcharge stopped at
    // the amount in default (docs/rules.md §6).
    let day210 = due + chrono::Duration::days(210);
    assert_eq!(day210, d("2026-07-29"));
    app.clock.set(day210);
    let acc_e = account(lev_e.payable, due, &[], day210);
    assert!(
        acc_e.capped && acc_e.surcharge == lev_e.payable,
        "{acc_e:?}"
    );
    let acc_c = account(lev_c.payable, due, &[(d("2026-01-10"), c_paid)], day210);
    assert!(!acc_c.capped, "{acc_c:?}");
    let s = ok(
        &app,
        Method::GET,
        &format!("/api/v1/employers/{}/statements/{YEAR}", e.uscc),
        &tax,
        None,
    )
    .await;
    assert_eq!(
        s["surcharge_cap"],
        money(acc_e.cap),
        "the amount in default: {s}"
    );
    assert_eq!(s["surcharge_capped"], true);
    assert_eq!(s["surcharge"], money(acc_e.surcharge));
    assert_eq!(s["outstanding"], money(acc_e.outstanding()));
    let jobs = app.run_jobs().await;
    assert_eq!(jobs.queued, BTreeMap::from([("overdue", 3)]), "C, E and F");
    let mails = sink.messages();
    let m = overdue_mail(&mails, &e, day210);
    assert_subject(
        &m,
        format!(
            "【残疾人就业保障金】{YEAR}年度已逾期210天，截至{day210}尚欠{}元（滞纳金已达上限）",
            money(acc_e.outstanding())
        ),
    );
    let zh = text_part(&m, "zh-CN");
    for want in [
        format!("滞纳金（截至{day210}）：{} 元", money(acc_e.surcharge)),
        format!("合计尚欠：{} 元", money(acc_e.outstanding())),
        format!("滞纳金已达上限{}元", money(acc_e.cap)),
        format!(
            "尚未缴纳的保障金{}元仍须缴纳",
            money(acc_e.outstanding_principal)
        ),
    ] {
        assert!(zh.contains(&want), "E: {want} not in {zh}");
    }
    let m = overdue_mail(&mails, &c, day210);
    assert_subject(
        &m,
        format!(
            "【残疾人就业保障金】{YEAR}年度已逾期210天，截至{day210}尚欠{}元",
            money(acc_c.outstanding())
        ),
    );

    // ---- 1 September 2026: A starts next year's declaration from this year's.
    app.clock.set(d("2026-09-01"));
    let tok_a = app.employer(&a.uscc).await;
    let this_year = ok(&app, Method::GET, &decl_path(&a.uscc, YEAR), &tok_a, None).await;
    assert_eq!(this_year["status"], "certified");
    let body = this_year["declaration"].clone();
    let (status, next) = app
        .call(
            Method::PUT,
            &decl_path(&a.uscc, YEAR + 1),
            Some(&tok_a),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["status"], "draft");
    assert_eq!(
        next["declaration"], body,
        "started from this year's figures"
    );
    let still = ok(&app, Method::GET, &decl_path(&a.uscc, YEAR), &tok_a, None).await;
    assert_eq!(
        still["declaration"], body,
        "this year's declaration is unchanged"
    );
    assert_eq!(still["status"], "certified");

    eprintln!(
        "the levy year took {:.1} s on {}",
        started.elapsed().as_secs_f64(),
        if app.db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
}
