//! The tax bureau's pages (`/tax`): the levy year at a glance by county, assessment
//! runs watched as they go, the levy roll filtered and paged, the bank payments import,
//! the arrears list, the written demands and the preview of a draft policy pack (the
//! federation's too). Every other page is the tax role's (an
//! administrator's too), within the officer's region; the data comes from the registry
//! through the small functions of these modules, as the API's does.

mod arrears;
mod demands;
mod impact;
mod import;
pub mod multipart;
mod overview;
mod roll;
mod runs;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

use super::page_kit::{PageRefusal, SignedIn};
use super::problem::AppError;
use super::AppState;
use crate::auth::{Principal, Role};
use crate::domain::money::format_money;
use crate::domain::{Language, LevyYear, RegionCode};
use rust_decimal::Decimal;

/// The roles of the tax pages (an administrator always may).
const TAX: &[Role] = &[Role::Tax];

/// The links every tax page shows.
pub struct TaxNav {
    /// `/tax`.
    pub overview: String,
    /// `/tax/roll`.
    pub roll: String,
    /// `/tax/arrears`.
    pub arrears: String,
    /// `/tax/payments/import`.
    pub import: String,
    /// `/tax/impact`.
    pub impact: String,
    /// Which one is shown (`overview`, `roll`, `arrears`, `import`, `impact`, or none).
    pub current: &'static str,
}

impl TaxNav {
    fn new(s: &SignedIn, year: i32, current: &'static str) -> TaxNav {
        TaxNav {
            overview: s.link(&format!("/tax?levy_year={year}")),
            roll: s.link(&format!("/tax/roll?levy_year={year}")),
            arrears: s.link(&format!("/tax/arrears?levy_year={year}")),
            import: s.link(&format!("/tax/payments/import?levy_year={year}")),
            impact: s.link(&format!("/tax/impact?levy_year={year}")),
            current,
        }
    }

    /// `aria-current` of the link to `which`.
    pub fn is(&self, which: &str) -> bool {
        self.current == which
    }
}

/// The levy year a page shows: `levy_year=` (422 at `/query/levy_year`), else the
/// current calendar year's.
fn page_year(asked: Option<&str>, today: chrono::NaiveDate) -> Result<i32, AppError> {
    use chrono::Datelike;
    match asked.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => super::context::query_levy_year(s).map(LevyYear::get),
        None => Ok(today.year().clamp(LevyYear::FIRST, LevyYear::LAST)),
    }
}

/// The signed-in tax officer (403 page otherwise).
fn officer(s: &SignedIn) -> Result<Principal, PageRefusal> {
    Ok(s.require(TAX)?.clone())
}

/// Money as shown: `1234.50`.
fn money(d: Decimal) -> String {
    format_money(d)
}

/// A region as the pages name it: its code, and the name of its own policy pack when
/// it has one.
fn region_label(state: &AppState, code: &str, lang: Language) -> String {
    match code.parse::<RegionCode>() {
        Ok(c) if state.book.pack(c).is_some() => {
            let (zh, en) = state.book.region_names(c);
            format!("{code} {}", lang.pick(&zh, &en))
        }
        _ => code.to_owned(),
    }
}

/// The officer's region, as the pages say it.
fn scope_label(state: &AppState, who: &Principal, lang: Language) -> String {
    match who.region {
        Some(r) => region_label(state, r.as_str(), lang),
        None => lang.pick("全部地区", "every region").to_owned(),
    }
}

/// `?levy_year=&lang=` of the simple pages.
#[derive(Debug, Default, Deserialize)]
struct YearQuery {
    levy_year: Option<String>,
}

/// The script that follows an assessment run on its page (no external loads; allowed
/// by the pages' `script-src 'self'`, docs/architecture.md).
const RUN_JS: &str = include_str!("../../../templates/static/run-progress.js");

#[get("/static/run-progress.js")]
async fn run_js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(RUN_JS)
}

/// Registers the tax pages.
pub fn routes(cfg: &mut web::ServiceConfig, upload_limit: usize) {
    cfg.service(run_js)
        .service(overview::overview)
        .service(runs::start)
        .service(runs::show)
        .service(roll::roll)
        .service(arrears::arrears)
        .service(demands::issue)
        .service(demands::print)
        .service(
            web::resource("/tax/payments/import")
                .app_data(web::PayloadConfig::new(upload_limit))
                .route(web::get().to(import::form))
                .route(web::post().to(import::upload)),
        )
        .service(
            web::resource("/tax/impact")
                .app_data(web::PayloadConfig::new(upload_limit))
                .route(web::get().to(impact::form))
                .route(web::post().to(impact::preview)),
        );
}
