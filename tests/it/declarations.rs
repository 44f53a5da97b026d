//! Declarations: validation through the calculator's own rules, If-Match, idempotent
//! PUT, the draft → submitted → certified → amended lifecycle, masking.

use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, CERT_A, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const PATH: &str = "/api/v1/employers/91350100M000100Y43/declarations/2025";

#[tokio::test]
async fn put_get_and_identical_put_changes_nothing() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = app
        .send(Method::PUT, PATH, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = app
        .send(Method::PUT, PATH, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "draft");
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    // The employer sees its own numbers; the tax bureau sees them masked.
    assert_eq!(
        v["declaration"]["disabled_employees"][0]["certificate_no"],
        CERT_A
    );
    let tax = app.token(Role::Tax, None, Some("411200")).await;
    let r = app.send(Method::GET, PATH, Some(&tax), None).await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(CERT_A), "{text}");
    assert!(text.contains("1101************2X42"), "{text}");
}

#[tokio::test]
async fn invalid_declarations_are_422_naming_fields_and_store_nothing() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let mut body = declaration_body();
    body["staff"]["monthly_headcount"] =
        json!([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    body["disabled_employees"][0]["certificate_no"] = json!("11010519491231002X4");
    body["disabled_employees"][0]["months"] = json!([1, 13]);
    body["region"] = json!("411200");
    let r = app.send(Method::PUT, PATH, Some(&emp), Some(body)).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let ptrs: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for want in [
        "/staff/monthly_headcount",
        "/disabled_employees/0/certificate_no",
        "/region",
    ] {
        assert!(ptrs.contains(&want), "{want} missing from {ptrs:?}");
    }
    assert!(
        ptrs.iter()
            .any(|p| p.starts_with("/disabled_employees/0/months")),
        "{ptrs:?}"
    );
    assert!(
        !p.to_string().contains("11010519491231002X4"),
        "no certificate number in errors"
    );

    // A certificate twice in one roster.
    let mut body = declaration_body();
    let line = body["disabled_employees"][0].clone();
    body["disabled_employees"]
        .as_array_mut()
        .unwrap()
        .push(line);
    let r = app.send(Method::PUT, PATH, Some(&emp), Some(body)).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        p["errors"][0]["pointer"], "/disabled_employees/1/certificate_no",
        "{p}"
    );

    let r = app.send(Method::GET, PATH, Some(&emp), None).await;
    assert_eq!(r.status(), 404, "nothing may have been stored");
}

#[tokio::test]
async fn stale_if_match_is_412_and_changes_nothing() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = app
        .send(Method::PUT, PATH, Some(&emp), Some(declaration_body()))
        .await;
    let etag1 = r.headers()["etag"].to_str().unwrap().to_owned();
    let mut b2 = declaration_body();
    b2["total_wages"] = json!("7100000.00");
    let r = app
        .client
        .put(app.url(PATH))
        .bearer_auth(&emp)
        .header("If-Match", &etag1)
        .json(&b2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut b3 = declaration_body();
    b3["total_wages"] = json!("9999999.00");
    let r = app
        .client
        .put(app.url(PATH))
        .bearer_auth(&emp)
        .header("If-Match", &etag1)
        .json(&b3)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let v: Value = app
        .send(Method::GET, PATH, Some(&emp), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["declaration"]["total_wages"], "7100000.00");
    assert_eq!(v["version"], 2);
}

#[tokio::test]
async fn lifecycle_submit_certify_amend_and_roles() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let fed = app.token(Role::Federation, None, Some("411200")).await;
    let insp = app.token(Role::Inspector, None, None).await;
    app.send(Method::PUT, PATH, Some(&emp), Some(declaration_body()))
        .await;

    let r = app
        .send(Method::POST, &format!("{PATH}/certify"), Some(&fed), None)
        .await;
    assert_eq!(r.status(), 409, "a draft cannot be certified");
    let r = app
        .send(Method::POST, &format!("{PATH}/submit"), Some(&emp), None)
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .send(Method::POST, &format!("{PATH}/certify"), Some(&emp), None)
        .await;
    assert_eq!(r.status(), 403, "an employer cannot certify");
    let r = app
        .send(Method::POST, &format!("{PATH}/certify"), Some(&fed), None)
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "certified");

    let r = app
        .send(Method::PUT, PATH, Some(&insp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 403);

    let mut changed = declaration_body();
    changed["total_wages"] = json!("7200000.00");
    let r = app.send(Method::PUT, PATH, Some(&emp), Some(changed)).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "amended");
    let statuses: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["draft", "submitted", "certified", "amended"]);

    // Another employer cannot see any of it.
    let other = uscc_with_check("91411200MA0000009");
    let tok_b = app.token(Role::Employer, Some(&other), None).await;
    let r = app.send(Method::GET, PATH, Some(&tok_b), None).await;
    assert_eq!(r.status(), 404);
    let r = app
        .send(Method::PUT, PATH, Some(&tok_b), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 404);
}

/// Hubei has no social average wage for data year 2024 in the shipped packs (no figure
/// was found: docs/policy-data.md): the declaration is valid and stored, and says what
/// its assessment waits for.
#[tokio::test]
async fn a_valid_declaration_is_stored_while_the_law_lacks_a_figure_and_the_assessment_waits() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let uscc = uscc_with_check("91420102MA0000021");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": uscc, "name": "武汉示例公司", "kind": "enterprise", "region": "420102"})),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let path = format!("/api/v1/employers/{uscc}/declarations/2025");
    let r = app
        .send(Method::PUT, &path, Some(&admin), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 201, "stored: {:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    let waits = &v["assessment_waits_for"];
    assert_eq!(waits[0]["code"], "missing_parameter", "{v}");
    assert_eq!(waits[0]["pointer"], "/overrides/social_average_wage");
    let said = waits[0]["detail"].to_string();
    assert!(
        said.contains("420102") && said.contains("2024") && said.contains("待政策包补充后核定"),
        "{said}"
    );
    // A declaration that is wrong as well is still refused.
    let mut bad = declaration_body();
    bad["total_wages"] = json!("-1");
    let r = app.send(Method::PUT, &path, Some(&admin), Some(bad)).await;
    assert_eq!(r.status(), 422);
    // Filed, its assessment is refused for the missing figure, naming it.
    let r = app
        .send(Method::POST, &format!("{path}/submit"), Some(&admin), None)
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{uscc}/assessments/2025"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["code"], "missing_parameter", "{p}");
    // The assessment run says what it waits for, and names a draft it skipped.
    let draft = uscc_with_check("91430102MA0000022");
    app.send(
        Method::POST,
        "/api/v1/employers",
        Some(&admin),
        Some(json!({"uscc": draft, "name": "草稿公司", "kind": "enterprise", "region": "430102"})),
    )
    .await;
    let r = app
        .send(
            Method::PUT,
            &format!("/api/v1/employers/{draft}/declarations/2025"),
            Some(&admin),
            Some(declaration_body()),
        )
        .await;
    assert_eq!(r.status(), 201);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quota-levy"))
        .env("QUOTA_LEVY__DATABASE__URL", &app.db_url)
        .args(["assess", "--levy-year", "2025"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("waiting (1 employer(s)") && text.contains("420102"),
        "{text}"
    );
    assert!(
        text.contains("drafts skipped (not filed)          1") && text.contains(&draft),
        "{text}"
    );
    // The GET shows the same wait.
    let v: Value = app
        .send(Method::GET, &path, Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["assessment_waits_for"][0]["code"], "missing_parameter");
}
