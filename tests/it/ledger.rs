//! The fund's account (征收使用管理): its totals equal the levy roll's and the rewards
//! roll's, every line it sums is listed, and the page is for tax and federation officers.

use crate::helpers::web::{person, sign_in};
use crate::rewards::{uscc, Guizhou};
use quota_levy::auth::Role;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("a figure").parse().expect("a decimal")
}

fn line<'a>(l: &'a Value, key: &str) -> &'a Value {
    &l["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == key)
        .unwrap_or_else(|| panic!("no line {key}: {l}"))["amount"]
}

async fn pay_levy(g: &Guizhou, uscc: &str, amount: &str, key: &str) {
    let r = g
        .app
        .client
        .post(
            g.app
                .url(&format!("/api/v1/employers/{uscc}/payments/2025")),
        )
        .bearer_auth(&g.tax)
        .header("Idempotency-Key", key)
        .json(&json!({"amount": amount, "paid_on": "2025-12-01", "reference": format!("GZ-{key}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn the_ledgers_totals_equal_the_rolls() {
    let g = Guizhou::new().await;
    let (a, b, c) = (uscc(41), uscc(42), uscc(43));
    g.assessed(&a, "enterprise", "5").await;
    let rb = g.assessed(&b, "enterprise", "0").await;
    let rc = g.assessed(&c, "enterprise", "0").await;
    let payable_c = dec(&rc["levy_payable"]);
    assert!(dec(&rb["levy_payable"]) > Decimal::ONE, "{rb}");
    // B pays 1,000 of its levy; C pays 100 more than its levy (a refund due).
    pay_levy(&g, &b, "1000.00", "b-1").await;
    pay_levy(
        &g,
        &c,
        &format!("{:.2}", payable_c + Decimal::from(100)),
        "c-1",
    )
    .await;
    // A's reward approved and paid.
    assert_eq!(g.decide(&a, json!({"decision": "approve"})).await.0, 200);
    let (s, payout, _) = g
        .pay(
            &a,
            "p-1",
            json!({"paid_on": "2026-03-01", "reference": "ZJ-1"}),
        )
        .await;
    assert_eq!(s, 201);

    let q = "region=520000&levy_year=2025&as_of=2026-06-30";
    let (s, ledger) = g
        .app
        .call(
            Method::GET,
            &format!("/api/v1/ledger?{q}"),
            Some(&g.tax),
            None,
        )
        .await;
    assert_eq!(s, 200, "{ledger}");
    let (_, roll) = g
        .app
        .call(
            Method::GET,
            &format!("/api/v1/levy-roll?{q}"),
            Some(&g.tax),
            None,
        )
        .await;
    let rewards = g.roll().await;
    assert_eq!(line(&ledger, "levy_assessed"), &roll["totals"]["payable"]);
    assert_eq!(line(&ledger, "collected"), &roll["totals"]["paid"]);
    assert_eq!(
        line(&ledger, "rewards_approved"),
        &rewards["totals"]["approved"]
    );
    assert_eq!(line(&ledger, "rewards_paid"), &rewards["totals"]["paid"]);
    assert_eq!(line(&ledger, "rewards_paid"), &payout["amount"]);
    assert_eq!(line(&ledger, "refunds_due"), "100.00");
    let balance = dec(line(&ledger, "collected"))
        - dec(line(&ledger, "refunds_due"))
        - dec(line(&ledger, "rewards_paid"));
    assert_eq!(line(&ledger, "balance"), &format!("{balance:.2}"));
    assert_eq!(ledger["employers"], roll["total"]);
    // Every line that sums entries lists them, and they add up to it.
    for (kind, key, n) in [("payments", "collected", 2), ("payouts", "rewards_paid", 1)] {
        let (s, e) = g
            .app
            .call(
                Method::GET,
                &format!("/api/v1/ledger/entries?{q}&kind={kind}"),
                Some(&g.fed),
                None,
            )
            .await;
        assert_eq!(s, 200, "{e}");
        assert_eq!(&e["sum"], line(&ledger, key));
        assert_eq!(e["items"].as_array().unwrap().len(), n);
    }
    let csv = g
        .app
        .get_text(&format!("/api/v1/ledger?{q}&format=csv"), Some(&g.tax))
        .await;
    assert!(csv.contains("balance") && csv.contains(line(&ledger, "collected").as_str().unwrap()));
    // An employer does not read the fund's account.
    let emp = g.app.employer(&a).await;
    let (s, _) = g
        .app
        .call(
            Method::GET,
            &format!("/api/v1/ledger?{q}"),
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(s, 403);

    // The page: for a tax officer, the same figures; the drill-down lists the payments.
    person(&g.app, "tax-gz", Role::Tax, None, Some("520000")).await;
    let web = sign_in(&g.app, "tax-gz").await;
    let r = web.get("/ledger?region=520000&levy_year=2025").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("残疾人就业保障金收支"));
    assert!(html.contains(line(&ledger, "levy_assessed").as_str().unwrap()));
    let html = web
        .get("/ledger/entries?region=520000&levy_year=2025&kind=payments")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&b) && html.contains("GZ-b-1"), "{html}");
    person(&g.app, "emp-gz", Role::Employer, Some(&a), None).await;
    let web = sign_in(&g.app, "emp-gz").await;
    assert_eq!(web.get("/ledger").await.status(), 403);
    // Not signed in: to the sign-in page, and back.
    let r = crate::helpers::web::client()
        .get(g.app.url("/ledger"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}
