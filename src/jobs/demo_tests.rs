//! Tests of the demo generator: valid codes and data, and the same data for the same seed.

use super::*;
use crate::domain::ids::{DisabilityCertificate, UnifiedSocialCreditCode};

fn spec(seed: u64) -> DemoSpec {
    DemoSpec {
        employers: 0,
        levy_year: 2025,
        region: "411200".parse().unwrap(),
        seed,
        status: Status::Submitted,
        actor: "test".into(),
    }
}

#[test]
fn codes_are_valid_and_data_validates() {
    let book = crate::policy::PolicyBook::load_embedded().unwrap();
    let counties = counties_of(&book, "411200".parse().unwrap());
    assert!(counties.len() >= 6, "{counties:?}");
    let s = spec(7);
    let now = Utc::now().naive_utc();
    let mut rosters = 0;
    let mut usccs = std::collections::HashSet::new();
    for i in 0..3_000u64 {
        let g = generate_one(&s, &counties, i, i as i64 + 1, now).unwrap();
        let code = UnifiedSocialCreditCode::parse(&g.employer.uscc).unwrap();
        assert!(usccs.insert(g.employer.uscc.clone()));
        assert_eq!(
            code.kind_hint().map(|k| k.as_str()),
            Some(g.employer.kind.as_str())
        );
        if let Some(list) = g.body.get("disabled_employees").and_then(Value::as_array) {
            rosters += 1;
            for e in list {
                DisabilityCertificate::parse(e["certificate_no"].as_str().unwrap()).unwrap();
            }
        }
        parse_declaration(&book, &g.employer, 2025, &g.body)
            .unwrap_or_else(|e| panic!("{i}: {e:?} {}", g.body));
    }
    assert!((700..1100).contains(&rosters), "{rosters} rosters of 3000");
}

#[test]
fn a_seed_gives_the_same_data() {
    let book = crate::policy::PolicyBook::load_embedded().unwrap();
    let counties = counties_of(&book, "411200".parse().unwrap());
    let now = Utc::now().naive_utc();
    let a = generate_one(&spec(1), &counties, 42, 1, now).unwrap();
    let b = generate_one(&spec(1), &counties, 42, 1, now).unwrap();
    let c = generate_one(&spec(2), &counties, 42, 1, now).unwrap();
    assert_eq!(a.body, b.body);
    assert_eq!(a.employer, b.employer);
    assert_ne!(a.employer.uscc, c.employer.uscc);
}
