//! A bounded fuzz of the HTTP API: a few thousand requests, generated from a fixed seed
//! over every route of the OpenAPI document, with path, query, header and body values
//! drawn from valid ones and from what a hostile or careless caller sends (NUL and
//! other control characters, bidirectional overrides, numbers past `i64`, years past
//! 2100, ID and certificate numbers in the wrong field, bodies of the wrong shape).
//!
//! Every answer must be below 500; every 422 must name the fields at fault; a refused
//! request must write nothing (the audit log, which every write appends to, and the
//! payment and declaration tables keep their row counts); and the service must still
//! answer afterwards.

use crate::helpers::{app_with_employer, declaration_body, TestApp, CERT_A, USCC_A};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Requests per backend.
const CASES: u32 = 2_000;
/// The seed of every run, so that CI sees the same requests each time.
const SEED: [u8; 32] = *b"quota-levy http fuzz, fixed seed";

/// An ID number in the wrong place must never come back in an answer.
const ID_NUMBER: &str = "411202198001019019";

/// One documented operation.
#[derive(Debug, Clone)]
struct Route {
    method: Method,
    template: String,
    path_params: Vec<String>,
    query_params: Vec<String>,
    headers: Vec<String>,
    body: Option<String>,
}

/// Every operation of the served OpenAPI document.
async fn routes(app: &TestApp) -> Vec<Route> {
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("openapi json");
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let named = |place: &str| -> Vec<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            };
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.keys().next().cloned());
            out.push(Route {
                method,
                template: template.clone(),
                path_params: named("path"),
                query_params: named("query"),
                headers: named("header"),
                body,
            });
        }
    }
    out
}

/// Values a caller may send for a parameter of this name, valid ones first.
fn valid_values(name: &str) -> Vec<&'static str> {
    match name {
        "uscc" => vec![USCC_A, "91411202MA00000B1P", "91350100M000100Y43"],
        "levy_year" => vec!["2025", "2024", "2026"],
        "region" => vec!["411200", "411202", "410000", "110000"],
        "id" => vec!["1", "2"],
        "as_of" => vec!["2025-12-31", "2026-01-30"],
        "data_year" => vec!["2024"],
        "page" => vec!["1", "2"],
        "per_page" => vec!["10", "1000"],
        "format" => vec!["json", "csv", "xlsx", "html"],
        "kind" => vec!["enterprise", "below_quota_unpaid", "overdue"],
        "partial" => vec!["true", "false"],
        "If-Match" => vec!["*", "\"declaration-1-2025-v1\""],
        "Idempotency-Key" => vec!["fuzz-1", "fuzz-2"],
        _ => vec!["1"],
    }
}

/// What a hostile or careless caller sends instead.
fn hostile_strings() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{7}bell".into(),
        "name\u{202E}gpj.exe".into(),
        "\u{2066}x\u{2069}".into(),
        "line\nbreak".into(),
        "9223372036854775807".into(),
        "99999999999999999999999".into(),
        "-1".into(),
        "0".into(),
        "2147483647".into(),
        "1e308".into(),
        "NaN".into(),
        ID_NUMBER.into(),
        CERT_A.into(),
        "../../etc/passwd".into(),
        "%00".into(),
        "<script>alert(1)</script>".into(),
        "'; DROP TABLE employers; --".into(),
        "x".repeat(5_000),
        "２０２５".into(),
        "2025-02-30".into(),
        "9999-12-31".into(),
        "0000-01-01".into(),
        "+262143-01-01".into(),
        "999999".into(),
    ]
}

fn hostile_json() -> Vec<Value> {
    let mut v: Vec<Value> = hostile_strings().into_iter().map(Value::String).collect();
    v.extend([
        Value::Null,
        json!(true),
        json!(-0.0),
        json!(1e300),
        serde_json::from_str("1e400").unwrap_or(Value::Null),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-9_223_372_036_854_775_808_i64),
        json!([]),
        json!({}),
        json!([[[[[[[[[[1]]]]]]]]]]),
        json!({"certificate_no": ID_NUMBER}),
    ]);
    v
}

/// A valid body for the operations that take JSON, for mutation.
fn example_body(route: &Route) -> Value {
    let t = route.template.as_str();
    if t.ends_with("/levy/calculate") {
        json!({"region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
               "staff": {"average_headcount": "100"}, "average_wage": "70000", "disabled_count": "1"})
    } else if t.ends_with("/levy/surcharge") {
        json!({"region": "411200", "levy_year": 2025, "principal": "10000.00", "as_of": "2026-01-30"})
    } else if t == "/api/v1/employers" {
        json!({"uscc": "91411202MA00000B1P", "name": "模糊测试公司", "kind": "enterprise", "region": "411202",
               "registered_on": "2019-05-01", "contact_email": "hr@example.cn"})
    } else if t == "/api/v1/employers/{uscc}" {
        json!({"name": "新名称", "contact_email": "new@example.cn"})
    } else if t.contains("/declarations/") {
        declaration_body()
    } else if t.contains("/payments/") {
        json!({"amount": "100.00", "paid_on": "2025-12-01", "reference": "BANK-1"})
    } else if t.ends_with("/assessment-runs") {
        json!({"levy_year": 2025, "region": "411200"})
    } else if t.ends_with("/resolve") {
        json!({"levy_year": 2025, "certificate_no": CERT_A, "counted_by": USCC_A, "note": "同意"})
    } else if t.contains("/notices") {
        json!({"region": "411200", "levy_year": 2025, "objection_days": 7})
    } else {
        json!({})
    }
}

/// Every leaf of a JSON value, as a JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// How a case changes the example body.
#[derive(Debug, Clone)]
enum Mutation {
    Keep,
    Leaf(usize, Value),
    UnknownKey(String, Value),
    Whole(Value),
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Case {
    route: usize,
    path: Vec<String>,
    query: Vec<(usize, String)>,
    headers: Vec<String>,
    token: usize,
    body: Mutation,
}

fn any_value() -> BoxedStrategy<String> {
    prop_oneof![
        proptest::sample::select(hostile_strings()),
        proptest::sample::select(vec![
            "2025".to_owned(),
            "411200".to_owned(),
            USCC_A.to_owned(),
            "1".to_owned(),
        ]),
        "[\\PC]{0,12}",
    ]
    .boxed()
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => Just(Mutation::Keep),
        6 => (any::<usize>(), proptest::sample::select(hostile_json()))
            .prop_map(|(i, v)| Mutation::Leaf(i, v)),
        1 => ("[a-z_]{1,8}", proptest::sample::select(hostile_json()))
            .prop_map(|(k, v)| Mutation::UnknownKey(k, v)),
        1 => proptest::sample::select(hostile_json()).prop_map(Mutation::Whole),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::Bytes),
    ]
    .boxed()
}

fn case_strategy(n_routes: usize) -> BoxedStrategy<Case> {
    (
        0..n_routes,
        proptest::collection::vec(any_value(), 2),
        proptest::collection::vec((0usize..8, any_value()), 0..4),
        proptest::collection::vec(any_value(), 2),
        0usize..7,
        mutation(),
    )
        .prop_map(|(route, path, query, headers, token, body)| Case {
            route,
            path,
            query,
            headers,
            token,
            body,
        })
        .boxed()
}

/// Resolves the generated case against its route: path values by name (valid ones
/// mostly), query values, headers, body bytes and content type.
struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, String)>,
}

fn build(app: &TestApp, route: &Route, case: &Case, rng_pick: &[String]) -> Request {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut path = route.template.clone();
    for (i, name) in route.path_params.iter().enumerate() {
        let v = &rng_pick[i % rng_pick.len()];
        let v = if case.path[i % case.path.len()].len() % 3 == 0 {
            case.path[i % case.path.len()].clone()
        } else {
            v.clone()
        };
        path = path.replace(&format!("{{{name}}}"), &enc(&v));
    }
    let mut query = Vec::new();
    for (k, v) in &case.query {
        let name = route
            .query_params
            .get(*k)
            .cloned()
            .unwrap_or_else(|| "unknown_param".to_owned());
        query.push(format!("{}={}", enc(&name), enc(v)));
    }
    let url = if query.is_empty() {
        app.url(&path)
    } else {
        app.url(&format!("{path}?{}", query.join("&")))
    };
    let mut headers = Vec::new();
    for (i, name) in route.headers.iter().enumerate() {
        let v = &case.headers[i % case.headers.len()];
        // Header values must be visible ASCII to be sent at all.
        if v.bytes().all(|b| (0x20..0x7f).contains(&b)) && !v.is_empty() {
            headers.push((name.clone(), v.clone()));
        } else {
            headers.push((name.clone(), valid_values(name)[0].to_owned()));
        }
    }
    let body = route.body.as_ref().map(|ct| {
        if ct.contains("json") {
            let mut b = example_body(route);
            let bytes = match &case.body {
                Mutation::Keep => serde_json::to_vec(&b).unwrap_or_default(),
                Mutation::Leaf(i, v) => {
                    let mut all = Vec::new();
                    leaves(&b, String::new(), &mut all);
                    if let Some(p) = all.get(i % all.len().max(1)) {
                        if let Some(slot) = b.pointer_mut(p) {
                            *slot = v.clone();
                        }
                    }
                    serde_json::to_vec(&b).unwrap_or_default()
                }
                Mutation::UnknownKey(k, v) => {
                    if let Some(o) = b.as_object_mut() {
                        o.insert(k.clone(), v.clone());
                    }
                    serde_json::to_vec(&b).unwrap_or_default()
                }
                Mutation::Whole(v) => serde_json::to_vec(v).unwrap_or_default(),
                Mutation::Bytes(bytes) => bytes.clone(),
            };
            (bytes, "application/json".to_owned())
        } else {
            let bytes = match &case.body {
                Mutation::Bytes(bytes) => bytes.clone(),
                other => format!(
                    "统一社会信用代码,名称,类型,地区\n{},{:?},enterprise,411202\n",
                    case.path[0], other
                )
                .into_bytes(),
            };
            (bytes, "text/csv".to_owned())
        }
    });
    Request {
        method: route.method.clone(),
        url,
        headers,
        body,
    }
}

/// The rows every write adds to, counted behind the app's back.
fn write_counts(db: &quota_levy::db::Db) -> Result<Vec<i64>, String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = db.conn().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for t in [
        "audit_log",
        "payments",
        "declaration_versions",
        "employers",
        "notices",
    ] {
        let n = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"))
            .get_result::<N>(&mut *c)
            .map_err(|e| e.to_string())?;
        out.push(n.n);
    }
    Ok(out)
}

async fn setup() -> (TestApp, Vec<Option<String>>) {
    let (app, admin) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let tax = app.token(Role::Tax, None, None).await;
    let decl = "/api/v1/employers/91350100M000100Y43/declarations/2025";
    assert_eq!(
        app.send(Method::PUT, decl, Some(&emp), Some(declaration_body()))
            .await
            .status(),
        201
    );
    app.send(Method::POST, &format!("{decl}/submit"), Some(&emp), None)
        .await;
    app.send(
        Method::POST,
        "/api/v1/employers/91350100M000100Y43/assessments/2025",
        Some(&tax),
        None,
    )
    .await;
    let tokens = vec![
        None,
        Some(admin),
        Some(app.token(Role::Federation, None, Some("411200")).await),
        Some(tax),
        Some(app.token(Role::Inspector, None, Some("411200")).await),
        Some(emp),
        Some(
            app.token(Role::Employer, Some("91411202MA00000B1P"), None)
                .await,
        ),
    ];
    (app, tokens)
}

#[test]
fn every_documented_route_survives_a_bounded_fuzz() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (app, tokens) = rt.block_on(setup());
    let routes = rt.block_on(routes(&app));
    assert!(
        routes.len() >= 25,
        "the document lists the routes: {}",
        routes.len()
    );
    let db = crate::helpers::open_db(&app.db_url);
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        // Shrinking replays requests against a database the failing case changed; the
        // first failure, printed whole, is what to look at.
        max_shrink_iters: 0,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let strategy = case_strategy(routes.len());
    let answered = std::cell::RefCell::new(std::collections::BTreeMap::<u16, usize>::new());
    let result = runner.run(&strategy, |case| {
        let route = &routes[case.route];
        let picks: Vec<String> = route
            .path_params
            .iter()
            .map(|n| valid_values(n)[case.route % valid_values(n).len()].to_owned())
            .collect();
        let picks = if picks.is_empty() {
            vec!["1".to_owned()]
        } else {
            picks
        };
        let req = build(&app, route, &case, &picks);
        let before = write_counts(&db).map_err(TestCaseError::fail)?;
        let (status, content_type, text) = rt
            .block_on(async {
                let mut rb = app.client.request(req.method.clone(), &req.url);
                if let Some(t) = &tokens[case.token] {
                    rb = rb.bearer_auth(t);
                }
                for (k, v) in &req.headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                if let Some((bytes, ct)) = &req.body {
                    rb = rb.header("content-type", ct.as_str()).body(bytes.clone());
                }
                let r = rb.send().await.map_err(|e| format!("no answer: {e}"))?;
                let status = r.status();
                let ct = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let body = r.bytes().await.map_err(|e| format!("cut answer: {e}"))?;
                Ok::<_, String>((status, ct, String::from_utf8_lossy(&body).into_owned()))
            })
            .map_err(TestCaseError::fail)?;
        *answered.borrow_mut().entry(status.as_u16()).or_default() += 1;
        let what = format!(
            "{} {} -> {status}: {}",
            req.method,
            req.url,
            &text.chars().take(400).collect::<String>()
        );
        prop_assert!(!status.is_server_error(), "{what}");
        if status.as_u16() == 422 {
            prop_assert!(content_type.contains("problem+json"), "{what}");
            let p: Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
            let errors = p["errors"].as_array().cloned().unwrap_or_default();
            prop_assert!(!errors.is_empty(), "a 422 names its fields: {what}");
            for e in &errors {
                prop_assert!(e["pointer"].is_string() && e["code"].is_string(), "{what}");
            }
        }
        if !status.is_success() {
            // An error never repeats an identifier it was sent, in whatever field.
            prop_assert!(
                !text.contains(ID_NUMBER) && !text.contains(CERT_A),
                "echoed: {what}"
            );
            let after = write_counts(&db).map_err(TestCaseError::fail)?;
            prop_assert_eq!(&before, &after, "a refused request wrote: {}", what);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Still serving, and the fuzz reached the handlers (not only the walls).
    let health = rt.block_on(async {
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .map(|r| r.status())
    });
    assert_eq!(health.ok().map(|s| s.as_u16()), Some(200));
    let answered = answered.into_inner();
    let served: usize = answered
        .iter()
        .filter(|(s, _)| **s < 300)
        .map(|(_, n)| n)
        .sum();
    let invalid = answered.get(&422).copied().unwrap_or(0);
    eprintln!("fuzz answers by status: {answered:?}");
    assert!(
        served > 100 && invalid > 100,
        "answers by status: {answered:?}"
    );
}
