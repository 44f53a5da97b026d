//! `/my`: the signed-in employer's own service. `/my` sends the employer to
//! `/my/{uscc}`; every page under it is behind the API's own wall
//! ([`crate::http::context::visible_employer`]): another employer's USCC answers the
//! 404 page, as the API answers 404. Only an employer's account opens these pages
//! (officers, administrators included, have their own: 403 page).
//!
//! Pages: the overview of the levy year being declared now ([`overview`]), the
//! declaration form with its roster rows ([`declaration`], the calculator's fields),
//! the roster upload and its template ([`roster`]), the assessment explained
//! ([`assessment`]), the statement with how to pay and a printable 缴款通知书
//! ([`statement`]), the published notices that name the employer ([`notices`]) and the
//! contact e-mail ([`contact`]). Every form POST checks its CSRF token first (403 page,
//! nothing changed). Chinese by default, `?lang=en` kept on every link.

pub mod assessment;
pub mod contact;
pub mod declaration;
pub mod forecast;
mod multipart;
pub mod notices;
pub mod overview;
pub mod roster;
pub mod statement;

use actix_web::web;
use chrono::Datelike;

use super::context::visible_employer;
use super::page_kit::{PageRefusal, SignedIn};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::db::employers::Employer;
use crate::domain::{Language, LevyYear};

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/my/forecast` before `/my/{uscc}`, which would take "forecast" for a code.
    cfg.service(overview::my_home)
        .service(forecast::shortcut)
        .service(overview::overview)
        .service(declaration::show)
        .service(declaration::send)
        .service(roster::template)
        .service(roster::upload_form)
        .service(roster::upload)
        .service(assessment::assessment)
        .service(statement::statement_page)
        .service(statement::payment_notice)
        .service(notices::notices)
        .service(contact::contact_form)
        .service(contact::change_contact)
        .service(forecast::show)
        .service(forecast::send);
}

/// The levy year being declared now: the levy of year Y is declared and paid in Y, on
/// the figures of Y − 1 (docs/rules.md; the home page and the reminders count alike).
pub fn current_levy_year(state: &AppState) -> i32 {
    state.clock.today().year()
}

/// The page refused unless the session is an employer's account (with its USCC).
pub fn employer_only(s: &SignedIn) -> Result<&str, PageRefusal> {
    match (s.who().role, s.who().employer_uscc.as_deref()) {
        (Role::Employer, Some(uscc)) => Ok(uscc),
        _ => Err(PageRefusal::Forbidden(s.lang)),
    }
}

/// The employer of `{uscc}`, when it is the session's own: the API's wall, so another
/// employer's code (registered or not) answers the 404 page.
pub async fn own_employer(
    state: &AppState,
    s: &SignedIn,
    uscc: &str,
) -> Result<Employer, PageRefusal> {
    employer_only(s)?;
    match visible_employer(state, s.who(), uscc).await {
        Ok(e) => Ok(e),
        Err(AppError::NotFound(_)) => Err(s.not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `{year}` of a page's path: a levy year the service accepts, else the 404 page.
pub fn page_year(s: &SignedIn, year: &str) -> Result<i32, PageRefusal> {
    LevyYear::parse(year)
        .map(LevyYear::get)
        .ok_or_else(|| s.not_found())
}

/// The parts of the employer's service, for its navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/my/{uscc}`.
    Overview,
    /// The declaration form and the roster upload.
    Declaration,
    /// The assessment explained.
    Assessment,
    /// The statement and how to pay.
    Statement,
    /// Notices naming the employer.
    Notices,
    /// Its positions reserved for disabled people (`/my/positions`).
    Positions,
    /// The in-year forecast.
    Forecast,
    /// Contact e-mail and password.
    Contact,
}

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes (with `?lang=` kept).
    pub href: String,
    /// What it reads.
    pub label: &'static str,
    /// Whether it is the page shown.
    pub current: bool,
}

/// What every page of the employer's service shows above its content: whose service
/// it is and the navigation.
#[derive(Debug, Clone)]
pub struct MyFrame {
    /// The employer's registered name.
    pub name: String,
    /// Its USCC.
    pub uscc: String,
    /// The navigation.
    pub nav: Vec<NavLink>,
    /// The label of the navigation landmark.
    pub nav_label: &'static str,
}

impl MyFrame {
    /// The frame of a page of `section` for levy year `year`.
    pub fn new(s: &SignedIn, e: &Employer, section: Section, year: i32) -> MyFrame {
        let l = |zh: &'static str, en: &'static str| s.lang.pick(zh, en);
        let u = &e.uscc;
        let items = [
            (Section::Overview, format!("/my/{u}"), l("概览", "Overview")),
            (
                Section::Declaration,
                format!("/my/{u}/declaration/{year}"),
                l("申报", "Declaration"),
            ),
            (
                Section::Assessment,
                format!("/my/{u}/assessment/{year}"),
                l("核定结果", "Assessment"),
            ),
            (
                Section::Statement,
                format!("/my/{u}/statement/{year}"),
                l("缴款", "Payment"),
            ),
            (
                Section::Notices,
                format!("/my/{u}/notices"),
                l("公示", "Notices"),
            ),
            (
                Section::Positions,
                "/my/positions".to_owned(),
                l("预留岗位", "Reserved positions"),
            ),
            (
                Section::Forecast,
                format!("/my/{u}/forecast"),
                l("年度预测", "Forecast"),
            ),
            (
                Section::Contact,
                format!("/my/{u}/contact"),
                l("联系邮箱与密码", "E-mail and password"),
            ),
        ];
        MyFrame {
            name: e.name.clone(),
            uscc: e.uscc.clone(),
            nav: items
                .into_iter()
                .map(|(sec, href, label)| NavLink {
                    href: s.link(&href),
                    label,
                    current: sec == section,
                })
                .collect(),
            nav_label: l("本单位服务", "Your employer's service"),
        }
    }
}

/// A declaration's status in words.
pub fn status_text(status: &str, lang: Language) -> &'static str {
    match status {
        "draft" => lang.pick("草稿（尚未提交）", "draft (not submitted)"),
        "submitted" => lang.pick("已提交，待残联审核", "submitted, awaiting certification"),
        "certified" => lang.pick("残联已审核", "certified by the federation"),
        "amended" => lang.pick(
            "已更正（尚未重新提交）",
            "amended (not submitted again yet)",
        ),
        "returned" => lang.pick(
            "已被残联退回，请更正后重新提交",
            "returned by the federation: correct it and submit it again",
        ),
        _ => lang.pick("未知", "unknown"),
    }
}

/// A page's HTML answered with `status` (never cached: it carries personal data and a
/// form token).
pub fn respond(status: actix_web::http::StatusCode, html: String) -> actix_web::HttpResponse {
    super::page_kit::page(status, html, &[])
}
