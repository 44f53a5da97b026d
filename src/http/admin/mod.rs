//! The administration's pages (`/admin`, administrators only): users (list, create with
//! a password or an activation invitation, disable, reset the password), API tokens
//! (create, shown once; list; revoke), the audit log with filters, and the policy packs
//! (every value in force with its citation; two dates or two regions side by side).
//!
//! Every page refuses any other role (403); every form POST checks its CSRF token
//! before anything else (403, nothing changed); every write goes through the registry
//! or db function that audits it in the same transaction.

mod audit;
mod policies;
mod tokens;
mod users;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::page_kit::{self, PageRefusal, SignedIn};
use super::pages::{render, Layout};
use crate::auth::Role;
use crate::domain::Language;

/// The roles a form may choose, with their names.
pub const ROLES: [Role; 5] = [
    Role::Employer,
    Role::Federation,
    Role::Tax,
    Role::Inspector,
    Role::Admin,
];

/// The name of a role in `lang`.
pub fn role_label(r: Role, lang: Language) -> &'static str {
    match r {
        Role::Admin => lang.pick("系统管理员", "administrator"),
        Role::Federation => lang.pick("残疾人联合会", "disabled persons' federation"),
        Role::Tax => lang.pick("税务机关", "tax bureau"),
        Role::Inspector => lang.pick("劳动保障监察", "labour inspector"),
        Role::Employer => lang.pick("用人单位", "employer"),
    }
}

/// An option of a select.
pub struct Choice {
    /// Value sent.
    pub value: String,
    /// Label shown.
    pub label: String,
    /// Chosen.
    pub selected: bool,
}

/// The roles as a select's options, `chosen` selected.
pub fn role_choices(lang: Language, chosen: Option<&str>) -> Vec<Choice> {
    ROLES
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: role_label(*r, lang).to_owned(),
            selected: chosen == Some(r.as_str()),
        })
        .collect()
}

/// What a form shows again after a fault: the values typed (never a password) and each
/// field's error beside it.
#[derive(Debug, Default)]
pub struct FormState {
    /// The session's form token.
    pub csrf: String,
    /// A sentence above the form.
    pub message: Option<String>,
    errors: Vec<(String, String)>,
    values: Vec<(String, String)>,
}

impl FormState {
    /// An empty form with the session's token.
    pub fn new(csrf: &str) -> FormState {
        FormState {
            csrf: csrf.to_owned(),
            ..FormState::default()
        }
    }

    /// The error of `name`.
    pub fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    /// The value typed into `name`.
    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// True when `name` was sent as `value` (a radio or an option).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }

    /// Adds an error of `name`.
    pub fn fault(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push((name.to_owned(), message.into()));
    }

    /// Keeps a value typed.
    pub fn keep(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.values.push((name.to_owned(), v.to_owned()));
        }
    }

    /// True when some field has an error.
    pub fn has_faults(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The page refused unless the session is an administrator's.
pub fn admin(signed: &SignedIn) -> Result<(), PageRefusal> {
    signed.require(&[]).map(|_| ())
}

/// The role's check, then the form's token: a forged POST is answered 403 and nothing
/// is changed. `Ok(None)` lets the handler go on.
pub fn admin_form(
    signed: &SignedIn,
    token: Option<&str>,
    back: &str,
) -> Result<Option<HttpResponse>, PageRefusal> {
    admin(signed)?;
    if signed.form_ok(token) {
        Ok(None)
    } else {
        Ok(Some(page_kit::forged(signed.lang, signed.link(back))?))
    }
}

/// A value sent, trimmed; `None` when empty.
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A form POST after the role's and the token's checks ([`admin_form`]; `Err` is the
/// answer to a forged one), the fields `sent` kept to be shown again.
pub fn kept(
    signed: &SignedIn,
    token: Option<&str>,
    back: &str,
    sent: &[(&str, &Option<String>)],
) -> Result<Result<FormState, HttpResponse>, PageRefusal> {
    if let Some(r) = admin_form(signed, token, back)? {
        return Ok(Err(r));
    }
    let mut form = FormState::new(signed.csrf());
    for (k, v) in sent {
        form.keep(k, given(v));
    }
    Ok(Ok(form))
}

/// A stored role's name in `lang` ("?" for one no longer known).
pub fn stored_role(role: &str, lang: Language) -> &'static str {
    role.parse::<Role>()
        .map(|r| role_label(r, lang))
        .unwrap_or("?")
}

/// What a user or a token is limited to: its employer, else its region, else nothing.
pub fn scope_label(employer: &Option<String>, region: &Option<String>, lang: Language) -> String {
    match (employer, region) {
        (Some(e), _) => e.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => lang.pick("全国", "everywhere").to_owned(),
    }
}

/// A keyset page read one row long: cut to `per` rows, and true when there was more.
pub fn cut_page<T>(rows: &mut Vec<T>, per: i64) -> bool {
    let per = usize::try_from(per).unwrap_or(usize::MAX);
    let more = rows.len() > per;
    rows.truncate(per);
    more
}

/// The links of every administration page.
pub struct Nav {
    /// `(href, label, current)`.
    pub links: Vec<(String, &'static str, bool)>,
}

impl Nav {
    /// The navigation, `current` marked.
    pub fn new(signed: &SignedIn, current: &str) -> Nav {
        let lang = signed.lang;
        let links = [
            ("/admin", lang.pick("管理首页", "Administration")),
            ("/admin/users", lang.pick("用户", "Users")),
            ("/admin/tokens", lang.pick("接口令牌", "API tokens")),
            ("/admin/audit", lang.pick("审计日志", "Audit log")),
            ("/admin/policies", lang.pick("政策参数", "Policy packs")),
            ("/account", lang.pick("我的账户", "My account")),
        ]
        .into_iter()
        .map(|(p, l)| (signed.link(p), l, p == current))
        .collect();
        Nav { links }
    }
}

#[derive(Template)]
#[template(path = "pages/admin/index.html")]
struct IndexView {
    layout: Layout,
    nav: Nav,
}

#[get("/admin")]
async fn index(signed: SignedIn) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let html = render(&IndexView {
        layout: Layout::new(signed.lang),
        nav: Nav::new(&signed, "/admin"),
    })?;
    Ok(page_kit::page(StatusCode::OK, html, &[]))
}

/// Anything else under `/admin`, by any method: 403 for every role but an
/// administrator's (so that no other role learns which addresses exist), a 404 page for
/// an administrator.
async fn elsewhere(signed: SignedIn) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    Err(signed.not_found())
}

/// Registers the administration's pages; the catch-all last, so that every page above
/// is matched first.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .configure(users::routes)
        .configure(tokens::routes)
        .configure(audit::routes)
        .configure(policies::routes)
        .service(web::resource("/admin/{rest:.*}").to(elsewhere));
}
