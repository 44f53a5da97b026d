//! Many writers at once, as a busy tax office and its clients are: one ETag held by
//! ten writers has exactly one winner and nine 412s, payments are recorded once per key
//! and employer, and nothing answers 5xx — on both backends. Every count of winners is
//! checked against the rows the database holds afterwards.

use crate::helpers::{
    app_with_employer, assessed_10000, declaration_body, uscc_with_check, TestApp, USCC_A,
};
use futures_util::future::join_all;
use quota_levy::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const EMPLOYER: &str = "/api/v1/employers/91350100M000100Y43";
const DECL: &str = "/api/v1/employers/91350100M000100Y43/declarations/2025";
const PAY: &str = "/api/v1/employers/91350100M000100Y43/payments/2025";
const WRITERS: usize = 10;
const ROUNDS: usize = 3;

/// Statuses of the answers, sorted, with every 5xx body kept for the failure message.
fn tally(statuses: &[(StatusCode, String)]) -> (Vec<u16>, Vec<String>) {
    let mut codes: Vec<u16> = statuses.iter().map(|(s, _)| s.as_u16()).collect();
    codes.sort_unstable();
    let errors = statuses
        .iter()
        .filter(|(s, _)| s.is_server_error())
        .map(|(s, b)| format!("{s}: {b}"))
        .collect();
    (codes, errors)
}

async fn answer(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    (s, r.text().await.unwrap_or_default())
}

/// Sends every request at once and reads every answer.
async fn all_at_once(
    sends: impl IntoIterator<
        Item = impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
    >,
) -> Vec<(StatusCode, String)> {
    join_all(
        join_all(sends)
            .await
            .into_iter()
            .map(|r| answer(r.unwrap())),
    )
    .await
}

/// A row count straight from the database, behind the app's back.
async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().expect("connection");
        diesel::sql_query(sql)
            .get_result::<N>(&mut *c)
            .expect("count")
            .n
    })
    .await
    .expect("join")
}

#[tokio::test]
async fn ten_declaration_writers_on_one_etag_have_exactly_one_winner() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = app
        .send(Method::PUT, DECL, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 201);
    let mut etag = r.headers()["etag"].to_str().unwrap().to_owned();
    for round in 0..ROUNDS {
        let sends = (0..WRITERS).map(|w| {
            let mut body = declaration_body();
            // Each writer changes the wages differently: no two bodies are identical.
            body["total_wages"] = json!(format!("{}.00", 7_000_000 + round * 100 + w + 1));
            app.client
                .put(app.url(DECL))
                .bearer_auth(&emp)
                .header("If-Match", etag.clone())
                .json(&body)
                .send()
        });
        let answers = all_at_once(sends).await;
        let (codes, errors) = tally(&answers);
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        assert_eq!(
            codes,
            [vec![200], vec![412; WRITERS - 1]].concat(),
            "round {round}"
        );
        let r = app.send(Method::GET, DECL, Some(&emp), None).await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["version"],
            round + 2,
            "round {round}: one version per winner"
        );
        let r = app.send(Method::GET, DECL, Some(&emp), None).await;
        etag = r.headers()["etag"].to_str().unwrap().to_owned();
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM declaration_versions").await,
        1 + ROUNDS as i64
    );
}

#[tokio::test]
async fn ten_declaration_writers_without_if_match_all_land_in_order() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    // The first version is created by one of them: the others amend it in turn.
    let sends = (0..WRITERS).map(|w| {
        let mut body = declaration_body();
        body["total_wages"] = json!(format!("{}.00", 7_000_000 + w));
        app.client
            .put(app.url(DECL))
            .bearer_auth(&emp)
            .json(&body)
            .send()
    });
    let answers = all_at_once(sends).await;
    let (codes, errors) = tally(&answers);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(codes, [vec![200; WRITERS - 1], vec![201]].concat());
    let v: Value = app
        .send(Method::GET, DECL, Some(&emp), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["version"], WRITERS);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM declaration_versions").await,
        WRITERS as i64
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM declarations").await,
        1
    );
}

#[tokio::test]
async fn ten_employer_writers_on_one_etag_have_exactly_one_winner() {
    let (app, admin) = app_with_employer().await;
    let r = app.send(Method::GET, EMPLOYER, Some(&admin), None).await;
    let mut etag = r.headers()["etag"].to_str().unwrap().to_owned();
    for round in 0..ROUNDS {
        let sends = (0..WRITERS).map(|w| {
            app.client
                .patch(app.url(EMPLOYER))
                .bearer_auth(&admin)
                .header("If-Match", etag.clone())
                .json(&json!({"name": format!("示例公司 {round}-{w}")}))
                .send()
        });
        let answers = all_at_once(sends).await;
        let (codes, errors) = tally(&answers);
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        assert_eq!(
            codes,
            [vec![200], vec![412; WRITERS - 1]].concat(),
            "round {round}"
        );
        let r = app.send(Method::GET, EMPLOYER, Some(&admin), None).await;
        etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["version"], round + 2, "round {round}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'employer.update'"
        )
        .await,
        ROUNDS as i64,
        "one audit entry per winner"
    );
}

#[tokio::test]
async fn parallel_payments_are_each_recorded_once() {
    let (app, _, tax) = assessed_10000().await;
    // Different keys: every one is a payment of its own.
    let sends = (0..WRITERS).map(|w| {
        app.client
            .post(app.url(PAY))
            .bearer_auth(&tax)
            .header("Idempotency-Key", format!("distinct-{w}"))
            .json(&json!({"amount": "100.00", "paid_on": "2025-12-01", "reference": format!("B-{w}")}))
            .send()
    });
    let answers = all_at_once(sends).await;
    let (codes, errors) = tally(&answers);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(codes, vec![201; WRITERS]);
    // One key sent ten times at once: one payment, nine replays.
    let sends = (0..WRITERS).map(|_| {
        app.client
            .post(app.url(PAY))
            .bearer_auth(&tax)
            .header("Idempotency-Key", "the-same")
            .json(&json!({"amount": "250.00", "paid_on": "2025-12-01", "reference": "B-same"}))
            .send()
    });
    let responses: Vec<reqwest::Response> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let replayed = responses
        .iter()
        .filter(|r| r.headers().get("idempotent-replayed").is_some())
        .count();
    let answers = join_all(responses.into_iter().map(answer)).await;
    let (codes, errors) = tally(&answers);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        codes,
        vec![201; WRITERS],
        "a replay answers as the first did"
    );
    assert_eq!(replayed, WRITERS - 1, "one recorded, the others replayed");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM payments").await,
        WRITERS as i64 + 1
    );
}

#[tokio::test]
async fn one_key_for_two_employers_records_both_payments() {
    let (app, _, tax_a) = assessed_10000().await;
    let admin = app.token(Role::Admin, None, None).await;
    let other = uscc_with_check("91411202MA00000B1");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": other, "name": "另一公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let tax_b = app.token(Role::Tax, None, Some("411202")).await;
    let pay = |token: &str, uscc: &str| {
        app.client
            .post(app.url(&format!("/api/v1/employers/{uscc}/payments/2025")))
            .bearer_auth(token)
            .header("Idempotency-Key", "20251201-0001")
            .json(&json!({"amount": "100.00", "paid_on": "2025-12-01", "reference": "B-1"}))
            .send()
    };
    assert_eq!(pay(&tax_a, USCC_A).await.unwrap().status(), 201);
    let r = pay(&tax_b, &other).await.unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM payments").await, 2);
}

#[tokio::test]
async fn eight_clients_creating_declaring_submitting_and_assessing_get_no_5xx() {
    let (app, admin) = app_with_employer().await;
    let tax = app.token(Role::Tax, None, None).await;
    let clients = (0..8).map(|k| {
        let (app, admin, tax) = (&app, admin.clone(), tax.clone());
        async move {
            let mut answers = Vec::new();
            for j in 0..4 {
                let uscc = uscc_with_check(&format!("91411202MA{k}{j:05}X"));
                let emp = format!("/api/v1/employers/{uscc}");
                let decl = format!("{emp}/declarations/2025");
                let steps: [(Method, String, Option<Value>); 4] = [
                    (
                        Method::POST,
                        "/api/v1/employers".to_owned(),
                        Some(json!({"uscc": uscc, "name": format!("公司{k}-{j}"), "kind": "enterprise", "region": "411202"})),
                    ),
                    (Method::PUT, decl.clone(), Some(declaration_body())),
                    (Method::POST, format!("{decl}/submit"), None),
                    (Method::POST, format!("{emp}/assessments/2025"), None),
                ];
                for (i, (m, path, body)) in steps.into_iter().enumerate() {
                    let token = if i == 3 { &tax } else { &admin };
                    answers.push(answer(app.send(m, &path, Some(token), body).await).await);
                }
            }
            answers
        }
    });
    let answers: Vec<(StatusCode, String)> =
        join_all(clients).await.into_iter().flatten().collect();
    let (_, errors) = tally(&answers);
    assert!(errors.is_empty(), "{errors:?}");
    let ok = answers.iter().filter(|(s, _)| s.is_success()).count();
    assert_eq!(ok, 8 * 4 * 4, "every step succeeds: {answers:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM employers").await,
        1 + 32
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM assessments").await,
        32
    );
}
