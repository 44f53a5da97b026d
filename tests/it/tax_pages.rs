//! The tax bureau's pages (/tax) and the officers' employer page, used as a tax officer
//! would through the forms: the pages open for their roles only and within the
//! officer's region, forms without the session's token change nothing, a payment form
//! sent twice records one payment, a bank file imported twice records each payment
//! once, and a written demand is recorded with the figures of the statement. Also the
//! written-demand rule of the surcharge (docs/rules.md §6). Both backends.

use crate::helpers::fixtures::{uscc_with_check, USCC_A};
use crate::helpers::web::{client, person, sign_in, WebSession};
use crate::helpers::{spawn_app_with, TestApp};
use diesel::prelude::*;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const STMT: &str = "/api/v1/employers/91350100M000100Y43/statements/2025";
pub(crate) const PAGE: &str = "/officer/employers/91350100M000100Y43?levy_year=2025";

/// Settings of these tests: no activation mail, and the region's payee configured.
pub(crate) const PAYEE: [(&str, &str); 8] = [
    ("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false"),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__PAYEE",
        "国家税务总局三门峡市税务局",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__BANK",
        "测试银行三门峡分行",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__ACCOUNT",
        "1234 5678 9012",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__ETAX_URL",
        "https://etax.example.org/",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE",
        "三门峡市湖滨区税务局",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE_ADDRESS",
        "某路某号",
    ),
    (
        "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE_PHONE",
        "0398-0000000",
    ),
];

/// An employer of another region (Shenzhen).
pub fn uscc_far() -> String {
    uscc_with_check("91440300MA5F00001")
}

/// Registers `uscc` in `region`.
pub(crate) async fn register(app: &TestApp, uscc: &str, region: &str) {
    let admin = app.admin().await;
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": uscc, "name": format!("单位{region}"), "kind": "enterprise", "region": region})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// Registers `uscc` in `region`, declares levy year 2025 and assesses it: employer A's
/// figures give 10,000.00 payable (tests/it/helpers/fixtures.rs).
pub(crate) async fn assessed(app: &TestApp, uscc: &str, region: &str) {
    register(app, uscc, region).await;
    let admin = app.admin().await;
    let emp = app.employer(uscc).await;
    let decl = format!("/api/v1/employers/{uscc}/declarations/2025");
    let body = json!({"staff": {"average_headcount": "100"}, "average_wage": "33333.33", "disabled_count": "1"});
    let (s, b) = app.call(Method::PUT, &decl, Some(&emp), Some(body)).await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = app
        .call(Method::POST, &format!("{decl}/submit"), Some(&emp), None)
        .await;
    assert_eq!(s, 200);
    let (s, a) = app
        .call(
            Method::POST,
            &format!("/api/v1/employers/{uscc}/assessments/2025"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 201, "{a}");
}

/// An app with employer A (湖滨区) assessed, a tax officer of 三门峡 signed in.
pub(crate) async fn tax_app(extra: &[(&str, &str)]) -> (TestApp, WebSession) {
    let mut env: Vec<(&str, &str)> = PAYEE.to_vec();
    env.extend_from_slice(extra);
    let app = spawn_app_with(&env).await;
    app.clock.set(d("2026-02-01"));
    assessed(&app, USCC_A, "411202").await;
    person(&app, "tax1", Role::Tax, None, Some("411200")).await;
    let web = sign_in(&app, "tax1").await;
    (app, web)
}

pub(crate) fn d(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(crate) async fn statement(app: &TestApp, as_of: Option<&str>) -> Value {
    let tax = app.tax(None).await;
    let path = match as_of {
        Some(a) => format!("{STMT}?as_of={a}"),
        None => STMT.to_owned(),
    };
    let (s, v) = app.call(Method::GET, &path, Some(&tax), None).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn text(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

/// The text of the element with `id`, as the page shows it.
fn by_id(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The value of the hidden input `name`.
fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key).unwrap_or_else(|| panic!("no {name}")) + key.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A multipart body with the session's token, the levy year and the file.
fn multipart(csrf: &str, file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let b = "----quotalevytestboundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf_token", csrf), ("levy_year", "2025")] {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn upload_page(app: &TestApp, web: &WebSession, csrf: &str, file: &[u8]) -> (u16, String) {
    let (ct, body) = multipart(csrf, "bank.csv", file);
    text(
        client()
            .post(app.url("/tax/payments/import"))
            .header("cookie", &web.cookie)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) fn count_payments(app: &TestApp) -> i64 {
    use quota_levy::db::schema::payments;
    let pool = app.pool();
    let mut c = pool.conn().unwrap();
    payments::table.count().get_result(&mut *c).unwrap()
}

#[tokio::test]
async fn tax_pages_open_for_the_tax_officer_and_for_no_other_role() {
    let (app, web) = tax_app(&[]).await;
    for path in [
        "/tax?levy_year=2025",
        "/tax?levy_year=2025&lang=en",
        "/tax/roll?levy_year=2025",
        "/tax/roll?levy_year=2025&county=411202&status=below_quota&min=1",
        "/tax/arrears?levy_year=2025",
        PAGE,
    ] {
        let (s, html) = text(web.get(path).await).await;
        assert_eq!(s, 200, "{path}: {html}");
        assert!(html.contains("10000.00"), "{path} shows the levy: {html}");
    }
    let (s, html) = text(web.get("/tax/payments/import?levy_year=2025").await).await;
    assert_eq!(s, 200);
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    // The overview: one county, its counts and sums.
    let (_, html) = text(web.get("/tax?levy_year=2025").await).await;
    assert!(html.contains("411202"), "{html}");
    // A filter that keeps nothing, and one that is wrong (422, named).
    let (_, html) = text(web.get("/tax/roll?levy_year=2025&min=10000.01").await).await;
    assert!(!html.contains(USCC_A), "{html}");
    let (s, html) = text(web.get("/tax/roll?levy_year=2025&min=abc").await).await;
    assert_eq!(s, 422);
    assert!(html.contains("f-min-err"), "{html}");
    // The downloads are the roll's own.
    let (_, html) = text(web.get("/tax/roll?levy_year=2025&county=411202").await).await;
    assert!(
        html.contains("/api/v1/levy-roll?levy_year=2025&#38;format=csv&#38;region=411202"),
        "{html}"
    );

    // Other roles: /tax is refused as a page.
    let far = uscc_far();
    register(&app, &far, "440300").await;
    person(&app, "fed", Role::Federation, None, Some("411200")).await;
    person(&app, "insp", Role::Inspector, None, Some("411200")).await;
    person(&app, "emp", Role::Employer, Some(USCC_A), None).await;
    for who in ["fed", "insp", "emp"] {
        let s = sign_in(&app, who).await;
        let (code, _) = text(s.get("/tax?levy_year=2025").await).await;
        assert_eq!(code, 403, "{who} on /tax");
        let (code, _) = text(s.get(PAGE).await).await;
        assert_eq!(
            code,
            if who == "emp" { 403 } else { 200 },
            "{who} on the employer page"
        );
    }
    // Another region's employer is not there, for the tax officer too.
    let (code, _) = text(
        web.get(&format!("/officer/employers/{far}?levy_year=2025"))
            .await,
    )
    .await;
    assert_eq!(code, 404);
    // Only the tax officer sees the payment form.
    let fed = sign_in(&app, "fed").await;
    let (_, html) = text(fed.get(PAGE).await).await;
    assert!(!html.contains("idempotency_key"), "{html}");
    // Not signed in: to the sign-in, and back.
    let r = client().get(app.url("/tax")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=%2Ftax"));
}

#[tokio::test]
async fn a_forged_post_changes_nothing_and_a_double_click_records_one_payment() {
    let (app, web) = tax_app(&[]).await;
    let (_, html) = text(web.get(PAGE).await).await;
    let key = hidden(&html, "idempotency_key");
    let fields = [
        ("idempotency_key", key.as_str()),
        ("amount", "4000.00"),
        ("paid_on", "2026-01-15"),
        ("reference", "ICBC-7001"),
    ];
    let path = "/officer/employers/91350100M000100Y43/payments?levy_year=2025";
    let mut forged = vec![("csrf_token", "not-the-token")];
    forged.extend_from_slice(&fields);
    let (s, _) = text(web.post_raw(path, &forged).await).await;
    assert_eq!(s, 403);
    let (s, _) = text(web.post_raw(path, &fields).await).await;
    assert_eq!(s, 403);
    assert_eq!(count_payments(&app), 0);
    for (s, demand) in [
        ("/tax/runs", vec![("levy_year", "2025")]),
        (
            "/tax/demands",
            vec![("levy_year", "2025"), ("only", USCC_A)],
        ),
    ] {
        let (code, _) = text(web.post_raw(s, &demand).await).await;
        assert_eq!(code, 403, "{s}");
    }
    assert!(written_demands(&app).is_empty());

    // The same form twice: one payment.
    for _ in 0..2 {
        let r = web.post_form(path, &fields).await;
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("recorded=1"));
    }
    assert_eq!(count_payments(&app), 1);
    let s = statement(&app, None).await;
    assert_eq!(s["payments"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["principal_paid"], "4000.00");
    // A fault is shown beside its field; nothing recorded.
    let (_, html) = text(web.get(PAGE).await).await;
    let key = hidden(&html, "idempotency_key");
    let (code, html) = text(
        web.post_form(
            path,
            &[
                ("idempotency_key", &key),
                ("amount", "-5"),
                ("paid_on", "2026-01-15"),
                ("reference", "X"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(code, 422);
    assert!(html.contains("f-amount-err"), "{html}");
    assert_eq!(count_payments(&app), 1);
}

#[tokio::test]
async fn a_bank_file_imported_twice_records_each_payment_once() {
    let (app, web) = tax_app(&[]).await;
    let far = uscc_far();
    register(&app, &far, "440300").await;
    let file = format!(
        "统一社会信用代码,缴款金额,缴款日期,银行流水号\r\n{USCC_A},\"6,000.00\",2026/1/10,B-0001\r\n{USCC_A},1500,2026-01-20,B-0002\r\n"
    );
    let (_, html) = text(web.get("/tax/payments/import?levy_year=2025").await).await;
    let csrf = hidden(&html, "csrf_token");
    let (s, html) = upload_page(&app, &web, &csrf, file.as_bytes()).await;
    assert_eq!(s, 200, "{html}");
    assert_eq!(by_id(&html, "c-imported"), "2");
    assert_eq!(by_id(&html, "c-already"), "0");
    let (s, html) = upload_page(&app, &web, &csrf, file.as_bytes()).await;
    assert_eq!(s, 200, "{html}");
    assert_eq!(by_id(&html, "c-imported"), "0");
    assert_eq!(by_id(&html, "c-already"), "2");
    assert_eq!(count_payments(&app), 2);

    // The statement the page shows is the API's.
    let api = statement(&app, None).await;
    assert_eq!(api["principal_paid"], "7500.00", "{api}");
    let (_, page) = text(web.get(PAGE).await).await;
    for (id, key) in [
        ("s-principal", "principal"),
        ("s-surcharge", "surcharge"),
        ("s-outstanding", "outstanding"),
    ] {
        assert_eq!(by_id(&page, id), api[key].as_str().unwrap(), "{key}");
    }
    assert!(page.contains("B-0001") && page.contains("B-0002"));

    // Faults are by row and column, and refuse the whole file: another region's
    // employer, a reference reused with another amount.
    let bad = format!(
        "uscc,amount,paid_on,bank_reference\r\n{far},100,2026-01-10,C-1\r\n{USCC_A},999,2026-01-10,B-0001\r\n{USCC_A},50,2026-01-11,C-2\r\n"
    );
    let (s, html) = upload_page(&app, &web, &csrf, bad.as_bytes()).await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("没有该单位"), "{html}");
    assert!(html.contains("已记录为另一笔缴款"), "{html}");
    assert_eq!(count_payments(&app), 2);
    // A file without its columns is refused whole.
    let (s, html) = upload_page(&app, &web, &csrf, b"uscc,amount\r\nx,1\r\n").await;
    assert_eq!(s, 422);
    assert_eq!(by_id(&html, "c-imported"), "0");
    // A forged upload: nothing.
    let (s, _) = upload_page(&app, &web, "forged", file.as_bytes()).await;
    assert_eq!(s, 403);

    // The API does the same, under the contract.
    let tax = app.tax(None).await;
    let api_file = format!("uscc,amount,paid_on,bank_reference\r\n{USCC_A},6000.00,2026-01-10,B-0001\r\n{far},10,2026-01-10,B-0001\r\n");
    let r = app
        .upload(
            "/api/v1/imports/payments?levy_year=2025",
            Some(&tax),
            "text/csv",
            api_file.into_bytes(),
        )
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["counts"]["imported"], 1, "{report}");
    assert_eq!(report["counts"]["already_recorded"], 1, "{report}");
    assert_eq!(report["kind"], "payments");
    assert_eq!(count_payments(&app), 3);
}

fn written_demands(app: &TestApp) -> Vec<(i64, chrono::NaiveDate, chrono::NaiveDate, i64, i64)> {
    use quota_levy::db::schema::written_demands as w;
    let pool = app.pool();
    let mut c = pool.conn().unwrap();
    w::table
        .order(w::id)
        .select((
            w::id,
            w::issued_on,
            w::deadline,
            w::principal_fen,
            w::surcharge_fen,
        ))
        .load(&mut *c)
        .unwrap()
}

fn audited(app: &TestApp, action: &str) -> i64 {
    use quota_levy::db::schema::audit_log;
    let pool = app.pool();
    let mut c = pool.conn().unwrap();
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut *c)
        .unwrap()
}

#[tokio::test]
async fn a_written_demand_is_recorded_with_the_figures_of_the_statement() {
    let (app, web) = tax_app(&[]).await;
    // Paid 4000 on time: 6000 overdue for 32 days on 2026-02-01.
    let tax = app.tax(None).await;
    let r = app
        .client
        .post(app.url("/api/v1/employers/91350100M000100Y43/payments/2025"))
        .bearer_auth(&tax)
        .header("Idempotency-Key", "k-1")
        .json(&json!({"amount": "4000.00", "paid_on": "2025-12-20", "reference": "R-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge_trigger"], "due_date");
    let (_, html) = text(web.get("/tax/arrears?levy_year=2025").await).await;
    assert!(html.contains(USCC_A), "{html}");
    let r = web
        .post_form("/tax/demands", &[("levy_year", "2025"), ("only", USCC_A)])
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let demands = written_demands(&app);
    assert_eq!(demands.len(), 1);
    let (id, issued_on, deadline, principal, surcharge) = demands[0];
    assert_eq!(to, format!("/tax/demands?ids={id}"));
    assert_eq!(issued_on, d("2026-02-01"));
    assert_eq!(deadline, d("2026-02-16"), "15 days by default");
    assert_eq!(principal, 600_000);
    assert_eq!(
        quota_levy::domain::money::format_money(quota_levy::domain::money::from_fen(surcharge)),
        s["outstanding_surcharge"].as_str().unwrap()
    );
    assert_eq!(audited(&app, "demand.issue"), 1);
    let (code, letter) = text(web.get(&to).await).await;
    assert_eq!(code, 200);
    // The letter carries the digest of the assessment's signed receipt, which checks.
    let start = letter.find("/receipts/").expect("a receipt on the letter") + "/receipts/".len();
    let digest = &letter[start..start + 64];
    let check = reqwest::get(app.url(&format!("/receipts/{digest}")))
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    assert!(check.text().await.unwrap().contains("回执有效"));
    for v in [
        s["outstanding_principal"].as_str().unwrap(),
        s["outstanding_surcharge"].as_str().unwrap(),
        s["outstanding"].as_str().unwrap(),
    ] {
        assert!(letter.contains(&format!("{v} 元")), "{v}: {letter}");
    }
    for part in [
        "2026年02月16日",
        "第二十七条",
        "国家税务总局三门峡市税务局",
        "1234 5678 9012",
    ] {
        assert!(letter.contains(part), "{part}: {letter}");
    }
    // The employer page lists it.
    let (_, page) = text(web.get(PAGE).await).await;
    assert!(page.contains("2026-02-16"), "{page}");
    // Picking several prints them on one page.
    let pick = format!("d_{USCC_A}");
    let r = web
        .post_form(
            "/tax/demands",
            &[("levy_year", "2025"), (pick.as_str(), "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(written_demands(&app).len(), 2);
    // A demand of another region's employer cannot be opened.
    let far = uscc_far();
    register(&app, &far, "440300").await;
    let (code, _) = text(
        web.post_form("/tax/demands", &[("levy_year", "2025"), ("only", &far)])
            .await,
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(written_demands(&app).len(), 2);
}

#[tokio::test]
async fn under_the_demand_rule_the_surcharge_starts_after_the_deadline() {
    let (app, web) = tax_app(&[("QUOTA_LEVY__COLLECTION__SURCHARGE_FROM", "written_demand")]).await;
    // No demand yet: nothing accrues, a month after the due date.
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge_trigger"], "written_demand");
    assert_eq!(s["surcharge"], "0.00", "{s}");
    assert_eq!(s["surcharge_from"], Value::Null);
    assert_eq!(s["outstanding"], "10000.00");
    // The demand of 2026-02-01 (deadline 2026-02-16) records no surcharge.
    let r = web
        .post_form("/tax/demands", &[("levy_year", "2025"), ("only", USCC_A)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(written_demands(&app)[0].4, 0);
    // Before and on the deadline: nothing; ten days after it: 10 × 5‰ × 10,000.
    assert_eq!(
        statement(&app, Some("2026-02-16")).await["surcharge"],
        "0.00"
    );
    app.clock.set(d("2026-02-26"));
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge"], "500.00", "{s}");
    assert_eq!(s["surcharge_from"], "2026-02-17");
    assert!(s["surcharge_trigger_note"]
        .as_str()
        .unwrap()
        .contains("第二十七条"));
    // The page says the same.
    let (_, page) = text(web.get(PAGE).await).await;
    assert_eq!(by_id(&page, "s-surcharge"), "500.00");
    assert!(by_id(&page, "s-trigger").contains("2026-02-16"));
    // The roll and the arrears reckon it alike.
    let (_, roll) = text(web.get("/tax/roll?levy_year=2025").await).await;
    assert!(roll.contains("500.00"), "{roll}");
    let (_, over) = text(web.get("/tax?levy_year=2025").await).await;
    assert!(over.contains("10500.00"), "{over}");
}

#[tokio::test]
async fn an_assessment_run_is_started_from_the_overview_and_shown() {
    let (app, web) = tax_app(&[]).await;
    let r = web.post_form("/tax/runs", &[("levy_year", "2025")]).await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/tax/runs/"), "{to}");
    let (s, html) = text(web.get(&to).await).await;
    assert_eq!(s, 200);
    assert!(html.contains("/static/run-progress.js"));
    assert!(
        html.contains("data-api=\"/api/v1/assessment-runs/"),
        "{html}"
    );
    // The script is served from here, and the page's JSON answers the session.
    let js = client()
        .get(app.url("/static/run-progress.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    let id = to.trim_start_matches("/tax/runs/");
    let (s, run) = text(web.get(&format!("/api/v1/assessment-runs/{id}")).await).await;
    assert_eq!(s, 200, "{run}");
    let (s, _) = text(web.get("/tax/runs/999999").await).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_roll_and_the_arrears_are_paged_by_key() {
    use quota_levy::config::SurchargeFrom;
    use quota_levy::db::collection::RollFilter;
    use quota_levy::registry::collection::{arrears, roll_rows};
    let (app, _) = tax_app(&[]).await;
    let b = uscc_with_check("91411202MA4000002");
    assessed(&app, &b, "411202").await;
    let pool = app.pool();
    let today = app.clock.today();
    let pages = tokio::task::spawn_blocking(move || {
        let mut c = pool.conn().unwrap();
        let filter = RollFilter {
            region_prefix: "4112".into(),
            ..RollFilter::default()
        };
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let (rows, next) = roll_rows(
                &mut c,
                2025,
                &filter,
                &after,
                1,
                today,
                SurchargeFrom::DueDate,
            )
            .unwrap();
            seen.extend(rows.into_iter().map(|r| r.uscc));
            match next {
                Some(n) => after = n,
                None => break,
            }
        }
        let mut owing = Vec::new();
        let mut after = String::new();
        loop {
            let (rows, next) = arrears(
                &mut c,
                2025,
                "4112",
                &after,
                1,
                today,
                SurchargeFrom::DueDate,
            )
            .unwrap();
            owing.extend(rows.into_iter().map(|r| r.raw.1));
            match next {
                Some(n) => after = n,
                None => break,
            }
        }
        (seen, owing)
    })
    .await
    .unwrap();
    let mut both = vec![USCC_A.to_owned(), b.clone()];
    both.sort();
    assert_eq!(pages.0, both, "each assessed employer once, in USCC order");
    assert_eq!(pages.1, both, "both owe");
}

#[tokio::test]
async fn the_command_line_imports_a_bank_file_once() {
    let (app, _) = tax_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bank.csv");
    std::fs::write(
        &file,
        format!("uscc,amount,paid_on,bank_reference\n{USCC_A},2500.00,2026-01-05,CLI-1\n"),
    )
    .unwrap();
    let url = app.db_url.clone();
    let path = file.to_str().unwrap().to_owned();
    let runs = tokio::task::spawn_blocking(move || {
        (0..2)
            .map(|_| {
                let o = crate::helpers::bin(Some(&url))
                    .args([
                        "import",
                        "payments",
                        "--levy-year",
                        "2025",
                        "--lang",
                        "en",
                        &path,
                    ])
                    .output()
                    .unwrap();
                (
                    o.status.code(),
                    String::from_utf8_lossy(&o.stdout).into_owned(),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(runs[0].0, Some(0), "{}", runs[0].1);
    assert!(
        runs[0].1.contains("1 payment(s) recorded, 0 already"),
        "{}",
        runs[0].1
    );
    assert_eq!(runs[1].0, Some(0), "{}", runs[1].1);
    assert!(
        runs[1].1.contains("0 payment(s) recorded, 1 already"),
        "{}",
        runs[1].1
    );
    assert_eq!(count_payments(&app), 1);
    assert_eq!(statement(&app, None).await["principal_paid"], "2500.00");
}

#[tokio::test]
async fn the_roll_and_the_arrears_walked_in_small_pages_are_each_whole_once() {
    use quota_levy::config::SurchargeFrom;
    use quota_levy::db::collection::RollFilter;
    use quota_levy::registry::collection::{arrears, roll_rows};
    let (app, _) = tax_app(&[]).await;
    let mut all = vec![USCC_A.to_owned()];
    for (i, region) in ["411203", "411202", "411203", "411202", "411203"]
        .iter()
        .enumerate()
    {
        let u = uscc_with_check(&format!("91{region}MA00004{i:02}"));
        assessed(&app, &u, region).await;
        all.push(u);
    }
    all.sort();
    // One pays in full before the due date: on the roll, not in the arrears.
    let paid = all[2].clone();
    let tax = app.tax(None).await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/employers/{paid}/payments/2025")))
        .bearer_auth(&tax)
        .header("Idempotency-Key", "walk-1")
        .json(&json!({"amount": "10000.00", "paid_on": "2025-12-01", "reference": "ICBC-0401"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let pool = app.pool();
    let today = app.clock.today();
    let walked = tokio::task::spawn_blocking(move || {
        let mut c = pool.conn().unwrap();
        let mut roll = |filter: RollFilter, size: i64| {
            let mut seen = Vec::new();
            let mut after = String::new();
            loop {
                let (rows, next) = roll_rows(
                    &mut c,
                    2025,
                    &filter,
                    &after,
                    size,
                    today,
                    SurchargeFrom::DueDate,
                )
                .unwrap();
                assert!(rows.len() as i64 <= size);
                seen.extend(rows.into_iter().map(|r| (r.uscc, r.region)));
                match next {
                    Some(n) => after = n,
                    None => break,
                }
            }
            seen
        };
        let scope = || RollFilter {
            region_prefix: "4112".into(),
            ..RollFilter::default()
        };
        let whole = roll(scope(), 2);
        let county = roll(
            RollFilter {
                region_prefix: "411203".into(),
                ..RollFilter::default()
            },
            2,
        );
        let at_most = roll(
            RollFilter {
                max_payable_fen: Some(999_999),
                ..scope()
            },
            2,
        );
        let at_least = roll(
            RollFilter {
                min_payable_fen: Some(1_000_000),
                kind: Some("enterprise".into()),
                status: Some(quota_levy::db::collection::RollStatus::BelowQuota),
                ..scope()
            },
            4,
        );
        let mut owing = Vec::new();
        let mut after = String::new();
        loop {
            let (rows, next) = arrears(
                &mut c,
                2025,
                "4112",
                &after,
                2,
                today,
                SurchargeFrom::DueDate,
            )
            .unwrap();
            assert!(rows.len() <= 2);
            owing.extend(rows.into_iter().map(|r| r.raw.1));
            match next {
                Some(n) => after = n,
                None => break,
            }
        }
        (whole, county, at_most, at_least, owing)
    })
    .await
    .unwrap();
    let (whole, county, at_most, at_least, owing) = walked;
    let usccs =
        |rows: &[(String, String)]| -> Vec<String> { rows.iter().map(|r| r.0.clone()).collect() };
    assert_eq!(
        usccs(&whole),
        all,
        "each assessed employer once, in USCC order"
    );
    let in_county: Vec<String> = whole
        .iter()
        .filter(|r| r.1 == "411203")
        .map(|r| r.0.clone())
        .collect();
    assert_eq!(in_county.len(), 3);
    assert_eq!(usccs(&county), in_county);
    assert!(at_most.is_empty(), "every levy is 10,000.00: {at_most:?}");
    assert_eq!(usccs(&at_least), all);
    let mut expected = all.clone();
    expected.retain(|u| *u != paid);
    assert_eq!(
        owing, expected,
        "every debtor once, the one that paid passed over"
    );
}

/// The figures of the overview's lines: the region code (the total's is empty) and the
/// ten cells (six counts, four sums), as shown.
fn overview_lines(html: &str) -> Vec<(String, Vec<String>)> {
    let table = &html[html.find("<tbody>").unwrap()..html.find("</tfoot>").unwrap()];
    table
        .split("<tr")
        .skip(1)
        .map(|row| {
            let head = row.split("</th>").next().unwrap_or_default();
            let label = head.rsplit('>').next().unwrap_or_default();
            let code: String = label.chars().take_while(char::is_ascii_digit).collect();
            let cells = row
                .split("<td class=\"n\"")
                .skip(1)
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    c[..c.find("</td>").unwrap()].to_owned()
                })
                .collect();
            (code, cells)
        })
        .collect()
}

/// The overview's lines as the employers' statements on `as_of` add up: per county and
/// the total (code ""), registered, assessed, payable, paid, surcharge, outstanding.
async fn statements_summed(app: &TestApp, as_of: &str) -> Vec<(String, Vec<String>)> {
    use quota_levy::db::schema::employers;
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    let pool = app.pool();
    let all: Vec<(String, String)> = {
        let mut c = pool.conn().unwrap();
        employers::table
            .select((employers::uscc, employers::region))
            .load(&mut *c)
            .unwrap()
    };
    let tax = app.tax(None).await;
    let dec = |v: &Value, k: &str| v[k].as_str().unwrap().parse::<Decimal>().unwrap();
    let mut sums: BTreeMap<String, (i64, i64, [Decimal; 4])> = BTreeMap::new();
    for (uscc, region) in all {
        let path = format!("/api/v1/employers/{uscc}/statements/2025?as_of={as_of}");
        let (s, v) = app.call(Method::GET, &path, Some(&tax), None).await;
        assert_eq!(s, 200, "{v}");
        let paid: Decimal = v["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| dec(p, "amount"))
            .sum();
        let one = [
            dec(&v, "principal"),
            paid,
            dec(&v, "surcharge"),
            dec(&v, "outstanding"),
        ];
        for key in [region, String::new()] {
            let e = sums.entry(key).or_default();
            e.0 += 1;
            e.1 += i64::from(v["assessed"].as_bool().unwrap());
            for (t, x) in e.2.iter_mut().zip(one) {
                *t += x;
            }
        }
    }
    sums.into_iter()
        .map(|(k, (registered, assessed, m))| {
            let mut cells = vec![registered.to_string(), assessed.to_string()];
            cells.extend(
                m.iter()
                    .map(|d| quota_levy::domain::money::format_money(*d)),
            );
            (k, cells)
        })
        .collect()
}

/// The overview's lines cut to what [`statements_summed`] adds up, in its order.
fn shown(html: &str) -> Vec<(String, Vec<String>)> {
    let mut lines: Vec<(String, Vec<String>)> = overview_lines(html)
        .into_iter()
        .map(|(k, c)| {
            // The page: payable, paid, outstanding, surcharge.
            let cells = [0, 3, 6, 7, 9, 8].map(|i| c[i].clone()).to_vec();
            (k, cells)
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn the_overview_is_the_sum_of_the_statements_and_follows_the_register() {
    let app = spawn_app_with(&PAYEE).await;
    app.clock.set(d("2026-03-01"));
    crate::helpers::violators::assessed_region(&app, 40, 17).await;
    person(&app, "tax1", Role::Tax, None, Some("411200")).await;
    let web = sign_in(&app, "tax1").await;
    let tax = app.tax(None).await;
    let stale_zh = |h: &str| h.contains("数字按 ") && h.contains(" 的登记情况计算，正在更新");
    let stale_en =
        |h: &str| h.contains("Reckoned on the register as of ") && h.contains("being updated");
    let path = "/tax?levy_year=2025";

    let (s, html) = text(web.get(path).await).await;
    assert_eq!(s, 200);
    assert!(!stale_zh(&html), "{html}");
    let before = statements_summed(&app, "2026-03-01").await;
    assert!(before.len() > 2, "several counties: {before:?}");
    assert!(
        before.iter().all(|(_, c)| c[4] != "0.00"),
        "a surcharge runs everywhere: {before:?}"
    );
    assert_eq!(shown(&html), before, "{html}");

    // A payment: the next overview answers at once with the figures kept, and says so.
    let pay = |key: &'static str, uscc: String| {
        let (app, tax) = (&app, &tax);
        async move {
            let r = app
                .client
                .post(app.url(&format!("/api/v1/employers/{uscc}/payments/2025")))
                .bearer_auth(tax)
                .header("Idempotency-Key", key)
                .json(&json!({"amount": "1000.00", "paid_on": "2026-02-10", "reference": "ICBC-0009"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    };
    let debtors: Vec<String> = {
        use quota_levy::db::schema::{assessments, employers};
        let pool = app.pool();
        let mut c = pool.conn().unwrap();
        employers::table
            .inner_join(assessments::table.on(assessments::employer_id.eq(employers::id)))
            .filter(assessments::is_current.eq(true))
            .filter(assessments::payable_fen.gt(200_000))
            .select(employers::uscc)
            .order(employers::uscc)
            .limit(2)
            .load(&mut *c)
            .unwrap()
    };
    pay("overview-1", debtors[0].clone()).await;
    let (_, html) = text(web.get(path).await).await;
    assert!(stale_zh(&html), "{html}");
    assert_eq!(shown(&html), before, "the figures kept");
    let html = web.page_once(path, |h| !stale_zh(h)).await;
    let after = statements_summed(&app, "2026-03-01").await;
    assert_ne!(after, before, "the payment counts");
    assert_eq!(shown(&html), after, "{html}");

    // Again in English; then the figures of the register as it is.
    pay("overview-2", debtors[1].clone()).await;
    let en = format!("{path}&lang=en");
    let (_, html) = text(web.get(&en).await).await;
    assert!(stale_en(&html), "{html}");
    assert_eq!(shown(&html), after);
    let html = web.page_once(&en, |h| !stale_en(h)).await;
    assert_eq!(shown(&html), statements_summed(&app, "2026-03-01").await);
}
