//! In-year forecasts (docs/forecast.md): the projection is the engine's levy of the
//! carried-forward year; "hire one by month M" holds when recalculated; the warning
//! step mails once per point; another employer sees 404; bad input names its field.

use crate::helpers::{self, app_with_employer, uscc_with_check, TestApp, USCC_A};
use chrono::NaiveDate;
use quota_levy::auth::Role;
use quota_levy::db::outbox;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

/// A valid 残疾人证 of the employee the forecast lists: the holder of CERT_A's ID
/// number, category 4 (physical), grade 3: weight 1 (docs/rules.md §4.2).
const CERT_W1: &str = "11010519850118002X43";
/// Another valid holder (born 1990), category 4, grade 4 (weight 1): the hire the
/// tests add themselves.
const CERT_HIRE: &str = "11010519900101123244";

const YEAR: i32 = 2026;
const FORECAST: &str = "/api/v1/employers/91350100M000100Y43/forecasts/2026";

/// Four months entered: 150 staff each month, wages 3,600,000.00 so far (600
/// person-months: W = 3,600,000 × 12 / 600 = 72,000.00), one disabled employee of weight
/// 1 employed January to April.
fn body() -> Value {
    json!({
        "monthly_headcount": [150, 150, 150, 150],
        "wages_so_far": "3600000.00",
        "disabled_employees": [{
            "certificate_no": CERT_W1,
            "months": [1, 2, 3, 4],
            "on_establishment": true,
            "social_insurance_paid": true,
            "monthly_wage": "3000.00"
        }]
    })
}

async fn app_in_july() -> (TestApp, String) {
    let (app, _) = app_with_employer().await;
    app.clock
        .set(NaiveDate::from_ymd_opt(YEAR, 7, 15).expect("date"));
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    (app, emp)
}

/// The carried-forward year as a calculation request of its own, built here from the
/// body's figures (not from the service's code): headcounts carried at 150, the roster
/// line employed in April carried to December, W = 72,000.00, plus `hire` (the month
/// one more full-time employee of weight 1 starts: +1 headcount and a roster line from
/// it), and the social average wage the projection used.
fn full_year_request(hire: Option<u8>, social_average_wage: &Value) -> Value {
    let mut h = [150_u32; 12];
    let mut roster = vec![json!({
        "certificate_no": CERT_W1,
        "months": (1..=12).collect::<Vec<u8>>(),
        "on_establishment": true,
        "social_insurance_paid": true,
        "monthly_wage": "3000.00"
    })];
    if let Some(m) = hire {
        for x in h.iter_mut().skip(usize::from(m) - 1) {
            *x += 1;
        }
        roster.push(json!({
            "certificate_no": CERT_HIRE,
            "months": (m..=12).collect::<Vec<u8>>(),
            "on_establishment": true,
            "social_insurance_paid": true
        }));
    }
    json!({
        "region": "411202",
        "levy_year": YEAR + 1,
        "employer": {"kind": "enterprise"},
        "staff": {"monthly_headcount": h},
        "average_wage": "72000.00",
        "disabled_employees": roster,
        "overrides": {"social_average_wage": social_average_wage}
    })
}

async fn calculate(app: &TestApp, req: Value) -> Value {
    let (status, r) = app
        .call(Method::POST, "/api/v1/levy/calculate", None, Some(req))
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

fn ratio(r: &Value) -> Decimal {
    Decimal::from_str(r["employment_ratio"].as_str().expect("ratio")).expect("decimal")
}

fn take<'a>(p: &'a Value, line: &str) -> &'a Value {
    p["what_it_takes"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["line"] == line)
        .expect("line")
}

#[tokio::test]
async fn the_projection_is_the_engines_levy_of_the_carried_forward_year() {
    let (app, emp) = app_in_july().await;
    let (status, v) = app
        .call(Method::PUT, FORECAST, Some(&emp), Some(body()))
        .await;
    assert_eq!(status, 201, "{v}");
    let p = &v["projection"];
    assert_eq!(p["levy_year"], YEAR + 1);
    assert_eq!(p["months_entered"], 4);
    assert_eq!(p["wage_basis"], "wages_so_far");
    let codes: Vec<&str> = p["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    for c in ["headcount_carried", "roster_carried", "wage_basis"] {
        assert!(codes.contains(&c), "{codes:?}");
    }
    // The pack has no social average wage for the current year (published after it):
    // the latest published one stands in, and the projection says so.
    assert!(codes.contains(&"social_average_wage_stand_in"), "{codes:?}");
    let s = &p["levy"]["parameters"]["social_average_wage"]["value"];
    assert!(s.is_string(), "{}", p["levy"]["parameters"]);

    let direct = calculate(&app, full_year_request(None, s)).await;
    for k in [
        "average_headcount",
        "disabled_counted",
        "required",
        "shortfall",
        "employment_ratio",
        "wage_used",
        "fee_due",
        "reduction",
        "levy_payable",
    ] {
        assert_eq!(p["levy"][k], direct[k], "{k}");
    }
    // By hand (docs/rules.md §5, Henan 1.6 %): N 150, D 1, required 2.4, shortfall
    // 1.4 × 72,000.00 = 100,800.00; r 0.67 % < 1 %: 90 % payable, 90,720.00.
    assert_eq!(direct["fee_due"], "100800.00");
    assert_eq!(direct["levy_payable"], "90720.00");
    assert_eq!(p["below_one_percent"], true);
    assert_eq!(p["below_full_ratio"], true);

    // GET gives the same projection; the dry computation stores nothing else.
    let (status, g) = app.call(Method::GET, FORECAST, Some(&emp), None).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["projection"]["levy"]["levy_payable"], "90720.00");
    assert_eq!(g["certificates_masked"], false);
    let tax = app.tax(None).await;
    let (status, t) = app.call(Method::GET, FORECAST, Some(&tax), None).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["certificates_masked"], true);
    assert!(
        !t.to_string().contains(CERT_W1),
        "tax sees the number masked"
    );
}

#[tokio::test]
async fn hire_by_month_m_reaches_the_line_from_m_and_not_from_the_month_after() {
    let (app, emp) = app_in_july().await;
    let (status, v) = app
        .call(
            Method::POST,
            &format!("{FORECAST}/project"),
            Some(&emp),
            Some(body()),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let p = &v["projection"];
    let s = p["levy"]["parameters"]["social_average_wage"]["value"].clone();
    let one = Decimal::from_str("0.01").unwrap();

    let t = take(p, "one_percent");
    assert_eq!(t["reached"], false);
    let m = t["hire_one_by_month"].as_u64().expect("a month") as u8;
    assert!((5..=12).contains(&m), "a month still to come: {m}");
    let from_m = calculate(&app, full_year_request(Some(m), &s)).await;
    assert!(
        ratio(&from_m) >= one,
        "from {m}: {}",
        from_m["employment_ratio"]
    );
    if m < 12 {
        let later = calculate(&app, full_year_request(Some(m + 1), &s)).await;
        assert!(
            ratio(&later) < one,
            "from {}: {}",
            m + 1,
            later["employment_ratio"]
        );
    }
    // By hand: D 1 + x ≥ 1 % of (150 + x) needs x ≥ 0.505 of a year, 7 months: June.
    assert_eq!(m, 6);

    // The full ratio (1.6 %) takes more than one from May: the fewest that reach it.
    let t = take(p, "full_ratio");
    assert_eq!(t["hire_one_by_month"], Value::Null);
    assert_eq!(t["from_month"], 5);
    let n = t["hires_needed"].as_u64().expect("a count");
    assert!(n >= 2);
    let shortfall_with = |count: u64| {
        let mut h = [150_u64; 12];
        for x in h.iter_mut().skip(4) {
            *x += count;
        }
        let mut roster = vec![
            json!({"certificate_no": CERT_W1, "months": (1..=12).collect::<Vec<u8>>(),
            "on_establishment": true, "monthly_wage": "3000.00"}),
        ];
        for i in 0..count {
            roster.push(json!({"certificate_kind": "veteran", "grade": 4,
                "certificate_no": format!("TEST-HIRE-{i}"), "months": (5..=12).collect::<Vec<u8>>(),
                "on_establishment": true}));
        }
        json!({"region": "411202", "levy_year": YEAR + 1, "employer": {"kind": "enterprise"},
            "staff": {"monthly_headcount": h}, "average_wage": "72000.00",
            "disabled_employees": roster, "overrides": {"social_average_wage": s.clone()}})
    };
    let enough = calculate(&app, shortfall_with(n)).await;
    assert_eq!(enough["shortfall"], "0.0000", "{n} hires");
    let fewer = calculate(&app, shortfall_with(n - 1)).await;
    assert_ne!(fewer["shortfall"], "0.0000", "{} hires", n - 1);

    // A dry computation stores nothing.
    let (status, _) = app.call(Method::GET, FORECAST, Some(&emp), None).await;
    assert_eq!(status, 404);
}

async fn warn(app: &TestApp) -> u64 {
    let pool = app.pool();
    let settings = app.settings.clone();
    tokio::task::spawn_blocking(move || {
        let templates =
            quota_levy::mail::Templates::from_settings(&settings.mail).expect("templates");
        let mut conn = pool.conn().expect("conn");
        quota_levy::jobs::reminders::warn_forecasts(
            &mut conn,
            &helpers::policy(),
            &templates,
            &settings.forecast,
            YEAR,
        )
        .expect("warn")
        .queued
    })
    .await
    .expect("join")
}

fn warnings(app: &TestApp) -> Vec<outbox::Reminder> {
    let mut conn = app.pool().conn().expect("conn");
    outbox::all(&mut conn)
        .expect("rows")
        .into_iter()
        .filter(|r| r.kind == "forecast_warning")
        .collect()
}

#[tokio::test]
async fn a_forecast_below_one_percent_is_mailed_once_per_point() {
    let (app, emp) = app_in_july().await;
    // Nothing stored: nothing to warn about.
    assert_eq!(warn(&app).await, 0);
    let (status, v) = app
        .call(Method::PUT, FORECAST, Some(&emp), Some(body()))
        .await;
    assert_eq!(status, 201, "{v}");
    // Both lines are configured by default: one warning each, and a second run of the
    // step queues nothing again.
    assert_eq!(warn(&app).await, 2);
    assert_eq!(warn(&app).await, 0);
    let rows = warnings(&app);
    let mut stages: Vec<&str> = rows.iter().map(|r| r.stage.as_str()).collect();
    stages.sort();
    assert_eq!(
        stages,
        [
            "forecast-2026-below_full_ratio",
            "forecast-2026-below_one_percent"
        ]
    );
    let one = rows
        .iter()
        .find(|r| r.stage.ends_with("below_one_percent"))
        .unwrap();
    assert_eq!(one.recipient, "hr@example.cn");
    assert_eq!(one.levy_year, YEAR + 1);
    assert!(one.body_zh.contains("90720.00"), "{}", one.body_zh);
    assert!(one.body_en.contains("below 1 %"), "{}", one.body_en);
    assert!(!one.body_zh.contains(CERT_W1) && !one.body_en.contains(CERT_W1));

    // The employer enters more months: still below, the points are already mailed.
    let mut more = body();
    more["monthly_headcount"] = json!([150, 150, 150, 150, 150]);
    more["wages_so_far"] = json!("4500000.00");
    more["disabled_employees"][0]["months"] = json!([1, 2, 3, 4, 5]);
    let (status, _) = app
        .call(Method::PUT, FORECAST, Some(&emp), Some(more))
        .await;
    assert_eq!(status, 200);
    assert_eq!(warn(&app).await, 0);
    assert_eq!(warnings(&app).len(), 2);
}

#[tokio::test]
async fn only_the_configured_points_are_mailed_and_a_line_reached_is_not() {
    let app = helpers::spawn_app_with(&[
        ("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false"),
        ("QUOTA_LEVY__FORECAST__WARN_ON", "below_one_percent"),
    ])
    .await;
    app.clock
        .set(NaiveDate::from_ymd_opt(YEAR, 7, 15).expect("date"));
    let admin = app.admin().await;
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": USCC_A, "name": "示例公司", "kind": "enterprise",
                        "region": "411202", "contact_email": "hr@example.cn"}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    // Two disabled employees of weight 1 in 150 staff: 1.33 %, above 1 %, below 1.6 %.
    let mut b = body();
    b["disabled_employees"]
        .as_array_mut()
        .unwrap()
        .push(json!({"certificate_no": CERT_HIRE, "months": [1, 2, 3, 4],
                     "on_establishment": true, "monthly_wage": "3000.00"}));
    let (status, v) = app.call(Method::PUT, FORECAST, Some(&emp), Some(b)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["projection"]["below_one_percent"], false);
    assert_eq!(v["projection"]["below_full_ratio"], true);
    assert_eq!(take(&v["projection"], "one_percent")["reached"], true);
    assert_eq!(warn(&app).await, 0, "only below_one_percent is configured");
    // Down to one employee: below 1 %, mailed once.
    let (status, _) = app
        .call(Method::PUT, FORECAST, Some(&emp), Some(body()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(warn(&app).await, 1);
    assert_eq!(warn(&app).await, 0);
    assert_eq!(warnings(&app).len(), 1);
}

#[tokio::test]
async fn another_employer_cannot_see_or_write_a_forecast() {
    let (app, emp) = app_in_july().await;
    let (status, _) = app
        .call(Method::PUT, FORECAST, Some(&emp), Some(body()))
        .await;
    assert_eq!(status, 201);
    let admin = app.admin().await;
    let other = uscc_with_check("91411202MA0000001");
    let (status, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": other, "name": "另一公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let b = app.token(Role::Employer, Some(&other), None).await;
    for (method, path, body) in [
        (Method::GET, FORECAST.to_owned(), None),
        (Method::PUT, FORECAST.to_owned(), Some(body())),
        (Method::POST, format!("{FORECAST}/project"), Some(body())),
    ] {
        let (status, v) = app.call(method.clone(), &path, Some(&b), body).await;
        assert_eq!(status, 404, "{method} {path}: {v}");
        assert!(!v.to_string().contains("150"), "nothing of A's: {v}");
    }
    // Its own year is its own: none stored.
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{other}/forecasts/2026"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // The inspector's role may not read forecasts.
    let inspector = app.inspector(None).await;
    let (status, _) = app
        .call(Method::GET, FORECAST, Some(&inspector), None)
        .await;
    assert_eq!(status, 403);
}

fn pointers(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["pointer"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_input_names_the_field_in_chinese_and_english_and_writes_nothing() {
    let (app, emp) = app_in_july().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"monthly_headcount": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], "average_wage": "1.00"}),
            "/monthly_headcount",
        ),
        (
            json!({"monthly_headcount": [100, -1], "average_wage": "1.00"}),
            "/monthly_headcount/1",
        ),
        (json!({"monthly_headcount": [100]}), "/wages_so_far"),
        (
            json!({"monthly_headcount": [100], "wages_so_far": "1.00", "average_wage": "1.00"}),
            "/average_wage",
        ),
        (
            json!({"monthly_headcount": [100], "wages_so_far": "-5"}),
            "/wages_so_far",
        ),
        (
            {
                let mut b = body();
                b["disabled_employees"][0]["months"] = json!([1, 2, 7]);
                b
            },
            "/disabled_employees/0/months/2",
        ),
        (
            {
                let mut b = body();
                b["disabled_employees"][0]["certificate_no"] = json!("123");
                b
            },
            "/disabled_employees/0/certificate_no",
        ),
        (
            json!({"monthly_headcount": [100], "average_wage": "1.00", "staff": 3}),
            "/staff",
        ),
    ];
    for (b, pointer) in cases {
        let (status, v) = app
            .call(Method::PUT, FORECAST, Some(&emp), Some(b.clone()))
            .await;
        assert_eq!(status, 422, "{b}: {v}");
        assert!(
            pointers(&v).iter().any(|p| p == pointer),
            "{pointer} in {v}"
        );
        let zh = v["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese by default: {v}"
        );
        let r = app
            .client
            .put(app.url(FORECAST))
            .bearer_auth(&emp)
            .header("Accept-Language", "en")
            .json(&b)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let en: Value = r.json().await.unwrap();
        let detail = en["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.is_ascii() && !detail.is_empty(), "English: {en}");
        assert!(
            !en.to_string().contains(CERT_W1),
            "no certificate in errors"
        );
    }
    // Another year than the current one is refused at the path.
    let (status, v) = app
        .call(
            Method::PUT,
            "/api/v1/employers/91350100M000100Y43/forecasts/2025",
            Some(&emp),
            Some(body()),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&v), ["/path/year"]);
    // Nothing was written.
    let (status, _) = app.call(Method::GET, FORECAST, Some(&emp), None).await;
    assert_eq!(status, 404);
}
