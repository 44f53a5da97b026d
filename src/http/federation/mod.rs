//! The disabled persons' federation's pages, `/federation/…`: the certification queue
//! and each declaration's roster (numbers masked until an audited opening), certifying
//! one or many, returning one to the employer with a reason; certificate disputes;
//! notices (preview, publish) with their objection register and correction.
//!
//! Every page needs a signed-in federation officer (or an administrator) — others get
//! a 403 page; an employer or notice outside the officer's region is a 404 page, as in
//! the API. Every form POST checks its CSRF token first (403 page, nothing changed),
//! and every write goes through the same registry function as the API, audited.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use chrono::Datelike;
use percent_encoding::percent_decode_str;

use super::page_kit::{china_time, page, PageRefusal, SignedIn};
use super::pages::{render, Layout};
use super::AppState;
use crate::auth::{scope_prefix, Principal, Role};
use crate::db::employers::Employer;
use crate::domain::{Language, LevyYear};

mod certify;
mod disputes;
mod notices;
mod objections;
mod positions;
mod queue;

/// The officer of a page: signed in with the federation's role (or admin), else 403.
fn officer(s: &SignedIn) -> Result<&Principal, PageRefusal> {
    s.require(&[Role::Federation])
}

/// The region prefix the officer sees ("" for an unscoped officer).
fn prefix_of(who: &Principal) -> String {
    who.region
        .as_ref()
        .map(|r| scope_prefix(r).to_owned())
        .unwrap_or_default()
}

/// The employer of `uscc` if the officer may see it, else a 404 page (the same wall as
/// the API's `visible_employer`).
async fn visible(state: &AppState, s: &SignedIn, uscc: &str) -> Result<Employer, PageRefusal> {
    match super::context::visible_employer(state, s.who(), uscc).await {
        Ok(e) => Ok(e),
        Err(super::problem::AppError::NotFound(_)) => Err(s.not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The levy year a page is about: `?levy_year=` when valid, else the current year.
fn levy_year_or_now(asked: Option<&str>, state: &AppState) -> i32 {
    asked
        .and_then(LevyYear::parse)
        .map(LevyYear::get)
        .unwrap_or_else(|| state.clock.today().year())
}

/// A form's fields as sent (`application/x-www-form-urlencoded`), repeated names kept
/// (the queue's checkboxes), which a serde struct cannot hold.
#[derive(Debug, Default)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    pub(crate) fn parse(body: &[u8]) -> FormData {
        let text = String::from_utf8_lossy(body);
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_decode_str(&s).decode_utf8_lossy().into_owned()
        };
        FormData(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub(crate) fn csrf(&self) -> Option<&str> {
        self.get("csrf_token")
    }
}

/// The navigation of the federation's pages, with the language kept.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    pub(crate) queue: String,
    pub(crate) disputes: String,
    pub(crate) notices: String,
    pub(crate) rewards: String,
    pub(crate) positions: String,
    pub(crate) account: String,
    pub(crate) current: &'static str,
}

impl Nav {
    pub(crate) fn new(s: &SignedIn, current: &'static str) -> Nav {
        Nav {
            queue: s.link("/federation"),
            disputes: s.link("/federation/disputes"),
            notices: s.link("/federation/notices"),
            rewards: s.link("/federation/rewards"),
            positions: s.link("/federation/positions"),
            account: s.link("/account"),
            current,
        }
    }
}

/// A 200 page of `view`.
fn ok_page(view: &impl Template) -> Result<HttpResponse, PageRefusal> {
    Ok(page(StatusCode::OK, render(view)?, &[]))
}

/// A page that says what was done (or why not) with a way back.
fn said(
    s: &SignedIn,
    status: StatusCode,
    title: (&str, &str),
    text: String,
    back: &str,
) -> Result<HttpResponse, PageRefusal> {
    let label = s.lang.pick("返回", "Back").to_owned();
    Ok(super::page_kit::message(
        s.lang,
        status,
        title,
        text,
        Some((s.link(back), label)),
    )?)
}

/// The layout of a federation page.
fn layout(lang: Language) -> Layout {
    Layout::new(lang)
}

/// Registers the pages.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    queue::routes(cfg);
    certify::routes(cfg);
    disputes::routes(cfg);
    notices::routes(cfg);
    objections::routes(cfg);
    positions::routes(cfg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_keeps_repeated_fields_and_decodes_them() {
        let f = FormData::parse(b"csrf_token=ab&pick=1%402&pick=3&reason=%E9%80%80+x&empty=");
        assert_eq!(f.csrf(), Some("ab"));
        assert_eq!(f.all("pick"), vec!["1@2", "3"]);
        assert_eq!(f.get("reason"), Some("退 x"));
        assert_eq!(f.get("empty"), None);
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn times_are_shown_on_china_clock() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(20, 5, 0))
            .unwrap_or_default();
        assert_eq!(china_time(t), "2026-01-02 04:05");
    }
}
