//! Dispatched disabled workers (docs/rules.md §4.4; 发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”): the
//! agency and the host that agree who counts the person are no certificate dispute; the
//! side the agreement names counts the person in D and in N, the other in neither. Lines
//! that disagree stay a dispute, counted by neither.

use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn body(role: &str, counted_by: &str, partner: &str) -> Value {
    let mut b = declaration_body();
    b["disabled_employees"][0]["dispatch"] =
        json!({"role": role, "counted_by": counted_by, "partner_uscc": partner});
    b
}

#[tokio::test]
async fn an_agreed_dispatch_is_no_dispute_and_a_disagreement_is() {
    let (app, admin) = app_with_employer().await;
    // A (USCC_A) is the agency, B the host.
    let b = uscc_with_check("91411200MA0000078");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": b, "name": "乙用工单位", "kind": "enterprise", "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    let tax = app.token(Role::Tax, None, None).await;
    let fed = app.token(Role::Federation, None, Some("411200")).await;
    let tok_a = app.token(Role::Employer, Some(USCC_A), None).await;
    let tok_b = app.token(Role::Employer, Some(&b), None).await;
    let file = |u: String, tok: String, body: Value| {
        let app = &app;
        async move {
            let path = format!("/api/v1/employers/{u}/declarations/2025");
            let r = app.send(Method::PUT, &path, Some(&tok), Some(body)).await;
            assert!(r.status() == 201 || r.status() == 200, "{}", r.status());
            let r = app
                .send(Method::POST, &format!("{path}/submit"), Some(&tok), None)
                .await;
            assert_eq!(r.status(), 200);
        }
    };
    let disputes = || async {
        let v: Value = app
            .send(
                Method::GET,
                "/api/v1/certificate-disputes?levy_year=2025",
                Some(&fed),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        v["items"].as_array().unwrap().len()
    };

    // They disagree: the agency says the host counts, the host says the agency does.
    file(USCC_A.into(), tok_a.clone(), body("agency", "host", &b)).await;
    file(b.clone(), tok_b.clone(), body("host", "agency", USCC_A)).await;
    assert_eq!(disputes().await, 1, "a disagreement is a dispute");

    // The host corrects its line: both name each other and the host.
    file(b.clone(), tok_b.clone(), body("host", "host", USCC_A)).await;
    assert_eq!(disputes().await, 0, "an agreed dispatch is no dispute");
    let v: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/declarations/2025"),
            Some(&tok_a),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(v["disputes"].as_array().is_none_or(|d| d.is_empty()), "{v}");

    // The host counts the person in D (grade 2: weight 2) and N; the agency in neither.
    for (u, staff, d, reason) in [
        (b.as_str(), "101.0000", "2.0000", None),
        (
            USCC_A,
            "99.0000",
            "0.0000",
            Some("dispatch_counted_by_partner"),
        ),
    ] {
        let r = app
            .send(
                Method::POST,
                &format!("/api/v1/employers/{u}/assessments/2025"),
                Some(&tax),
                None,
            )
            .await;
        let status = r.status();
        let a: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{u}: {a}");
        assert_eq!(
            a["result"]["average_headcount"], staff,
            "{u}: {}",
            a["result"]
        );
        assert_eq!(a["result"]["disabled_counted"], d, "{u}");
        assert_eq!(
            a["result"]["employees"][0]["excluded_reason"].as_str(),
            reason,
            "{u}"
        );
    }
}
