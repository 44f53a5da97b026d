//! A tax officer's day in a real browser: signs in, starts an assessment run on the
//! overview and watches it finish (the page follows the run by itself, without
//! reloading), imports a bank file twice (the second time records nothing new), picks
//! a debtor on the arrears list and prints its written demand. Every page fits a
//! 390 px phone, passes axe-core and is photographed into target/screenshots/.

use super::{browser, Browser};
use crate::helpers::fixtures::USCC_A;
use crate::tax_pages::{count_payments, statement, tax_app, PAGE};
use fantoccini::Locator;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Waits until `script` (a JavaScript expression) is true on the page, at most 20 s.
async fn until(b: &Browser, what: &str, script: &str) {
    let started = Instant::now();
    loop {
        let v = b
            .c()
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap();
        if v == Value::Bool(true) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: never");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(b: &Browser, css: &str) {
    b.c()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn browser_tax_officer_runs_imports_and_prints_a_demand() {
    let Some(b) = browser("browser_tax_officer_runs_imports_and_prints_a_demand").await else {
        return;
    };
    let (app, _) = tax_app(&[]).await;
    let c = b.c();

    // Signing in leads a tax officer to /tax.
    c.goto(&app.url("/login?next=%2Ftax%3Flevy_year%3D2025"))
        .await
        .unwrap();
    b.fill("username", "tax1").await;
    b.fill("password", crate::helpers::web::PASSWORD).await;
    click(&b, "form.account button[type=submit]").await;
    until(&b, "the overview", "location.pathname === '/tax'").await;
    assert!(b.text_of("main").await.contains("10000.00"));
    b.check("tax-overview").await;

    // The run started from the overview, followed by the page itself.
    click(&b, "form[action^='/tax/runs'] button").await;
    until(
        &b,
        "the run's page",
        "location.pathname.startsWith('/tax/runs/')",
    )
    .await;
    until(
        &b,
        "the run finished",
        "document.getElementById('run-status').dataset.status === 'finished'",
    )
    .await;
    // A run still waiting when the page opens: the page shows it running, then
    // finished once it is carried out, with no reload in between.
    let id = app.queue_assessment_run(2025, Some("411200")).await;
    c.goto(&app.url(&format!("/tax/runs/{id}"))).await.unwrap();
    assert_eq!(
        b.c()
            .execute(
                "return document.getElementById('run-status').dataset.status;",
                vec![]
            )
            .await
            .unwrap(),
        Value::from("running")
    );
    b.c()
        .execute("window.quotaLevyNotReloaded = true; return true;", vec![])
        .await
        .unwrap();
    b.check("tax-run-running").await;
    let runs = app.run_assessments().await;
    assert!(runs.iter().any(|r| r.id == id && r.status == "finished"));
    until(
        &b,
        "the page shows the run finished",
        "document.getElementById('run-status').dataset.status === 'finished'",
    )
    .await;
    assert_eq!(
        b.c()
            .execute("return window.quotaLevyNotReloaded === true;", vec![])
            .await
            .unwrap(),
        Value::Bool(true),
        "the page updated itself"
    );
    assert!(b.text_of("#run-status").await.contains("已完成"));
    b.check("tax-run-finished").await;

    // The bank file, twice.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.csv");
    std::fs::write(
        &path,
        format!(
            "统一社会信用代码,缴款金额,缴款日期,银行流水号\r\n{USCC_A},3000.00,2026-01-10,B-0001\r\n{USCC_A},1000.00,2026-01-12,B-0002\r\n"
        ),
    )
    .unwrap();
    c.goto(&app.url("/tax/payments/import?levy_year=2025"))
        .await
        .unwrap();
    b.check("tax-import-form").await;
    for (imported, already) in [("2", "0"), ("0", "2")] {
        c.find(Locator::Css("#f-file"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
        b.c()
            .execute("window.quotaLevyBefore = true; return true;", vec![])
            .await
            .unwrap();
        click(&b, "form[enctype] button[type=submit]").await;
        until(
            &b,
            "the report",
            "window.quotaLevyBefore === undefined && document.readyState === 'complete' \
             && document.getElementById('c-imported') !== null",
        )
        .await;
        assert_eq!(b.text_of("#c-imported").await, imported);
        assert_eq!(b.text_of("#c-already").await, already);
    }
    assert_eq!(count_payments(&app), 2);
    b.check("tax-import-again").await;

    // The employer page shows what the API says.
    c.goto(&app.url(PAGE)).await.unwrap();
    let s = statement(&app, None).await;
    assert_eq!(
        b.text_of("#s-outstanding").await,
        s["outstanding"].as_str().unwrap()
    );
    b.check("officer-employer").await;

    // The demand: picked on the arrears list, issued and printed.
    c.goto(&app.url("/tax/arrears?levy_year=2025"))
        .await
        .unwrap();
    b.check("tax-arrears").await;
    click(&b, &format!("#pick-{USCC_A}")).await;
    click(&b, "button.primary[name=only]").await;
    until(&b, "the letters", "location.pathname === '/tax/demands'").await;
    let letter = b.text_of("article.demand").await;
    for part in [
        s["outstanding_principal"].as_str().unwrap(),
        s["outstanding_surcharge"].as_str().unwrap(),
        "第二十七条",
        "国家税务总局三门峡市税务局",
    ] {
        assert!(letter.contains(part), "{part}: {letter}");
    }
    b.check("tax-demand").await;
    // Printed on A4, one letter a page, without the site's chrome.
    let printed = b
        .c()
        .execute(
            "const rules = [...document.styleSheets].flatMap(x => [...x.cssRules]);
             const s = rules.map(r => r.cssText).join(' ');
             return [rules.some(r => r instanceof CSSPageRule && /size: a4/i.test(r.cssText)),
                     s.includes('break-after: page')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(printed, serde_json::json!([true, true]));
    b.c().clone().close().await.unwrap();
}
