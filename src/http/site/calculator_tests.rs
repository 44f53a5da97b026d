//! Tests of the calculator page's own helpers.

use super::*;
use crate::http::site::result::{generic, param_text};
use serde_json::json;

#[test]
fn the_spare_certificate_is_valid_and_not_on_the_roster() {
    let first = spare_certificate(&json!({})).unwrap_or_default();
    assert!(DisabilityCertificate::parse(&first).is_ok(), "{first}");
    let second = spare_certificate(&json!({
        "disabled_employees": [{"certificate_no": first.to_ascii_lowercase()}]
    }))
    .unwrap_or_default();
    assert!(DisabilityCertificate::parse(&second).is_ok(), "{second}");
    assert_ne!(first.get(..18), second.get(..18));
}

#[test]
fn one_more_employee_is_a_roster_row_or_a_share_of_the_count() {
    let book = crate::policy::PolicyBook::load_embedded().unwrap_or_else(|e| panic!("{e}"));
    let req = json!({"region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
                     "staff": {"average_headcount": "100"}, "average_wage": "60000",
                     "disabled_count": "1.5"});
    let parsed = parse_request(&book, &req, Language::Zh).unwrap_or_else(|e| panic!("{e:?}"));
    let spare = spare_certificate(&req).unwrap_or_default();
    let cert = Certificate::Disability(
        DisabilityCertificate::parse(&spare).unwrap_or_else(|e| panic!("{e}")),
    );
    let more = with_one_more(&parsed.input, 10, &cert);
    assert!(matches!(more.disabled, Disabled::Certified(d) if d == Decimal::new(175, 2)));
    let mut roster = req.clone();
    roster["disabled_count"] = Value::Null;
    let parsed = parse_request(&book, &roster, Language::Zh).unwrap_or_else(|e| panic!("{e:?}"));
    let more = with_one_more(&parsed.input, 7, &cert);
    let Disabled::Roster(r) = &more.disabled else {
        panic!("a roster")
    };
    assert_eq!(r.len(), 1);
    assert!(matches!(&r[0].employment, Employment::Months(m) if *m == {
        let mut s = MonthSet::EMPTY;
        (7..=12).for_each(|m| s.insert(m));
        s
    }));
}

#[test]
fn parameters_read_as_words() {
    assert_eq!(
        param_text("quota_ratio", &json!("0.016"), Language::Zh),
        "1.6%"
    );
    assert_eq!(
        param_text(
            "reduction_tiers",
            &json!({"threshold": "0.01", "share_at_or_above": "0.5", "share_below": "0.9"}),
            Language::En
        ),
        "50% of the fee at a proportion of 1% or more, 90% below"
    );
    assert_eq!(
        param_text(
            "surcharge",
            &json!({"daily_rate": "0.005", "capped_at_principal": true}),
            Language::Zh
        ),
        "每日 5‰，不超过欠缴金额"
    );
    assert_eq!(
        generic(&json!({"a": "1", "b": null, "c": [1, 2]})),
        "a: 1; c: 1, 2"
    );
}
