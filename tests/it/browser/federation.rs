//! The federation's pages in a real browser: an officer signs in through the form
//! (coming back to the queue it asked for), ticks several declarations of the queue and
//! certifies them with one button, decides a certificate dispute and records an objection
//! to a notice. Every page is
//! checked at 390 px for sideways scrolling and with axe-core, and photographed at 1280
//! and 390 px into `target/screenshots/`.

use super::{browser, Browser};
use crate::helpers::web::{person, PASSWORD};
use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, TestApp, USCC_A};
use fantoccini::Locator;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Registers an employer of 湖滨区 and files `body` for it.
async fn filed(app: &TestApp, admin: &str, uscc: &str, name: &str, body: Option<Value>) {
    if uscc != USCC_A {
        let r = app
            .send(
                Method::POST,
                "/api/v1/employers",
                Some(admin),
                Some(json!({"uscc": uscc, "name": name, "kind": "enterprise", "region": "411202"})),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let emp = app.token(Role::Employer, Some(uscc), None).await;
    let path = format!("/api/v1/employers/{uscc}/declarations/2025");
    let body = body.unwrap_or_else(declaration_body);
    assert_eq!(
        app.send(Method::PUT, &path, Some(&emp), Some(body))
            .await
            .status(),
        201
    );
    assert_eq!(
        app.send(Method::POST, &format!("{path}/submit"), Some(&emp), None)
            .await
            .status(),
        200
    );
}

/// Waits (on the condition, not a clock) until the page shown has `css`: a form's
/// answer is read only once the browser has loaded it.
pub(super) async fn shown(b: &Browser, css: &str) {
    b.c()
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never shown: {e}"));
}

/// Waits until the page's heading is `text`.
pub(super) async fn heading(b: &Browser, text: &str) {
    b.c()
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(Locator::XPath(&format!("//h1[normalize-space()='{text}']")))
        .await
        .unwrap_or_else(|e| panic!("heading {text} never shown: {e}"));
}

pub(super) async fn click(b: &Browser, css: &str) {
    b.c()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn browser_an_officer_certifies_a_queue_and_decides_a_dispute() {
    let Some(b) = browser("browser_an_officer_certifies_a_queue_and_decides_a_dispute").await
    else {
        return;
    };
    let (app, admin) = app_with_employer().await;
    let second = uscc_with_check("91411200MA0000077");
    let third = uscc_with_check("91411202MA0000303");
    // A and the second both declare the same person (a dispute); the third a count.
    filed(&app, &admin, USCC_A, "示例公司", None).await;
    filed(&app, &admin, &second, "乙商贸有限公司", None).await;
    let count = json!({"staff": {"average_headcount": "100"}, "average_wage": "33333.33", "disabled_count": "1"});
    filed(&app, &admin, &third, "丙制造有限公司", Some(count)).await;
    person(&app, "fed-browser", Role::Federation, None, Some("411200")).await;

    // Asking for the queue leads to the sign-in, which comes back to it.
    b.c()
        .goto(&app.url("/federation?levy_year=2025"))
        .await
        .unwrap();
    b.fill("username", "fed-browser").await;
    b.fill("password", PASSWORD).await;
    click(&b, "form.account button[type=submit]").await;
    heading(&b, "审核队列").await;
    b.check("federation-queue").await;

    // The roster of one, numbers masked.
    click(&b, "table.queue tbody tr:first-child a").await;
    shown(&b, "table.roster").await;
    let roster = b.text_of("table.roster").await;
    assert!(roster.contains("1101************2X42"), "{roster}");
    b.check("federation-declaration").await;
    b.c().back().await.unwrap();
    shown(&b, "#pick-2").await;

    // Tick the first and the third, certify them with one button.
    for n in [0, 2] {
        click(&b, &format!("#pick-{n}")).await;
    }
    click(&b, "form button.primary").await;
    heading(&b, "审核结果").await;
    let report = b.text_of("ul.report").await;
    assert_eq!(report.matches("已审核：").count(), 2, "{report}");
    b.check("federation-certified").await;

    // The dispute: name the second employer.
    b.c()
        .goto(&app.url("/federation/disputes?levy_year=2025"))
        .await
        .unwrap();
    b.check("federation-disputes").await;
    let radios = b
        .c()
        .find_all(Locator::Css("input[name=counted_by]"))
        .await
        .unwrap();
    assert_eq!(radios.len(), 2);
    for r in radios {
        if r.attr("value").await.unwrap().as_deref() == Some(second.as_str()) {
            r.click().await.unwrap();
        }
    }
    b.fill("note", "劳动合同在乙商贸").await;
    click(&b, "section.dispute button.primary").await;
    heading(&b, "已处理").await;
    b.c()
        .goto(&app.url("/federation/disputes?levy_year=2025&lang=en"))
        .await
        .unwrap();
    assert!(b.text_of("section.dispute h2").await.contains("decided"));
    b.check("federation-disputes-en").await;

    // A notice (the claimants were re-assessed by the decision; the third is assessed
    // now): previewed, published through the form, and an objection recorded on its
    // register.
    let tax = app.tax(None).await;
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{third}/assessments/2025"),
            Some(&tax),
            None,
        )
        .await;
    assert!(r.status().is_success());
    b.c().goto(&app.url("/federation/notices")).await.unwrap();
    b.check("federation-notices").await;
    b.fill("levy_year", "2025").await;
    click(&b, "form.account button.primary").await;
    heading(&b, "公示预览").await;
    assert!(b.text_of("table.cards").await.contains("丙制造有限公司"));
    b.check("federation-preview").await;
    click(&b, "form[action$='/publish'] button.primary").await;
    shown(&b, "form[action$='/objections']").await;
    b.fill("objector", "某某残疾人服务社").await;
    b.fill("claim", "该单位实际安排的残疾人多于公示人数").await;
    click(&b, "form[action$='/objections'] button").await;
    shown(&b, "section.objection").await;
    assert!(b
        .text_of("section.objection")
        .await
        .contains("某某残疾人服务社"));
    b.check("federation-register").await;

    // What the API says: two certified, the dispute decided for the second employer.
    let tok = app.federation(None).await;
    for (u, want) in [
        (USCC_A, "certified"),
        (&third, "certified"),
        (&second, "submitted"),
    ] {
        let v: Value = app
            .send(
                Method::GET,
                &format!("/api/v1/employers/{u}/declarations/2025"),
                Some(&tok),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], want, "{u}");
    }
    b.c().clone().close().await.unwrap();
}
