//! When the surcharge starts (`collection.surcharge_from`, docs/rules.md §6) is one rule
//! for every view: on the same day the statement, the levy roll (JSON and CSV) and the
//! pay and overdue reminders show the same surcharge and say the same of what started
//! it, from the due date and under the written demand rule. Both backends.

use crate::helpers::fixtures::USCC_A;
use crate::helpers::web::WebSession;
use crate::helpers::TestApp;
use crate::tax_pages::{d, statement, tax_app};
use diesel::prelude::*;
use quota_levy::db::outbox::{self, Reminder};
use reqwest::Method;
use serde_json::Value;

/// Employer A assessed at 10,000.00, due 2025-12-31, with a contact address, the
/// surcharge started as `trigger` says; a tax officer of 三门峡 signed in.
async fn setup(trigger: &str) -> (TestApp, WebSession) {
    let (app, web) = tax_app(&[("QUOTA_LEVY__COLLECTION__SURCHARGE_FROM", trigger)]).await;
    {
        use quota_levy::db::schema::employers::dsl::{contact_email, employers, uscc};
        let pool = app.pool();
        let mut c = pool.conn().unwrap();
        let n = diesel::update(employers.filter(uscc.eq(USCC_A)))
            .set(contact_email.eq(Some("hr@example.cn")))
            .execute(&mut *c)
            .unwrap();
        assert_eq!(n, 1);
    }
    (app, web)
}

/// The roll's line of employer A on the app's day, JSON and CSV.
async fn roll_line(app: &TestApp) -> (Value, String) {
    let tax = app.tax(None).await;
    let v: Value = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025",
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1, "{v}");
    let csv = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&format=csv",
            Some(&tax),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(USCC_A))
        .unwrap_or_else(|| panic!("{csv}"))
        .to_owned();
    (v["items"][0].clone(), line)
}

/// Plans the reminders due on `day` and returns those newly queued of `kind`.
async fn planned(app: &TestApp, day: &str, kind: &str) -> Vec<Reminder> {
    app.clock.set(d(day));
    let before: Vec<i64> = queued(app).await.iter().map(|r| r.id).collect();
    app.plan_reminders().await;
    queued(app)
        .await
        .into_iter()
        .filter(|r| r.kind == kind && !before.contains(&r.id))
        .collect()
}

async fn queued(app: &TestApp) -> Vec<Reminder> {
    let pool = app.pool();
    tokio::task::spawn_blocking(move || outbox::all(&mut pool.conn().unwrap()).unwrap())
        .await
        .unwrap()
}

/// The statement, the roll and an overdue mail of the same day agree on the figures.
fn agree(s: &Value, row: &Value, csv: &str, mail: &Reminder, as_of: &str) {
    let surcharge = s["surcharge"].as_str().unwrap();
    let outstanding = s["outstanding"].as_str().unwrap();
    assert_eq!(row["surcharge"], surcharge, "roll vs statement: {row} {s}");
    assert_eq!(
        row["outstanding"], outstanding,
        "roll vs statement: {row} {s}"
    );
    assert!(
        csv.contains(&format!(",10000.00,0.00,{surcharge},{outstanding},")),
        "CSV vs statement: {csv}"
    );
    assert!(
        mail.body_zh
            .contains(&format!("滞纳金（截至{as_of}）：{surcharge} 元")),
        "{}",
        mail.body_zh
    );
    assert!(
        mail.body_zh
            .contains(&format!("合计尚欠：{outstanding} 元")),
        "{}",
        mail.body_zh
    );
    assert!(
        mail.body_en
            .contains(&format!("Surcharge (up to {as_of}):  {surcharge} yuan")),
        "{}",
        mail.body_en
    );
}

#[tokio::test]
async fn from_the_due_date_the_roll_the_mails_and_the_statement_agree() {
    let (app, _web) = setup("due_date").await;
    // A week before the due date: the surcharge will start after it.
    let pay = planned(&app, "2025-12-24", "pay").await;
    assert_eq!(pay.len(), 1);
    assert!(
        pay[0]
            .body_zh
            .contains("逾期未缴的，自缴款期限次日起按日加收"),
        "{}",
        pay[0].body_zh
    );
    assert!(!pay[0].body_zh.contains("催缴通知书"), "{}", pay[0].body_zh);

    // 30 days overdue: 30 × 5‰ × 10,000 = 1,500.00, in every view.
    let mail = planned(&app, "2026-01-30", "overdue").await;
    assert_eq!(mail.len(), 1);
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge_trigger"], "due_date");
    assert_eq!(s["surcharge"], "1500.00", "{s}");
    assert_eq!(s["surcharge_from"], "2026-01-01");
    let (row, csv) = roll_line(&app).await;
    agree(&s, &row, &csv, &mail[0], "2026-01-30");
    assert!(
        mail[0].body_zh.contains("滞纳金自2026-01-01起按日加收"),
        "{}",
        mail[0].body_zh
    );
    assert!(
        mail[0]
            .body_en
            .contains("From 2026-01-01, a surcharge of 5 per mille"),
        "{}",
        mail[0].body_en
    );

    // A demand issued changes nothing under this rule: 90 days, 4,500.00.
    app.clock.set(d("2026-02-01"));
    let mail = planned(&app, "2026-03-31", "overdue").await;
    assert_eq!(mail.len(), 1);
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge"], "4500.00", "{s}");
    let (row, csv) = roll_line(&app).await;
    agree(&s, &row, &csv, &mail[0], "2026-03-31");
}

#[tokio::test]
async fn under_the_demand_rule_the_roll_the_mails_and_the_statement_agree() {
    let (app, web) = setup("written_demand").await;
    // The pay mail says the surcharge starts only after a written demand's deadline.
    let pay = planned(&app, "2025-12-24", "pay").await;
    assert_eq!(pay.len(), 1);
    assert!(
        pay[0]
            .body_zh
            .contains("催缴通知书限期届满仍未缴纳的，自限期届满次日起按日加收"),
        "{}",
        pay[0].body_zh
    );
    assert!(
        !pay[0].body_zh.contains("自缴款期限次日起"),
        "{}",
        pay[0].body_zh
    );
    assert!(
        pay[0].body_en.contains("written demand"),
        "{}",
        pay[0].body_en
    );

    // 30 days overdue, no demand: nothing has accrued, and every view says so.
    let mail = planned(&app, "2026-01-30", "overdue").await;
    assert_eq!(mail.len(), 1);
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge_trigger"], "written_demand");
    assert_eq!(s["surcharge"], "0.00", "{s}");
    assert_eq!(s["outstanding"], "10000.00");
    let (row, csv) = roll_line(&app).await;
    agree(&s, &row, &csv, &mail[0], "2026-01-30");
    assert!(
        mail[0].body_zh.contains("尚未发出催缴通知书，不加收滞纳金"),
        "the statement's words: {}",
        mail[0].body_zh
    );
    assert!(
        mail[0]
            .body_en
            .contains("no written demand has been issued, so no surcharge accrues"),
        "{}",
        mail[0].body_en
    );
    assert!(
        !mail[0].body_zh.contains("在缴清之前每日增加"),
        "{}",
        mail[0].body_zh
    );

    // The demand of 2026-02-01 gives a deadline of 2026-02-16; 90 days after the due
    // date the surcharge has run from 2026-02-17: 43 days × 50.00 = 2,150.00.
    app.clock.set(d("2026-02-01"));
    let r = web
        .post_form("/tax/demands", &[("levy_year", "2025"), ("only", USCC_A)])
        .await;
    assert_eq!(r.status(), 303);
    let mail = planned(&app, "2026-03-31", "overdue").await;
    assert_eq!(mail.len(), 1);
    let s = statement(&app, None).await;
    assert_eq!(s["surcharge"], "2150.00", "{s}");
    assert_eq!(s["surcharge_from"], "2026-02-17");
    let (row, csv) = roll_line(&app).await;
    agree(&s, &row, &csv, &mail[0], "2026-03-31");
    assert!(
        mail[0].body_zh.contains("滞纳金自2026-02-17起按日加收"),
        "{}",
        mail[0].body_zh
    );
}
