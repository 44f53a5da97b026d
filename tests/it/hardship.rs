//! Hardship reduction and deferral (docs/rules.md §6a; 财税〔2015〕72号 第十七条): the tax
//! bureau records its decision; the statement, the surcharge and the violator list
//! honour an approved one; the rule's limits are refused with the field named.

use crate::helpers::{app_with_employer, declaration_body, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn a_deferral_stops_the_surcharge_and_a_reduction_lowers_the_principal() {
    let (app, _admin) = app_with_employer().await;
    let tax = app.token(Role::Tax, None, None).await;
    let inspector = app.token(Role::Inspector, None, Some("411200")).await;
    let firm = app.token(Role::Employer, Some(USCC_A), None).await;
    // No disabled employee: 1.6 % of 100 × 70,000 = 112,000.00, 90 % payable 100,800.00.
    let mut body = declaration_body();
    body["disabled_employees"] = json!([]);
    let decl = format!("/api/v1/employers/{USCC_A}/declarations/2025");
    assert_eq!(
        app.send(Method::PUT, &decl, Some(&firm), Some(body))
            .await
            .status(),
        201
    );
    assert_eq!(
        app.send(Method::POST, &format!("{decl}/submit"), Some(&firm), None)
            .await
            .status(),
        200
    );
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{USCC_A}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 201);
    let path = format!("/api/v1/employers/{USCC_A}/hardship/2025");
    let statement = |as_of: &'static str| {
        let app = &app;
        let tax = tax.clone();
        async move {
            let r = app
                .send(
                    Method::GET,
                    &format!("/api/v1/employers/{USCC_A}/statements/2025?as_of={as_of}"),
                    Some(&tax),
                    None,
                )
                .await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let overdue = |as_of: &'static str| {
        let app = &app;
        let inspector = inspector.clone();
        async move {
            let v: Value = app
                .send(
                    Method::GET,
                    &format!("/api/v1/violations?levy_year=2025&as_of={as_of}&kind=overdue"),
                    Some(&inspector),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            v["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(statement("2026-01-10").await["surcharge"], "5040.00");
    assert_eq!(overdue("2026-01-10").await, 1);

    // Nothing recorded yet; only the tax bureau records; the rule's limits.
    let r = app.send(Method::GET, &path, Some(&firm), None).await;
    assert_eq!(r.status(), 404);
    let deferral = json!({"kind": "deferral", "decision": "approved", "deferred_to": "2026-03-31",
        "applied_on": "2025-12-01", "decided_on": "2025-12-10", "reason": "厂房遭洪水损毁"});
    let r = app
        .send(Method::POST, &path, Some(&firm), Some(deferral.clone()))
        .await;
    assert_eq!(r.status(), 403);
    let mut too_long = deferral.clone();
    too_long["deferred_to"] = json!("2026-07-01");
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(too_long))
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/deferred_to", "{p}");
    let mut no_date = deferral.clone();
    no_date.as_object_mut().unwrap().remove("deferred_to");
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(no_date))
        .await;
    assert_eq!(r.status(), 422);

    // An approved deferral: no surcharge and not overdue until 2026-03-31.
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(deferral))
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["deferred_to"], "2026-03-31", "{v}");
    let r = app.send(Method::GET, &path, Some(&firm), None).await;
    assert_eq!(r.status(), 200, "the employer reads its decision");
    let s = statement("2026-02-15").await;
    assert_eq!(s["due_date"], "2026-03-31", "{s}");
    assert_eq!(s["surcharge"], "0.00");
    assert_eq!(s["hardship"]["decision"], "approved");
    assert!(s["hardship"]["note"]
        .as_str()
        .unwrap()
        .contains("deferred payment to 2026-03-31"));
    assert_eq!(overdue("2026-02-15").await, 0, "not overdue while deferred");
    // After the deferral: 10 days × 5‰ × 100,800.00.
    assert_eq!(statement("2026-04-10").await["surcharge"], "5040.00");
    assert_eq!(overdue("2026-04-10").await, 1);

    // A reduction replaces it: at most the year's levy payable.
    let mut reduction = json!({"kind": "reduction", "decision": "approved", "amount": "100800.01",
        "applied_on": "2025-12-01", "decided_on": "2025-12-20", "reason": "重大损失"});
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(reduction.clone()))
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/amount", "{p}");
    reduction["amount"] = json!("50000.00");
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(reduction))
        .await;
    assert_eq!(r.status(), 201);
    let s = statement("2026-01-10").await;
    assert_eq!(s["principal"], "50800.00", "{s}");
    assert_eq!(s["due_date"], "2025-12-31");
    // 10 days × 5‰ × 50,800.00.
    assert_eq!(s["surcharge"], "2540.00");

    // A refusal relieves nothing.
    let refusal = json!({"kind": "deferral", "decision": "refused",
        "applied_on": "2025-12-01", "decided_on": "2025-12-21", "reason": "不符合条件"});
    let r = app
        .send(Method::POST, &path, Some(&tax), Some(refusal))
        .await;
    assert_eq!(r.status(), 201);
    let s = statement("2026-01-10").await;
    assert_eq!(s["principal"], "100800.00");
    assert_eq!(s["surcharge"], "5040.00");
}
