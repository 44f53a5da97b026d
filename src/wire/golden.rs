//! The explanation as an employer reads it, held in golden files: for every worked
//! example of docs/rules.md §10 (the requests of tests/golden/*.json), the full text of
//! each step in Chinese and in English, with its formula and citation, in
//! tests/golden/explanations/<case>.txt. The test renders each example and fails when the
//! text differs from its file; `UPDATE_GOLDEN=1 cargo test --lib golden` rewrites the
//! files after a deliberate change of wording (read the diff before committing it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::domain::lang::Language;
use crate::domain::levy::fixtures::Fixtures;
use crate::wire::{calculate_request, surcharge_request, CalcResponse};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The calculation requests of tests/golden, by file stem (the surcharge case has no
/// explanation and is left out).
fn cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("tests/golden exists") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let case: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if case.get("request").is_none() {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        out.push((stem, case));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// One language's part of a golden file.
fn render_part(out: &mut String, r: &CalcResponse, lang: Language) {
    let (formula, citation, note, warning) = match lang {
        Language::Zh => ("公式：", "依据：", "暂定说明：", "提示："),
        Language::En => ("Formula: ", "Source: ", "Provisional: ", "Warning: "),
    };
    for (i, s) in r.explanation.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, s.text());
        let _ = writeln!(out, "   {formula}{}", s.formula());
        let _ = writeln!(out, "   {citation}{}", s.citation());
    }
    if let Some(n) = &r.provisional_note {
        let _ = writeln!(out, "{note}{n}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "{warning}{w}");
    }
}

/// The golden text of one case: its source, then the explanation in Chinese and English.
fn render(stem: &str, case: &Value) -> String {
    let source = case["source"].as_str().unwrap_or("");
    let mut out = String::new();
    let _ = writeln!(out, "Source: {source} (tests/golden/{stem}.json)");
    let _ = writeln!(
        out,
        "Rendered by the test domain::levy::golden; UPDATE_GOLDEN=1 rewrites this file."
    );
    for (lang, title) in [(Language::Zh, "中文"), (Language::En, "English")] {
        let r = calculate_request(&Fixtures, &case["request"], lang)
            .unwrap_or_else(|e| panic!("{stem}: {e:?}"));
        let _ = writeln!(out, "\n== {title} ==\n");
        render_part(&mut out, &r, lang);
    }
    out
}

/// Signs of notation or of an untranslated word in a sentence meant for an employer.
const NOT_FOR_PEOPLE: [&str; 10] = [
    "=",
    "×",
    "÷",
    "Σ",
    "−",
    "max(",
    "W_used",
    "/12",
    "/disabled_employees",
    "provisional",
];

#[test]
fn explanations_of_the_worked_examples_match_their_golden_files() {
    let cases = cases();
    assert!(
        cases.len() >= 14,
        "every §10 example, found {}",
        cases.len()
    );
    let dir = golden_dir().join("explanations");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut differ = Vec::new();
    for (stem, case) in &cases {
        assert!(
            case["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("docs/rules.md §10")),
            "{stem}: source names the worked example"
        );
        let text = render(stem, case);
        for line in text.lines().filter(|l| l.starts_with(char::is_numeric)) {
            for bad in NOT_FOR_PEOPLE {
                assert!(!line.contains(bad), "{stem}: {bad:?} in {line:?}");
            }
        }
        for name in ["levy-rules", "policy-data.md", "design.md"] {
            assert!(
                !text.replace("docs/policy-data.md", "").contains(name),
                "{stem}: a citation names {name}"
            );
        }
        let path = dir.join(format!("{stem}.txt"));
        if update {
            std::fs::create_dir_all(&dir).expect("creates the directory");
            std::fs::write(&path, &text).expect("writes the golden file");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != text {
            differ.push(format!(
                "{}:\n--- file\n{want}\n--- rendered\n{text}",
                path.display()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "explanations differ from their golden files (UPDATE_GOLDEN=1 rewrites them):\n{}",
        differ.join("\n")
    );
}

/// Wherever an answer rests on a provisional value it says, in one sentence in the
/// answer's language, what provisional means; the Chinese sentence says it in Chinese.
#[test]
fn provisional_answers_explain_provisional_in_their_language() {
    let after_2027 = serde_json::json!({
        "region": "130000",
        "levy_year": 2028,
        "as_of": "2028-10-31",
        "employer": { "kind": "enterprise" },
        "staff": { "average_headcount": "100" },
        "average_wage": "100000.00",
        "overrides": { "social_average_wage": "1000000.00" }
    });
    let mut calcs: Vec<(String, Value)> = cases()
        .into_iter()
        .map(|(stem, case)| (stem, case["request"].clone()))
        .collect();
    calcs.push(("after 2027 (provisional rows)".into(), after_2027));
    let mut provisional_seen = 0;
    for lang in [Language::Zh, Language::En] {
        for (name, req) in &calcs {
            let r = calculate_request(&Fixtures, req, lang).unwrap_or_else(|e| panic!("{e:?}"));
            check_note(name, r.provisional, r.provisional_note.as_deref(), lang);
            provisional_seen += usize::from(r.provisional);
        }
        let surcharge: Value = serde_json::from_str(
            &std::fs::read_to_string(golden_dir().join("surcharge_30_days.json"))
                .expect("readable"),
        )
        .expect("json");
        let r = surcharge_request(&Fixtures, &surcharge["surcharge_request"], lang)
            .unwrap_or_else(|e| panic!("{e:?}"));
        check_note(
            "surcharge",
            r.provisional,
            r.provisional_note.as_deref(),
            lang,
        );
        provisional_seen += usize::from(r.provisional);
    }
    assert!(provisional_seen >= 4, "provisional answers were checked");
}

fn check_note(name: &str, provisional: bool, note: Option<&str>, lang: Language) {
    match (provisional, note) {
        (false, None) => {}
        (true, Some(n)) => {
            assert!(
                n.ends_with('。') || n.ends_with('.'),
                "{name}: one sentence: {n}"
            );
            if lang == Language::Zh {
                assert!(
                    n.contains("暂定") && !n.contains("provisional"),
                    "{name}: {n}"
                );
            } else {
                assert!(n.contains("provisional"), "{name}: {n}");
            }
        }
        (p, n) => panic!("{name}: provisional {p} with note {n:?}"),
    }
}
