//! Payments recorded exactly once per Idempotency-Key, and statements with the
//! late-payment surcharge of docs/rules.md §6.

use crate::helpers::assessed_10000;
use reqwest::Method;
use serde_json::{json, Value};

const PAY: &str = "/api/v1/employers/91350100M000100Y43/payments/2025";
const STMT: &str = "/api/v1/employers/91350100M000100Y43/statements/2025";

#[tokio::test]
async fn statement_30_days_past_due_shows_1500_surcharge() {
    let (app, emp, _) = assessed_10000().await;
    // The due date is the region's setting: 31 December of the levy year (provisional).
    let s: Value = app
        .send(
            Method::GET,
            &format!("{STMT}?as_of=2026-01-30"),
            Some(&emp),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["due_date"], "2025-12-31", "{s}");
    assert_eq!(s["principal"], "10000.00");
    assert_eq!(s["surcharge"], "1500.00");
    assert_eq!(s["outstanding"], "11500.00");
    assert_eq!(s["segments"][0]["days"], 30);
    let s: Value = app
        .send(
            Method::GET,
            &format!("{STMT}?as_of=2025-12-31"),
            Some(&emp),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["surcharge"], "0.00");
}

#[tokio::test]
async fn same_key_records_once_and_a_different_body_is_409() {
    let (app, emp, tax) = assessed_10000().await;
    let pay = |key: &'static str, amount: &'static str| {
        app.client
            .post(app.url(PAY))
            .bearer_auth(&tax)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": amount, "paid_on": "2025-12-01", "reference": "ICBC-0001"}))
            .send()
    };
    let r = pay("k-1", "4000.00").await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let r = pay("k-1", "4000.00").await.unwrap();
    assert_eq!(r.status(), 201, "a replay answers the first status");
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again, first);
    let r = pay("k-1", "5000.00").await.unwrap();
    assert_eq!(r.status(), 409);
    let r = app
        .client
        .post(app.url(PAY))
        .bearer_auth(&tax)
        .json(&json!({"amount": "1.00", "paid_on": "2025-12-01", "reference": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "no key");
    let r = app
        .client
        .post(app.url(PAY))
        .bearer_auth(&tax)
        .header("Idempotency-Key", "k-2")
        .json(&json!({"amount": "-3", "paid_on": "2025-13-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let ptrs: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(ptrs.len(), 3, "{ptrs:?}");
    // An employer cannot record payments.
    let r = app
        .client
        .post(app.url(PAY))
        .bearer_auth(&emp)
        .header("Idempotency-Key", "k-3")
        .json(&json!({"amount": "1.00", "paid_on": "2025-12-01", "reference": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Paid 4,000 on time: 6,000 overdue for 30 days → 900.00.
    let s: Value = app
        .send(
            Method::GET,
            &format!("{STMT}?as_of=2026-01-30"),
            Some(&emp),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        s["payments"].as_array().unwrap().len(),
        1,
        "recorded once: {s}"
    );
    assert_eq!(s["outstanding_principal"], "6000.00");
    assert_eq!(s["surcharge"], "900.00");
}

/// A payment made today in China is today's, whatever the hour: from 00:00 to 08:00 in
/// Sanmenxia the UTC date is still yesterday's, and a check against it refused such a
/// payment as "in the future" (this test catches that between 16:00 and 24:00 UTC).
/// Tomorrow, in China, is refused.
#[tokio::test]
async fn a_payment_dated_today_in_china_is_accepted_and_tomorrow_refused() {
    let (app, _, tax) = assessed_10000().await;
    let china_today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let pay = |key: &'static str, day: chrono::NaiveDate| {
        app.client
            .post(app.url(PAY))
            .bearer_auth(&tax)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": "100.00", "paid_on": day.to_string(), "reference": "BOC-7"}))
            .send()
    };
    let r = pay("today", china_today).await.unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = pay("tomorrow", china_today + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}
