//! Signed computation receipts: issued once per assessment and kept, checked by the API,
//! the public page a QR code leads to and the command line (offline, with the published
//! key); one changed figure makes every check fail; no personal number inside.

use crate::helpers::fixtures::{app_with_employer, declaration_body, CERT_A, USCC_A};
use crate::helpers::web::client;
use crate::helpers::{bin, TestApp};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const YEAR: i32 = 2025;

/// Employer A declared with a one-line roster, certified and assessed; its receipt as
/// the employer fetches it.
async fn receipt() -> (TestApp, String, Value) {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let fed = app.federation(None).await;
    let tax = app.tax(None).await;
    let decl = format!("/api/v1/employers/{USCC_A}/declarations/{YEAR}");
    // Half a year of a doubly counted employee: one person, 1 % of 100, below Henan's
    // 1.6 %: a levy to certify.
    let mut body = declaration_body();
    body["disabled_employees"][0]["months"] = json!([1, 2, 3, 4, 5, 6]);
    let r = app.send(Method::PUT, &decl, Some(&emp), Some(body)).await;
    assert_eq!(r.status(), 201);
    for (step, who) in [("submit", &emp), ("certify", &fed)] {
        let r = app
            .send(Method::POST, &format!("{decl}/{step}"), Some(who), None)
            .await;
        assert_eq!(r.status(), 200, "{step}");
    }
    let assessment = format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}");
    let r = app.send(Method::POST, &assessment, Some(&tax), None).await;
    assert_eq!(r.status(), 201);
    let r = app
        .send(
            Method::GET,
            &format!("{assessment}/receipt"),
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    (app, emp, doc)
}

async fn verify(app: &TestApp, doc: &Value) -> Value {
    app.send(
        Method::POST,
        "/api/v1/receipts/verify",
        None,
        Some(doc.clone()),
    )
    .await
    .json()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_receipt_verifies_and_one_changed_figure_makes_it_fail() {
    let (app, emp, doc) = receipt().await;
    let receipt = &doc["receipt"];
    assert_eq!(receipt["format"], "quota-levy-receipt/1");
    assert_eq!(receipt["assessment"]["uscc"], USCC_A);
    let text = doc.to_string();
    assert!(!text.contains(CERT_A), "no certificate number in a receipt");
    assert!(!text.contains(&CERT_A[..18]), "nor the ID number inside it");

    // The receipt certifies the assessment's figures.
    let a: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}"),
            Some(&emp),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(receipt["result"]["levy_payable"], "0.00");
    for k in ["levy_payable", "fee_due", "shortfall"] {
        assert_eq!(receipt["result"][k], a["result"][k], "{k}");
    }
    assert!(receipt["result"]["parameters"]
        .to_string()
        .contains("citation"));

    let v = verify(&app, &doc).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["issued_here"], true);
    assert_eq!(v["digest"], doc["digest"]);

    let mut changed = doc.clone();
    changed["receipt"]["result"]["levy_payable"] = json!("1.00");
    let v = verify(&app, &changed).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"]["code"], "digest_mismatch");

    // Issued once: asked again, the same document.
    let again: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}/receipt"),
            Some(&emp),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, doc);

    // Another employer sees none of it.
    let other = app
        .token(Role::Employer, Some("91411202MA0000009L"), None)
        .await;
    let r = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}/receipt"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_verification_address_shows_the_receipt_checked_and_nothing_for_a_made_up_one() {
    let (app, _, doc) = receipt().await;
    let digest = doc["digest"].as_str().unwrap();
    let page = client()
        .get(app.url(&format!("/receipts/{digest}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("回执有效"), "{html}");
    assert!(html.contains(USCC_A));
    assert!(html.contains(&format!(
        "{} 元",
        doc["receipt"]["result"]["levy_payable"].as_str().unwrap()
    )));
    assert!(!html.contains(CERT_A));
    let qr = client()
        .get(app.url(&format!("/receipts/{digest}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));
    let made_up = "0".repeat(64);
    let r = client()
        .get(app.url(&format!("/receipts/{made_up}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(app.url(&format!("/receipts/{made_up}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Pasted into the public form, a changed receipt is refused with the reason.
    let form = client()
        .get(app.url("/receipts/verify"))
        .send()
        .await
        .unwrap();
    let cookie = crate::helpers::web::set_cookie(&form, "ql_csrf").unwrap();
    let csrf = crate::helpers::web::csrf_of(&form.text().await.unwrap());
    let mut changed = doc.clone();
    changed["receipt"]["assessment"]["levy_year"] = json!(2024);
    let r = client()
        .post(app.url("/receipts/verify"))
        .header("cookie", crate::helpers::web::pair(&cookie))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("receipt", &changed.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("回执无效") && html.contains("内容已被改动"),
        "{html}"
    );
}

#[tokio::test]
async fn the_command_line_checks_a_receipt_offline_with_the_published_key() {
    let (app, _, doc) = receipt().await;
    let key: Value = app
        .send(Method::GET, "/api/v1/receipt-key", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(key["key_id"], doc["receipt"]["key_id"]);
    let public_key = key["public_key"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("receipt.json");
    std::fs::write(&good, doc.to_string()).unwrap();
    let mut changed = doc.clone();
    changed["receipt"]["result"]["fee_due"] = json!("0.01");
    let bad = dir.path().join("changed.json");
    std::fs::write(&bad, changed.to_string()).unwrap();
    let db_url = app.db_url.clone();
    let run = move |file: &std::path::Path, key: Option<&str>| {
        let mut c = bin(Some(&db_url));
        c.args(["receipt", "verify"]).arg(file);
        if let Some(k) = key {
            c.args(["--public-key", k]);
        }
        c.output().unwrap()
    };
    let (g, b) = (good.clone(), bad.clone());
    let pk = public_key.clone();
    let (offline_good, offline_bad, own_key, wrong_key) = tokio::task::spawn_blocking(move || {
        (
            run(&g, Some(&pk)),
            run(&b, Some(&pk)),
            run(&g, None),
            run(&g, Some(&"ab".repeat(32))),
        )
    })
    .await
    .unwrap();
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        offline_good.status.code(),
        Some(0),
        "{}",
        out(&offline_good)
    );
    assert!(out(&offline_good).starts_with("valid: digest"));
    assert_eq!(offline_bad.status.code(), Some(1));
    assert!(out(&offline_bad).contains("digest_mismatch"));
    assert_eq!(own_key.status.code(), Some(0), "the deployment's own key");
    assert_ne!(wrong_key.status.code(), Some(0), "another key");
}

/// A batch run stores no copy of a declaration's inputs: they are the filed version's
/// body, rebuilt on read. The assessment's page, its replay and its receipt are the same
/// as for the same row with the inputs stored in it (as every row was made before), and
/// a version whose body no longer gives the row's digest is an error, not another
/// explanation.
#[tokio::test]
async fn a_batch_assessment_reads_as_the_same_row_with_its_inputs_stored() {
    use diesel::prelude::*;
    use quota_levy::db::assessments::{self as repo, Assessment};
    use quota_levy::db::schema::{assessments, declaration_versions};

    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let fed = app.federation(None).await;
    let decl = format!("/api/v1/employers/{USCC_A}/declarations/{YEAR}");
    let r = app
        .send(Method::PUT, &decl, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 201);
    for (step, who) in [("submit", &emp), ("certify", &fed)] {
        let r = app
            .send(Method::POST, &format!("{decl}/{step}"), Some(who), None)
            .await;
        assert_eq!(r.status(), 200, "{step}");
    }
    app.queue_assessment_run(YEAR, None).await;
    let runs = app.run_assessments().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].assessed, 1);

    let assessment = format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}");
    let page = |token: String| {
        let (app, assessment) = (&app, &assessment);
        async move {
            let r = app.send(Method::GET, assessment, Some(&token), None).await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let by_version = page(emp.clone()).await;
    assert!(
        by_version["inputs"].to_string().contains(CERT_A),
        "the employer sees its own inputs, rebuilt from the version"
    );

    let pool = app.pool();
    let secret = quota_levy::secret::ServerSecret::generate();
    let (row, body_rebuilt, body_stored) = tokio::task::spawn_blocking(move || {
        let mut c = pool.conn().unwrap();
        let employer = quota_levy::db::employers::by_uscc(&mut c, USCC_A)
            .unwrap()
            .unwrap();
        let a: Assessment = repo::current(&mut c, employer.id, YEAR).unwrap().unwrap();
        assert_eq!(a.inputs_json, "", "a batch row keeps no copy of the inputs");
        let at = a.computed_at;
        let rebuilt =
            quota_levy::registry::receipts::body(&mut c, &secret, &employer, &a, at).unwrap();
        // The same row as it was stored before: the inputs in full.
        let (_, inputs) = quota_levy::registry::assessments::replay_with_inputs(
            &mut c,
            &a,
            quota_levy::domain::Language::Zh,
        )
        .unwrap();
        diesel::update(assessments::table.find(a.id))
            .set(assessments::inputs_json.eq(inputs.to_string()))
            .execute(&mut *c)
            .unwrap();
        let stored_row = repo::current(&mut c, employer.id, YEAR).unwrap().unwrap();
        assert_eq!(stored_row.inputs_json, inputs.to_string());
        let stored =
            quota_levy::registry::receipts::body(&mut c, &secret, &employer, &stored_row, at)
                .unwrap();
        (a, rebuilt, stored)
    })
    .await
    .unwrap();
    assert_eq!(
        body_rebuilt, body_stored,
        "the receipt is the same either way"
    );
    assert_eq!(
        page(emp.clone()).await,
        by_version,
        "the page is the same either way"
    );

    // Back to the reference, with the version's body changed behind the service's back.
    let pool = app.pool();
    tokio::task::spawn_blocking(move || {
        let mut c = pool.conn().unwrap();
        diesel::update(assessments::table.find(row.id))
            .set(assessments::inputs_json.eq(""))
            .execute(&mut *c)
            .unwrap();
        diesel::update(
            declaration_versions::table
                .filter(declaration_versions::declaration_id.eq(row.declaration_id))
                .filter(declaration_versions::version.eq(row.declaration_version)),
        )
        .set(declaration_versions::body_json.eq(tampered_body()))
        .execute(&mut *c)
        .unwrap();
        let err = quota_levy::registry::assessments::replay(
            &mut c,
            &row,
            quota_levy::domain::Language::Zh,
        )
        .expect_err("a changed version does not explain the row");
        assert!(err.contains("do not match its digest"), "{err}");
        assert!(!err.contains(CERT_A));
    })
    .await
    .unwrap();
}

/// The fixture's declaration with one more employee on the staff.
fn tampered_body() -> String {
    let mut body = declaration_body();
    let staff = body["staff"]["monthly_headcount"].clone();
    let more: Vec<Value> = staff
        .as_array()
        .map(|m| {
            m.iter()
                .map(|n| json!(n.as_i64().unwrap_or(0) + 1))
                .collect()
        })
        .unwrap_or_default();
    body["staff"]["monthly_headcount"] = json!(more);
    body.to_string()
}
