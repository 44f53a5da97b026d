//! The calculation contract through HTTP and the CLI, against the shipped packs: every
//! golden case of tests/golden (docs/rules.md §10), invalid input, the policies endpoint.

use crate::helpers::spawn_app;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

fn golden_cases() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 13,
        "the worked examples of docs/rules.md §10 are all there"
    );
    out
}

/// Checks every `expect` entry (a field name or a JSON pointer) against a response.
pub(crate) fn check(name: &str, expect: &Value, got: &Value) {
    for (k, want) in expect.as_object().unwrap() {
        let v = if k.starts_with('/') {
            got.pointer(k)
        } else {
            got.get(k)
        };
        let v = v.unwrap_or_else(|| panic!("{name}: response has no {k}: {got}"));
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(&text, want.as_str().unwrap(), "{name}: {k}");
    }
}

pub(crate) fn cli(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quota-levy"))
        .args(args)
        .env_remove("QUOTA_LEVY__POLICY__DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn golden_cases_through_http_and_cli() {
    let app = spawn_app().await;
    for (name, case) in golden_cases() {
        let (path, body) = match (case.get("request"), case.get("surcharge_request")) {
            (Some(r), _) => ("/api/v1/levy/calculate", r.clone()),
            (None, Some(r)) => ("/api/v1/levy/surcharge", r.clone()),
            _ => panic!("{name}: no request"),
        };
        let r = app
            .client
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let got: Value = r.json().await.unwrap();
        check(&format!("{name} (http)"), &case["expect"], &got);
        if path.ends_with("calculate") {
            let (code, out) = cli(&["calc"], &body.to_string());
            assert_eq!(code, 0, "{name}: {out}");
            let cli_got: Value = serde_json::from_str(&out).unwrap();
            check(&format!("{name} (cli)"), &case["expect"], &cli_got);
            assert_eq!(
                cli_got, got,
                "{name}: the CLI prints exactly what HTTP answers"
            );
        }
    }
}

fn sanmenxia(extra: Value) -> Value {
    let mut base = json!({
        "region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
        "staff": {"monthly_headcount": [100,100,100,100,100,100,100,100,100,100,100,100]},
        "total_wages": "7000000.00"
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[tokio::test]
async fn invalid_requests_are_422_with_pointers_and_cli_exits_2() {
    let app = spawn_app().await;
    let cases = [
        (
            sanmenxia(json!({"staff": {"monthly_headcount": [1,2,3,4,5,6,7,8,9,10,11]}})),
            "/staff/monthly_headcount",
        ),
        (
            sanmenxia(
                json!({"disabled_employees": [{"certificate_no": "11010519491231002X41", "months": [13]}]}),
            ),
            "/disabled_employees/0/months/0",
        ),
        (
            sanmenxia(
                json!({"disabled_employees": [{"certificate_no": "11010519491231002Y41", "months": [1]}]}),
            ),
            "/disabled_employees/0/certificate_no",
        ),
        (sanmenxia(json!({"region": "990000"})), "/region"),
        (sanmenxia(json!({"as_of": "2015-09-30"})), "/as_of"),
        // Henan publishes no social average wage for data year 2022 while a cap is in force.
        (
            sanmenxia(json!({"levy_year": 2023})),
            "/overrides/social_average_wage",
        ),
    ];
    for (body, pointer) in cases {
        let r = app
            .client
            .post(app.url("/api/v1/levy/calculate"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{pointer}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        let ptrs: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert!(ptrs.contains(&pointer), "{pointer} not in {ptrs:?}");
        assert!(
            !p.to_string().contains("11010519491231002"),
            "no identifier in errors: {p}"
        );
        let (code, out) = cli(&["calc"], &body.to_string());
        assert_eq!(code, 2, "{pointer}");
        let cli_p: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(cli_p["errors"], p["errors"], "{pointer}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn policies_endpoint_shows_values_with_citations() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/v1/policies/411202?as_of=2025-10-31"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let params = v["parameters"].as_array().unwrap();
    let ratio = params.iter().find(|p| p["key"] == "quota_ratio").unwrap();
    assert_eq!(ratio["value"], "0.016");
    assert!(ratio["citation"].as_str().unwrap().contains("127号"));
    assert!(params
        .iter()
        .all(|p| p["citation"].as_str().is_some_and(|c| !c.is_empty())));
    let r = app
        .client
        .get(app.url("/api/v1/policies/990000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(app.url("/api/v1/policies/410000?as_of=2015-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[test]
fn policy_check_and_show_commands() {
    let (code, out) = cli(&["policy", "check"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK"), "{out}");
    let (code, out) = cli(&["policy", "show", "411200", "--as-of", "2025-10-31"], "");
    assert_eq!(code, 0);
    assert!(out.contains("1.6%") && out.contains("127号"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("000000-national.toml"),
        "[region]\ncode = \"000000\"\nbogus = 1\n",
    )
    .unwrap();
    let (code, out) = cli(
        &["policy", "check", "--dir", dir.path().to_str().unwrap()],
        "",
    );
    assert_eq!(code, 2);
    assert!(out.contains("000000-national.toml"), "{out}");
}

/// The calculator takes the employer kinds as Chinese forms write them, with the same
/// result as the API spelling.
#[tokio::test]
async fn chinese_kind_names_give_the_same_result() {
    let app = spawn_app().await;
    let calc = |kind: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url("/api/v1/levy/calculate"))
                .json(
                    &json!({"region": "411200", "levy_year": 2025, "employer": {"kind": kind},
                              "staff": {"average_headcount": "100"}, "average_wage": "70000",
                              "disabled_count": "0"}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{kind}");
            r.json::<Value>().await.unwrap()
        }
    };
    for (zh, api) in [
        ("机关", "government_agency"),
        ("事业单位", "public_institution"),
        ("企业", "enterprise"),
        ("民办非企业单位", "private_non_enterprise"),
    ] {
        let (a, b) = (calc(zh).await, calc(api).await);
        assert_eq!(a["employer_kind"], api, "{a}");
        // Sanmenxia's values include provisional ones: the response says what that means.
        assert_eq!(a["provisional"], true);
        assert!(
            a["provisional_note"]
                .as_str()
                .is_some_and(|n| n.contains("暂定参数")),
            "{a}"
        );
        assert!(a["levy_payable"].is_string(), "{a}");
        assert_eq!(a, b, "{zh}");
    }
}

/// The Henan golden cases of tests/golden/henan: the figures through HTTP and the CLI,
/// and the warnings that must (or must not) be said, each case stating its source.
#[tokio::test]
async fn henan_golden_cases_through_http_and_cli() {
    crate::golden_rules::run_dir("henan", 7).await;
}

/// `policy show` dates Henan's certification window per year and lists what is still
/// provisional, and why, in one table.
#[test]
fn henan_policy_show_dates_windows_and_tabulates_provisional_values() {
    let (code, out) = cli(&["policy", "show", "411200", "--as-of", "2022-10-31"], "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("certification_window: 2022-06-01 to 2022-10-31"),
        "{out}"
    );
    assert!(out.contains("payment_due: 2022-12-31"), "{out}");
    assert!(out.contains("with an establishment of ≥ 63\n"), "{out}");
    let (_, out25) = cli(&["policy", "show", "411200", "--as-of", "2025-10-31"], "");
    assert!(
        out25.contains("certification_window: 2025-03-01 to 2025-10-31"),
        "{out25}"
    );
    let table: Vec<&str> = out25
        .split("Still provisional, and why:")
        .nth(1)
        .expect("the table")
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| parameter"))
        .collect();
    let summary = out25
        .lines()
        .find(|l| l.contains("values shown are provisional"))
        .expect("summary");
    assert!(
        summary.starts_with(&format!("{} of ", table.len())),
        "{summary}"
    );
    assert!(table
        .iter()
        .any(|l| l.starts_with("| average_wage_fallback_series |") && l.contains("choice")));
    assert!(!table.iter().any(|l| l.starts_with("| quota_ratio ")));
    let (_, out19) = cli(&["policy", "show", "411200", "--as-of", "2019-10-31"], "");
    assert!(out19.contains("certification_window: 2019-03-01 to 2019-10-31 (provisional)"));
    assert!(out19.contains("were not found"), "{out19}");
}
