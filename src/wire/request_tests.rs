//! Tests of the calculation contract: the golden cases of docs/rules.md §10 (tests/golden),
//! validation collecting every field error, and the response format.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;
use crate::domain::levy::fixtures::Fixtures;
use crate::domain::levy::tests::{cert_no, check_explanation};
use crate::domain::levy::{calculate, ExplainMode};
use crate::domain::Language;

fn golden_files() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/golden exists") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("?")
                .to_owned(),
            v,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Compares `expect` (field or JSON pointer → string) with a serialized response.
fn check_expect(name: &str, response: &Value, expect: &Value) {
    let Value::Object(exp) = expect else {
        panic!("{name}: expect must be an object")
    };
    assert!(!exp.is_empty(), "{name}: nothing expected");
    for (key, want) in exp {
        let pointer = if key.starts_with('/') {
            key.clone()
        } else {
            format!("/{key}")
        };
        let got = response
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{name}: no {pointer} in response"));
        let got = match got {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(Some(got.as_str()), want.as_str(), "{name}: {pointer}");
    }
}

#[test]
fn golden_cases_of_levy_rules_section_10() {
    let files = golden_files();
    assert!(
        files.len() >= 15,
        "expected every §10 example, found {}",
        files.len()
    );
    for (name, case) in files {
        assert!(
            case["source"]
                .as_str()
                .is_some_and(|s| s.contains("docs/rules.md §10")),
            "{name}: source"
        );
        assert!(
            case["note"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: note"
        );
        if let Some(req) = case.get("surcharge_request") {
            let resp = surcharge_request(&Fixtures, req, Language::Zh)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            check_expect(
                &name,
                &serde_json::to_value(&resp).expect("serializes"),
                &case["expect"],
            );
            continue;
        }
        let req = &case["request"];
        let resp = calculate_request(&Fixtures, req, Language::Zh)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let json = serde_json::to_value(&resp).expect("serializes");
        check_expect(&name, &json, &case["expect"]);
        // The typed request is the same contract: it parses every golden request and
        // gives the same answer.
        let typed: CalcRequest =
            serde_json::from_value(req.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = calculate_request(
            &Fixtures,
            &serde_json::to_value(&typed).expect("ser"),
            Language::Zh,
        )
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(again, resp, "{name}: typed round trip");
        // And its explanation recomputes.
        let parsed = parse_request(&Fixtures, req, Language::En).expect("valid");
        let r = calculate(
            &parsed.policy,
            &parsed.input,
            ExplainMode::Full(Language::En),
        )
        .expect("ok");
        check_explanation(&r);
    }
}

fn base() -> Value {
    json!({
        "region": "130000",
        "levy_year": 2025,
        "as_of": "2025-10-31",
        "employer": { "kind": "enterprise" },
        "staff": { "average_headcount": "100" },
        "average_wage": "120000.00",
        "overrides": { "social_average_wage": "100000.00" }
    })
}

fn errors(body: &Value) -> Vec<FieldError> {
    match calculate_request(&Fixtures, body, Language::En) {
        Ok(r) => panic!("expected errors, got payable {}", r.levy_payable),
        Err(e) => e,
    }
}

fn pointers(body: &Value) -> BTreeSet<String> {
    errors(body).into_iter().map(|e| e.pointer).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn collects_every_field_error() {
    let good = cert_no(1, 4, 3);
    let mut bad_check = cert_no(2, 4, 3);
    // Change the check character (position 18) to another valid one.
    let c = if &bad_check[17..18] == "1" { "2" } else { "1" };
    bad_check.replace_range(17..18, c);
    let body = json!({
        "region": "990000",
        "levy_year": 2025,
        "as_of": "2015-09-30",
        "employer": { "kind": "company", "registered_on": "2015-02-30" },
        "staff": { "monthly_headcount": [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10] },
        "total_wages": "-5",
        "disabled_employees": [
            { "certificate_no": good, "months": [1, 13] },
            { "certificate_no": bad_check, "months": [1] },
            { "certificate_no": good, "months": [2] },
            { "certificate_no": "军残字第0001号", "certificate_kind": "veteran", "months": [1] },
            { "certificate_no": cert_no(5, 4, 3), "employed_from": "2024-05-01", "employed_to": "2024-04-01", "colour": "red" }
        ],
        "overrides": { "quota_ratio": "1.6" },
        "extra": 1
    });
    let got = pointers(&body);
    let want = set(&[
        "/as_of",
        "/employer/kind",
        "/employer/registered_on",
        "/staff/monthly_headcount",
        "/total_wages",
        "/disabled_employees/0/months/1",
        "/disabled_employees/1/certificate_no",
        "/disabled_employees/2/certificate_no",
        "/disabled_employees/3/grade",
        "/disabled_employees/4/employed_to",
        "/disabled_employees/4/colour",
        "/overrides/quota_ratio",
        "/extra",
    ]);
    assert_eq!(got, want);
    let all = errors(&body);
    let check = all
        .iter()
        .find(|e| e.pointer == "/disabled_employees/1/certificate_no")
        .expect("error");
    assert_eq!(check.code, "check_character");
    assert!(
        !check.message.contains(&bad_check[..10]),
        "never echo the number"
    );
    let dup = all
        .iter()
        .find(|e| e.pointer == "/disabled_employees/2/certificate_no")
        .expect("error");
    assert_eq!(dup.code, "duplicate_certificate");
    assert!(dup.message.contains("/disabled_employees/0"));
}

#[test]
fn unknown_region_and_early_as_of() {
    let mut b = base();
    b["region"] = json!("990000");
    assert_eq!(pointers(&b), set(&["/region"]));
    assert_eq!(errors(&b)[0].code, "unknown_region");
    let mut b = base();
    b["as_of"] = json!("2015-09-30");
    b["levy_year"] = json!(2015);
    assert_eq!(pointers(&b), set(&["/as_of"]));
    let mut b = base();
    b["as_of"] = json!("2024-12-31");
    assert_eq!(pointers(&b), set(&["/as_of"]), "before the levy year");
    let mut b = base();
    b["region"] = json!("41120");
    assert_eq!(pointers(&b), set(&["/region"]));
}

#[test]
fn missing_social_average_wage_names_region_year_and_parameter() {
    let mut b = base();
    b.as_object_mut().expect("object").remove("overrides");
    let e = errors(&b);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].pointer, "/overrides/social_average_wage");
    assert!(
        e[0].message.contains("130000")
            && e[0].message.contains("2024")
            && e[0].message.contains("social_average_wage"),
        "{}",
        e[0].message
    );
    // Chinese by default.
    let zh = calculate_request(&Fixtures, &b, Language::Zh).expect_err("error");
    assert!(zh[0].message.contains("社会平均工资"));
}

#[test]
fn wages_one_of_two_unless_staff_zero() {
    let mut b = base();
    b["total_wages"] = json!("1000000.00");
    assert_eq!(pointers(&b), set(&["/average_wage"]));
    let mut b = base();
    b.as_object_mut().expect("object").remove("average_wage");
    assert_eq!(pointers(&b), set(&["/total_wages"]));
    b["staff"] = json!({ "monthly_headcount": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    let r = calculate_request(&Fixtures, &b, Language::En).expect("staff 0 needs no wage");
    assert_eq!(
        (&r.average_wage, &r.wage_used, &r.employment_ratio),
        (&None, &None, &None)
    );
    assert_eq!(
        (r.fee_due.as_str(), r.levy_payable.as_str()),
        ("0.00", "0.00")
    );
    let j = serde_json::to_value(&r).expect("ser");
    assert!(j["average_wage"].is_null() && j["wage_used"].is_null());
}

#[test]
fn staff_shapes_and_decimals() {
    let mut b = base();
    b["staff"] = json!({ "average_headcount": "32.33333" });
    assert_eq!(errors(&b)[0].code, "too_many_decimals");
    b["staff"] = json!({ "average_headcount": "32.3333", "monthly_headcount": [1] });
    assert_eq!(pointers(&b), set(&["/staff"]));
    b["staff"] = json!({});
    assert_eq!(pointers(&b), set(&["/staff"]));
    b["staff"] = json!({ "monthly_headcount": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1] });
    assert_eq!(pointers(&b), set(&["/staff/monthly_headcount/11"]));
    b["staff"] = json!({ "monthly_headcount": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5] });
    assert_eq!(pointers(&b), set(&["/staff/monthly_headcount/11"]));
    // Numbers keep their text (arbitrary precision): no f64 on the way.
    let mut b = base();
    b["average_wage"] = serde_json::from_str("36292.01").expect("number");
    b["staff"] = serde_json::from_str(r#"{"average_headcount": 32.3333}"#).expect("number");
    let r = calculate_request(&Fixtures, &b, Language::En).expect("ok");
    assert_eq!(r.average_headcount, "32.3333");
    assert_eq!(r.average_wage.as_deref(), Some("36292.01"));
    let mut b = base();
    b["average_wage"] = serde_json::from_str("99999999999999.99").expect("number");
    b["overrides"]["social_average_wage"] = json!("99999999999999.99");
    let r = calculate_request(&Fixtures, &b, Language::En).expect("ok");
    assert_eq!(r.average_wage.as_deref(), Some("99999999999999.99"));
    for bad in ["1e400", "NaN", "1_000", " ", "0x10", "1.", ".5"] {
        let mut b = base();
        b["average_wage"] = json!(bad);
        assert_eq!(pointers(&b), set(&["/average_wage"]), "{bad}");
    }
    let mut b = base();
    b["average_wage"] = json!("1.2e5");
    assert_eq!(
        calculate_request(&Fixtures, &b, Language::En)
            .expect("ok")
            .average_wage
            .as_deref(),
        Some("120000.00")
    );
}

#[test]
fn type_errors_have_pointers() {
    let mut b = base();
    b["levy_year"] = json!("twenty");
    b["employer"] = json!({ "kind": 5 });
    b["disabled_employees"] =
        json!([{ "certificate_no": cert_no(1, 4, 3), "months": [1], "on_establishment": "yes" }]);
    assert_eq!(
        pointers(&b),
        set(&[
            "/levy_year",
            "/employer/kind",
            "/disabled_employees/0/on_establishment"
        ])
    );
    assert_eq!(pointers(&json!([1])), set(&[""]));
    let e = calculate_request_json(&Fixtures, "{\"region\": ", Language::En).expect_err("syntax");
    assert_eq!((e[0].pointer.as_str(), e[0].code), ("", "invalid_json"));
    let mut b = base();
    b["language"] = json!("fr");
    assert_eq!(pointers(&b), set(&["/language"]));
}

#[test]
fn roster_rules() {
    let mut b = base();
    b["disabled_employees"] = json!([
        { "certificate_no": cert_no(1, 4, 3), "months": [1, 1] },
        { "certificate_no": cert_no(2, 4, 3), "months": [1], "employed_from": "2024-01-01" },
        { "certificate_no": cert_no(3, 4, 3) },
        { "certificate_no": cert_no(4, 4, 3), "months": [1], "grade": 2 },
        { "certificate_no": cert_no(5, 4, 3), "employed_to": "2024-01-01", "months": [2] },
        { "certificate_no": "军残字第0001号", "certificate_kind": "veteran", "grade": 9, "months": [1] },
        { "certificate_no": cert_no(7, 4, 3), "certificate_kind": "army", "months": [1] }
    ]);
    assert_eq!(
        pointers(&b),
        set(&[
            "/disabled_employees/0/months/1",
            "/disabled_employees/1",
            "/disabled_employees/2/months",
            "/disabled_employees/3/grade",
            "/disabled_employees/4/employed_to",
            "/disabled_employees/5/grade",
            "/disabled_employees/6/certificate_kind",
        ])
    );
    let mut b = base();
    b["disabled_employees"] = json!([]);
    b["disabled_count"] = json!("1");
    assert_eq!(pointers(&b), set(&["/disabled_count"]));
}

#[test]
fn registration_date_needed_for_the_2015_window() {
    let mut b = base();
    b["levy_year"] = json!(2016);
    b["as_of"] = json!("2016-06-30");
    b["staff"] = json!({ "average_headcount": "20" });
    assert_eq!(pointers(&b), set(&["/employer/registered_on"]));
    b["employer"]["registered_on"] = json!("2014-01-01");
    let r = calculate_request(&Fixtures, &b, Language::En).expect("ok");
    assert_eq!(
        r.exemption.map(|e| e.max_years_since_registration),
        Some(Some(3))
    );
}

#[test]
fn response_shape() {
    let mut b = base();
    b["region"] = json!("411200");
    b["language"] = json!("en");
    b["staff"] = json!({ "monthly_headcount": [32, 32, 32, 32, 32, 32, 32, 32, 33, 33, 33, 33] });
    b["total_wages"] = json!("1173441.33");
    b.as_object_mut().expect("object").remove("average_wage");
    b["disabled_employees"] = json!([
        { "certificate_no": cert_no(1, 4, 2), "months": [1, 2, 3], "contract_months": 6, "monthly_wage": "1000.00" },
        { "certificate_no": "军残字第0001号", "certificate_kind": "veteran", "grade": 3, "employed_from": "2024-11-15", "on_establishment": true, "monthly_wage": "3000" }
    ]);
    let r = calculate_request(&Fixtures, &b, Language::Zh).expect("ok");
    assert_eq!(r.language, Language::En);
    assert_eq!(
        (
            r.levy_year,
            r.data_year,
            r.region.as_str(),
            r.as_of.as_str()
        ),
        (2025, 2024, "411200", "2025-10-31")
    );
    assert_eq!(r.average_headcount, "32.3333");
    assert_eq!(r.average_wage.as_deref(), Some("36292.00"));
    assert_eq!(r.employment_ratio.as_deref().map(str::len), Some(8));
    assert_eq!(r.employees.len(), 2);
    let e0 = &r.employees[0];
    assert!(e0.certificate.contains('*'));
    assert_eq!(
        e0.excluded_reason.as_deref(),
        Some("short_contract,below_minimum_wage")
    );
    assert!(e0
        .excluded_detail
        .as_deref()
        .is_some_and(|d| d.contains("6 months")));
    assert!(
        e0.excluded_detail
            .as_deref()
            .is_some_and(|d| d.contains("months 1–3 (2,100.00 yuan)")),
        "{:?}",
        e0.excluded_detail
    );
    assert_eq!(e0.counted_months, 0);
    let e1 = &r.employees[1];
    assert_eq!(
        (e1.weight, e1.counted_months, e1.employed_months.clone()),
        (2, 2, vec![11, 12])
    );
    assert_eq!(r.disabled_counted, "0.3333");
    assert!(r.warnings.iter().any(|w| w.contains("labour violation")));
    let p = &r.parameters;
    assert_eq!(p.quota_ratio.value, json!("0.016"));
    assert_eq!(p.quota_ratio.citation, "河南省人民政府令第127号");
    assert!(p.social_average_wage.as_ref().is_some_and(|s| s.overridden));
    assert_eq!(
        p.minimum_wage_monthly.as_ref().map(|m| m.value.clone()),
        Some(json!("2100.00"))
    );
    assert!(p.reduction_tiers.is_some());
    assert!(r.what_if);
    assert!(
        !r.provisional,
        "2024 minimum wages (豫政〔2023〕43号) are confirmed; S is overridden"
    );
    // Every money field has two decimals, every count four.
    let j = serde_json::to_value(&r).expect("ser");
    for k in [
        "fee_due",
        "reduction",
        "levy_payable",
        "reward",
        "average_wage",
        "wage_used",
    ] {
        let s = j[k].as_str().expect("string");
        assert_eq!(s.split('.').nth(1).map(str::len), Some(2), "{k} {s}");
    }
    for k in [
        "average_headcount",
        "required",
        "disabled_counted",
        "shortfall",
        "over_quota",
    ] {
        let s = j[k].as_str().expect("string");
        assert_eq!(s.split('.').nth(1).map(str::len), Some(4), "{k} {s}");
    }
    assert!(j["explanation"][0]["inputs"].is_object());
    assert!(j["exemption"].is_null());
}

#[test]
fn request_of_states_the_parsed_input_exactly() {
    let mut roster_cases = 0;
    for (name, case) in golden_files() {
        let Some(req) = case.get("request") else {
            continue;
        };
        let parsed =
            parse_request(&Fixtures, req, Language::Zh).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let mut input = parsed.input.clone();
        // Dispute outcomes, as the registry sets them, are stated too.
        if let crate::domain::levy::Disabled::Roster(lines) = &mut input.disabled {
            if let Some(first) = lines.first_mut() {
                first.disputed.insert(3);
                first.counted_elsewhere.insert(11);
                roster_cases += 1;
            }
        }
        let stated = request_of(parsed.policy.region, parsed.levy_year, &input);
        let mut again = serde_json::to_value(&stated).expect("serializes");
        // The as-of date is the request's own choice, not part of the input.
        if let Some(d) = req.get("as_of") {
            again["as_of"] = d.clone();
        }
        let back = parse_request(&Fixtures, &again, Language::Zh)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(back.input, input, "{name}");
        assert_eq!(back.policy, parsed.policy, "{name}");
    }
    assert!(roster_cases > 0, "no golden case has a roster");
}
