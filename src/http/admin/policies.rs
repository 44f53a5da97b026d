//! `/admin/policies`: the policy packs as the calculation reads them. For a region and
//! a date, every value in force with its citation, the region that supplied it and
//! whether it is provisional (`PolicyBook::view`, as `policy show` and
//! `GET /api/v1/policies/{region}` show it); and two such views side by side (two dates,
//! or two regions), the values that differ marked.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{admin, given, FormState, Nav};
use crate::domain::{Language, RegionCode};
use crate::http::page_kit::{self, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::policy::{ParameterView, PolicyView};

/// The query of both pages: the first region and date, and (comparison) the second.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct PolicyQuery {
    region: Option<String>,
    as_of: Option<String>,
    region_b: Option<String>,
    as_of_b: Option<String>,
    lang: Option<String>,
}

/// A value as a row shows it.
pub struct ValueView {
    /// Key and period.
    pub key: String,
    /// The value.
    pub text: String,
    /// Its source.
    pub citation: String,
    /// Unconfirmed.
    pub provisional: bool,
    /// The pack it came from.
    pub region: String,
}

fn key_of(p: &ParameterView) -> String {
    match &p.period {
        Some(period) => format!("{} ({period})", p.key),
        None => p.key.clone(),
    }
}

fn value_view(p: &ParameterView) -> ValueView {
    ValueView {
        key: key_of(p),
        text: p.text.clone(),
        citation: p.citation.clone().unwrap_or_default(),
        provisional: p.provisional,
        region: p.region.map(|r| r.to_string()).unwrap_or_default(),
    }
}

/// One line of a comparison.
pub struct DiffRow {
    /// Key and period.
    pub key: String,
    /// The first side's value.
    pub a: Option<ValueView>,
    /// The second side's.
    pub b: Option<ValueView>,
    /// True when the values differ.
    pub changed: bool,
}

/// The two views aligned by key and period, in the first view's order (keys only in
/// the second after). A row is changed when its value (or its being in force) differs;
/// a new citation for the same value is not a change of the law's figure.
pub fn diff(a: &PolicyView, b: &PolicyView) -> Vec<DiffRow> {
    let mut rows: Vec<DiffRow> = a
        .parameters
        .iter()
        .map(|p| {
            let k = key_of(p);
            let other = b.parameters.iter().find(|q| key_of(q) == k);
            DiffRow {
                changed: other.is_none_or(|q| q.value != p.value),
                a: Some(value_view(p)),
                b: other.map(value_view),
                key: k,
            }
        })
        .collect();
    for q in &b.parameters {
        let k = key_of(q);
        if !a.parameters.iter().any(|p| key_of(p) == k) {
            rows.push(DiffRow {
                key: k,
                a: None,
                b: Some(value_view(q)),
                changed: true,
            });
        }
    }
    rows
}

/// What a side's heading says.
pub struct Side {
    /// Region code and name.
    pub region: String,
    /// Date.
    pub as_of: String,
    /// Any value provisional.
    pub provisional: bool,
    /// Notes in force.
    pub notes: Vec<String>,
}

fn side(v: &PolicyView, lang: Language) -> Side {
    let name = match lang {
        Language::Zh => v.region_name.clone(),
        Language::En => v.region_name_en.clone(),
    };
    Side {
        region: match name {
            Some(n) => format!("{} {n}", v.region),
            None => v.region.to_string(),
        },
        as_of: v.as_of.to_string(),
        provisional: v.provisional,
        notes: v.notes.clone(),
    }
}

#[derive(Template)]
#[template(path = "pages/admin/policy.html")]
struct PolicyPage {
    layout: Layout,
    nav: Nav,
    form: FormState,
    lang_value: Option<String>,
    compare: bool,
    side_a: Option<Side>,
    side_b: Option<Side>,
    values: Vec<ValueView>,
    rows: Vec<DiffRow>,
    changed: usize,
}

fn region_of(
    v: &Option<String>,
    name: &str,
    fallback: Option<RegionCode>,
    lang: Language,
    form: &mut FormState,
) -> Option<RegionCode> {
    match given(v) {
        None => fallback,
        Some(s) => match s.parse::<RegionCode>() {
            Ok(r) => Some(r),
            Err(_) => {
                form.fault(
                    name,
                    lang.pick("请输入六位行政区划代码", "enter a six-digit region code"),
                );
                None
            }
        },
    }
}

fn date_of(
    v: &Option<String>,
    name: &str,
    fallback: NaiveDate,
    lang: Language,
    form: &mut FormState,
) -> NaiveDate {
    match given(v) {
        None => fallback,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            form.fault(
                name,
                lang.pick("请输入日期（年-月-日）", "enter a date (YYYY-MM-DD)"),
            );
            fallback
        }),
    }
}

fn lookup(
    state: &AppState,
    region: RegionCode,
    as_of: NaiveDate,
    field: &str,
    lang: Language,
    form: &mut FormState,
) -> Option<PolicyView> {
    match state.book.view(region, as_of, None) {
        Ok(v) => Some(v),
        Err(e) => {
            let why = match e {
                crate::domain::PolicyLookupError::UnknownRegion(_) => lang
                    .pick(
                        "没有覆盖该地区的政策参数包",
                        "no policy pack covers this region",
                    )
                    .to_owned(),
                crate::domain::PolicyLookupError::AsOfTooEarly(_) => lang
                    .pick(
                        "不支持 2015-10-01 之前的日期",
                        "dates before 2015-10-01 are not modelled",
                    )
                    .to_owned(),
                other => other.to_string(),
            };
            form.fault(field, why);
            None
        }
    }
}

async fn policy_page(
    state: &AppState,
    signed: &SignedIn,
    q: PolicyQuery,
    compare: bool,
) -> Result<HttpResponse, PageRefusal> {
    admin(signed)?;
    let lang = signed.lang;
    let today = state.clock.today();
    let mut form = FormState::new(signed.csrf());
    for (k, v) in [
        ("region", &q.region),
        ("as_of", &q.as_of),
        ("region_b", &q.region_b),
        ("as_of_b", &q.as_of_b),
    ] {
        form.keep(k, given(v));
    }
    let region_a = region_of(
        &q.region,
        "region",
        Some(RegionCode::NATIONAL),
        lang,
        &mut form,
    );
    let as_of_a = date_of(&q.as_of, "as_of", today, lang, &mut form);
    let view_a = region_a.and_then(|r| lookup(state, r, as_of_a, "region", lang, &mut form));
    let mut page = PolicyPage {
        layout: Layout::new(lang),
        nav: Nav::new(signed, "/admin/policies"),
        lang_value: q.lang.clone().filter(|l| l == "zh" || l == "en"),
        compare,
        side_a: view_a.as_ref().map(|v| side(v, lang)),
        side_b: None,
        values: Vec::new(),
        rows: Vec::new(),
        changed: 0,
        form: FormState::default(),
    };
    if compare {
        let region_b = region_of(&q.region_b, "region_b", region_a, lang, &mut form);
        let as_of_b = date_of(&q.as_of_b, "as_of_b", as_of_a, lang, &mut form);
        let view_b = region_b.and_then(|r| lookup(state, r, as_of_b, "region_b", lang, &mut form));
        if let (Some(a), Some(b)) = (&view_a, &view_b) {
            page.rows = diff(a, b);
            page.changed = page.rows.iter().filter(|r| r.changed).count();
        }
        page.side_b = view_b.as_ref().map(|v| side(v, lang));
    } else if let Some(a) = &view_a {
        page.values = a.parameters.iter().map(value_view).collect();
    }
    let status = if form.has_faults() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page.form = form;
    let html = render(&page)?;
    Ok(page_kit::page(status, html, &[]))
}

#[get("/admin/policies")]
async fn show(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<PolicyQuery>,
) -> Result<HttpResponse, PageRefusal> {
    policy_page(&state, &signed, q.into_inner(), false).await
}

#[get("/admin/policies/compare")]
async fn compare_page(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<PolicyQuery>,
) -> Result<HttpResponse, PageRefusal> {
    policy_page(&state, &signed, q.into_inner(), true).await
}

/// Registers the policy pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(compare_page);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyBook;

    #[test]
    fn only_the_values_that_differ_are_changed() {
        let Ok(book) = PolicyBook::load_embedded() else {
            panic!("the built-in packs load");
        };
        let henan: RegionCode = "410000".parse().unwrap_or(RegionCode::NATIONAL);
        let day = |y| NaiveDate::from_ymd_opt(y, 6, 1).unwrap_or_default();
        let (Ok(a), Ok(b)) = (
            book.view(henan, day(2021), None),
            book.view(henan, day(2022), None),
        ) else {
            panic!("both views resolve");
        };
        let rows = diff(&a, &b);
        let row = |k: &str| rows.iter().find(|r| r.key == k);
        assert!(row("public_body_threshold.public_institution").is_some_and(|r| r.changed));
        assert!(row("quota_ratio").is_some_and(|r| !r.changed));
        let same = diff(&a, &a);
        assert!(same.iter().all(|r| !r.changed));
    }
}
