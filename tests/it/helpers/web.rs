//! The pages as a person's browser uses them, without a browser: sign in through the
//! form (the CSRF token read from it), then open pages and send forms with the session's
//! cookie and token. Redirects are shown, not followed, so that a test sees where a
//! page sends the person.

use super::TestApp;
use quota_levy::auth::Role;
use quota_levy::registry::accounts::{create_user, NewAccount};

/// The password every test person has.
pub const PASSWORD: &str = "a long passphrase 一二三";

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value; attributes` of cookie `name` that a response sets.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// `name=value` alone.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

/// The CSRF token of the (first) form in `html`.
pub fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"csrf_token\" value=\"")
        .expect("the form has a CSRF token")
        + "name=\"csrf_token\" value=\"".len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Creates a person's account (password [`PASSWORD`]) directly in the test's database.
pub async fn person(
    app: &TestApp,
    username: &str,
    role: Role,
    employer: Option<&str>,
    region: Option<&str>,
) {
    let db = app.pool();
    let account = NewAccount {
        username: username.to_owned(),
        display_name: None,
        role,
        employer: employer.map(str::to_owned),
        region: region.map(str::to_owned),
    };
    let settings = app.settings.accounts.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = db.conn().unwrap();
        create_user(&mut c, &account, PASSWORD, &settings, "test").unwrap();
    })
    .await
    .unwrap();
}

/// A person signed in on the pages: the session cookie and the session's form token.
pub struct WebSession {
    /// `ql_session=…`.
    pub cookie: String,
    /// The session's CSRF token, as every signed-in form carries it.
    pub csrf: String,
    base: String,
}

/// Signs `username` in through `/login` (the form's token and cookie, then the POST).
/// Panics unless the sign-in succeeds.
pub async fn sign_in(app: &TestApp, username: &str) -> WebSession {
    let c = client();
    let form = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = set_cookie(&form, "ql_csrf").expect("a CSRF cookie");
    let html = form.text().await.unwrap();
    let r = c
        .post(app.url("/login"))
        .header("cookie", pair(&csrf_cookie))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{username} signed in");
    let cookie = pair(&set_cookie(&r, "ql_session").expect("a session cookie"));
    let account = c
        .get(app.url("/account"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    WebSession {
        cookie,
        csrf: csrf_of(&account),
        base: app.address.clone(),
    }
}

impl WebSession {
    /// The address of the app the session is on (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET a page (or a download) with the session.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        client()
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POSTs a form exactly as given (a forged one: no token, or a wrong one).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        client()
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

impl WebSession {
    /// The text of the page at `path` (200) once `done` holds for it, asked again every
    /// 20 ms for at most 30 s: for work a page began off the request. Panics when it
    /// never holds.
    pub async fn page_once(&self, path: &str, done: impl Fn(&str) -> bool) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let r = self.get(path).await;
            assert_eq!(r.status(), 200, "{path}");
            let html = r.text().await.unwrap();
            if done(&html) {
                return html;
            }
            assert!(
                std::time::Instant::now() < until,
                "{path} never changed: {html}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
