//! Hostile input, case by case: each is refused with a 422 naming its field (and writes
//! nothing), or, where it is legitimate, handled; on both backends (PostgreSQL refused a
//! NUL with a 500 before).

use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, CERT_A, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn problem(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn pointers(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn control_and_bidi_characters_are_refused_where_they_come_in() {
    let (app, admin) = app_with_employer().await;
    let emp = "/api/v1/employers/91350100M000100Y43";
    for (name, code) in [
        ("示例\u{0}公司", "control_character"),
        ("示例\u{202E}司公", "bidi_character"),
        ("示例\u{2067}公司", "bidi_character"),
        ("示例\n公司", "control_character"),
    ] {
        let (s, p) = problem(
            app.send(
                Method::PATCH,
                emp,
                Some(&admin),
                Some(json!({ "name": name })),
            )
            .await,
        )
        .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(pointers(&p), ["/name"], "{p}");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    // Deep in a body, as an escape: the pointer leads to it.
    let mut body = declaration_body();
    body["disabled_employees"][0]["certificate_no"] = json!("1101\u{0}05194912");
    let (s, p) = problem(
        app.send(
            Method::PUT,
            &format!("{emp}/declarations/2025"),
            Some(&admin),
            Some(body),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(pointers(&p), ["/disabled_employees/0/certificate_no"]);
    // In a path segment and a query value.
    let (s, p) = problem(
        app.send(Method::GET, "/api/v1/employers/9135%00", Some(&admin), None)
            .await,
    )
    .await;
    assert_eq!((s, pointers(&p)), (422, vec!["/path".to_owned()]), "{p}");
    let (s, p) = problem(
        app.send(
            Method::GET,
            "/api/v1/employers?region=41%E2%80%AE1200",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(pointers(&p), ["/query/region"]);
    // A line break is fine in free text (a resolution note), never in a name.
    let v: Value = app
        .send(Method::GET, emp, Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "示例公司", "nothing was written");
}

#[tokio::test]
async fn pages_years_dates_and_amounts_have_bounds() {
    let (app, admin) = app_with_employer().await;
    for (q, ptr) in [
        ("page=9223372036854775807", "/query/page"),
        ("page=1000001", "/query/page"),
        ("page=0", "/query/page"),
        ("per_page=100000", "/query/per_page"),
    ] {
        for path in ["/api/v1/employers", "/api/v1/notices"] {
            let (s, p) = problem(
                app.send(Method::GET, &format!("{path}?{q}"), Some(&admin), None)
                    .await,
            )
            .await;
            assert_eq!(s, 422, "{path}?{q}: {p}");
            assert_eq!(pointers(&p), [ptr], "{path}?{q}");
        }
    }
    let r = app
        .send(
            Method::GET,
            "/api/v1/employers?page=1000000",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status(), 200, "the last page allowed is served (empty)");
    let (s, p) = problem(
        app.send(
            Method::GET,
            "/api/v1/policies/411200?data_year=2147483647",
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, pointers(&p)),
        (422, vec!["/query/data_year".to_owned()])
    );

    // A registration date in the future.
    let (s, p) = problem(
        app.send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc_with_check("91411202MA0000099"), "name": "未来公司",
                        "kind": "enterprise", "region": "411202", "registered_on": "2999-01-01"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, pointers(&p)),
        (422, vec!["/registered_on".to_owned()]),
        "{p}"
    );

    // A payment of ten trillion yuan is a typing error, refused before anything is read.
    let tax = app.token(Role::Tax, None, None).await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/employers/{USCC_A}/payments/2025")))
        .bearer_auth(&tax)
        .header("Idempotency-Key", "huge")
        .json(&json!({"amount": "10000000000000.00", "paid_on": "2025-12-01", "reference": "B"}))
        .send()
        .await
        .unwrap();
    let (s, p) = problem(r).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/amount");
    assert_eq!(p["errors"][0]["code"], "too_large");
}

#[tokio::test]
async fn a_uscc_of_another_province_is_registered_with_a_warning_kept_in_the_audit() {
    let (app, admin) = app_with_employer().await;
    // Issued in Fujian (350100), declared in Sanmenxia: a warning, not a refusal.
    let fujian = uscc_with_check("91350100MA0000011");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": fujian, "name": "福建分公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("350000") && warnings.contains("410000"),
        "{v}"
    );
    // Issued in Henan: no warning.
    let henan = uscc_with_check("91411202MA0000011");
    let v: Value = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": henan, "name": "本地公司", "kind": "enterprise", "region": "411202"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(v["warnings"].as_array().is_none_or(|w| w.is_empty()), "{v}");
    let url = app.db_url.clone();
    let after: Vec<String> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().unwrap();
        quota_levy::db::schema::audit_log::table
            .filter(quota_levy::db::schema::audit_log::entity_id.eq(fujian))
            .select(quota_levy::db::schema::audit_log::after_json)
            .load::<Option<String>>(&mut *c)
            .unwrap()
            .into_iter()
            .flatten()
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(after.len(), 1);
    assert!(
        after[0].contains("warnings") && after[0].contains("350000"),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_region_scoped_federation_learns_nothing_about_claims_outside_its_region() {
    let (app, admin) = app_with_employer().await;
    // B, in Zhengzhou (410100), declares the same certificate as A (Sanmenxia).
    let b = uscc_with_check("91410100MA0000077");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": b, "name": "郑州公司", "kind": "enterprise", "region": "410102"})),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    for u in [USCC_A, b.as_str()] {
        let path = format!("/api/v1/employers/{u}/declarations/2025");
        app.send(Method::PUT, &path, Some(&admin), Some(declaration_body()))
            .await;
        app.send(Method::POST, &format!("{path}/submit"), Some(&admin), None)
            .await;
    }
    let sanmenxia = app.token(Role::Federation, None, Some("411200")).await;
    let resolve = |cert: &'static str, counted_by: String| {
        let fed = sanmenxia.clone();
        let app = &app;
        async move {
            let r = app
                .send(
                    Method::POST,
                    "/api/v1/certificate-disputes/resolve",
                    Some(&fed),
                    Some(json!({"levy_year": 2025, "certificate_no": cert, "counted_by": counted_by})),
                )
                .await;
            problem(r).await
        }
    };
    // Naming B (outside Sanmenxia): refused, and in the same words whether B declares the
    // person or not.
    let claimed = resolve(CERT_A, b.clone()).await;
    let unclaimed = resolve("11010519491231002X41", b.clone()).await;
    assert_eq!(claimed.0, 422, "{:?}", claimed.1);
    assert_eq!(claimed, unclaimed);
    // Its own employer A it may name.
    let (s, p) = resolve(CERT_A, USCC_A.to_owned()).await;
    assert_eq!(s, 200, "{p}");
}

#[tokio::test]
async fn html_answers_carry_the_security_headers() {
    let (app, _) = app_with_employer().await;
    for path in ["/notices", "/api/docs/"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
}
