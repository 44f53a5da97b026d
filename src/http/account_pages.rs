//! The pages of accounts: `/login`, `/logout`, `/account`, `/account/password`,
//! `/activate` and `/activate/{code}`, `/reset` and `/reset/{code}` (a new password by
//! the one-time link or letter an administrator sent). Server-rendered from `templates/pages/account/`
//! on the base layout, Chinese unless `?lang=en` or `Accept-Language` asks for English,
//! every input labelled, no JavaScript. Every form POST is checked for its CSRF token
//! first: without a valid one it answers 403 and nothing changes.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page_kit::{forged, home_of, message, page, safe_next, see_other, with_lang, LangQuery};
use super::pages::{page_lang, render, Layout};
use super::problem::AppError;
use super::session;
use super::{request_id, AppState};
use crate::domain::Language;
use crate::registry::accounts::{self, Activation, CodeState, FieldFault, LiveSession, SignIn};

/// What a form page shows: its action, token, a message above the form, each field's
/// error beside it and the values typed back into it (never a password).
#[derive(Debug, Default)]
pub struct FormPage {
    action: String,
    csrf: String,
    message: Option<String>,
    errors: Vec<(&'static str, String)>,
    values: Vec<(&'static str, String)>,
    activate_href: String,
    back_href: String,
    new_label: String,
    employer_name: String,
    uscc: String,
    /// A password reset's page, not an activation's.
    reset: bool,
}

impl FormPage {
    /// The error of field `name`, if it has one.
    pub fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, m)| m.as_str())
    }

    /// The value typed into field `name` before, if it is shown again.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| v.as_str())
    }

    fn faults(mut self, faults: &[FieldFault], lang: Language) -> FormPage {
        self.errors = faults
            .iter()
            .map(|f| (f.field, f.message(lang).to_owned()))
            .collect();
        self
    }
}

#[derive(Template)]
#[template(path = "pages/account/login.html")]
struct LoginView {
    layout: Layout,
    page: FormPage,
}

#[derive(Template)]
#[template(path = "pages/account/password.html")]
struct PasswordView {
    layout: Layout,
    page: FormPage,
}

#[derive(Template)]
#[template(path = "pages/account/activate.html")]
struct ActivateView {
    layout: Layout,
    page: FormPage,
}

#[derive(Template)]
#[template(path = "pages/account/code.html")]
struct CodeView {
    layout: Layout,
    page: FormPage,
}

/// The signed-in user's page.
#[derive(Debug)]
pub struct AccountPage {
    username: String,
    display_name: Option<String>,
    role: String,
    scope: Option<String>,
    message: Option<String>,
    csrf: String,
    password_href: String,
    logout_action: String,
    /// The role's own pages, where a person goes on from here.
    home_href: String,
}

#[derive(Template)]
#[template(path = "pages/account/account.html")]
struct AccountView {
    layout: Layout,
    page: AccountPage,
}

/// `csrf_token` and the fields of a form, all optional: a missing field is a fault
/// shown beside it, not a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountForm {
    csrf_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
    confirm_password: Option<String>,
    next: Option<String>,
}

/// `/login`'s query: the language and the page to return to after signing in.
#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
}

fn login_page(
    lang: Language,
    q: &LangQuery,
    csrf: String,
    message: Option<String>,
    username: Option<String>,
    next: Option<&str>,
) -> Result<String, AppError> {
    let mut values: Vec<(&'static str, String)> =
        username.map(|u| vec![("username", u)]).unwrap_or_default();
    if let Some(n) = safe_next(next) {
        values.push(("next", n.to_owned()));
    }
    render(&LoginView {
        layout: Layout::new(lang),
        page: FormPage {
            action: with_lang("/login", q),
            csrf,
            message,
            values,
            activate_href: with_lang("/activate", q),
            ..FormPage::default()
        },
    })
}

#[get("/login")]
async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lq: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let q = LangQuery {
        lang: lq.lang.clone(),
    };
    let lang = page_lang(&req, q.lang.as_deref())?;
    if session::current(&state, &req).await?.is_some() {
        let to = safe_next(lq.next.as_deref()).unwrap_or("/account");
        return Ok(see_other(&with_lang(to, &q), &[]));
    }
    let (csrf, set) = session::anonymous_token(&state, &req).await?;
    let html = login_page(lang, &q, csrf, None, None, lq.next.as_deref())?;
    Ok(page(StatusCode::OK, html, set.as_slice()))
}

#[post("/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let form = form.into_inner();
    if !session::anonymous_token_ok(&state, &req, form.csrf_token.as_deref()).await? {
        return forged(lang, with_lang("/login", &q));
    }
    let username = form.username.unwrap_or_default().trim().to_owned();
    let password = form.password.unwrap_or_default();
    let next = form.next;
    let secret = state.secret().await?;
    let settings = state.settings.accounts.clone();
    let address = session::client_address(&req);
    let rid = request_id(&req);
    let name = username.clone();
    let outcome = state
        .db
        .run(move |c| {
            accounts::sign_in(
                c,
                &secret,
                &settings,
                &name,
                &password,
                &address,
                rid.as_deref(),
            )
        })
        .await?;
    let (csrf, set) = session::anonymous_token(&state, &req).await?;
    match outcome {
        SignIn::Ok(new) => {
            let cookie = session::session_cookie(&state, &new.token);
            // Back to the page that asked for a sign-in; else the account page, which
            // leads on to the role's own pages.
            let to = safe_next(next.as_deref()).unwrap_or("/account");
            Ok(see_other(&with_lang(to, &q), &[cookie]))
        }
        SignIn::Failed => {
            let text = lang
                .pick(
                    "用户名或密码不正确。",
                    "The username or the password is wrong.",
                )
                .to_owned();
            let html = login_page(lang, &q, csrf, Some(text), Some(username), next.as_deref())?;
            Ok(page(StatusCode::UNAUTHORIZED, html, set.as_slice()))
        }
        SignIn::Locked { retry_after_secs } => {
            let minutes = (retry_after_secs + 59) / 60;
            let text = match lang {
                Language::Zh => format!(
                    "登录失败次数过多，已暂停登录。请在 {minutes} 分钟后再试。"
                ),
                Language::En => format!(
                    "Too many failed sign-ins: signing in is paused. Try again in {minutes} minute(s)."
                ),
            };
            let html = login_page(lang, &q, csrf, Some(text), Some(username), next.as_deref())?;
            let mut r = page(StatusCode::TOO_MANY_REQUESTS, html, set.as_slice());
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
    }
}

#[post("/logout")]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let Some(live) = session::current(&state, &req).await? else {
        let clear = session::clear_session_cookie(&state);
        return Ok(see_other(&with_lang("/login", &q), &[clear]));
    };
    if !session::session_token_ok(&live, form.csrf_token.as_deref()) {
        return forged(lang, with_lang("/account", &q));
    }
    let rid = request_id(&req);
    state
        .db
        .run(move |c| accounts::sign_out(c, &live, rid.as_deref()))
        .await?;
    let clear = session::clear_session_cookie(&state);
    Ok(see_other(&with_lang("/login", &q), &[clear]))
}

fn account_page(
    lang: Language,
    q: &LangQuery,
    live: &LiveSession,
    message: Option<String>,
) -> Result<String, AppError> {
    let u = &live.user;
    let role = match u.role.as_str() {
        "admin" => lang.pick("系统管理员", "administrator"),
        "federation" => lang.pick("残疾人联合会", "disabled persons' federation"),
        "tax" => lang.pick("税务机关", "tax bureau"),
        "inspector" => lang.pick("劳动保障监察", "labour inspector"),
        "employer" => lang.pick("用人单位", "employer"),
        other => other,
    };
    let scope = match (&u.employer_uscc, &u.region) {
        (Some(uscc), _) => Some(format!(
            "{} {uscc}",
            lang.pick("统一社会信用代码", "unified social credit code")
        )),
        (None, Some(r)) => Some(format!("{} {r}", lang.pick("行政区划", "region"))),
        (None, None) => None,
    };
    render(&AccountView {
        layout: Layout::new(lang),
        page: AccountPage {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: role.to_owned(),
            scope,
            message,
            csrf: live.session.csrf_token.clone(),
            password_href: with_lang("/account/password", q),
            logout_action: with_lang("/logout", q),
            home_href: with_lang(home_of(live.principal.role), q),
        },
    })
}

#[get("/account")]
async fn account(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let Some(live) = session::current(&state, &req).await? else {
        return Ok(see_other(&with_lang("/login", &q), &[]));
    };
    let html = account_page(lang, &q, &live, None)?;
    Ok(page(StatusCode::OK, html, &[]))
}

fn new_password_label(lang: Language, state: &AppState) -> String {
    let n = state.settings.accounts.password_min_length;
    match lang {
        Language::Zh => format!("新密码（至少 {n} 个字符）"),
        Language::En => format!("New password (at least {n} characters)"),
    }
}

fn password_page(
    lang: Language,
    q: &LangQuery,
    state: &AppState,
    live: &LiveSession,
    faults: &[FieldFault],
) -> Result<String, AppError> {
    render(&PasswordView {
        layout: Layout::new(lang),
        page: FormPage {
            action: with_lang("/account/password", q),
            csrf: live.session.csrf_token.clone(),
            back_href: with_lang("/account", q),
            new_label: new_password_label(lang, state),
            message: (!faults.is_empty()).then(|| {
                lang.pick(
                    "密码未修改：请更正下列错误。",
                    "The password was not changed: correct the fields below.",
                )
                .to_owned()
            }),
            ..FormPage::default()
        }
        .faults(faults, lang),
    })
}

#[get("/account/password")]
async fn password_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let Some(live) = session::current(&state, &req).await? else {
        return Ok(see_other(&with_lang("/login", &q), &[]));
    };
    let html = password_page(lang, &q, &state, &live, &[])?;
    Ok(page(StatusCode::OK, html, &[]))
}

#[post("/account/password")]
async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let Some(live) = session::current(&state, &req).await? else {
        return Ok(see_other(&with_lang("/login", &q), &[]));
    };
    let form = form.into_inner();
    if !session::session_token_ok(&live, form.csrf_token.as_deref()) {
        return forged(lang, with_lang("/account/password", &q));
    }
    let settings = state.settings.accounts.clone();
    let rid = request_id(&req);
    let l = live.clone();
    let result = state
        .db
        .run(move |c| {
            Ok(accounts::change_password(
                c,
                &settings,
                &l,
                form.current_password.as_deref().unwrap_or_default(),
                form.new_password.as_deref().unwrap_or_default(),
                form.confirm_password.as_deref().unwrap_or_default(),
                rid.as_deref(),
            ))
        })
        .await?;
    match result {
        Ok(()) => {
            let text = lang
                .pick(
                    "密码已修改；其他设备上的登录已结束。",
                    "The password was changed; sign-ins on other devices have ended.",
                )
                .to_owned();
            let html = account_page(lang, &q, &live, Some(text))?;
            Ok(page(StatusCode::OK, html, &[]))
        }
        Err(accounts::AccountError::Invalid(faults)) => {
            let html = password_page(lang, &q, &state, &live, &faults)?;
            Ok(page(StatusCode::UNPROCESSABLE_ENTITY, html, &[]))
        }
        Err(e) => Err(account_failure(e)),
    }
}

fn account_failure(e: accounts::AccountError) -> AppError {
    match e {
        accounts::AccountError::Db(d) => d.into(),
        other => AppError::Internal(other.to_string()),
    }
}

/// What a one-time code of the pages is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// An employer's activation: `/activate`.
    Activation,
    /// A user's new password: `/reset`.
    Reset,
}

impl Purpose {
    /// The page where a letter's code is typed.
    fn entry(self) -> &'static str {
        match self {
            Purpose::Activation => "/activate",
            Purpose::Reset => "/reset",
        }
    }

    /// The page of `code`.
    fn path(self, code: &str) -> String {
        match self {
            Purpose::Activation => accounts::activation_path(code),
            Purpose::Reset => accounts::reset_path(code),
        }
    }
}

/// `?code=` of the letter's form.
#[derive(Debug, Deserialize)]
struct CodeQuery {
    lang: Option<String>,
    code: Option<String>,
}

/// The form where a letter's code is typed; sent with one, on to the code's page.
fn code_entry(
    req: &HttpRequest,
    q: &CodeQuery,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(req, q.lang.as_deref())?;
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let code = q
        .code
        .as_deref()
        .map(accounts::normalize_code)
        .unwrap_or_default();
    if !code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(see_other(&with_lang(&purpose.path(&code), &lq), &[]));
    }
    let faults = if q.code.is_some() {
        let text = match purpose {
            Purpose::Activation => lang.pick(
                "请输入激活函上的激活码（字母和数字）",
                "enter the code of the activation letter (letters and digits)",
            ),
            Purpose::Reset => lang.pick(
                "请输入重设密码函上的重设码（字母和数字）",
                "enter the code of the password reset letter (letters and digits)",
            ),
        };
        vec![("code", text.to_owned())]
    } else {
        Vec::new()
    };
    let html = render(&CodeView {
        layout: Layout::new(lang),
        page: FormPage {
            action: purpose.entry().to_owned(),
            reset: purpose == Purpose::Reset,
            errors: faults,
            ..FormPage::default()
        },
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}

#[get("/activate")]
async fn code_form(req: HttpRequest, q: web::Query<CodeQuery>) -> Result<HttpResponse, AppError> {
    code_entry(&req, &q, Purpose::Activation)
}

#[get("/reset")]
async fn reset_code_form(
    req: HttpRequest,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    code_entry(&req, &q, Purpose::Reset)
}

/// Why a code cannot be used, whatever it is for.
#[derive(Debug, Clone, Copy)]
enum Why {
    Unknown,
    Expired,
    Spent,
}

fn why<T>(state: &CodeState<T>) -> Why {
    match state {
        CodeState::Expired => Why::Expired,
        CodeState::Spent => Why::Spent,
        CodeState::Open(_) | CodeState::Unknown => Why::Unknown,
    }
}

/// The page of a code that cannot be used: 404 when unknown, 410 when expired or spent.
fn refused(
    lang: Language,
    q: &LangQuery,
    why: Why,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let (status, text) = match (why, purpose) {
        (Why::Expired, Purpose::Activation) => (
            StatusCode::GONE,
            lang.pick(
                "该激活链接已过期。请联系当地税务机关或残疾人联合会重新发送。",
                "This activation link has expired. Ask your tax office or disabled persons' federation for a new one.",
            ),
        ),
        (Why::Spent, Purpose::Activation) => (
            StatusCode::GONE,
            lang.pick(
                "该激活链接已使用过或已被新的链接取代。如已激活，请直接登录。",
                "This activation link was used already or replaced by a newer one. If the account is active, sign in.",
            ),
        ),
        (Why::Unknown, Purpose::Activation) => (
            StatusCode::NOT_FOUND,
            lang.pick(
                "没有这个激活码。请核对激活邮件中的链接或激活函上的激活码。",
                "There is no such activation code. Check the link in the activation mail or the code of the letter.",
            ),
        ),
        (Why::Expired, Purpose::Reset) => (
            StatusCode::GONE,
            lang.pick(
                "该重设密码链接已过期。请联系系统管理员重新发送。",
                "This reset link has expired. Ask the administrator for a new one.",
            ),
        ),
        (Why::Spent, Purpose::Reset) => (
            StatusCode::GONE,
            lang.pick(
                "该重设密码链接已使用过或已被新的链接取代。",
                "This reset link was used already or replaced by a newer one.",
            ),
        ),
        (Why::Unknown, Purpose::Reset) => (
            StatusCode::NOT_FOUND,
            lang.pick(
                "没有这个重设码。请核对邮件中的链接或重设密码函上的重设码。",
                "There is no such reset code. Check the link in the mail or the code of the letter.",
            ),
        ),
    };
    let title = match purpose {
        Purpose::Activation => ("无法激活", "Cannot activate"),
        Purpose::Reset => ("无法重设密码", "Cannot reset the password"),
    };
    message(
        lang,
        status,
        title,
        text.to_owned(),
        Some((
            with_lang("/login", q),
            lang.pick("前往登录", "Go to sign-in").to_owned(),
        )),
    )
}

/// A code as it may come in a path: letters, digits and dashes, bounded.
fn plausible_code(code: &str) -> bool {
    (1..=128).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whom an open code is for, as its page names them (name, empty for a user without
/// one; USCC or username), else why it cannot be used.
async fn open_for(
    state: &AppState,
    code: &str,
    purpose: Purpose,
) -> Result<Result<(String, String), Why>, AppError> {
    if !plausible_code(code) {
        return Ok(Err(Why::Unknown));
    }
    let now = chrono::Utc::now().naive_utc();
    let c2 = code.to_owned();
    Ok(match purpose {
        Purpose::Activation => {
            match state
                .db
                .run(move |c| accounts::code_state(c, &c2, now))
                .await?
            {
                CodeState::Open(open) => Ok((open.1.name.clone(), open.1.uscc.clone())),
                other => Err(why(&other)),
            }
        }
        Purpose::Reset => match state
            .db
            .run(move |c| accounts::reset_state(c, &c2, now))
            .await?
        {
            CodeState::Open(open) => {
                // Without a display name the page names the username alone, not twice.
                let u = &open.1;
                Ok((
                    u.display_name.clone().unwrap_or_default(),
                    u.username.clone(),
                ))
            }
            other => Err(why(&other)),
        },
    })
}

/// The page of an open code with its password form (`faults` beside the fields, and
/// then `status` 422), else the page of why it cannot be used.
async fn code_page(
    state: &AppState,
    req: &HttpRequest,
    q: &LangQuery,
    code: &str,
    purpose: Purpose,
    faults: &[FieldFault],
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(req, q.lang.as_deref())?;
    let (name, username) = match open_for(state, code, purpose).await? {
        Ok(whom) => whom,
        Err(why) => return refused(lang, q, why, purpose),
    };
    let (csrf, set) = session::anonymous_token(state, req).await?;
    let not_yet = match purpose {
        Purpose::Activation => lang.pick(
            "尚未激活：请更正下列错误。",
            "Not activated yet: correct the fields below.",
        ),
        Purpose::Reset => lang.pick(
            "密码尚未设置：请更正下列错误。",
            "The password is not set yet: correct the fields below.",
        ),
    };
    let html = render(&ActivateView {
        layout: Layout::new(lang),
        page: FormPage {
            action: with_lang(&purpose.path(code), q),
            csrf,
            new_label: new_password_label(lang, state),
            employer_name: name,
            uscc: username,
            reset: purpose == Purpose::Reset,
            message: (!faults.is_empty()).then(|| not_yet.to_owned()),
            ..FormPage::default()
        }
        .faults(faults, lang),
    })?;
    let status = if faults.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(status, html, set.as_slice()))
}

#[get("/activate/{code}")]
async fn activate_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    code_page(&state, &req, &q, &path, Purpose::Activation, &[]).await
}

#[get("/reset/{code}")]
async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    code_page(&state, &req, &q, &path, Purpose::Reset, &[]).await
}

/// What using a one-time code came to on its page, whatever the code is for.
enum Used {
    /// An activation: the new account is signed in with this session.
    SignedIn(Box<accounts::NewSession>),
    /// A reset: the new password of this user is set.
    PasswordSet(String),
    /// The code cannot be used.
    Refused(Why),
}

/// The password form of a one-time code sent: after the form's token and the code's
/// form, the password chosen (`purpose` says the registry call: activation or reset),
/// then the answer: signed in, or the new password set, or why the code cannot be used,
/// or the form again with the fields at fault beside them (422, nothing written).
async fn use_code(
    state: &AppState,
    req: &HttpRequest,
    q: &LangQuery,
    code: String,
    purpose: Purpose,
    form: AccountForm,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(req, q.lang.as_deref())?;
    if !session::anonymous_token_ok(state, req, form.csrf_token.as_deref()).await? {
        return forged(lang, with_lang(&purpose.path(&code), q));
    }
    if !plausible_code(&code) {
        return refused(lang, q, Why::Unknown, purpose);
    }
    let password = form.password.unwrap_or_default();
    let confirm = form.confirm_password.unwrap_or_default();
    let settings = state.settings.accounts.clone();
    let address = session::client_address(req);
    let rid = request_id(req);
    let c2 = code.clone();
    let result = state
        .db
        .run(move |c| {
            let chosen = accounts::Chosen {
                code: &c2,
                password: &password,
                confirm: &confirm,
            };
            let rid = rid.as_deref();
            Ok(match purpose {
                Purpose::Activation => {
                    accounts::activate(c, &settings, chosen, &address, rid).map(|done| match done {
                        Activation::Done(new) => Used::SignedIn(new),
                        Activation::Refused(state) => Used::Refused(why(&state)),
                    })
                }
                Purpose::Reset => {
                    accounts::reset_by_code(c, &settings, chosen, rid).map(|done| match done {
                        accounts::Reset::Done { username, .. } => Used::PasswordSet(username),
                        accounts::Reset::Refused(state) => Used::Refused(why(&state)),
                    })
                }
            })
        })
        .await?;
    match result {
        Ok(Used::SignedIn(new)) => {
            let cookie = session::session_cookie(state, &new.token);
            Ok(see_other(&with_lang("/account", q), &[cookie]))
        }
        Ok(Used::PasswordSet(username)) => message(
            lang,
            StatusCode::OK,
            ("密码已设置", "Password set"),
            match lang {
                Language::Zh => format!(
                    "账户 {username} 的新密码已设置，该账户在各处的登录都已结束。请以新密码登录。"
                ),
                Language::En => format!(
                    "The new password of {username} is set, and every sign-in of the account has ended. Sign in with the new password."
                ),
            },
            Some((
                with_lang("/login", q),
                lang.pick("前往登录", "Go to sign-in").to_owned(),
            )),
        ),
        Ok(Used::Refused(why)) => refused(lang, q, why, purpose),
        Err(accounts::AccountError::Invalid(faults)) => {
            code_page(state, req, q, &code, purpose, &faults).await
        }
        Err(e) => Err(account_failure(e)),
    }
}

#[post("/activate/{code}")]
async fn activate(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let (code, form) = (path.into_inner(), form.into_inner());
    use_code(&state, &req, &q, code, Purpose::Activation, form).await
}

#[post("/reset/{code}")]
async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let (code, form) = (path.into_inner(), form.into_inner());
    use_code(&state, &req, &q, code, Purpose::Reset, form).await
}

/// Registers the account pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form)
        .service(login)
        .service(logout)
        .service(account)
        .service(password_form)
        .service(change_password)
        .service(code_form)
        .service(activate_form)
        .service(activate)
        .service(reset_code_form)
        .service(reset_form)
        .service(reset);
}
