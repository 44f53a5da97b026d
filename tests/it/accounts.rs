//! Accounts of people: signing in through the HTML form, the same walls as an API token
//! of the same role and scope, CSRF on every form POST, the throttle of failed
//! sign-ins, sessions that end when the user is disabled, and employers' activation by
//! mail and letter. No password appears in the audit log or in the CLI's output.

use crate::helpers::web::{client, csrf_of, pair, set_cookie, PASSWORD};
use crate::helpers::{spawn_app, TestApp};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::json;

const USCC_A: &str = "91350100M000100Y43";

/// A valid USCC from its first 17 characters (GB 32100-2015 check character), kept
/// here so that this file needs of the helpers only the app itself.
fn uscc_with_check(first17: &str) -> String {
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

async fn register(app: &TestApp, admin: &str, uscc: &str, email: Option<&str>) {
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(admin),
            Some(
                json!({"uscc": uscc, "name": "三门峡账户测试有限公司", "kind": "enterprise",
                        "region": "411202", "contact_email": email}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

/// Runs the binary on the test's database; returns (exit code, stdout, stderr).
fn cli(db_url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_quota-levy"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUOTA_LEVY__") {
            c.env_remove(k);
        }
    }
    let mut child = c
        .env("QUOTA_LEVY__DATABASE__URL", db_url)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn cli_async(app: &TestApp, args: &[&str], stdin: &str) -> (i32, String, String) {
    let url = app.db_url.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&url, &refs, &stdin)
    })
    .await
    .unwrap()
}

/// Signs in through the form: GET /login for the token and its cookie, POST it back.
async fn sign_in(app: &TestApp, username: &str, password: &str, query: &str) -> reqwest::Response {
    let c = client();
    let form = c
        .get(app.url(&format!("/login{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = set_cookie(&form, "ql_csrf").expect("a CSRF cookie");
    let html = form.text().await.unwrap();
    for label in ["<label for=\"username\">", "<label for=\"password\">"] {
        assert!(html.contains(label), "every input is labelled: {html}");
    }
    c.post(app.url(&format!("/login{query}")))
        .header("cookie", pair(&csrf_cookie))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// The session cookie of a successful sign-in.
async fn session_of(app: &TestApp, username: &str, password: &str) -> String {
    let r = sign_in(app, username, password, "").await;
    assert_eq!(r.status(), 303, "signed in");
    assert_eq!(r.headers()["location"], "/account");
    pair(&set_cookie(&r, "ql_session").expect("a session cookie"))
}

async fn get_with(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    client()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

fn audit_text(db_url: &str) -> String {
    use diesel::prelude::*;
    use quota_levy::db::schema::audit_log;
    let db = crate::helpers::open_db(db_url);
    let mut c = db.conn().unwrap();
    let rows: Vec<(String, String, Option<String>, Option<String>)> = audit_log::table
        .select((
            audit_log::action,
            audit_log::entity_id,
            audit_log::before_json,
            audit_log::after_json,
        ))
        .load(&mut *c)
        .unwrap();
    format!("{rows:?}")
}

async fn employer_user(app: &TestApp) -> String {
    let admin = app.token(Role::Admin, None, None).await;
    let b = uscc_with_check("91411202MA0000009");
    register(app, &admin, USCC_A, None).await;
    register(app, &admin, &b, None).await;
    let (code, out, err) = cli_async(
        app,
        &[
            "user",
            "create",
            "emp-a",
            "--role",
            "employer",
            "--employer",
            USCC_A,
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created user emp-a"), "{out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    b
}

#[tokio::test]
async fn an_employer_signed_in_by_the_form_sees_its_own_data_and_no_other() {
    let app = spawn_app().await;
    let other = employer_user(&app).await;
    let r = sign_in(&app, "emp-a", PASSWORD, "").await;
    assert_eq!(r.status(), 303);
    let set = set_cookie(&r, "ql_session").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "http: no Secure flag: {set}");
    let value = pair(&set);
    assert_eq!(
        value.len(),
        "ql_session=".len() + 64,
        "a 256-bit token only"
    );
    let cookie = value;

    let own = get_with(&app, &format!("/api/v1/employers/{USCC_A}"), &cookie).await;
    assert_eq!(own.status(), 200);
    let theirs = get_with(&app, &format!("/api/v1/employers/{other}"), &cookie).await;
    assert_eq!(theirs.status(), 404);
    let list = get_with(&app, "/api/v1/employers", &cookie).await;
    let body: serde_json::Value = list.json().await.unwrap();
    assert!(!body.to_string().contains(&other), "{body}");
    let page = get_with(&app, "/account", &cookie).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("emp-a"));

    // The same cookie changes nothing through the API without the session's token.
    let r = client()
        .patch(app.url(&format!("/api/v1/employers/{USCC_A}")))
        .header("cookie", &cookie)
        .json(&json!({"name": "改名"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = get_with(&app, "/api/v1/employers/x", "ql_session=00").await;
    assert_eq!(r.status(), 401, "no cookie of ours: no principal");
    let secure = crate::helpers::serve_also(
        &app,
        &[(
            "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
            "https://levy.example.gov.cn",
        )],
    );
    let r = client()
        .get(format!("{secure}/login"))
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&r, "ql_csrf").unwrap().contains("; Secure"));
}

/// Signs in through the form of `/login?next=…`, posting back the `next` it carries.
async fn sign_in_to(app: &TestApp, next: &str) -> reqwest::Response {
    let c = client();
    let q = format!("/login?next={}", urlencoding_of(next));
    let form = c.get(app.url(&q)).send().await.unwrap();
    let csrf_cookie = set_cookie(&form, "ql_csrf").expect("a CSRF cookie");
    let html = form.text().await.unwrap();
    let carried = html.contains("name=\"next\"");
    let mut fields = vec![
        ("csrf_token", csrf_of(&html)),
        ("username", "emp-a".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    if carried {
        fields.push(("next", next.to_owned()));
    }
    c.post(app.url("/login"))
        .header("cookie", pair(&csrf_cookie))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

fn urlencoding_of(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_but_never_to_another_site() {
    let app = spawn_app().await;
    employer_user(&app).await;
    let r = sign_in_to(&app, "/account/password?lang=en").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/password?lang=en");
    for elsewhere in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = sign_in_to(&app, elsewhere).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account", "{elsewhere}");
    }
    // A page that needs a sign-in sends there with itself as `next`; the test
    // helper's session opens it.
    let r = client()
        .get(app.url("/account/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let s = crate::helpers::web::sign_in(&app, "emp-a").await;
    assert_eq!(s.get("/account/password").await.status(), 200);
    let account = s.get("/account").await.text().await.unwrap();
    assert!(
        account.contains("href=\"/my\""),
        "the account page leads to the role's pages"
    );
    crate::helpers::web::person(&app, "tax-officer", Role::Tax, None, Some("411200")).await;
    let t = crate::helpers::web::sign_in(&app, "tax-officer").await;
    assert_eq!(t.post_form("/logout", &[]).await.status(), 303);
    assert_eq!(t.get("/account").await.status(), 303, "signed out");
    assert_eq!(
        s.get("/account").await.status(),
        200,
        "the other session lives"
    );
}

#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    employer_user(&app).await;
    let cookie = session_of(&app, "emp-a", PASSWORD).await;
    let new = "another long passphrase";
    for token in [None, Some("0".repeat(64))] {
        let mut fields = vec![
            ("current_password", PASSWORD.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", new.to_owned()),
        ];
        if let Some(t) = token {
            fields.push(("csrf_token", t));
        }
        let r = client()
            .post(app.url("/account/password"))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // A sign-in without the token: no session either.
    let r = client()
        .post(app.url("/login"))
        .form(&[("username", "emp-a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "ql_session").is_none());
    // Nothing changed: the old password still signs in, the new one does not.
    assert_eq!(sign_in(&app, "emp-a", new, "").await.status(), 401);
    session_of(&app, "emp-a", PASSWORD).await;

    // With the token read from the form, the change lands.
    let form = get_with(&app, "/account/password", &cookie).await;
    let html = form.text().await.unwrap();
    for label in ["current_password", "new_password", "confirm_password"] {
        assert!(html.contains(&format!("<label for=\"{label}\">")), "{html}");
    }
    let r = client()
        .post(app.url("/account/password"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("current_password", PASSWORD),
            ("new_password", new),
            ("confirm_password", new),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    session_of(&app, "emp-a", new).await;
}

#[tokio::test]
async fn five_wrong_passwords_answer_429_with_the_time_to_wait() {
    let app = spawn_app().await;
    employer_user(&app).await;
    for _ in 0..4 {
        let r = sign_in(&app, "emp-a", "wrong password", "").await;
        assert_eq!(r.status(), 401);
        assert!(set_cookie(&r, "ql_session").is_none());
    }
    let r = sign_in(&app, "emp-a", "wrong password", "").await;
    assert_eq!(r.status(), 429);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    assert!(r.text().await.unwrap().contains("15 分钟"));
    // The right password does not lift it; the English page says so in English.
    let r = sign_in(&app, "emp-a", PASSWORD, "?lang=en").await;
    assert_eq!(r.status(), 429);
    assert!(set_cookie(&r, "ql_session").is_none());
    assert!(r.text().await.unwrap().contains("Try again in 15 minute"));
    let audit = audit_text(&app.db_url);
    assert!(audit.contains("session.sign_in_failed"), "{audit}");
    assert!(
        !audit.contains("wrong password") && !audit.contains(PASSWORD) && !audit.contains("argon2"),
        "{audit}"
    );
}

#[tokio::test]
async fn disabling_a_user_ends_its_session_at_once() {
    let app = spawn_app().await;
    employer_user(&app).await;
    let cookie = session_of(&app, "emp-a", PASSWORD).await;
    let path = format!("/api/v1/employers/{USCC_A}");
    assert_eq!(get_with(&app, &path, &cookie).await.status(), 200);
    let (code, out, err) = cli_async(&app, &["user", "disable", "emp-a"], "").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 session(s) ended"), "{out}");
    assert_eq!(get_with(&app, &path, &cookie).await.status(), 401);
    assert_eq!(sign_in(&app, "emp-a", PASSWORD, "").await.status(), 401);
    let (_, list, _) = cli_async(&app, &["user", "list"], "").await;
    assert!(
        list.contains("emp-a") && list.contains("(disabled)"),
        "{list}"
    );
    assert!(!list.contains("argon2"));
    assert!(audit_text(&app.db_url).contains("user.disable"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    employer_user(&app).await;
    let cookie = session_of(&app, "emp-a", PASSWORD).await;
    let html = get_with(&app, "/account", &cookie)
        .await
        .text()
        .await
        .unwrap();
    let r = client()
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(set_cookie(&r, "ql_session").unwrap().contains("Max-Age=0"));
    let r = get_with(&app, &format!("/api/v1/employers/{USCC_A}"), &cookie).await;
    assert_eq!(r.status(), 401);
}

fn activation_mails(db_url: &str) -> Vec<quota_levy::db::outbox::Reminder> {
    let db = crate::helpers::open_db(db_url);
    let mut c = db.conn().unwrap();
    quota_levy::db::outbox::all(&mut c)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "activation")
        .collect()
}

/// The code in a queued mail's link (kept as a path until it is sent).
fn code_in(body: &str) -> String {
    let start = body.find("/activate/").expect("a link") + "/activate/".len();
    body[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn activate(app: &TestApp, code: &str, password: &str) -> reqwest::Response {
    let c = client();
    let path = format!("/activate/{code}");
    let form = c.get(app.url(&path)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let cookie = pair(&set_cookie(&form, "ql_csrf").unwrap());
    let html = form.text().await.unwrap();
    assert!(html.contains("<label for=\"password\">"), "{html}");
    c.post(app.url(&path))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("password", password),
            ("confirm_password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_activation_mail_links_once_to_the_choice_of_a_password_and_expires() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    register(&app, &admin, USCC_A, Some("hr@example.cn")).await;
    let url = app.db_url.clone();
    let mails = tokio::task::spawn_blocking(move || activation_mails(&url))
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.recipient, "hr@example.cn");
    assert!(mail.body_zh.contains("设置密码") && mail.body_en.contains("choose the password"));
    let code = code_in(&mail.body_zh);
    assert_eq!(code.len(), 64);
    assert!(
        !audit_text(&app.db_url).contains(&code),
        "the code is not audited"
    );

    let r = activate(&app, &code, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = pair(&set_cookie(&r, "ql_session").expect("signed in"));
    let own = get_with(&app, &format!("/api/v1/employers/{USCC_A}"), &cookie).await;
    assert_eq!(own.status(), 200);
    session_of(&app, USCC_A, PASSWORD).await;
    // Once only.
    let again = client()
        .get(app.url(&format!("/activate/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
    assert!(audit_text(&app.db_url).contains("user.activate"));

    // An expired link is refused, the page and the form alike.
    let b = uscc_with_check("91411202MA0000017");
    register(&app, &admin, &b, Some("b@example.cn")).await;
    let url = app.db_url.clone();
    let code_b = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use quota_levy::db::schema::activation_invitations as inv;
        let code = code_in(&activation_mails(&url)[1].body_zh);
        let db = crate::helpers::open_db(&url);
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        diesel::update(inv::table)
            .filter(inv::used_at.is_null())
            .set(inv::expires_at.eq(past))
            .execute(&mut *db.conn().unwrap())
            .unwrap();
        code
    })
    .await
    .unwrap();
    let r = client()
        .get(app.url(&format!("/activate/{code_b}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("已过期"));
    let unknown = client()
        .get(app.url(&format!("/activate/{}", "ab".repeat(32))))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn an_activation_letter_gives_a_code_to_type() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    register(&app, &admin, USCC_A, None).await;
    let (code, out, err) = cli_async(&app, &["user", "activation-letter", USCC_A], "").await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/activate") && out.contains(USCC_A), "{out}");
    let line = out
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 24 && l.matches('-').count() == 4)
        .expect("the code on a line of its own")
        .to_owned();
    // Typed in lower case with spaces: the form sends it on to its page.
    let typed = line.to_lowercase().replace('-', " ");
    let r = client()
        .get(app.url("/activate"))
        .query(&[("code", typed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let code = location.trim_start_matches("/activate/");
    let r = activate(&app, code, PASSWORD).await;
    assert_eq!(r.status(), 303);
    session_of(&app, USCC_A, PASSWORD).await;
}

#[tokio::test]
async fn the_activation_mail_goes_out_with_its_address_unless_its_code_was_used() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, None, None).await;
    let b = uscc_with_check("91411202MA0000025");
    register(&app, &admin, USCC_A, Some("a@example.cn")).await;
    register(&app, &admin, &b, Some("b@example.cn")).await;
    let url = app.db_url.clone();
    let mails = tokio::task::spawn_blocking(move || activation_mails(&url))
        .await
        .unwrap();
    let code_a = code_in(&mails[0].body_zh);
    let code_b = code_in(&mails[1].body_zh);
    assert_eq!(activate(&app, &code_a, PASSWORD).await.status(), 303);

    const BASE: &str = "https://levy.example.gov.cn";
    let url = app.db_url.clone();
    let (report, sent) = tokio::task::spawn_blocking(move || {
        let settings =
            crate::helpers::test_settings(&url, &[("QUOTA_LEVY__SERVER__PUBLIC_BASE_URL", BASE)]);
        let db = crate::helpers::open_db(&url);
        let transport = quota_levy::mail::MemoryTransport::new();
        let mailer = quota_levy::mail::Mailer {
            transport: std::sync::Arc::new(transport.clone()),
            sender: quota_levy::mail::Sender::from_settings(&settings).unwrap(),
        };
        let cfg = quota_levy::mail::PassConfig::from_settings(&settings.mail, "test");
        let report = quota_levy::mail::run_pass(
            &db,
            &mailer,
            &cfg,
            &|| chrono::Utc::now().naive_utc(),
            &quota_levy::clock::china_today,
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
        (report, transport.sent())
    })
    .await
    .unwrap();
    assert_eq!(report.cancelled, 1, "A activated: its mail is moot");
    assert_eq!(report.sent, 1);
    assert_eq!(sent[0].to, ["b@example.cn"]);
    let raw = sent[0].raw.replace("=\r\n", "").replace("=\n", "");
    assert!(raw.contains(&format!("{BASE}/activate/{code_b}")), "{raw}");
}

fn reset_mails(db_url: &str) -> Vec<quota_levy::db::outbox::Reminder> {
    let db = crate::helpers::open_db(db_url);
    let mut c = db.conn().unwrap();
    quota_levy::db::outbox::all(&mut c)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "password_reset")
        .collect()
}

/// The code of a queued reset mail's link.
fn reset_code_in(body: &str) -> String {
    let start = body.find("/reset/").expect("a link") + "/reset/".len();
    body[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// The letter's code: the line of five groups of four.
fn letter_code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 24 && l.matches('-').count() == 4)
        .expect("the code on a line of its own")
        .to_owned()
}

/// Chooses `password` on the page of reset code `code` (its form's token, then the POST).
async fn choose_password(app: &TestApp, code: &str, password: &str) -> reqwest::Response {
    let c = client();
    let path = format!("/reset/{code}");
    let form = c.get(app.url(&path)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let cookie = pair(&set_cookie(&form, "ql_csrf").unwrap());
    let html = form.text().await.unwrap();
    assert!(html.contains("<label for=\"password\">"), "{html}");
    c.post(app.url(&path))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("password", password),
            ("confirm_password", password),
        ])
        .send()
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    client()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn a_mailed_reset_link_sets_the_password_once_and_ends_the_sessions() {
    use crate::helpers::web::{person, sign_in as web_sign_in};
    let app = spawn_app().await;
    let token = app.token(Role::Admin, None, None).await;
    register(&app, &token, USCC_A, Some("hr@example.cn")).await;
    person(&app, USCC_A, Role::Employer, Some(USCC_A), None).await;
    person(&app, "admin-r", Role::Admin, None, None).await;
    let admin = web_sign_in(&app, "admin-r").await;
    let old = session_of(&app, USCC_A, PASSWORD).await;
    assert_eq!(get_with(&app, "/account", &old).await.status(), 200);

    let send = format!("/admin/users/{USCC_A}/reset-link");
    assert_eq!(admin.post_raw(&send, &[]).await.status(), 403);
    let url = app.db_url.clone();
    let none = tokio::task::spawn_blocking(move || reset_mails(&url))
        .await
        .unwrap();
    assert!(none.is_empty(), "a forged form sends nothing");
    let r = admin.post_form(&send, &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("hr@example.cn"));
    let url = app.db_url.clone();
    let mails = tokio::task::spawn_blocking(move || reset_mails(&url))
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, "hr@example.cn");
    assert!(mails[0].body_zh.contains(USCC_A) && mails[0].body_en.contains("new password"));
    let code = reset_code_in(&mails[0].body_zh);
    assert_eq!(code.len(), 64);
    let audit = audit_text(&app.db_url);
    assert!(audit.contains("user.reset_link"), "{audit}");
    assert!(!audit.contains(&code), "the code is not audited");

    // Too short: the form again, nothing changed.
    let r = choose_password(&app, &code, "short").await;
    assert_eq!(r.status(), 422);
    assert_eq!(get_with(&app, "/account", &old).await.status(), 200);

    let r = choose_password(&app, &code, NEW_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("新密码已设置"));
    let ended = get_with(&app, "/account", &old).await;
    assert_eq!(ended.status(), 303, "the old session ended");
    assert_eq!(sign_in(&app, USCC_A, PASSWORD, "").await.status(), 401);
    session_of(&app, USCC_A, NEW_PASSWORD).await;
    // Once only.
    assert_eq!(status_of(&app, &format!("/reset/{code}")).await, 410);
    let audit = audit_text(&app.db_url);
    assert!(audit.contains("user.reset_by_link"), "{audit}");
    assert!(!audit.contains(&code) && !audit.contains(NEW_PASSWORD));
    // An activation's page knows no reset code.
    assert_eq!(status_of(&app, &format!("/activate/{code}")).await, 404);
}

#[tokio::test]
async fn an_officer_gets_a_reset_letter_and_an_expired_code_is_refused() {
    use crate::helpers::web::{person, sign_in as web_sign_in};
    let app = spawn_app().await;
    person(&app, "fed-l", Role::Federation, None, Some("411200")).await;
    person(&app, "admin-l", Role::Admin, None, None).await;
    let admin = web_sign_in(&app, "admin-l").await;
    let r = admin.post_form("/admin/users/fed-l/reset-link", &[]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("重设密码函") && page.contains("/reset"),
        "{page}"
    );
    let first = letter_code_in(&page);

    // Expired: the page and the form refuse it.
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use quota_levy::db::schema::activation_invitations as inv;
        let db = crate::helpers::open_db(&url);
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        diesel::update(inv::table)
            .filter(inv::used_at.is_null())
            .set(inv::expires_at.eq(past))
            .execute(&mut *db.conn().unwrap())
            .unwrap();
    })
    .await
    .unwrap();
    let r = client()
        .get(app.url(&format!("/reset/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("已过期"));

    // A new letter from the command line; typed in lower case with spaces, the form
    // sends it on to its page.
    let (code, out, err) =
        cli_async(&app, &["user", "reset-password", "fed-l", "--link"], "").await;
    assert_eq!(code, 0, "{err}");
    let second = letter_code_in(&out);
    assert_ne!(first, second);
    let typed = second.to_lowercase().replace('-', " ");
    let r = client()
        .get(app.url("/reset"))
        .query(&[("code", typed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let normalized = location.trim_start_matches("/reset/").to_owned();
    let r = choose_password(&app, &normalized, NEW_PASSWORD).await;
    assert_eq!(r.status(), 200);
    session_of(&app, "fed-l", NEW_PASSWORD).await;
    assert_eq!(status_of(&app, &format!("/reset/{second}")).await, 410);
    assert!(!audit_text(&app.db_url).contains(&second));
}
