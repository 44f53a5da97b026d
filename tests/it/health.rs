//! Liveness, readiness, errors as problem+json, request IDs, body limit.

use crate::helpers::{spawn_app, spawn_app_on, TestDb};

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_a_migrated_database() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let expected = if app.db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn readyz_is_503_until_migrations_are_applied_then_200_without_restart() {
    let (db, url) = TestDb::create();
    let app = spawn_app_on(db, url.clone(), false).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "migrations pending");

    let pool = crate::helpers::open_db(&url);
    tokio::task::spawn_blocking(move || pool.migrate())
        .await
        .unwrap()
        .unwrap();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable() {
    // Nothing listens on port 1: the pool cannot connect.
    let url = "postgres://nobody@127.0.0.1:1/none".to_owned();
    let (db, _) = (TestDb::Sqlite(tempfile::tempdir().unwrap()), ());
    let app = spawn_app_on(db, url, false).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "database unreachable");
    // Liveness does not depend on the database.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_503_while_the_database_is_unreachable_says_nothing_of_the_driver() {
    let url = "postgres://nobody@127.0.0.1:1/none".to_owned();
    let app = spawn_app_on(TestDb::Sqlite(tempfile::tempdir().unwrap()), url, false).await;
    // A public route, and one whose token check needs the database.
    // In English (asked for), then in Chinese (the default).
    let zh = app
        .client
        .get(app.url("/api/v1/notices"))
        .send()
        .await
        .unwrap();
    assert_eq!(zh.status(), 503);
    let p: serde_json::Value = zh.json().await.unwrap();
    assert_eq!(
        p["detail"],
        quota_levy::http::problem::DATABASE_UNAVAILABLE_ZH
    );
    let requests = [
        app.client.get(app.url("/notices")),
        app.client.get(app.url("/api/v1/notices")),
        app.client
            .get(app.url("/api/v1/employers"))
            .bearer_auth("qlv_0000000000000000000000000000000000000000000000000000000000000000"),
    ];
    for r in requests {
        let r = r.header("Accept-Language", "en").send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert!(r.headers().contains_key("x-request-id"), "the id to quote");
        let text = r.text().await.unwrap();
        let p: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(p["type"], "/problems/unavailable");
        assert_eq!(p["detail"], quota_levy::http::problem::DATABASE_UNAVAILABLE);
        // Nothing of r2d2's or libpq's text: no host, port, user or socket error.
        for leak in [
            "127.0.0.1",
            ":1",
            "nobody",
            "refused",
            "timed out",
            "connect",
            "server",
            "database unavailable:",
        ] {
            assert!(!text.contains(leak), "{leak:?} in {text}");
        }
    }
}

#[tokio::test]
async fn unknown_route_is_a_problem_json_404_with_request_id() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/no/such/thing"))
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/not-found");
    assert_eq!(p["status"], 404);
}

#[tokio::test]
async fn every_response_gets_a_fresh_request_id_and_bad_incoming_ids_are_replaced() {
    let app = spawn_app().await;
    let a = app.client.get(app.url("/healthz")).send().await.unwrap();
    let b = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "bad id; with spaces")
        .send()
        .await
        .unwrap();
    let ida = a.headers()["x-request-id"].to_str().unwrap().to_owned();
    let idb = b.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(ida.len(), 36);
    assert_ne!(ida, idb);
    assert!(!idb.contains(' '));
}

#[tokio::test]
async fn openapi_document_lists_only_routes_that_exist() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 19);
    for (path, ops) in paths {
        let concrete = path
            .replace("{uscc}", "91350100M000100Y43")
            .replace("{levy_year}", "2025")
            .replace("{region}", "411200")
            .replace("{id}", "1");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m, app.url(&concrete))
                .send()
                .await
                .unwrap();
            // Routed: anything but actix's "no such route" (our 404 says "no resource at").
            let status = r.status();
            let body = r.text().await.unwrap();
            assert!(
                !(status == 404 && body.contains("no resource at")) && status != 405,
                "{method} {path} is documented but not routed ({status})"
            );
        }
    }
    let r = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().to_lowercase().contains("swagger"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_problem_json_413() {
    let app = spawn_app().await;
    // The default limit is 2 MiB (server.body_limit_bytes).
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let r = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/payload-too-large");
}

#[tokio::test]
async fn an_upload_over_server_upload_limit_bytes_is_413_and_under_it_is_read() {
    let csv = format!(
        "uscc,name,kind,region\n{}",
        "91350100M000100Y43,示例公司,enterprise,411202\n".repeat(60_000)
    );
    assert!(csv.len() > 2 * 1024 * 1024 + 1);
    for (limit, expect_413) in [("2097152", true), ("52428800", false)] {
        let app =
            crate::helpers::spawn_app_with(&[("QUOTA_LEVY__SERVER__UPLOAD_LIMIT_BYTES", limit)])
                .await;
        let admin = app.token(quota_levy::auth::Role::Admin, None, None).await;
        let r = app
            .client
            .post(app.url("/api/v1/imports/employers"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        if expect_413 {
            assert_eq!(r.status(), 413);
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        } else {
            // Read and judged: the same USCC 60,000 times is a fault on the rows.
            assert_eq!(r.status(), 422);
        }
    }
}

#[tokio::test]
async fn the_pages_share_one_stylesheet_served_by_the_binary_and_switch_language() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/static/site.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let tag = r.headers()["etag"].to_str().unwrap().to_owned();
    let css = r.text().await.unwrap();
    assert!(css.contains("@media print"), "{css}");
    assert!(
        !css.contains("url(") && !css.contains("@import"),
        "nothing from elsewhere"
    );
    let again = app
        .client
        .get(app.url("/static/site.css"))
        .header("If-None-Match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for (query, lang) in [("", "zh-CN"), ("?lang=en", "en")] {
        let r = app
            .client
            .get(app.url(&format!("/notices{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("style-src 'self'"), "{csp}");
        let page = r.text().await.unwrap();
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/static/site.css\">"));
        assert!(page.contains("<main id=\"main\">") && page.contains("<footer"));
        assert!(
            page.contains(&format!("<header class=\"site\" lang=\"{lang}\">")),
            "{page}"
        );
        // The notice index is a Chinese document whatever the chrome's language.
        assert!(page.contains("<html lang=\"zh-CN\">"));
    }
    let r = app
        .client
        .get(app.url("/notices?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/query/lang", "{p}");
}
