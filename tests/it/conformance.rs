//! The conformance kit (docs/conformance.md) run the way a vendor runs it: the archive
//! downloaded over HTTP from a running service, unpacked, and its runner (python3)
//! pointed at the service; and the runner shown to fail on a wrong figure, on a wrong
//! answer and on a missing one.

use crate::helpers::spawn_app;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every golden file on disk, as `path under tests/golden` → its JSON.
fn golden_on_disk() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let doc = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                out.push((rel, doc));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Runs the unpacked runner with `args`; (exit code, standard output).
async fn runner(kit: &Path, args: Vec<String>) -> (i32, String) {
    let script = kit.join("run.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .args(args)
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Downloads and unpacks the archive; the kit's folder inside `into`.
async fn download(app: &crate::helpers::TestApp, into: &Path) -> PathBuf {
    let r = app
        .client
        .get(app.url("/api/v1/conformance.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .expect("a zip archive")
        .extract(into)
        .expect("unpacks");
    into.join("quota-levy-conformance")
}

fn set_expected(case_file: &Path, key: &str, value: &str) {
    let mut case: Value =
        serde_json::from_str(&std::fs::read_to_string(case_file).unwrap()).unwrap();
    case["expect"][key] = Value::String(value.to_owned());
    std::fs::write(case_file, serde_json::to_vec_pretty(&case).unwrap()).unwrap();
}

#[tokio::test]
async fn the_index_lists_every_golden_case_with_its_source_request_and_figures() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/v1/conformance"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tag = r.headers()["etag"].to_str().unwrap().to_owned();
    let kit: Value = r.json().await.unwrap();
    let cases = kit["cases"].as_array().unwrap();
    let golden = golden_on_disk();
    assert!(golden.len() >= 30, "the golden cases are all there");
    assert_eq!(cases.len(), golden.len(), "one case a golden file");
    for ((file, doc), case) in golden.iter().zip(cases) {
        assert_eq!(case["file"], format!("tests/golden/{file}"));
        assert_eq!(case["source"], doc["source"], "{file}");
        assert!(!case["source"].as_str().unwrap().is_empty(), "{file}");
        let request = doc.get("request").or_else(|| doc.get("surcharge_request"));
        assert_eq!(
            Some(&case["request"]),
            request,
            "{file}: the file's request"
        );
        assert_eq!(case["expect"], doc["expect"], "{file}: the file's figures");
    }
    // The rounding rule is stated, and the archive is linked with its digest.
    let rules = kit["contract"]["rules"].to_string();
    assert!(rules.contains("round2") && rules.contains("四舍五入"));
    assert_eq!(kit["archive"]["href"], "/api/v1/conformance.zip");
    let zip = app
        .client
        .get(app.url("/api/v1/conformance.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.headers()["etag"].to_str().unwrap(), tag);
    let bytes = zip.bytes().await.unwrap();
    assert_eq!(kit["archive"]["bytes"], bytes.len());
    use sha2::Digest;
    assert_eq!(
        kit["archive"]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    // A client that has it already is told so.
    let again = app
        .client
        .get(app.url("/api/v1/conformance.zip"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn the_downloaded_runner_passes_against_the_service_and_fails_on_a_wrong_figure() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let kit = download(&app, dir.path()).await;
    let cases = golden_on_disk().len();

    let (code, out) = runner(&kit, vec!["--url".into(), app.address.clone()]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.matches("\nPASS ").count() + usize::from(out.starts_with("PASS ")),
        cases,
        "{out}"
    );
    assert!(out.contains(&format!("{cases} passed, 0 failed")), "{out}");
    // The texts too, which the service's own wording must meet.
    let (code, out) = runner(
        &kit,
        vec!["--texts".into(), "--url".into(), app.address.clone()],
    )
    .await;
    assert_eq!(code, 0, "{out}");

    // One fen off in one expected figure: that case fails, naming the figure, and the
    // runner exits non-zero; the other cases still pass.
    let case = kit.join("cases/ex01_no_disabled_90pct.json");
    set_expected(&case, "fee_due", "180000.01");
    let (code, out) = runner(&kit, vec!["--url".into(), app.address.clone()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL ex01_no_disabled_90pct"), "{out}");
    assert!(
        out.contains("fee_due: expected 180000.01, got 180000.00"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{} passed, 1 failed", cases - 1)),
        "{out}"
    );
    // A JSON pointer into the answer is compared the same way.
    set_expected(&case, "fee_due", "180000.00");
    let case = kit.join("cases/surcharge_30_days.json");
    set_expected(&case, "/segments/0/days", "31");
    let (code, out) = runner(&kit, vec!["--url".into(), app.address.clone()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("/segments/0/days: expected 31, got 30"),
        "{out}"
    );
}

#[tokio::test]
async fn the_runner_reads_a_vendors_answers_from_a_folder() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let kit = download(&app, dir.path()).await;
    let answers = dir.path().join("answers");
    std::fs::create_dir(&answers).unwrap();
    // The "vendor" here is the service itself, its answers saved one file a case; the
    // numbers are written as JSON numbers where the service writes strings, which a
    // vendor may do: decimals compare by value.
    let index: Value = app
        .client
        .get(app.url("/api/v1/conformance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for case in index["cases"].as_array().unwrap() {
        let answer: Value = app
            .client
            .post(app.url(case["endpoint"].as_str().unwrap()))
            .json(&case["request"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut text = serde_json::to_string(&answer).unwrap();
        if let Some(fee) = answer["fee_due"].as_str() {
            text = text.replace(
                &format!("\"fee_due\":\"{fee}\""),
                &format!("\"fee_due\":{fee}"),
            );
        }
        let id = case["id"].as_str().unwrap();
        std::fs::write(answers.join(format!("{id}.json")), text).unwrap();
    }
    let folder = answers.to_string_lossy().into_owned();
    let (code, out) = runner(&kit, vec!["--outputs".into(), folder.clone()]).await;
    assert_eq!(code, 0, "{out}");

    // An answer one fen off fails; so does a missing answer.
    let file = answers.join("henan.payment_due_2022.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"levy_payable\":\"86400.00\""));
    std::fs::write(
        &file,
        text.replace(
            "\"levy_payable\":\"86400.00\"",
            "\"levy_payable\":\"86399.99\"",
        ),
    )
    .unwrap();
    std::fs::remove_file(answers.join("ex03_quota_met.json")).unwrap();
    let (code, out) = runner(&kit, vec!["--outputs".into(), folder]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL henan.payment_due_2022"), "{out}");
    assert!(
        out.contains("levy_payable: expected 86400.00, got 86399.99"),
        "{out}"
    );
    assert!(out.contains("FAIL ex03_quota_met"), "{out}");
    assert!(out.contains("no answer file"), "{out}");
}
