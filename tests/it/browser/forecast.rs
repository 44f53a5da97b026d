//! The employer's forecast in a real browser: signed in, it opens `/my/forecast`,
//! enters four months of the current year and one disabled employee, saves, and reads
//! the projection the API gives, with the month by which one hire reaches 1 %; a month
//! not entered yet is refused beside its field with nothing stored. Checked at 390 px
//! and with axe-core, photographed at 1280 and 390 px.

use super::{browser, Browser};
use crate::helpers::web::{person, PASSWORD};
use crate::helpers::{app_with_employer, TestApp, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;

/// Weight 1 (category 4, grade 3), of working age.
const CERT_W1: &str = "11010519850118002X43";

async fn path_of(b: &Browser) -> String {
    let u = b.c().current_url().await.unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

async fn fill_months(b: &Browser, months: &str) {
    for i in 1..=4 {
        b.fill(&format!("m{i}"), "150").await;
    }
    b.fill("total_wages", "3600000.00").await;
    b.fill("e0_cert", CERT_W1).await;
    b.fill("e0_months", months).await;
    b.fill("e0_contract", "36").await;
    b.fill("e0_wage", "3000").await;
}

async fn stored(app: &TestApp) -> u16 {
    let emp = app.employer(USCC_A).await;
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/forecasts/2026"),
            Some(&emp),
            None,
        )
        .await;
    status
}

#[tokio::test]
async fn browser_an_employer_forecasts_its_year() {
    let Some(b) = browser("browser_an_employer_forecasts_its_year").await else {
        return;
    };
    let (app, _) = app_with_employer().await;
    app.clock
        .set(chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap());
    person(&app, "hr-forecast", Role::Employer, Some(USCC_A), None).await;
    let c = b.c();
    c.goto(&app.url("/login")).await.unwrap();
    b.fill("username", "hr-forecast").await;
    b.fill("password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;

    c.goto(&app.url("/my/forecast")).await.unwrap();
    assert_eq!(path_of(&b).await, format!("/my/{USCC_A}/forecast"));
    b.check("my-forecast-empty").await;

    // A month after the four entered: refused beside its field, nothing stored.
    fill_months(&b, "1-5").await;
    b.click_through("#f-save").await;
    assert!(
        b.text_of("#f-e0_months-err").await.contains("5 月尚未填报"),
        "{}",
        b.text_of("section.faults").await
    );
    b.check("my-forecast-fault").await;
    assert_eq!(stored(&app).await, 404);

    fill_months(&b, "1-4").await;
    b.click_through("#f-save").await;
    assert_eq!(
        path_of(&b).await,
        format!("/my/{USCC_A}/forecast?done=saved")
    );
    // The API's projection, on the page: N 150, D 1, W 72,000.00 → 90,720.00.
    let emp = app.employer(USCC_A).await;
    let (_, v) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/forecasts/2026"),
            Some(&emp),
            None,
        )
        .await;
    let payable = v["projection"]["levy"]["levy_payable"].as_str().unwrap();
    assert_eq!(payable, "90720.00");
    assert!(b.text_of("#p-payable").await.contains(payable));
    assert!(b.text_of("#p-ratio").await.contains("0.67%"));
    let takes = b.text_of("#p-takes").await;
    assert!(takes.contains("6 月"), "{takes}");
    b.check("my-forecast-result").await;

    c.goto(&app.url(&format!("/my/{USCC_A}/forecast?lang=en")))
        .await
        .unwrap();
    let takes = b.text_of("#p-takes").await;
    assert!(takes.contains("June"), "{takes}");
    b.check("my-forecast-result-en").await;
}
