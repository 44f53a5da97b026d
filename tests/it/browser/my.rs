//! The employer's journeys in a real browser: invited by its activation mail, it
//! chooses a password, signs in, declares with two roster rows and submits; once the
//! federation has certified and the tax bureau assessed (by the API), its pages show
//! the API's figures. Also: five wrong passwords are throttled, a forged form changes
//! nothing, another employer's pages are not found, and every page of the public and
//! employer's service fits a 390 px phone and passes axe-core, photographed at 1280
//! and 390 px.

use super::{browser, Browser};
use crate::helpers::web::PASSWORD;
use crate::helpers::{spawn_app_with, uscc_with_check, TestApp, USCC_A};
use crate::pages::certificate;
use fantoccini::Locator;
use reqwest::Method;
use serde_json::{json, Value};

const YEAR: i32 = 2025;

/// The activation code in the mail queued for `uscc`'s registration.
async fn activation_code(app: &TestApp) -> String {
    let url = app.db_url.clone();
    let body = tokio::task::spawn_blocking(move || {
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().unwrap();
        quota_levy::db::outbox::all(&mut c)
            .unwrap()
            .into_iter()
            .find(|r| r.kind == "activation")
            .expect("an activation mail")
            .body_zh
    })
    .await
    .unwrap();
    let start = body.find("/activate/").expect("a link") + "/activate/".len();
    body[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// An app on a day of levy year 2025 with employer A registered with its contact
/// e-mail (so its activation mail is queued), and the admin's token.
async fn invited() -> (TestApp, String) {
    let pay = [
        ("PAYEE", "三门峡市湖滨区税务局（示例）"),
        ("BANK", "示例银行三门峡分行"),
        ("ACCOUNT", "0000 1111 2222 3333"),
        ("ETAX_URL", "https://etax.example.org/"),
        ("TAX_OFFICE", "国家税务总局三门峡市湖滨区税务局（示例）"),
        ("TAX_OFFICE_ADDRESS", "三门峡市湖滨区示例路 1 号"),
        ("TAX_OFFICE_PHONE", "0398-0000000"),
    ]
    .map(|(k, v)| (format!("QUOTA_LEVY__MAIL__PAYMENT__411200__{k}"), v));
    let env: Vec<(&str, &str)> = pay.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let app = spawn_app_with(&env).await;
    app.clock
        .set(chrono::NaiveDate::from_ymd_opt(YEAR, 5, 20).unwrap());
    let admin = app.admin().await;
    let (status, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": USCC_A, "name": "三门峡示例有限公司", "kind": "enterprise",
                        "region": "411202", "contact_email": "hr@example.cn"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    (app, admin)
}

async fn path_of(b: &Browser) -> String {
    let u = b.c().current_url().await.unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

async fn sign_in(b: &Browser, app: &TestApp, password: &str) {
    b.c().goto(&app.url("/login")).await.unwrap();
    b.fill("username", USCC_A).await;
    b.fill("password", password).await;
    b.click_through("form.account button[type=submit]").await;
}

/// Checks the page at `path`: no sideways scrolling at 390 px, no axe fault at either
/// width, photographed at both.
async fn check(b: &Browser, app: &TestApp, name: &str, path: &str) {
    b.c().goto(&app.url(path)).await.unwrap();
    b.width(1280).await;
    b.axe(name).await;
    b.shoot(name, 1280).await;
    b.width(390).await;
    b.fits(&format!("{name} at 390 px")).await;
    b.axe(&format!("{name} at 390 px")).await;
    b.shoot(name, 390).await;
    b.width(1280).await;
}

#[tokio::test]
async fn browser_an_invited_employer_declares_and_sees_its_assessment() {
    let Some(b) = browser("browser_an_invited_employer_declares_and_sees_its_assessment").await
    else {
        return;
    };
    let (app, _) = invited().await;
    let c = b.c();
    // The public pages, before anyone signs in.
    let request = json!({"region": "411202", "levy_year": YEAR, "employer": {"kind": "enterprise"},
                         "staff": {"average_headcount": "80"}, "average_wage": "60000"});
    let link = format!("/calculator?request={}", url_encode(&request.to_string()));
    for (name, path) in [
        ("home", "/"),
        ("calculator", "/calculator"),
        ("calculator-result", link.as_str()),
        ("login", "/login"),
        ("activate-code", "/activate"),
    ] {
        check(&b, &app, name, path).await;
    }

    // The activation mail's link: choose the password.
    let code = activation_code(&app).await;
    c.goto(&app.url(&format!("/activate/{code}")))
        .await
        .unwrap();
    check(&b, &app, "activate", &format!("/activate/{code}")).await;
    b.fill("password", PASSWORD).await;
    b.fill("confirm_password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
    assert_eq!(path_of(&b).await, "/account");
    // Sign out, and in again with the USCC as the username.
    b.click_through("form button[type=submit]").await;
    assert_eq!(path_of(&b).await, "/login");
    sign_in(&b, &app, PASSWORD).await;
    assert_eq!(path_of(&b).await, "/account");
    c.goto(&app.url("/my")).await.unwrap();
    assert_eq!(path_of(&b).await, format!("/my/{USCC_A}"));

    // The declaration, from the overview's link, with two roster rows.
    b.click_through(&format!("a[href=\"/my/{USCC_A}/declaration/{YEAR}\"]"))
        .await;
    let months = [200, 200, 202, 202, 204, 204, 206, 206, 208, 208, 210, 210];
    for (i, m) in months.iter().enumerate() {
        b.fill(&format!("m{}", i + 1), &m.to_string()).await;
    }
    b.fill("total_wages", "12480000.00").await;
    let (one, two) = (certificate(601, 3), certificate(602, 2));
    b.fill("e0_cert", &one).await;
    b.fill("e0_months", "1-12").await;
    b.fill("e0_contract", "36").await;
    b.fill("e0_wage", "3500").await;
    b.fill("e1_cert", &two).await;
    b.fill("e1_months", "4-12").await;
    b.fill("e1_contract", "12").await;
    b.click_through("button[value=\"submit\"].primary").await;
    assert_eq!(
        path_of(&b).await,
        format!("/my/{USCC_A}/declaration/{YEAR}?done=submitted")
    );
    assert!(b.text_of("p.notice").await.contains("申报已提交"));

    // The federation certifies, the tax bureau assesses.
    let base = format!("/api/v1/employers/{USCC_A}");
    let fed = app.federation(None).await;
    let tax = app.tax(None).await;
    let (s, v) = app
        .call(
            Method::POST,
            &format!("{base}/declarations/{YEAR}/certify"),
            Some(&fed),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, a) = app
        .call(
            Method::POST,
            &format!("{base}/assessments/{YEAR}"),
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let emp = app.employer(USCC_A).await;
    let (_, st) = app
        .call(
            Method::GET,
            &format!("{base}/statements/{YEAR}"),
            Some(&emp),
            None,
        )
        .await;

    // The assessment and the statement show the API's figures.
    b.click_through(&format!(
        "nav.my a[href=\"/my/{USCC_A}/assessment/{YEAR}\"]"
    ))
    .await;
    let levy = a["result"]["levy_payable"].as_str().unwrap();
    assert_ne!(levy, "0.00", "below the quota: a levy to pay");
    assert!(b.text_of("p.levy strong").await.starts_with(levy));
    let steps = c.find_all(Locator::Css("ol.steps li")).await.unwrap();
    assert_eq!(
        steps.len(),
        a["result"]["explanation"].as_array().unwrap().len()
    );
    let shown = c
        .find_all(Locator::Css("table.figures td.n"))
        .await
        .unwrap();
    let mut figures = Vec::new();
    for cell in shown {
        figures.push(cell.text().await.unwrap());
    }
    for key in [
        "average_headcount",
        "required",
        "disabled_counted",
        "fee_due",
    ] {
        let v = a["result"][key].as_str().unwrap();
        assert!(figures.iter().any(|f| f == v), "{key} {v} in {figures:?}");
    }
    b.click_through(&format!("nav.my a[href=\"/my/{USCC_A}/statement/{YEAR}\"]"))
        .await;
    assert_eq!(
        b.text_of("tr.main td.n").await,
        st["outstanding"].as_str().unwrap()
    );
    assert!(b.text_of("dl.pay").await.contains("示例银行三门峡分行"));

    // A published notice names the employer.
    let (s, n) = app
        .call(
            Method::POST,
            "/api/v1/notices",
            Some(&fed),
            Some(json!({"region": "411202", "levy_year": YEAR})),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let notice = format!("/notices/{}", n["id"]);

    // Every page, at a desktop's width and a phone's.
    let u = USCC_A;
    for (name, path) in [
        ("account", "/account".to_owned()),
        ("account-password", "/account/password".to_owned()),
        ("notices", "/notices".to_owned()),
        ("notice", notice.clone()),
        ("my-overview", format!("/my/{u}")),
        ("my-overview-en", format!("/my/{u}?lang=en")),
        ("my-declaration", format!("/my/{u}/declaration/{YEAR}")),
        ("my-roster", format!("/my/{u}/declaration/{YEAR}/roster")),
        ("my-assessment", format!("/my/{u}/assessment/{YEAR}")),
        ("my-statement", format!("/my/{u}/statement/{YEAR}")),
        (
            "my-payment-notice",
            format!("/my/{u}/statement/{YEAR}/notice"),
        ),
        ("my-notices", format!("/my/{u}/notices")),
        ("my-contact", format!("/my/{u}/contact")),
    ] {
        check(&b, &app, name, &path).await;
    }
    // The payment notice prints on one A4 page, without the site's navigation.
    c.goto(&app.url(&format!("/my/{u}/statement/{YEAR}/notice")))
        .await
        .unwrap();
    assert!(c.find(Locator::Css("nav.my")).await.is_err());
    assert!(b.text_of("article.pay-notice").await.contains(levy));
    let pdf = c
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert_eq!(pages, 1, "the payment notice prints on one A4 page");
    c.goto(&app.url(&format!("/my/{u}/notices"))).await.unwrap();
    assert!(
        b.text_of("table.cards").await.contains("未达到规定比例")
            || b.text_of("table.cards").await.contains("已达到规定比例")
    );
    b.click_through(&format!("a[href=\"{notice}\"]")).await;
    assert_eq!(path_of(&b).await, notice);

    // A fault on the form, beside its field, and the form still accessible.
    c.goto(&app.url(&format!("/my/{u}/declaration/{YEAR}")))
        .await
        .unwrap();
    b.fill("e0_months", "14").await;
    b.click_through("button[value=\"save\"].secondary").await;
    assert!(!b.text_of("#f-e0_months-err").await.is_empty());
    b.axe("declaration with a fault").await;
    b.width(390).await;
    b.fits("declaration with a fault at 390 px").await;
    b.shoot("my-declaration-fault", 390).await;
    c.clone().close().await.unwrap();
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Activates A's account by its mail, in the browser; leaves it signed in.
async fn activated(b: &Browser, app: &TestApp) {
    let code = activation_code(app).await;
    b.c()
        .goto(&app.url(&format!("/activate/{code}")))
        .await
        .unwrap();
    b.fill("password", PASSWORD).await;
    b.fill("confirm_password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
    assert_eq!(path_of(b).await, "/account");
}

#[tokio::test]
async fn browser_five_wrong_passwords_are_throttled() {
    let Some(b) = browser("browser_five_wrong_passwords_are_throttled").await else {
        return;
    };
    let (app, _) = invited().await;
    activated(&b, &app).await;
    b.click_through("form button[type=submit]").await;
    let mut said = String::new();
    for _ in 0..6 {
        sign_in(&b, &app, "not the password at all").await;
        said = b.text_of("main").await;
        if said.contains("登录失败次数过多") {
            break;
        }
        assert!(said.contains("用户名或密码不正确"), "{said}");
    }
    assert!(said.contains("登录失败次数过多"), "{said}");
    // Locked: the right password is refused too until the lockout ends.
    sign_in(&b, &app, PASSWORD).await;
    assert!(b.text_of("main").await.contains("登录失败次数过多"));
    b.c().clone().close().await.unwrap();
}

#[tokio::test]
async fn browser_a_forged_form_changes_nothing_and_other_employers_are_not_found() {
    let Some(b) =
        browser("browser_a_forged_form_changes_nothing_and_other_employers_are_not_found").await
    else {
        return;
    };
    let (app, admin) = invited().await;
    let other = uscc_with_check("91411202MA0000077");
    let (s, _) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": other, "name": "别家单位", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(s, 201);
    activated(&b, &app).await;
    let c = b.c();
    // A form another site could build: no CSRF token.
    c.goto(&app.url(&format!("/my/{USCC_A}/contact")))
        .await
        .unwrap();
    let forged = |path: String, fields: Value| async move {
        c.execute(
            "const f = document.createElement('form');
             f.method = 'post'; f.action = arguments[0];
             for (const [k, v] of Object.entries(arguments[1])) {
               const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;
               f.appendChild(i);
             }
             document.body.appendChild(f); f.submit();",
            vec![json!(path), fields],
        )
        .await
        .unwrap();
    };
    forged(
        format!("/my/{USCC_A}/contact"),
        json!({"contact_email": "evil@example.cn"}),
    )
    .await;
    wait_for_text(&b, "表单已失效").await;
    // From a page of the service again, so that the answer below is the new one.
    c.goto(&app.url(&format!("/my/{USCC_A}/contact")))
        .await
        .unwrap();
    forged(
        format!("/my/{USCC_A}/declaration/{YEAR}"),
        json!({"action": "submit", "average_headcount": "10", "average_wage": "50000", "disabled_count": "0"}),
    )
    .await;
    wait_for_text(&b, "表单已失效").await;
    let (_, e) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(e["contact_email"], "hr@example.cn");
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}/declarations/{YEAR}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 404, "nothing declared");

    // Another employer's pages are not found.
    for path in [
        format!("/my/{other}"),
        format!("/my/{other}/declaration/{YEAR}"),
        format!("/my/{other}/statement/{YEAR}"),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        let main = b.text_of("main").await;
        assert!(
            main.contains("未找到") && !main.contains("别家单位"),
            "{path}: {main}"
        );
    }
    b.axe("not found").await;
    c.clone().close().await.unwrap();
}

/// Waits (a bounded poll on the page, not a sleep) until the page shows `text`.
async fn wait_for_text(b: &Browser, text: &str) {
    let started = std::time::Instant::now();
    loop {
        let body = b
            .c()
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap_or_default();
        if body.contains(text) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the page never said {text}: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
