//! The employer registry and access rules: 401 without a token, 403 for an inspector's
//! write, 404 (never 403, never data) for another employer's resource, audit on write.

use crate::helpers::{spawn_app, uscc_with_check, USCC_A};
use quota_levy::auth::Role;
use serde_json::{json, Value};

fn employer_body(uscc: &str, region: &str) -> Value {
    json!({
        "uscc": uscc, "name": "三门峡示例有限公司", "kind": "enterprise", "region": region,
        "registered_on": "2019-05-01", "contact_email": "hr@example.cn",
    })
}

#[tokio::test]
async fn no_token_is_401_and_unknown_token_is_401() {
    let app = spawn_app().await;
    let r = app
        .send(reqwest::Method::GET, "/api/v1/employers", None, None)
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = app
        .send(
            reqwest::Method::GET,
            "/api/v1/employers",
            Some("qlv_nope"),
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn employers_are_walled_off_from_each_other() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let b = uscc_with_check("91411200MA0000001");
    for (u, region) in [(USCC_A, "411202"), (b.as_str(), "411200")] {
        let r = app
            .send(
                reqwest::Method::POST,
                "/api/v1/employers",
                Some(&admin),
                Some(employer_body(u, region)),
            )
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }
    let tok_a = app.token(Role::Employer, Some(USCC_A), None).await;

    // Its own: visible.
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{USCC_A}"),
            Some(&tok_a),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    // Another's: 404 with nothing of the other in the body.
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{b}"),
            Some(&tok_a),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("三门峡示例") && !text.contains("hr@example.cn"),
        "{text}"
    );
    // Writing another's: 404 and untouched.
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/employers/{b}"),
            Some(&tok_a),
            Some(json!({"name": "hijacked"})),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{b}"),
            Some(&admin),
            None,
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "三门峡示例有限公司");
    assert_eq!(v["version"], 1);
    // The list shows only itself.
    let r = app
        .send(
            reqwest::Method::GET,
            "/api/v1/employers",
            Some(&tok_a),
            None,
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["uscc"], USCC_A);
}

#[tokio::test]
async fn inspector_reads_its_region_but_cannot_write() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let other = uscc_with_check("91410100MA0000002");
    for (u, region) in [(USCC_A, "411202"), (other.as_str(), "410100")] {
        let r = app
            .send(
                reqwest::Method::POST,
                "/api/v1/employers",
                Some(&admin),
                Some(employer_body(u, region)),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let insp = app.token(Role::Inspector, None, Some("411200")).await;
    let r = app
        .send(reqwest::Method::GET, "/api/v1/employers", Some(&insp), None)
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["items"][0]["region"], "411202");
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{other}"),
            Some(&insp),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/employers/{USCC_A}"),
            Some(&insp),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(&insp),
            Some(employer_body(
                &uscc_with_check("91411200MA0000003"),
                "411200",
            )),
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn bad_employer_is_422_listing_every_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let body = json!({
        "uscc": "91350100M000100Y44", "name": "", "kind": "company", "region": "991234",
        "registered_on": "2019-02-30", "contact_email": "nobody", "colour": "red"
    });
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(body),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let mut ptrs: Vec<String> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_owned())
        .collect();
    ptrs.sort();
    assert_eq!(
        ptrs,
        [
            "/colour",
            "/contact_email",
            "/kind",
            "/name",
            "/region",
            "/registered_on",
            "/uscc"
        ]
    );
    let r = app
        .send(
            reqwest::Method::GET,
            "/api/v1/employers",
            Some(&admin),
            None,
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total"], 0);
}

#[tokio::test]
async fn patch_honours_if_match_and_is_audited() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(employer_body(USCC_A, "411202")),
        )
        .await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let path = format!("/api/v1/employers/{USCC_A}");
    let r = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .header("If-Match", &etag)
        .json(&json!({"establishment_size": 70}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The same stale tag again: 412 and no change.
    let r = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .header("If-Match", &etag)
        .json(&json!({"establishment_size": 99}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let v: Value = app
        .send(reqwest::Method::GET, &path, Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["establishment_size"], 70);
    assert_eq!(v["version"], 2);
    // Duplicate registration is a conflict.
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(employer_body(USCC_A, "411202")),
        )
        .await;
    assert_eq!(r.status(), 409);

    let url = app.db_url.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().unwrap();
        quota_levy::db::audit::for_entity(&mut c, "employer", USCC_A).unwrap()
    })
    .await
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["employer.create", "employer.update"]);
    assert!(rows[1]
        .before_json
        .as_deref()
        .unwrap()
        .contains("\"establishment_size\":null"));
    assert!(rows[1]
        .after_json
        .as_deref()
        .unwrap()
        .contains("\"establishment_size\":70"));
    assert!(rows[1].actor.contains("admin"));
}

/// A registry body's faults come in the caller's language, with the codes the public
/// calculator gives the same faults.
#[tokio::test]
async fn registry_faults_are_worded_in_the_language_asked_for() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let body = json!({
        "uscc": "91350100M000100Y44", "name": "", "kind": "shop", "region": "41",
        "registered_on": "2020-02-30", "establishment_size": "many", "committee_member": 1,
        "typo": true
    });
    let mut answers = Vec::new();
    for lang in ["zh-CN", "en"] {
        let r = app
            .client
            .post(app.url("/api/v1/employers"))
            .bearer_auth(&admin)
            .header("Accept-Language", lang)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        let errors: Vec<(String, String, String)> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["pointer"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                    e["detail"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        answers.push(errors);
    }
    let codes = |a: &[(String, String, String)]| -> Vec<(String, String)> {
        a.iter().map(|(p, c, _)| (p.clone(), c.clone())).collect()
    };
    assert_eq!(codes(&answers[0]), codes(&answers[1]));
    let want: Vec<(&str, &str)> = vec![
        ("/typo", "unknown_field"),
        ("/uscc", "check_character"),
        ("/name", "required"),
        ("/kind", "invalid"),
        ("/region", "invalid"),
        ("/registered_on", "date"),
        ("/establishment_size", "type"),
        ("/committee_member", "type"),
    ];
    let got = codes(&answers[0]);
    let got: Vec<(&str, &str)> = got.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    assert_eq!(got, want);
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for ((_, _, zh), (_, _, en)) in answers[0].iter().zip(&answers[1]) {
        assert!(cjk(zh), "{zh}");
        assert!(!cjk(en) || en.contains('('), "{en}");
        assert_ne!(zh, en);
    }
}

/// Answers that are not about a field (a missing employer, a code registered twice, a
/// token without the role) are worded in the caller's language too: Chinese unless
/// English is asked for.
#[tokio::test]
async fn refusals_are_worded_in_the_language_asked_for() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let inspector = app.token(Role::Inspector, None, None).await;
    let body = employer_body(USCC_A, "411202");
    let first = app
        .send(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status(), 201);
    let missing = uscc_with_check("91411200MA00000");
    let cases = [
        (
            reqwest::Method::GET,
            format!("/api/v1/employers/{missing}"),
            &admin,
            None,
            404,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employers".to_owned(),
            &admin,
            Some(body),
            409,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employers".to_owned(),
            &inspector,
            Some(employer_body(&missing, "411202")),
            403,
        ),
    ];
    for (method, path, token, body, status) in cases {
        let mut said = Vec::new();
        for lang in [None, Some("en")] {
            let mut rb = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token);
            if let Some(l) = lang {
                rb = rb.header("Accept-Language", l);
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let r = rb.send().await.unwrap();
            assert_eq!(r.status(), status, "{path}");
            let p: Value = r.json().await.unwrap();
            said.push(p["detail"].as_str().unwrap_or_default().to_owned());
        }
        let (zh, en) = (&said[0], &said[1]);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{path}: {zh}"
        );
        assert!(en.is_ascii() && !en.is_empty(), "{path}: {en}");
    }
}
