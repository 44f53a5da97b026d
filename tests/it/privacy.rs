//! Nothing personal in answers or logs: an ID number and a certificate number sent in
//! every field, path, query and header position of the representative routes appear in
//! no error answer (body or headers), in no line the server logs and in no audit entry;
//! a 503 says nothing of the driver while the log has the cause under the request ID;
//! the audit log names a disputed person by a digest keyed with the server secret.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::prelude::*;
use quota_levy::auth::Role;
use quota_levy::db::schema::{audit_log, server_secrets};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{
    app_with_employer, declaration_body, open_db, spawn_app, spawn_app_with, uscc_with_check,
    TestDb, CERT_A, USCC_A,
};

/// GB 11643 check character of the first 17 digits of an ID number.
fn id_with_check(first17: &str) -> String {
    let sum: u32 = first17
        .chars()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).expect("digit") * ((1u32 << (17 - i)) % 11))
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// A resident of 湖滨区 born 1980-01-01: a valid-looking ID number (its check character
/// happens to be a digit, so it can be sent as a JSON number too).
fn id_number() -> String {
    let id = id_with_check("41120219800101901");
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    id
}

/// Their disability certificate: physical (4), grade 2.
fn certificate() -> String {
    format!("{}42", id_number())
}

/// What must never be seen: both numbers, and the middle of the ID number (its birth
/// date), which no masked form shows.
fn needles() -> Vec<String> {
    let id = id_number();
    vec![id.clone(), certificate(), id[4..14].to_owned()]
}

// ---------------------------------------------------------------------------------------
// A real `quota-levy serve`, so that its log can be read.
// ---------------------------------------------------------------------------------------

struct Served {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the binary on `url` with JSON logs: the shipped filter, and everything this
    /// crate logs at any level.
    async fn start(url: &str, extra: &[(&str, &str)]) -> Served {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("serve.log");
        let mut c = Command::new(env!("CARGO_BIN_EXE_quota-levy"));
        for (k, _) in std::env::vars() {
            if k.starts_with("QUOTA_LEVY__") || k == "RUST_LOG" {
                c.env_remove(k);
            }
        }
        c.env("QUOTA_LEVY__DATABASE__URL", url)
            .env("QUOTA_LEVY__SERVER__PORT", port.to_string())
            .env("QUOTA_LEVY__SERVER__WORKERS", "1")
            .env("QUOTA_LEVY__LOG__FORMAT", "json")
            .env("RUST_LOG", "info,actix_server=warn,quota_levy=trace")
            .envs(extra.iter().copied())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = c.spawn().expect("start quota-levy serve");
        let served = Served {
            child,
            port,
            log,
            _dir: dir,
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            let r = client.get(served.url("/healthz")).send().await;
            if r.is_ok_and(|r| r.status() == 200) {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("serve did not come up: {}", served.log_text());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process and answers everything it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log_text()
    }
}

// ---------------------------------------------------------------------------------------
// Bodies with the numbers in every position.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn leaf_paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(Seg::Key(k.clone()));
                leaf_paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                here.push(Seg::Index(i));
                leaf_paths(x, here, out);
                here.pop();
            }
        }
        _ => out.push(here.clone()),
    }
}

fn set_at(v: &mut Value, path: &[Seg], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    let next = match first {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    };
    if let Some(next) = next {
        set_at(next, rest, new);
    }
}

/// Every leaf replaced by `new`, and the ID number added as a key to every object.
fn everywhere(v: &Value, new: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .map(|(k, x)| (k.clone(), everywhere(x, new)))
                .collect();
            out.insert(id_number(), new.clone());
            Value::Object(out)
        }
        Value::Array(a) if !a.is_empty() => {
            Value::Array(a.iter().map(|x| everywhere(x, new)).collect())
        }
        _ => new.clone(),
    }
}

/// The bodies that carry the numbers somewhere: each leaf of a valid `template` in
/// turn, every leaf at once, as strings and as JSON numbers; and texts that are not
/// JSON objects at all.
fn bodies(template: &Value) -> Vec<String> {
    let values: Vec<Value> = [id_number(), certificate()]
        .into_iter()
        .flat_map(|s| {
            [
                Value::String(s.clone()),
                serde_json::from_str::<Value>(&s).expect("a JSON number"),
            ]
        })
        .collect();
    let mut paths = Vec::new();
    leaf_paths(template, &mut Vec::new(), &mut paths);
    let mut out = Vec::new();
    for new in &values {
        out.push(everywhere(template, new).to_string());
        for p in &paths {
            let mut b = template.clone();
            set_at(&mut b, p, new.clone());
            out.push(b.to_string());
        }
    }
    let (id, cert) = (id_number(), certificate());
    out.push(format!("{{\"levy_year\": \"{id}"));
    out.push(format!("{{\"levy_year\": {id} {cert}}}"));
    out.push(format!("\"{cert}\""));
    out.push(format!("[{id}]"));
    out
}

// ---------------------------------------------------------------------------------------
// Probing.
// ---------------------------------------------------------------------------------------

struct Prober {
    client: reqwest::Client,
    errors_seen: usize,
    leaks: Vec<String>,
}

impl Prober {
    /// Sends a request and checks an error answer: no needle in its status line,
    /// headers or body. A success stored the value as data, which is not this test's
    /// business (the masked views have tests of their own).
    async fn probe(&mut self, what: &str, rb: reqwest::RequestBuilder) {
        let r = rb.send().await.expect("request");
        let status = r.status();
        if status.is_success() {
            return;
        }
        self.errors_seen += 1;
        let mut text = String::new();
        for (k, v) in r.headers() {
            text.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
        let body = r.text().await.expect("body");
        text.push_str(&body);
        for n in needles() {
            if text.contains(&n) {
                self.leaks.push(format!("{what} ({status}): {text}"));
                break;
            }
        }
    }

    async fn bodies(
        &mut self,
        what: &str,
        method: Method,
        url: &str,
        token: &str,
        template: &Value,
    ) {
        for (i, body) in bodies(template).into_iter().enumerate() {
            for lang in ["zh", "en"] {
                let rb = self
                    .client
                    .request(method.clone(), url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("accept-language", lang)
                    // Each payment probe is a request of its own, not a replay.
                    .header("idempotency-key", format!("probe-{what}-{i}-{lang}"))
                    .body(body.clone());
                self.probe(&format!("{what} {method} {url} {body}"), rb)
                    .await;
            }
        }
    }
}

fn calc_templates() -> Vec<Value> {
    vec![
        json!({
            "region": "411200", "levy_year": 2025, "as_of": "2025-06-30",
            "employer": {"kind": "enterprise", "registered_on": "2010-01-01"},
            "staff": {"monthly_headcount": [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]},
            "total_wages": "7000000.00",
            "disabled_employees": [{
                "certificate_no": CERT_A, "certificate_kind": "disability", "grade": 2,
                "months": [1, 2, 3], "on_establishment": true, "contract_months": 12,
                "social_insurance_paid": true, "monthly_wage": "3000.00",
                "fresh_graduate": false, "disputed_months": [1]
            }],
            "overrides": {"quota_ratio": "0.016", "social_average_wage": "80000", "minimum_wage_monthly": "2000"},
            "language": "en"
        }),
        json!({
            "region": "411202", "levy_year": 2025,
            "employer": {"kind": "public_institution"},
            "staff": {"average_headcount": "50"}, "average_wage": "60000",
            "disabled_employees": [{
                "certificate_no": "军残字第012345号", "certificate_kind": "veteran", "grade": 5,
                "employed_from": "2024-03-01", "employed_to": "2024-12-31"
            }]
        }),
        json!({
            "region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
            "staff": {"average_headcount": "100"}, "average_wage": "70000", "disabled_count": "1"
        }),
    ]
}

/// Registers an employer and files a declaration listing the sensitive certificate.
async fn employer_with_the_certificate(p: &Prober, s: &Served, admin: &str, tax: &str, uscc: &str) {
    let r = p
        .client
        .post(s.url("/api/v1/employers"))
        .bearer_auth(admin)
        .json(&json!({"uscc": uscc, "name": "示例公司", "kind": "enterprise", "region": "411202"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let mut body = declaration_body();
    body["disabled_employees"][0]["certificate_no"] = json!(certificate());
    let path = format!("/api/v1/employers/{uscc}/declarations/2025");
    let r = p
        .client
        .put(s.url(&path))
        .bearer_auth(tax)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = p
        .client
        .post(s.url(&format!("{path}/submit")))
        .bearer_auth(tax)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_id_or_certificate_number_in_any_position_is_in_no_answer_log_or_audit_entry() {
    let (db, url) = TestDb::create();
    let pool = open_db(&url);
    let tokens = tokio::task::spawn_blocking(move || {
        pool.migrate().expect("migrate");
        let mut c = pool.conn().expect("conn");
        [Role::Admin, Role::Tax, Role::Federation].map(|role| {
            quota_levy::db::tokens::create(&mut c, role, None, None, None)
                .expect("token")
                .0
        })
    })
    .await
    .unwrap();
    let [admin, tax, fed] = tokens;
    let s = Served::start(&url, &[]).await;
    let mut p = Prober {
        client: reqwest::Client::new(),
        errors_seen: 0,
        leaks: Vec::new(),
    };
    let uscc_b = uscc_with_check("91411200MA0000077");
    employer_with_the_certificate(&p, &s, &admin, &tax, USCC_A).await;
    employer_with_the_certificate(&p, &s, &admin, &tax, &uscc_b).await;
    let (id, cert) = (id_number(), certificate());

    // Bodies: the calculator, the registry's writes.
    for t in calc_templates() {
        p.bodies(
            "calculate",
            Method::POST,
            &s.url("/api/v1/levy/calculate"),
            &admin,
            &t,
        )
        .await;
    }
    p.bodies(
        "surcharge",
        Method::POST,
        &s.url("/api/v1/levy/surcharge"),
        &admin,
        &json!({"region": "411200", "levy_year": 2025, "principal": "10000.00",
                "as_of": "2026-02-01", "due_date": "2025-12-31",
                "payments": [{"date": "2026-01-10", "amount": "100.00"}]}),
    )
    .await;
    p.bodies(
        "employer create",
        Method::POST,
        &s.url("/api/v1/employers"),
        &admin,
        &json!({"uscc": uscc_with_check("91411200MA0000085"), "name": "丙公司",
                "kind": "enterprise", "region": "411202", "registered_on": "2019-05-01",
                "contact_email": "hr@example.cn", "establishment_size": 10,
                "committee_member": false}),
    )
    .await;
    p.bodies(
        "employer patch",
        Method::PATCH,
        &s.url(&format!("/api/v1/employers/{USCC_A}")),
        &admin,
        &json!({"name": "示例公司", "kind": "enterprise", "region": "411202",
                "registered_on": "2019-05-01", "contact_email": "hr@example.cn",
                "establishment_size": 10, "committee_member": false}),
    )
    .await;
    let mut decl = declaration_body();
    decl["disabled_employees"][0]["certificate_no"] = json!(cert);
    decl["disabled_employees"][0]["grade"] = json!(2);
    p.bodies(
        "declaration put",
        Method::PUT,
        &s.url(&format!("/api/v1/employers/{USCC_A}/declarations/2025")),
        &tax,
        &decl,
    )
    .await;
    p.bodies(
        "dispute resolve",
        Method::POST,
        &s.url("/api/v1/certificate-disputes/resolve"),
        &fed,
        &json!({"levy_year": 2025, "certificate_no": cert, "counted_by": USCC_A, "note": "decided"}),
    )
    .await;
    p.bodies(
        "payment",
        Method::POST,
        &s.url(&format!("/api/v1/employers/{USCC_A}/payments/2025")),
        &tax,
        &json!({"amount": "100.00", "paid_on": "2025-03-01", "reference": "BANK-1"}),
    )
    .await;
    p.bodies(
        "assessment run",
        Method::POST,
        &s.url("/api/v1/assessment-runs"),
        &tax,
        &json!({"levy_year": 2025, "region": "411200"}),
    )
    .await;
    p.bodies(
        "notice preview",
        Method::POST,
        &s.url("/api/v1/notices/preview"),
        &fed,
        &json!({"region": "411200", "levy_year": 2025, "objection_days": 7,
                "replaces": 1, "correction_reason": "typo"}),
    )
    .await;

    // Paths and queries.
    for v in [&id, &cert] {
        let gets = [
            format!("/api/v1/employers/{v}"),
            format!("/api/v1/employers/{v}/declarations/2025"),
            format!("/api/v1/employers/{USCC_A}/declarations/{v}"),
            format!("/api/v1/employers/{v}/assessments/2025"),
            format!("/api/v1/employers/{USCC_A}/assessments/{v}"),
            format!("/api/v1/employers/{v}/statements/2025"),
            format!("/api/v1/employers/{USCC_A}/statements/{v}?as_of={v}"),
            format!("/api/v1/assessment-runs/{v}"),
            format!("/api/v1/policies/{v}?as_of={v}&data_year={v}"),
            format!("/api/v1/policies/411200?as_of={v}"),
            format!("/api/v1/policies/411200?data_year={v}"),
            format!("/notices/{v}"),
            format!("/notices/{v}?format={v}"),
            format!("/api/v1/notices/{v}"),
            format!("/notices?region={v}&levy_year={v}&page={v}"),
            format!("/api/v1/notices?region={v}"),
            format!("/{v}"),
            format!("/api/v1/{v}/x"),
            format!("/api/v1/employers?region={v}&kind={v}&page={v}&per_page={v}"),
            format!("/api/v1/employers?kind={v}"),
            format!("/api/v1/employers?{v}=1"),
            format!("/api/v1/employers?page={v}"),
            format!("/api/v1/certificate-disputes?levy_year={v}&region={v}"),
            format!("/api/v1/certificate-disputes?levy_year=2025&{v}=1"),
            format!("/api/v1/levy-roll?levy_year={v}&region={v}&as_of={v}&page={v}&format={v}"),
            format!("/api/v1/levy-roll?levy_year=2025&format={v}"),
            format!("/api/v1/violations?levy_year={v}&region={v}&kind={v}&as_of={v}&format={v}"),
            format!("/api/v1/violations?levy_year=2025&kind={v}"),
        ];
        for path in gets {
            for token in [&admin, &tax] {
                let rb = p.client.get(s.url(&path)).bearer_auth(token);
                p.probe(&format!("GET {path}"), rb).await;
            }
        }
        let posts = [
            format!("/api/v1/employers/{v}/declarations/2025/submit"),
            format!("/api/v1/employers/{USCC_A}/declarations/{v}/certify"),
            format!("/api/v1/employers/{v}/assessments/2025"),
            format!("/api/v1/employers/{USCC_A}/payments/{v}"),
            format!("/api/v1/imports/declarations?levy_year={v}"),
            format!("/api/v1/imports/declarations?levy_year=2025&partial={v}&format={v}&encoding={v}&lang={v}"),
            format!("/api/v1/imports/employers?{v}=1"),
        ];
        for path in posts {
            let rb = p
                .client
                .post(s.url(&path))
                .bearer_auth(&tax)
                .header("idempotency-key", format!("path-{path}"))
                .header("content-type", "text/csv")
                .body("uscc\n");
            p.probe(&format!("POST {path}"), rb).await;
        }

        // Headers.
        let put = s.url(&format!("/api/v1/employers/{USCC_A}/declarations/2025"));
        let headers: Vec<(&str, String, reqwest::RequestBuilder)> = vec![
            (
                "accept-language",
                v.to_string(),
                p.client
                    .post(s.url("/api/v1/levy/calculate"))
                    .header("accept-language", v.as_str())
                    .json(&json!({"levy_year": "x"})),
            ),
            (
                "if-match",
                v.to_string(),
                p.client
                    .put(&put)
                    .bearer_auth(&tax)
                    .header("if-match", v.as_str())
                    .json(&json!({"staff": {"average_headcount": "1"}, "average_wage": "1", "disabled_count": "0"})),
            ),
            (
                "if-match",
                v.to_string(),
                p.client
                    .patch(s.url(&format!("/api/v1/employers/{USCC_A}")))
                    .bearer_auth(&tax)
                    .header("if-match", v.as_str())
                    .json(&json!({"name": "改名公司"})),
            ),
            (
                "idempotency-key",
                v.to_string(),
                p.client
                    .post(s.url(&format!("/api/v1/employers/{USCC_A}/payments/2025")))
                    .bearer_auth(&tax)
                    .header("idempotency-key", v.as_str())
                    .json(&json!({"amount": "-1"})),
            ),
            (
                "content-type",
                format!("application/x-{v}; charset={v}"),
                p.client
                    .post(s.url("/api/v1/imports/employers"))
                    .bearer_auth(&tax)
                    .header("content-type", format!("application/x-{v}; charset={v}"))
                    .body("uscc\n"),
            ),
            (
                "content-type",
                format!("text/csv; charset={v}"),
                p.client
                    .post(s.url("/api/v1/imports/employers"))
                    .bearer_auth(&tax)
                    .header("content-type", format!("text/csv; charset={v}"))
                    .body("uscc\n"),
            ),
            (
                "authorization",
                format!("Bearer {v}"),
                p.client.get(s.url("/api/v1/employers")).bearer_auth(v),
            ),
        ];
        for (name, value, rb) in headers {
            p.probe(&format!("header {name}: {value}"), rb).await;
        }

        // Import files: every cell, a file whose first row (taken as the header) is
        // data, and an XLSX name on CSV bytes.
        let decl_header = "uscc,certificate_no,certificate_kind,grade,months,employed_from,employed_to,on_establishment,contract_months,social_insurance_paid,monthly_wage,fresh_graduate,m01,m02,m03,m04,m05,m06,m07,m08,m09,m10,m11,m12,total_wages,disabled_count";
        let cells = |n: usize| vec![v.as_str(); n].join(",");
        let files = [
            (
                "/api/v1/imports/declarations?levy_year=2025",
                format!("{decl_header}\n{}\n{USCC_A},{}\n", cells(26), cells(25)),
            ),
            (
                "/api/v1/imports/declarations?levy_year=2025",
                format!(
                    "uscc,certificate_no,months,average_headcount,average_wage\n{USCC_A},{v},1-12,100,70000\n{USCC_A},{v},{v},,\n"
                ),
            ),
            (
                "/api/v1/imports/declarations?levy_year=2025",
                format!("{v},{v}\n{USCC_A},{v}\n"),
            ),
            (
                "/api/v1/imports/employers",
                format!(
                    "uscc,name,kind,region,registered_on,contact_email,establishment_size,committee_member\n{}\n",
                    cells(8)
                ),
            ),
            ("/api/v1/imports/employers", format!("{v},{v},{v}\n{v}\n")),
        ];
        for (path, csv) in files {
            for lang in ["zh", "en"] {
                for ct in ["text/csv", "application/octet-stream"] {
                    let rb = p
                        .client
                        .post(s.url(&format!(
                            "{path}{}lang={lang}",
                            if path.contains('?') { "&" } else { "?" }
                        )))
                        .bearer_auth(&tax)
                        .header("content-type", ct)
                        .body(csv.clone());
                    p.probe(&format!("import {path} {ct} {csv}"), rb).await;
                }
            }
        }
    }

    // One resolution that is written, for the audit log to be checked.
    let r = p
        .client
        .post(s.url("/api/v1/certificate-disputes/resolve"))
        .bearer_auth(&fed)
        .json(&json!({"levy_year": 2025, "certificate_no": cert, "counted_by": USCC_A}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let log = s.stop();
    assert!(
        p.errors_seen > 1000,
        "only {} error answers probed",
        p.errors_seen
    );
    assert!(
        p.leaks.is_empty(),
        "{} answers repeat a number:\n{}",
        p.leaks.len(),
        p.leaks.join("\n")
    );
    assert!(
        log.lines().count() > p.errors_seen,
        "every request is logged"
    );
    for n in needles() {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(&n)).collect();
        assert!(lines.is_empty(), "the log has {n}:\n{}", lines.join("\n"));
    }

    // The audit log: neither number, nor the plain SHA-256 of the ID number.
    let plain = hex::encode(Sha256::digest(id.as_bytes()));
    let entries = tokio::task::spawn_blocking(move || {
        let db = open_db(&url);
        let mut c = db.conn().unwrap();
        audit_log::table
            .select((
                audit_log::action,
                audit_log::entity_id,
                audit_log::before_json,
                audit_log::after_json,
            ))
            .load::<(String, String, Option<String>, Option<String>)>(&mut *c)
            .unwrap()
    })
    .await
    .unwrap();
    assert!(entries.iter().any(|e| e.0 == "certificate.resolve"));
    assert!(entries.iter().any(|e| e.0 == "declaration.create"));
    for e in &entries {
        let text = format!("{e:?}");
        for n in needles().iter().chain([&plain[..16].to_owned()]) {
            assert!(!text.contains(n.as_str()), "audit entry with {n}: {text}");
        }
    }
    drop(db);
}

#[tokio::test]
async fn the_log_has_the_cause_of_a_503_under_its_request_id_and_the_answer_does_not() {
    let url = "postgres://nobody@127.0.0.1:1/none";
    let s = Served::start(
        url,
        &[
            ("QUOTA_LEVY__DATABASE__MIGRATE_ON_START", "false"),
            ("QUOTA_LEVY__DATABASE__CONNECT_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let r = reqwest::get(s.url("/notices")).await.unwrap();
    assert_eq!(r.status(), 503);
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("127.0.0.1") && !body.contains("nobody"),
        "{body}"
    );
    let log = s.stop();
    let line = log
        .lines()
        .find(|l| l.contains("database unavailable") && l.contains(&rid))
        .unwrap_or_else(|| panic!("no log line for request {rid}:\n{log}"));
    let entry: Value = serde_json::from_str(line).unwrap();
    let cause = entry["error"].as_str().unwrap_or_default();
    assert!(!cause.is_empty(), "{line}");
}

// ---------------------------------------------------------------------------------------
// The keyed digest of a disputed person.
// ---------------------------------------------------------------------------------------

/// Employers A and B both declare CERT_A; the federation decides for A, then for B.
/// Answers the entity ids of the two audit entries.
async fn resolve_twice(app: &crate::helpers::TestApp, admin: &str) -> Vec<String> {
    let b = uscc_with_check("91411200MA0000077");
    for (uscc, name) in [(USCC_A, "示例公司"), (b.as_str(), "乙公司")] {
        let r = app
            .send(
                Method::POST,
                "/api/v1/employers",
                Some(admin),
                Some(json!({"uscc": uscc, "name": name, "kind": "enterprise", "region": "411202"})),
            )
            .await;
        // A may be registered already (app_with_employer).
        assert!(r.status() == 201 || r.status() == 409, "{}", r.status());
    }
    let tax = app.token(Role::Tax, None, None).await;
    let fed = app.token(Role::Federation, None, None).await;
    for u in [USCC_A, b.as_str()] {
        let path = format!("/api/v1/employers/{u}/declarations/2025");
        let r = app
            .send(Method::PUT, &path, Some(&tax), Some(declaration_body()))
            .await;
        assert_eq!(r.status(), 201);
        let r = app
            .send(Method::POST, &format!("{path}/submit"), Some(&tax), None)
            .await;
        assert_eq!(r.status(), 200);
    }
    for counted_by in [USCC_A, b.as_str()] {
        let r = app
            .send(
                Method::POST,
                "/api/v1/certificate-disputes/resolve",
                Some(&fed),
                Some(
                    json!({"levy_year": 2025, "certificate_no": CERT_A, "counted_by": counted_by}),
                ),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        let db = open_db(&url);
        let mut c = db.conn().unwrap();
        audit_log::table
            .filter(audit_log::action.eq("certificate.resolve"))
            .order(audit_log::id.asc())
            .select(audit_log::entity_id)
            .load::<String>(&mut *c)
            .unwrap()
    })
    .await
    .unwrap()
}

/// The holder's ID number of CERT_A.
fn holder_a() -> &'static str {
    &CERT_A[..18]
}

fn secret_of(url: &str) -> quota_levy::secret::ServerSecret {
    let db = open_db(url);
    let mut c = db.conn().unwrap();
    quota_levy::secret::load_or_create_row(&mut c).unwrap()
}

#[tokio::test]
async fn a_dispute_is_audited_under_a_keyed_digest_stable_on_one_server_and_not_across() {
    let (app, admin) = app_with_employer().await;
    let ids = resolve_twice(&app, &admin).await;
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "one person, one name in the audit log");
    let key = ids[0].strip_prefix("2025/").expect("levy year first");
    let plain = hex::encode(Sha256::digest(holder_a().as_bytes()));
    assert!(!plain.starts_with(key), "the plain SHA-256, truncated");
    assert!(!plain.contains(key));
    let url = app.db_url.clone();
    let secret = tokio::task::spawn_blocking(move || secret_of(&url))
        .await
        .unwrap();
    assert_eq!(
        key,
        quota_levy::registry::disputes::holder_key(&secret, holder_a())
    );

    // The same person on another server (another database, another secret).
    let (other, admin) = app_with_employer().await;
    let other_ids = resolve_twice(&other, &admin).await;
    assert_ne!(other_ids[0], ids[0]);
}

#[tokio::test]
async fn declaration_and_assessment_digests_that_leave_the_database_are_keyed() {
    let (app, _emp, tax) = crate::helpers::assessed_10000().await;
    let (app_url, uscc) = (app.db_url.clone(), USCC_A);
    let a: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/employers/{uscc}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let shown = a["inputs_digest"].as_str().unwrap().to_owned();
    let (stored_inputs, stored_body, audit) = tokio::task::spawn_blocking(move || {
        let db = open_db(&app_url);
        let mut c = db.conn().unwrap();
        let e = quota_levy::db::employers::by_uscc(&mut c, uscc)
            .unwrap()
            .unwrap();
        let a = quota_levy::db::assessments::current(&mut c, e.id, 2025)
            .unwrap()
            .unwrap();
        let d = quota_levy::db::declarations::current(&mut c, e.id, 2025)
            .unwrap()
            .unwrap();
        let audit: Vec<(String, Option<String>)> = audit_log::table
            .select((audit_log::action, audit_log::after_json))
            .load(&mut *c)
            .unwrap();
        (a.inputs_digest, d.body_digest, audit)
    })
    .await
    .unwrap();
    assert_ne!(shown, stored_inputs, "the view shows the keyed digest");
    let url = app.db_url.clone();
    let secret = tokio::task::spawn_blocking(move || secret_of(&url))
        .await
        .unwrap();
    assert_eq!(
        shown,
        quota_levy::registry::assessments::inputs_hmac(&secret, &stored_inputs)
    );
    for (action, after) in &audit {
        let after = after.as_deref().unwrap_or_default();
        assert!(!after.contains(&stored_inputs), "{action}: {after}");
        assert!(!after.contains(&stored_body), "{action}: {after}");
    }
    let keyed_body = quota_levy::registry::declarations::body_hmac(&secret, &stored_body);
    assert!(audit
        .iter()
        .any(|(a, j)| a == "declaration.submit" && j.as_deref().unwrap().contains(&keyed_body)));
}

#[tokio::test]
async fn processes_starting_at_once_make_one_secret() {
    let (db, url) = TestDb::create();
    let pool = open_db(&url);
    tokio::task::spawn_blocking(move || pool.migrate().unwrap())
        .await
        .unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                // A pool each, as separate processes would have.
                let db = open_db(&url);
                let mut c = db.conn().unwrap();
                barrier.wait();
                quota_levy::secret::load_or_create_row(&mut c).unwrap()
            })
        })
        .collect();
    let secrets: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(secrets.windows(2).all(|w| w[0] == w[1]), "one secret");
    let url2 = url.clone();
    let rows: i64 = tokio::task::spawn_blocking(move || {
        let db = open_db(&url2);
        let mut c = db.conn().unwrap();
        server_secrets::table.count().get_result(&mut *c).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(rows, 1);
    drop(db);
}

#[tokio::test]
async fn with_security_secret_file_the_secret_is_a_0600_file_and_not_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    let app =
        spawn_app_with(&[("QUOTA_LEVY__SECURITY__SECRET_FILE", file.to_str().unwrap())]).await;
    // Made when the app was built, before any request.
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let admin = app.token(Role::Admin, None, None).await;
    let ids = resolve_twice(&app, &admin).await;
    let secret = quota_levy::secret::load_or_create_file(&file).unwrap();
    assert_eq!(
        ids[0],
        format!(
            "2025/{}",
            quota_levy::registry::disputes::holder_key(&secret, holder_a())
        )
    );
    let url = app.db_url.clone();
    let rows: i64 = tokio::task::spawn_blocking(move || {
        let db = open_db(&url);
        let mut c = db.conn().unwrap();
        server_secrets::table.count().get_result(&mut *c).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(rows, 0, "the database holds no secret");
    // A second app on the same file keeps it.
    let again =
        spawn_app_with(&[("QUOTA_LEVY__SECURITY__SECRET_FILE", file.to_str().unwrap())]).await;
    drop(again);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[tokio::test]
async fn a_calculator_answer_masks_the_numbers_it_was_given() {
    // A valid request: the explanation and employees list show the masked form only.
    let app = spawn_app().await;
    let mut body = calc_templates().remove(0);
    body["disabled_employees"][0]["certificate_no"] = json!(certificate());
    let r = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for n in needles() {
        assert!(!text.contains(&n), "{n} in {text}");
    }
}
