//! The golden cases of the rules added after the worked examples: working age
//! (tests/golden/working_age, docs/rules.md §4.3) and dispatched workers
//! (tests/golden/dispatch, §4.4), each through HTTP and `quota-levy calc`, which must
//! answer alike; plus what the warnings must and must not say.

use crate::helpers::spawn_app;
use crate::levy::{check, cli};
use serde_json::Value;

/// Runs every case of `tests/golden/<dir>` (at least `min` of them): the figures of
/// `expect`, the warnings that must (`warnings_contain`) or must not (`warnings_lack`)
/// be said, the citations a pointer must hold (`citation_contains`), each case stating
/// its source.
pub(crate) async fn run_dir(dir: &str, min: usize) {
    let app = spawn_app().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= min, "{dir}: the cases are all there");
    for file in files {
        let name = format!("{dir}/{}", file.file_name().unwrap().to_string_lossy());
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(
            case["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: states its source"
        );
        let body = case["request"].clone();
        let r = app
            .client
            .post(app.url("/api/v1/levy/calculate"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let got: Value = r.json().await.unwrap();
        let (code, out) = cli(&["calc"], &body.to_string());
        assert_eq!(code, 0, "{name}: {out}");
        let cli_got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            cli_got, got,
            "{name}: the CLI prints exactly what HTTP answers"
        );
        check(&name, &case["expect"], &got);
        let warnings: Vec<&str> = got["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for want in case["warnings_contain"].as_array().into_iter().flatten() {
            let want = want.as_str().unwrap();
            assert!(
                warnings.iter().any(|w| w.contains(want)),
                "{name}: no warning with {want:?} in {warnings:?}"
            );
        }
        for not in case["warnings_lack"].as_array().into_iter().flatten() {
            let not = not.as_str().unwrap();
            assert!(
                !warnings.iter().any(|w| w.contains(not)),
                "{name}: a warning has {not:?}: {warnings:?}"
            );
        }
        for (ptr, want) in case["citation_contains"].as_object().into_iter().flatten() {
            let text = got.pointer(ptr).and_then(Value::as_str).unwrap_or_default();
            assert!(
                text.contains(want.as_str().unwrap()),
                "{name}: {ptr} = {text:?}"
            );
        }
        // Personal data stays masked: no full certificate number in the answer.
        for e in body["disabled_employees"].as_array().into_iter().flatten() {
            let no = e["certificate_no"].as_str().unwrap();
            assert!(!got.to_string().contains(no), "{name}: a number unmasked");
        }
    }
}

#[tokio::test]
async fn golden_working_age_cases_through_http_and_cli() {
    run_dir("working_age", 9).await;
}

#[tokio::test]
async fn golden_dispatch_cases_through_http_and_cli() {
    run_dir("dispatch", 4).await;
}

/// The provinces' figures found for the cap and the quota (docs/policy-data.md): each
/// case states the release or document it comes from.
#[tokio::test]
async fn golden_province_cases_through_http_and_cli() {
    run_dir("provinces", 19).await;
}
