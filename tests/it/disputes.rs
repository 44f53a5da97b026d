//! A certificate on two employers' rosters for the same months is counted by neither
//! until the federation decides; each employer sees only that its line is disputed.

use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, CERT_A, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn duplicate_certificate_counts_for_neither_until_resolved() {
    let (app, admin) = app_with_employer().await;
    let b = uscc_with_check("91411200MA0000077");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": b, "name": "乙公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let tax = app.token(Role::Tax, None, None).await;
    let fed = app.token(Role::Federation, None, Some("411200")).await;
    let tok_a = app.token(Role::Employer, Some(USCC_A), None).await;
    let tok_b = app.token(Role::Employer, Some(&b), None).await;
    for (u, tok) in [(USCC_A, &tok_a), (b.as_str(), &tok_b)] {
        let path = format!("/api/v1/employers/{u}/declarations/2025");
        assert_eq!(
            app.send(Method::PUT, &path, Some(tok), Some(declaration_body()))
                .await
                .status(),
            201
        );
        assert_eq!(
            app.send(Method::POST, &format!("{path}/submit"), Some(tok), None)
                .await
                .status(),
            200
        );
    }

    // A sees that its line is disputed, and nothing about B.
    let path_a = format!("/api/v1/employers/{USCC_A}/declarations/2025");
    let v: Value = app
        .send(Method::GET, &path_a, Some(&tok_a), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["disputes"][0]["line"], 0, "{v}");
    assert_eq!(v["disputes"][0]["state"], "pending");
    assert_eq!(
        v["disputes"][0]["months_not_counted"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert!(!v.to_string().contains(&b) && !v.to_string().contains("乙公司"));

    // Neither counts the person.
    for u in [USCC_A, b.as_str()] {
        let r = app
            .send(
                Method::POST,
                &format!("/api/v1/employers/{u}/assessments/2025"),
                Some(&tax),
                None,
            )
            .await;
        assert_eq!(r.status(), 201, "{u}");
        let a: Value = r.json().await.unwrap();
        assert_eq!(
            a["result"]["disabled_counted"], "0.0000",
            "{u}: {}",
            a["result"]
        );
        assert_eq!(
            a["result"]["employees"][0]["excluded_reason"]
                .as_str()
                .map(|s| s.contains("duplicate_certificate")),
            Some(true),
            "{}",
            a["result"]["employees"]
        );
    }

    // The federation sees the dispute with both claims, and resolves it for A.
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
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["items"][0]["claims"].as_array().unwrap().len(), 2);
    let r = app
        .send(
            Method::GET,
            "/api/v1/certificate-disputes?levy_year=2025",
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .send(Method::POST, "/api/v1/certificate-disputes/resolve", Some(&fed),
              Some(json!({"levy_year": 2025, "certificate_no": CERT_A, "counted_by": USCC_A, "note": "劳动合同在甲公司"})))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    // Both claimants were re-assessed by the resolution itself.
    assert_eq!(v["reassessed"]["assessed"], 2, "{v}");
    let current: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["result"]["disabled_counted"], "2.0000", "{current}");
    assert!(
        !current["result"].to_string().contains("待残联认定前"),
        "the current explanation follows the decision: {}",
        current["result"]["employees"]
    );

    let a: Value = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{USCC_A}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["result"]["disabled_counted"], "2.0000");
    let bb: Value = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{b}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bb["result"]["disabled_counted"], "0.0000");
    let v: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{b}/declarations/2025"),
            Some(&tok_b),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["disputes"][0]["state"], "counted_elsewhere");
    assert!(!v.to_string().contains(USCC_A));
}
