//! Fixtures several modules share: valid identifiers, a declaration, an employer
//! registered, an employer assessed.

use super::{spawn_app_with, TestApp};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// A valid USCC (docs/rules.md §9 example).
pub const USCC_A: &str = "91350100M000100Y43";

/// Computes the GB 32100 check character, so tests can make valid codes of their own.
pub fn uscc_with_check(first17: &str) -> String {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| CHARS.find(c).expect("valid char") as u32 * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", CHARS.as_bytes()[check as usize] as char)
}

/// A valid second-generation disability certificate of a woman born 1985-01-18 (of
/// working age throughout, so that Henan's working-age rule, docs/rules.md §4.3, counts
/// her), category 4 (physical), grade 2 (weight 2).
pub const CERT_A: &str = "11010519850118002X42";

/// A valid declaration body for data year 2024.
pub fn declaration_body() -> Value {
    json!({
        "staff": {"monthly_headcount": [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]},
        "total_wages": "7000000.00",
        "disabled_employees": [{
            "certificate_no": CERT_A,
            "months": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "on_establishment": true,
            "social_insurance_paid": true,
            "monthly_wage": "3000.00"
        }]
    })
}

/// An app with employer A (in 湖滨区) registered, and an admin token.
pub async fn app_with_employer() -> (TestApp, String) {
    // Without the activation mail of a registration: the tests built on this fixture
    // count the reminders in the outbox (tests/it/accounts.rs tests the activation).
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.token(Role::Admin, None, None).await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": USCC_A, "name": "示例公司", "kind": "enterprise", "region": "411202",
                         "contact_email": "hr@example.cn"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    (app, admin)
}

const DECL_A: &str = "/api/v1/employers/91350100M000100Y43/declarations/2025";

/// Employer A assessed with levy payable exactly 10,000.00: Henan 1.6 %, N 100, D 1
/// (ratio 1 %, so 50 % payable), W 33,333.33: shortfall 0.6 × W = 19,999.998 → fee
/// 20,000.00 → payable 10,000.00.
pub async fn assessed_10000() -> (TestApp, String, String) {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let tax = app.token(Role::Tax, None, None).await;
    let body = json!({"staff": {"average_headcount": "100"}, "average_wage": "33333.33", "disabled_count": "1"});
    assert_eq!(
        app.send(Method::PUT, DECL_A, Some(&emp), Some(body))
            .await
            .status(),
        201
    );
    app.send(Method::POST, &format!("{DECL_A}/submit"), Some(&emp), None)
        .await;
    let a: Value = app
        .send(
            Method::POST,
            "/api/v1/employers/91350100M000100Y43/assessments/2025",
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["result"]["levy_payable"], "10000.00", "{}", a["result"]);
    (app, emp, tax)
}
