//! `GET /`: what the levy is, a way in for each kind of user, and the region's deadlines
//! of the current levy year (`?region=`, default [`super::DEFAULT_REGION`]) as the packs
//! set them: the certification window, the declaration deadline and the payment due
//! date, each with its source, as the reminders read them.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{date_text, query_value, switch_links, RegionGroup, DEFAULT_REGION};
use crate::domain::{Language, RegionCode};
use crate::http::pages::{page_lang, render, Layout, HTML};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::policy::PolicyView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HomeQuery {
    lang: Option<String>,
    region: Option<String>,
}

/// One deadline as the page lists it.
pub struct Deadline {
    /// What it is.
    pub label: &'static str,
    /// When, in words.
    pub when: String,
    /// Whether it is behind us.
    pub passed: bool,
    /// Its source.
    pub citation: String,
    /// Whether it is unconfirmed.
    pub provisional: bool,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    layout: Layout,
    switch_zh: String,
    switch_en: String,
    /// `?lang=xx` for the page's own links when the language was chosen by the switch.
    lang_q: String,
    /// The `lang` to carry in the region form, when chosen by the switch.
    lang_field: Option<&'static str>,
    regions: std::sync::Arc<[RegionGroup]>,
    /// The code of the region chosen in the select.
    region_selected: String,
    region_name: String,
    /// The region's code, for the calendar feed's address.
    region_code: String,
    levy_year: i32,
    data_year: i32,
    today: String,
    deadlines: Vec<Deadline>,
    region_error: Option<String>,
    dates_error: Option<String>,
}

fn param<'a>(view: &'a PolicyView, key: &str) -> Option<&'a crate::policy::ParameterView> {
    view.parameters.iter().find(|p| p.key == key)
}

fn day(v: &serde_json::Value) -> Option<NaiveDate> {
    v.as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// The deadlines of `levy_year` in `view`, in the order an employer meets them.
fn deadlines(view: &PolicyView, lang: Language, today: NaiveDate) -> Vec<Deadline> {
    let mut out = Vec::new();
    if let Some(p) = param(view, "certification_window") {
        if let (Some(opens), Some(closes)) = (day(&p.value["opens"]), day(&p.value["closes"])) {
            out.push(Deadline {
                label: lang.pick(
                    "残疾职工审核认定（向残联申报安排残疾人就业情况）",
                    "Certification of disabled employees (declared to the disabled persons' federation)",
                ),
                when: format!(
                    "{}{}{}",
                    date_text(opens, lang),
                    lang.pick("至", " to "),
                    date_text(closes, lang)
                ),
                passed: closes < today,
                citation: p.citation.clone().unwrap_or_default(),
                provisional: p.provisional,
            });
        }
    }
    for (key, zh, en) in [
        (
            "filing_deadline",
            "保障金申报截止",
            "Declaration of the levy closes",
        ),
        (
            "payment_due",
            "保障金缴纳截止",
            "Payment of the levy is due",
        ),
    ] {
        if let Some(p) = param(view, key) {
            if let Some(d) = day(&p.value) {
                out.push(Deadline {
                    label: lang.pick(zh, en),
                    when: date_text(d, lang),
                    passed: d < today,
                    citation: p.citation.clone().unwrap_or_default(),
                    provisional: p.provisional,
                });
            }
        }
    }
    out
}

/// The home page.
#[get("/")]
pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let today = state.clock.today();
    // The levy of year Y is declared and paid in Y, on the figures of Y − 1.
    let levy_year = today.year();
    let asked = q.region.as_deref().unwrap_or(DEFAULT_REGION).trim();
    let mut region_error = None;
    let mut dates_error = None;
    let mut deadlines_found = Vec::new();
    let mut region_name = String::new();
    match asked.parse::<RegionCode>() {
        Err(_) => {
            region_error = Some(
                lang.pick(
                    "地区代码应为六位数字（GB/T 2260），请从列表中选择",
                    "a region code is six digits (GB/T 2260); choose one from the list",
                )
                .to_owned(),
            )
        }
        Ok(code) => match state.book.view(code, today, Some(levy_year - 1)) {
            Ok(view) => {
                let (zh, en) = state.book.region_names(code);
                region_name = lang.pick(&zh, &en).to_owned();
                deadlines_found = deadlines(&view, lang, today);
            }
            Err(crate::domain::PolicyLookupError::UnknownRegion(_)) => {
                region_error = Some(
                    lang.pick(
                        "本服务没有该地区的政策参数，请从列表中选择",
                        "the service has no policy for this region; choose one from the list",
                    )
                    .to_owned(),
                )
            }
            Err(e) => {
                let (zh, en) = state.book.region_names(code);
                region_name = lang.pick(&zh, &en).to_owned();
                dates_error = Some(format!(
                    "{}{e}",
                    lang.pick(
                        "政策参数中没有本年度的日期：",
                        "the packs give no dates for this year: "
                    )
                ))
            }
        },
    }
    let mut rest = Vec::new();
    if let Some(r) = &q.region {
        rest.push(format!("region={}", query_value(r)));
    }
    let (switch_zh, switch_en) = switch_links("/", &rest.join("&"));
    let chosen = q.lang.as_deref().map(|_| lang.as_str());
    let page = HomePage {
        layout: Layout::new(lang),
        switch_zh,
        switch_en,
        lang_q: chosen.map(|l| format!("?lang={l}")).unwrap_or_default(),
        lang_field: chosen,
        regions: state.regions.groups(lang),
        region_selected: asked.to_owned(),
        region_name,
        region_code: asked.to_owned(),
        levy_year,
        data_year: levy_year - 1,
        today: date_text(today, lang),
        deadlines: deadlines_found,
        region_error,
        dates_error,
    };
    // An unknown region is answered with the page and the fault beside the select (the
    // request middleware would turn an HTML 4xx into a problem document).
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, HTML))
        .body(render(&page)?))
}
