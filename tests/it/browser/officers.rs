//! The officers' pages in a real browser: an inspector filters the violator list and
//! downloads its CSV; an administrator invites an employer from the user form, the
//! activation mail reaches the tests' SMTP server and its link opens the activation
//! page. Each page is checked at 390 px for sideways scrolling and with axe-core, and
//! photographed into `target/screenshots/`.

use super::{browser, Browser};
use crate::helpers::smtp::text_part;
use crate::helpers::web::{person, PASSWORD};
use crate::helpers::{assessed_10000, spawn_app_with_smtp, uscc_with_check, TestApp, USCC_A};
use fantoccini::Locator;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::json;

/// The page's address once it satisfies `ok`: a click on a submit button returns
/// before the browser has loaded the answer, so the test polls for it.
async fn wait_for_url(b: &Browser, what: &str, ok: impl Fn(&str) -> bool) {
    let started = std::time::Instant::now();
    loop {
        let url = b.c().current_url().await.unwrap().to_string();
        if ok(&url) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{what}: still at {url}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Signs `username` in through the login form of the browser.
async fn browser_sign_in(b: &Browser, app: &TestApp, username: &str) {
    let c = b.c();
    c.goto(&app.url("/login")).await.unwrap();
    b.fill("username", username).await;
    b.fill("password", PASSWORD).await;
    c.find(Locator::Css("form button[type=\"submit\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(b, "signed in", |u| u.contains("/account")).await;
}

/// The browser's session cookie, for fetching a download as that browser would.
async fn session_cookie(b: &Browser) -> String {
    let cookie = b
        .c()
        .get_named_cookie("ql_session")
        .await
        .expect("the session cookie");
    format!("ql_session={}", cookie.value())
}

#[tokio::test]
async fn browser_inspector_filters_the_list_and_downloads_the_csv() {
    let Some(b) = browser("browser_inspector_filters_the_list_and_downloads_the_csv").await else {
        return;
    };
    let (app, _, _) = assessed_10000().await;
    person(&app, "insp", Role::Inspector, None, Some("411200")).await;
    browser_sign_in(&b, &app, "insp").await;
    let c = b.c();
    c.goto(&app.url("/inspector?as_of=2026-01-30"))
        .await
        .unwrap();
    b.fill("levy_year", "2025").await;
    c.find(Locator::Css("#f-kind"))
        .await
        .unwrap()
        .select_by_value("overdue")
        .await
        .unwrap();
    // Waiting for the filtered page to load before reading it: reading straight after
    // the click could see the unfiltered list still on screen.
    b.click_through("form.filters button[type=\"submit\"]")
        .await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or_default().contains("kind=overdue"),
        "{url}"
    );
    let rows = c
        .find_all(Locator::Css("table.violators tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let text = rows[0].text().await.unwrap();
    assert!(text.contains(USCC_A) && text.contains("逾期未缴"), "{text}");
    b.check("inspector-list").await;

    let href = c
        .find(Locator::Css("a.download-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let csv = reqwest::Client::new()
        .get(app.url(&href))
        .header("cookie", session_cookie(&b).await)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}统一社会信用代码"), "{csv}");
    assert!(csv.contains(USCC_A) && csv.contains("overdue"), "{csv}");

    c.goto(&app.url("/inspector?lang=en&levy_year=2025&as_of=2026-01-30"))
        .await
        .unwrap();
    b.check("inspector-list-en").await;
    b.c().clone().close().await.unwrap();
}

#[tokio::test]
async fn browser_administrator_invites_an_employer_whose_mail_opens_the_activation() {
    let Some(b) =
        browser("browser_administrator_invites_an_employer_whose_mail_opens_the_activation").await
    else {
        return;
    };
    let app = spawn_app_with_smtp(&[]).await;
    let admin = app.token(Role::Admin, None, None).await;
    let uscc = uscc_with_check("91411202MA0000099");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "浏览器邀请有限公司", "kind": "enterprise",
                        "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    person(&app, "root", Role::Admin, None, None).await;
    browser_sign_in(&b, &app, "root").await;
    let c = b.c();
    c.goto(&app.url("/admin")).await.unwrap();
    b.check("admin-home").await;
    c.goto(&app.url("/admin/users/new")).await.unwrap();
    b.check("admin-user-new").await;
    c.find(Locator::Css("#f-role"))
        .await
        .unwrap()
        .select_by_value("employer")
        .await
        .unwrap();
    c.find(Locator::Css("#f-mode-invite"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.fill("employer", &uscc).await;
    b.fill("email", "hr@browser.example.cn").await;
    c.find(Locator::Css("form.admin-user button[type=\"submit\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&b, "invited", |u| u.ends_with("/admin/users")).await;
    assert_eq!(b.text_of("h1").await, "邀请已发出");

    let report = app.send_mail().await;
    assert_eq!(report.sent, 1, "{report:?}");
    let messages = app.smtp.as_ref().unwrap().messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["rcpt_tos"]
        .to_string()
        .contains("hr@browser.example.cn"));
    let zh = text_part(&messages[0], "zh-CN");
    let start = zh.find("/activate/").expect("an activation link");
    let path: String = zh[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect();
    c.goto(&app.url(&path)).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("浏览器邀请有限公司"), "{page}");
    assert_eq!(b.text_of("h1").await, "激活账户");

    // The other administration pages, as they look.
    c.goto(&app.url("/admin/users")).await.unwrap();
    b.check("admin-users").await;
    c.goto(&app.url("/admin/audit")).await.unwrap();
    b.check("admin-audit").await;
    c.goto(&app.url("/admin/tokens")).await.unwrap();
    b.check("admin-tokens").await;
    c.goto(&app.url("/admin/policies/compare?region=410000&as_of=2021-06-01&as_of_b=2022-06-01"))
        .await
        .unwrap();
    b.check("admin-policy-compare").await;
    c.goto(&app.url("/admin/policies?region=411202&lang=en"))
        .await
        .unwrap();
    b.check("admin-policy-en").await;
    b.c().clone().close().await.unwrap();
}
