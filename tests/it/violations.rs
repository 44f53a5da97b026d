//! The violator list: officers only, figures and citations, filters, and never a
//! certificate or ID number in JSON or CSV.

use crate::helpers::{assessed_10000, declaration_body, uscc_with_check, CERT_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn get_json(app: &crate::helpers::TestApp, path: &str, token: &str) -> Value {
    let r = app.send(Method::GET, path, Some(token), None).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn overdue_public_body_labour_and_filters() {
    let (app, emp, _tax) = assessed_10000().await;
    let admin = app.token(Role::Admin, None, None).await;
    let inspector = app.token(Role::Inspector, None, None).await;

    // An employer may not read the list.
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025",
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);

    // A public institution in 三门峡 with an establishment of 70 and nobody disabled.
    let school = uscc_with_check("12411200MB0000001");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": school, "name": "示例事业单位", "kind": "public_institution",
                        "region": "411202", "establishment_size": 70}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // An enterprise whose disabled employee has no social insurance.
    let firm = uscc_with_check("91411200MA0000002");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": firm, "name": "社保公司", "kind": "enterprise", "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    let firm_token = app.token(Role::Employer, Some(&firm), None).await;
    let mut body = declaration_body();
    body["disabled_employees"][0]["social_insurance_paid"] = json!(false);
    let decl = format!("/api/v1/employers/{firm}/declarations/2025");
    let r = app
        .send(Method::PUT, &decl, Some(&firm_token), Some(body))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .send(
            Method::POST,
            &format!("{decl}/submit"),
            Some(&firm_token),
            None,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30",
        &inspector,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    // Sorted by amount outstanding: the overdue employer comes first.
    assert_eq!(items[0]["uscc"], "91350100M000100Y43", "{v}");
    let overdue = items
        .iter()
        .find(|i| i["violation"] == "overdue")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(overdue["outstanding"], "11500.00");
    assert_eq!(
        overdue["why_en"],
        "below quota: payable 10,000.00, paid 0.00, principal outstanding 10,000.00, 30 days past due 2025-12-31, surcharge 1,500.00"
    );
    assert!(overdue["why_zh"]
        .as_str()
        .unwrap()
        .contains("滞纳金 1,500.00"));
    assert!(overdue["citation"]
        .as_str()
        .unwrap()
        .contains("残疾人就业条例; 财税〔2015〕72号"));
    // Its debt is on that one row: the list never counts it twice.
    assert!(!items
        .iter()
        .any(|i| i["violation"] == "below_quota_unpaid" && i["uscc"] == "91350100M000100Y43"));
    let listed: rust_decimal::Decimal = items
        .iter()
        .map(|i| {
            i["outstanding"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        listed.to_string(),
        "11500.00",
        "the column sums to the debt: {v}"
    );

    let public = items
        .iter()
        .find(|i| i["violation"] == "public_body_without_disabled_employee")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(public["uscc"], school.as_str());
    assert!(
        public["why_en"].as_str().unwrap().contains("threshold 63"),
        "{public}"
    );
    assert!(public["citation"]
        .as_str()
        .unwrap()
        .contains("残联发〔2021〕51号"));

    let si = items
        .iter()
        .find(|i| i["violation"] == "no_social_insurance")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(si["uscc"], firm.as_str());
    assert!(si["why_en"]
        .as_str()
        .unwrap()
        .starts_with("1 of 1 roster lines"));
    assert!(si["citation"]
        .as_str()
        .unwrap()
        .contains("三政〔2016〕23号 §3(4)"));

    // No certificate or ID number anywhere.
    let text = v.to_string();
    assert!(!text.contains(CERT_A));
    assert!(!text.contains(&CERT_A[..18]));

    // The kind filter.
    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30&kind=overdue",
        &inspector,
    )
    .await;
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["items"][0]["violation"], "overdue");
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&kind=bogus",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(r.status(), 422);

    // A token scoped to another region sees nothing of 411202, and may not ask for it.
    let zz = app.token(Role::Inspector, None, Some("410100")).await;
    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30",
        &zz,
    )
    .await;
    assert_eq!(v["total"], 0, "{v}");
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&region=411202",
            Some(&zz),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);

    // CSV: BOM, Chinese header, no certificate or ID number.
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&as_of=2026-01-30&format=csv",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("统一社会信用代码"));
    assert!(text.contains("11500.00"));
    assert!(text.contains("no_social_insurance"));
    assert!(!text.contains(CERT_A));
    assert!(!text.contains(&CERT_A[..18]));
}
