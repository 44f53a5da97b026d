//! The reset of a password in a real browser: an administrator sends an employer's user
//! a reset link from the user's page, the mail reaches the tests' SMTP server, and the
//! user, in a browser of its own, opens the link, is refused a confirmation that does not
//! match (the fault beside the field), then sets the new password: the old one no longer
//! signs in, the new one does, and the link, used, is refused. The reset page is checked
//! at 390 px for sideways scrolling and with axe-core in each of its states, and
//! photographed into `target/screenshots/`.

use super::Browser;
use crate::helpers::smtp::text_part;
use crate::helpers::web::{person, PASSWORD};
use crate::helpers::{spawn_app_with_smtp, TestApp, USCC_A};
use fantoccini::Locator;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::json;

const NEW_PASSWORD: &str = "a new passphrase 四五六";

async fn path_of(b: &Browser) -> String {
    b.c().current_url().await.unwrap().path().to_owned()
}

/// Signs `username` in with `password` through the login form; where it lands.
async fn sign_in(b: &Browser, app: &TestApp, username: &str, password: &str) -> String {
    b.c().goto(&app.url("/login")).await.unwrap();
    b.fill("username", username).await;
    b.fill("password", password).await;
    b.click_through("form.account button[type=submit]").await;
    path_of(b).await
}

#[tokio::test]
async fn browser_an_administrator_sends_a_reset_link_and_the_user_chooses_a_new_password() {
    let Some(b) = super::browser(
        "browser_an_administrator_sends_a_reset_link_and_the_user_chooses_a_new_password",
    )
    .await
    else {
        return;
    };
    let app = spawn_app_with_smtp(&[]).await;
    let token = app.admin().await;
    let (status, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&token),
            Some(
                json!({"uscc": USCC_A, "name": "重设示例有限公司", "kind": "enterprise",
                        "region": "411202", "contact_email": "hr@reset.example.cn"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    person(&app, USCC_A, Role::Employer, Some(USCC_A), None).await;
    person(&app, "root", Role::Admin, None, None).await;

    // The administrator sends the link from the user's page.
    assert_eq!(sign_in(&b, &app, "root", PASSWORD).await, "/account");
    let c = b.c();
    c.goto(&app.url(&format!("/admin/users/{USCC_A}")))
        .await
        .unwrap();
    b.click_through("form[action*=\"/reset-link\"] button[type=submit]")
        .await;
    let notice = b.text_of("p.notice").await;
    assert!(
        notice.contains("重设密码链接已发往 hr@reset.example.cn"),
        "{notice}"
    );
    b.check("admin-user-reset-sent").await;

    let report = app.send_mail().await;
    let messages = app.smtp.as_ref().unwrap().messages();
    let mail = messages
        .iter()
        .find(|m| text_part(m, "zh-CN").contains("/reset/"))
        .unwrap_or_else(|| panic!("no reset mail among {messages:?} ({report:?})"));
    assert!(mail["rcpt_tos"].to_string().contains("hr@reset.example.cn"));
    let zh = text_part(mail, "zh-CN");
    let start = zh.find("/reset/").expect("a reset link");
    let link: String = zh[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect();
    assert_eq!(link.len(), "/reset/".len() + 64, "{link}");

    // The user opens the link in a browser of its own: no administrator's session.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url(&link)).await.unwrap();
    assert_eq!(b.text_of("h1").await, "设置新密码");
    // A user without a display name is named by its username, once.
    let main = b.text_of("main").await;
    assert_eq!(main.matches(USCC_A).count(), 1, "{main}");
    assert!(main.contains(&format!("用户名 {USCC_A}")), "{main}");
    b.check("reset").await;

    // A confirmation that differs: the form again, the fault beside its field.
    b.fill("password", NEW_PASSWORD).await;
    b.fill("confirm_password", "a new passphrase 四五七").await;
    b.click_through("form.account button[type=submit]").await;
    assert_eq!(path_of(&b).await, link);
    assert_eq!(
        b.text_of("#confirm_password-error").await,
        "两次输入的密码不一致"
    );
    let confirm = c.find(Locator::Css("#confirm_password")).await.unwrap();
    assert_eq!(
        confirm.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        confirm.attr("aria-describedby").await.unwrap().as_deref(),
        Some("confirm_password-error")
    );
    assert!(c.find(Locator::Css("#password-error")).await.is_err());
    assert!(b.text_of("p.error").await.contains("密码尚未设置"));
    b.check("reset-fault").await;

    // The same two passwords: set.
    b.fill("password", NEW_PASSWORD).await;
    b.fill("confirm_password", NEW_PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
    assert_eq!(b.text_of("h1").await, "密码已设置");
    assert!(b.text_of("main").await.contains(USCC_A));
    b.check("reset-done").await;

    // The old password no longer signs in, the new one does.
    assert_eq!(sign_in(&b, &app, USCC_A, PASSWORD).await, "/login");
    assert!(b.text_of("main").await.contains("用户名或密码不正确"));
    assert_eq!(sign_in(&b, &app, USCC_A, NEW_PASSWORD).await, "/account");

    // The link, used, is refused.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url(&link)).await.unwrap();
    assert_eq!(b.text_of("h1").await, "无法重设密码");
    assert!(b.text_of("main").await.contains("已使用过"));
    assert!(c.find(Locator::Css("form.account")).await.is_err());
    b.check("reset-used").await;
    b.c().clone().close().await.unwrap();
}
