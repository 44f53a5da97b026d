//! What every signed-in page shares: the responses of a page (never cached, cookies
//! set), the `?lang=` kept on links, the page that only says something, and the
//! [`SignedIn`] extractor: the person signed in on this browser, or a redirect to
//! `/login` that comes back to the page asked for. A page handler checks the role
//! with [`SignedIn::require`] (a page saying 403), the employer or region with the same
//! walls as the API (a page saying 404), and a form POST's CSRF token with
//! [`SignedIn::form_ok`] before anything else (a page saying 403, nothing changed).

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use super::pages::{page_lang, render, Layout, HTML};
use super::problem::AppError;
use super::{request_id, session, AppState};
use crate::auth::{Principal, Role};
use crate::domain::Language;
use crate::registry::accounts::LiveSession;

/// `?lang=` of every page.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct LangQuery {
    /// `zh` or `en`; the caller's `Accept-Language` when absent.
    pub lang: Option<String>,
}

/// A path with the language the caller chose by `?lang=` kept on it.
pub fn with_lang(path: &str, q: &LangQuery) -> String {
    match q.lang.as_deref() {
        Some(l @ ("zh" | "en")) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}lang={l}")
        }
        _ => path.to_owned(),
    }
}

/// A page response: never cached (it carries a form token or personal details).
pub fn page(status: StatusCode, html: String, cookies: &[String]) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CONTENT_TYPE, HTML))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    for c in cookies {
        session::add_cookie(&mut r, c);
    }
    r.body(html)
}

/// A timestamp (UTC) as China's clock shows it, to the minute.
pub fn china_time(t: chrono::NaiveDateTime) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A 303 to `location` after a form (so that reloading does not send it again).
pub fn see_other(location: &str, cookies: &[String]) -> HttpResponse {
    let mut r = HttpResponse::SeeOther();
    r.insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    for c in cookies {
        session::add_cookie(&mut r, c);
    }
    r.finish()
}

/// A page that only says something (a refusal, a lockout, a confirmation).
#[derive(Debug)]
pub struct MessagePage {
    /// Heading.
    pub title: String,
    /// The sentence.
    pub text: String,
    /// A way on: address and label.
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "pages/account/message.html")]
struct MessageView {
    layout: Layout,
    page: MessagePage,
}

/// The HTML of a [`MessagePage`].
pub fn message_html(lang: Language, m: MessagePage) -> Result<String, AppError> {
    render(&MessageView {
        layout: Layout::new(lang),
        page: m,
    })
}

/// A page saying `text` under `title` (Chinese, English) with `status`.
pub fn message(
    lang: Language,
    status: StatusCode,
    title: (&str, &str),
    text: String,
    link: Option<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let html = message_html(
        lang,
        MessagePage {
            title: lang.pick(title.0, title.1).to_owned(),
            text,
            link,
        },
    )?;
    Ok(page(status, html, &[]))
}

/// The answer to a form POST without a valid CSRF token: 403, nothing changed.
pub fn forged(lang: Language, back: String) -> Result<HttpResponse, AppError> {
    message(
        lang,
        StatusCode::FORBIDDEN,
        ("表单已失效", "The form has expired"),
        lang.pick(
            "表单已失效或并非来自本站，未作任何更改。请重新打开页面后再提交。",
            "The form has expired or did not come from this site; nothing was changed. Open the page again and send it from there.",
        )
        .to_owned(),
        Some((back, lang.pick("重新打开", "Open it again").to_owned())),
    )
}

/// The page a role lands on after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Employer => "/my",
        Role::Federation => "/federation",
        Role::Tax => "/tax",
        Role::Inspector => "/inspector",
        Role::Admin => "/admin",
    }
}

/// A `next` address the sign-in may return to: a path of this site only (never
/// `//host` or a scheme), so that a link cannot send a person elsewhere after signing in.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && n.len() <= 512
            && n.bytes().all(|b| (0x21..0x7f).contains(&b))
    })
}

/// Why a signed-in page is not shown, as a page: the way to sign in, or a refusal in
/// the reader's language. Anything else (the database) is the API's problem document.
#[derive(Debug)]
pub enum PageRefusal {
    /// Not signed in (or the session ended): 303 to `/login?next=…`.
    SignIn {
        /// The page to return to.
        next: String,
    },
    /// Signed in, but this role may not open the page: 403.
    Forbidden(Language),
    /// Nothing the caller may see is here (another employer, another region): 404.
    NotFound(Language),
    /// A fault below the page.
    App(AppError),
}

impl std::fmt::Display for PageRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageRefusal::SignIn { .. } => f.write_str("sign-in required"),
            PageRefusal::Forbidden(_) => f.write_str("forbidden for this role"),
            PageRefusal::NotFound(_) => f.write_str("not found"),
            PageRefusal::App(e) => write!(f, "{e}"),
        }
    }
}

impl From<AppError> for PageRefusal {
    fn from(e: AppError) -> PageRefusal {
        PageRefusal::App(e)
    }
}

impl From<crate::db::DbError> for PageRefusal {
    fn from(e: crate::db::DbError) -> PageRefusal {
        PageRefusal::App(e.into())
    }
}

impl ResponseError for PageRefusal {
    fn status_code(&self) -> StatusCode {
        match self {
            PageRefusal::SignIn { .. } => StatusCode::SEE_OTHER,
            PageRefusal::Forbidden(_) => StatusCode::FORBIDDEN,
            PageRefusal::NotFound(_) => StatusCode::NOT_FOUND,
            PageRefusal::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let said = match self {
            PageRefusal::SignIn { next } => {
                let to = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                );
                return see_other(&to, &[]);
            }
            PageRefusal::App(e) => return e.error_response(),
            PageRefusal::Forbidden(lang) => message(
                *lang,
                StatusCode::FORBIDDEN,
                ("无权访问", "Not allowed"),
                lang.pick(
                    "您的账户角色无权打开此页面。",
                    "Your account's role may not open this page.",
                )
                .to_owned(),
                Some((
                    "/account".into(),
                    lang.pick("我的账户", "My account").into(),
                )),
            ),
            PageRefusal::NotFound(lang) => message(
                *lang,
                StatusCode::NOT_FOUND,
                ("未找到", "Not found"),
                lang.pick(
                    "没有您可以查看的此项内容。",
                    "There is nothing here that you may see.",
                )
                .to_owned(),
                Some((
                    "/account".into(),
                    lang.pick("我的账户", "My account").into(),
                )),
            ),
        };
        said.unwrap_or_else(|e| e.error_response())
    }
}

/// The person signed in on this browser, with the page's language and request ID.
pub struct SignedIn {
    /// The session (its CSRF token, the user).
    pub live: LiveSession,
    /// The page's language (`?lang=`, else `Accept-Language`).
    pub lang: Language,
    /// `?lang=` as asked, for the links of the page.
    pub q: LangQuery,
    /// The request ID, for the audit log.
    pub request_id: Option<String>,
}

impl SignedIn {
    /// As whom the session acts.
    pub fn who(&self) -> &Principal {
        &self.live.principal
    }

    /// The session's form token, for the hidden `csrf_token` of every form.
    pub fn csrf(&self) -> &str {
        &self.live.session.csrf_token
    }

    /// The page refused (403) unless the session's role is one of `roles` (an
    /// administrator always may).
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, PageRefusal> {
        if self.who().has_any(roles) {
            Ok(self.who())
        } else {
            Err(PageRefusal::Forbidden(self.lang))
        }
    }

    /// True when a form's `csrf_token` is this session's.
    pub fn form_ok(&self, token: Option<&str>) -> bool {
        session::session_token_ok(&self.live, token)
    }

    /// The audit names of a write from this page.
    pub fn audit(&self) -> super::context::Audit {
        super::context::Audit {
            actor: self.who().actor(),
            request_id: self.request_id.clone(),
        }
    }

    /// A link of this site with the page's `?lang=` kept.
    pub fn link(&self, path: &str) -> String {
        with_lang(path, &self.q)
    }

    /// A 404 page, for what the caller may not see.
    pub fn not_found(&self) -> PageRefusal {
        PageRefusal::NotFound(self.lang)
    }
}

impl FromRequest for SignedIn {
    type Error = PageRefusal;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::Internal("no app state".into()))?;
            let q = web::Query::<LangQuery>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default();
            let lang = page_lang(&req, q.lang.as_deref())?;
            let next = match req.uri().path_and_query() {
                Some(pq) => pq.as_str().to_owned(),
                None => req.path().to_owned(),
            };
            let live = session::current(&state, &req)
                .await?
                .ok_or(PageRefusal::SignIn { next })?;
            Ok(SignedIn {
                live,
                lang,
                q,
                request_id: request_id(&req),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_returned_to_after_signing_in() {
        assert_eq!(safe_next(Some("/my?lang=en")), Some("/my?lang=en"));
        assert_eq!(
            safe_next(Some("/tax/employers/9141")),
            Some("/tax/employers/9141")
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "evil",
            "/\\evil.example",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn the_language_is_kept_on_links_with_or_without_a_query() {
        let en = LangQuery {
            lang: Some("en".into()),
        };
        assert_eq!(with_lang("/my", &en), "/my?lang=en");
        assert_eq!(with_lang("/tax?page=2", &en), "/tax?page=2&lang=en");
        assert_eq!(with_lang("/my", &LangQuery::default()), "/my");
        let odd = LangQuery {
            lang: Some("fr".into()),
        };
        assert_eq!(with_lang("/my", &odd), "/my");
    }

    #[test]
    fn each_role_lands_on_its_own_pages() {
        assert_eq!(home_of(Role::Employer), "/my");
        assert_eq!(home_of(Role::Tax), "/tax");
        assert_ne!(home_of(Role::Federation), home_of(Role::Inspector));
    }
}
