//! Tests of the walker: every fault with its pointer, keys never repeated when they may
//! be personal data, and every message read once in each language.

use super::*;
use crate::domain::levy::fixtures::Fixtures;
use crate::domain::levy::LevyError;
use crate::domain::RegionCode;
use crate::wire::{levy_field_error, parse_request};
use serde_json::json;

#[test]
fn collects_every_problem_with_pointers() {
    let body = json!({"name": 3, "size": -1, "extra": true, "day": "2025-13-01"});
    let mut f = Fields::new(&body, &["name", "size", "day", "email"], Language::En).unwrap();
    f.string("name", true);
    f.int("size", false, 0, 10);
    f.date("day", true);
    f.string("email", true);
    let e = f.finish().expect_err("expected validation errors");
    let ptrs: Vec<&str> = e.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(ptrs, ["/extra", "/name", "/size", "/day", "/email"]);
    let codes: Vec<&str> = e.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        ["unknown_field", "type", "out_of_range", "date", "required"]
    );
}

#[test]
fn registry_bodies_and_the_calculator_give_one_code_for_one_fault() {
    // The same faults, once in a registry body and once in a calculation request.
    let body = json!({"levy_year": "x", "flag": 1});
    let mut f = Fields::new(&body, &["levy_year", "flag"], Language::Zh).unwrap();
    f.int("levy_year", true, 2016, 2100);
    f.bool("flag");
    let registry: Vec<&str> = f.errors().iter().map(|e| e.code).collect();
    let calc = parse_request(
        &Fixtures,
        &json!({"region": "130000", "levy_year": "x", "employer": {"kind": "enterprise"},
                "staff": {"average_headcount": "0"},
                "disabled_employees": [{"certificate_no": "x", "months": [1], "fresh_graduate": 1}]}),
        Language::Zh,
    )
    .expect_err("invalid");
    let code_at = |p: &str| calc.iter().find(|e| e.pointer == p).map(|e| e.code);
    assert_eq!(registry, ["type", "type"]);
    assert_eq!(code_at("/levy_year"), Some(registry[0]));
    assert_eq!(
        code_at("/disabled_employees/0/fresh_graduate"),
        Some(registry[1])
    );
    assert_eq!(
        Fields::new(&json!([]), &[], Language::En).err().unwrap()[0].code,
        "type"
    );
}

#[test]
fn an_unknown_key_is_named_only_when_it_reads_like_a_field_name() {
    let body = json!({"nmae": "x", "41120219800101901913": 1, "hr@example.cn": 1, "张三": 1});
    let f = Fields::new(&body, &["name"], Language::Zh).unwrap();
    let mut ptrs: Vec<String> = f.errors().iter().map(|p| p.pointer.clone()).collect();
    ptrs.sort();
    assert_eq!(ptrs, ["", "", "", "/nmae"]);
    for e in f.errors() {
        assert!(!e.message.contains("4112") && !e.message.contains("张三"));
    }
}

#[test]
fn emails() {
    assert!(check_email("hr@example.cn").is_ok());
    assert!(check_email("hr@localhost").is_err());
    assert!(check_email("a b@x.cn").is_err());
    assert!(check_email("@x.cn").is_err());
}

/// Units a Chinese message counts in: a figure carries its unit once.
const UNITS: &[char] = &['位', '个', '元', '年', '月', '天', '人', '行', '列', '字'];

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A unit said twice around one figure ("20 位（补发证 22 位） 位"), or an English word
/// repeated ("characters characters").
fn doubled_unit(s: &str) -> Option<String> {
    for u in UNITS {
        for sep in ["） ", "）", ") ", " ", ""] {
            let bad = format!("{u}{sep}{u}");
            if s.contains(&bad) {
                return Some(bad);
            }
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == w[1] && w[0].chars().all(char::is_alphabetic))
        .map(|w| w.join(" "))
}

fn check_message(what: &str, code: &str, zh: &str, en: &str) {
    assert!(!code.is_empty(), "{what}: empty code");
    assert!(
        !zh.trim().is_empty(),
        "{what} ({code}): empty Chinese message"
    );
    assert!(
        !en.trim().is_empty(),
        "{what} ({code}): empty English message"
    );
    assert!(
        has_cjk(zh),
        "{what} ({code}): Chinese message without CJK: {zh}"
    );
    for m in [zh, en] {
        assert!(doubled_unit(m).is_none(), "{what} ({code}): doubled: {m}");
    }
}

#[test]
fn the_doubled_unit_check_catches_the_old_length_message() {
    assert!(doubled_unit("长度应为 20 位（补发证 22 位） 位，实际为 3 位").is_some());
    assert!(doubled_unit("must be 20 characters characters long").is_some());
    assert!(doubled_unit("长度应为 20 位（补发证 22 位），实际为 3 位").is_none());
}

#[test]
fn every_fault_reads_well_in_both_languages() {
    for f in Fault::samples() {
        check_message(
            &format!("{f:?}"),
            f.code(),
            &f.message(Language::Zh),
            &f.message(Language::En),
        );
        let e = FieldError::new("/x", &f, Language::Zh);
        assert_eq!(e.code, f.code());
    }
    let region: RegionCode = "411200".parse().unwrap();
    for e in [
        LevyError::MissingParameter {
            region,
            data_year: 2024,
            parameter: "social_average_wage",
        },
        LevyError::MissingParameter {
            region,
            data_year: 2024,
            parameter: "minimum_wage_monthly",
        },
        LevyError::MissingRegistrationDate { years: 3 },
        LevyError::MissingWages,
        LevyError::DuplicateCertificate { index: 2, first: 0 },
        LevyError::InvalidInput {
            field: "disabled_count",
            reason: "must be non-negative with at most 4 decimals",
        },
        LevyError::Overflow,
    ] {
        let zh = levy_field_error(&e, Language::Zh);
        let en = levy_field_error(&e, Language::En);
        assert_eq!(zh.code, en.code);
        check_message(&format!("{e:?}"), zh.code, &zh.message, &en.message);
    }
}

/// Requests with one fault of every kind the calculator words itself: each message, in
/// both languages, is checked as above.
#[test]
fn every_calculator_fault_reads_well_in_both_languages() {
    let base = json!({
        "region": "130000", "levy_year": 2025, "as_of": "2025-10-31",
        "employer": { "kind": "enterprise" },
        "staff": { "average_headcount": "100" },
        "average_wage": "120000.00",
        "overrides": { "social_average_wage": "100000.00" }
    });
    let cert = crate::domain::levy::tests::cert_no(7, 1, 2);
    let edits: Vec<(&str, Value)> = vec![
        ("/language", json!("fr")),
        ("/region", json!("41")),
        ("/region", json!("990000")),
        ("/levy_year", json!(1999)),
        ("/as_of", json!("2014-01-01")),
        ("/as_of", json!("2024-06-01")),
        ("/employer", json!({"kind": "shop", "registered_on": "x"})),
        ("/staff", json!({})),
        (
            "/staff",
            json!({"monthly_headcount": [1], "average_headcount": "1"}),
        ),
        ("/staff", json!({"monthly_headcount": [1, 2]})),
        ("/staff", json!({"monthly_headcount": 3})),
        ("/staff", json!({"average_headcount": "1.12345"})),
        ("/total_wages", json!("-1")),
        ("/disabled_count", json!("x")),
        ("/total_wages", json!("1.001")),
        ("/overrides", json!({"quota_ratio": "2"})),
        ("/disabled_employees", json!({})),
        (
            "/disabled_employees",
            json!([
                {"certificate_no": cert, "certificate_kind": "x"},
                {"certificate_no": cert, "grade": 4, "months": [1, 1], "employed_from": "2024-01-01"},
                {"certificate_no": cert, "months": 5, "employed_to": "2024-01-01"},
                {"certificate_no": cert, "employed_from": "2024-05-01", "employed_to": "2024-01-01"},
                {"certificate_no": "V1", "certificate_kind": "veteran", "months": [1]},
                {"certificate_no": "123", "months": [1], "disputed_months": 1},
                {"certificate_no": cert, "months": [1]},
                {"certificate_no": cert, "months": [1]},
            ]),
        ),
    ];
    let mut seen = 0;
    for (ptr, value) in edits {
        let mut body = base.clone();
        let key = ptr.trim_start_matches('/');
        body[key] = value;
        let zh = parse_request(&Fixtures, &body, Language::Zh).expect_err(ptr);
        let en = parse_request(&Fixtures, &body, Language::En).expect_err(ptr);
        assert_eq!(zh.len(), en.len(), "{ptr}");
        for (z, e) in zh.iter().zip(&en) {
            assert_eq!((&z.pointer, z.code), (&e.pointer, e.code));
            check_message(&z.pointer, z.code, &z.message, &e.message);
            seen += 1;
        }
    }
    assert!(seen >= 25, "only {seen} faults were produced");
}
