//! `GET /metrics`: Prometheus text from an allowed address, refused from others, absent
//! when switched off.

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn metrics_count_requests_by_route_and_read_the_database() {
    let app = spawn_app().await;
    // One answered request of a known route, one 404, so both are counted.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = r.text().await.unwrap();
    assert!(
        text.contains(
            "quota_levy_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("quota_levy_http_request_duration_seconds_bucket{"));
    // The made-up path is not a label: unmatched requests share one.
    assert!(!text.contains("/no/such/page"));
    assert!(text.contains("quota_levy_db_pool_max_connections "));
    assert!(text.contains("quota_levy_outbox_oldest_pending_age_seconds 0"));
    assert!(text.contains("quota_levy_outbox_send_failures 0"));
}

#[tokio::test]
async fn metrics_are_refused_to_an_address_not_allowed() {
    // The test client connects from 127.0.0.1, which this list does not hold.
    let app = spawn_app_with(&[("QUOTA_LEVY__METRICS__ALLOW_FROM", "192.0.2.7")]).await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
    let text = r.text().await.unwrap();
    assert!(!text.contains("quota_levy_http_requests_total"));
}

#[tokio::test]
async fn metrics_switched_off_are_not_found() {
    let app = spawn_app_with(&[("QUOTA_LEVY__METRICS__ENABLED", "false")]).await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
