//! `GET /tax/roll`: the levy roll of the officer's region, filtered by county, kind,
//! status and levy payable, paged by key on the database (`after=` the last USCC shown),
//! with the roll's CSV and XLSX downloads of the county.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{officer, page_year, scope_label, TaxNav};
use crate::db::collection::{RollFilter, RollStatus};
use crate::domain::money::to_fen;
use crate::domain::{EmployerKind, Language};
use crate::http::context::scoped_prefix;
use crate::http::page_kit::{page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::registry::collection::roll_rows;
use crate::registry::roll::RollRow;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// The filters as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RollQuery {
    levy_year: Option<String>,
    county: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    min: Option<String>,
    max: Option<String>,
    after: Option<String>,
    lang: Option<String>,
}

/// One row as shown.
pub struct Shown {
    row: RollRow,
    kind: String,
    status: String,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/tax/roll.html")]
struct RollView {
    layout: Layout,
    nav: TaxNav,
    levy_year: i32,
    scope: String,
    q: RollQuery,
    kinds: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, String)>,
    faults: Vec<(&'static str, String)>,
    rows: Vec<Shown>,
    next: Option<String>,
    first: Option<String>,
    csv: String,
    xlsx: String,
}

impl RollView {
    fn fault(&self, field: &str) -> Option<&str> {
        self.faults
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn selected(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
}

fn status_name(lang: Language, s: crate::registry::notices::NoticeStatus) -> String {
    match lang {
        Language::Zh => s.name_zh().to_owned(),
        Language::En => s.as_str().replace('_', " "),
    }
}

/// An amount filter in yuan, as fen.
fn amount(v: Option<&str>) -> Result<Option<i64>, ()> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<Decimal>()
            .ok()
            .filter(|d| !d.is_sign_negative())
            .and_then(to_fen)
            .map(Some)
            .ok_or(()),
    }
}

/// The page.
#[get("/tax/roll")]
pub async fn roll(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<RollQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let lang = s.lang;
    let q = q.into_inner();
    let today = state.clock.today();
    let levy_year = page_year(q.levy_year.as_deref(), today)?;
    let mut faults: Vec<(&'static str, String)> = Vec::new();
    let county = q.county.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let prefix = match scoped_prefix(&who, county) {
        Ok(p) => p,
        Err(AppError::Forbidden(_)) => {
            faults.push((
                "county",
                lang.pick(
                    "该区县不在您的管辖范围内",
                    "this county is outside your scope",
                )
                .to_owned(),
            ));
            String::new()
        }
        Err(_) => {
            faults.push((
                "county",
                lang.pick(
                    "区县代码为六位数字，如 411202",
                    "a county code is six digits, e.g. 411202",
                )
                .to_owned(),
            ));
            String::new()
        }
    };
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match k.parse::<EmployerKind>() {
            Ok(k) => Some(k.as_str().to_owned()),
            Err(_) => {
                faults.push((
                    "kind",
                    lang.pick("未知的单位类型", "unknown kind").to_owned(),
                ));
                None
            }
        },
    };
    let status = match q.status.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some("exempt") => Some(RollStatus::Exempt),
        Some("below_quota") => Some(RollStatus::BelowQuota),
        Some("compliant") => Some(RollStatus::Compliant),
        Some(_) => {
            faults.push((
                "status",
                lang.pick("未知的状态", "unknown status").to_owned(),
            ));
            None
        }
    };
    let bad_amount = || {
        lang.pick(
            "金额须为不小于零的数字，最多两位小数",
            "must be an amount of at least zero, two decimals at most",
        )
        .to_owned()
    };
    let min = amount(q.min.as_deref()).unwrap_or_else(|()| {
        faults.push(("min", bad_amount()));
        None
    });
    let max = amount(q.max.as_deref()).unwrap_or_else(|()| {
        faults.push(("max", bad_amount()));
        None
    });
    let after = q.after.clone().unwrap_or_default();
    let rows = if faults.is_empty() {
        let filter = RollFilter {
            region_prefix: prefix.clone(),
            kind,
            status,
            min_payable_fen: min,
            max_payable_fen: max,
        };
        let trigger = state.settings.collection.surcharge_from;
        let a = after.clone();
        Some(
            state
                .call(move |c, _| roll_rows(c, levy_year, &filter, &a, PER_PAGE, today, trigger))
                .await?,
        )
    } else {
        None
    };
    let (rows, next) = rows.unwrap_or_default();
    // The same filters on every link, only the key changes.
    let link_with = |after: Option<&str>| {
        let mut pairs: Vec<(&str, String)> = vec![("levy_year", levy_year.to_string())];
        for (k, v) in [
            ("county", &q.county),
            ("kind", &q.kind),
            ("status", &q.status),
            ("min", &q.min),
            ("max", &q.max),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.to_owned()));
            }
        }
        if let Some(a) = after {
            pairs.push(("after", a.to_owned()));
        }
        s.link(&format!("/tax/roll?{}", encode(&pairs)))
    };
    let clean = faults.is_empty();
    let export = |format: &str| {
        let mut pairs = vec![
            ("levy_year", levy_year.to_string()),
            ("format", format.to_owned()),
        ];
        if let Some(c) = county.filter(|_| clean) {
            pairs.push(("region", c.to_owned()));
        }
        format!("/api/v1/levy-roll?{}", encode(&pairs))
    };
    let shown = rows
        .into_iter()
        .map(|row| Shown {
            kind: EmployerKind::name_of(&row.kind, lang),
            status: status_name(lang, row.status),
            href: s.link(&format!(
                "/officer/employers/{}?levy_year={levy_year}",
                row.uscc
            )),
            row,
        })
        .collect();
    let status_code = if faults.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&RollView {
        layout: Layout::new(lang),
        nav: TaxNav::new(&s, levy_year, "roll"),
        levy_year,
        scope: scope_label(&state, &who, lang),
        kinds: EmployerKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.name(lang).to_owned()))
            .collect(),
        statuses: [
            crate::registry::notices::NoticeStatus::BelowQuota,
            crate::registry::notices::NoticeStatus::Compliant,
            crate::registry::notices::NoticeStatus::Exempt,
        ]
        .iter()
        .map(|st| (st.as_str(), status_name(lang, *st)))
        .collect(),
        faults,
        rows: shown,
        next: next.as_deref().map(|n| link_with(Some(n))),
        first: (!after.is_empty()).then(|| link_with(None)),
        csv: export("csv"),
        xlsx: export("xlsx"),
        q,
    })?;
    Ok(page(status_code, html, &[]))
}

/// `k=v&…`, each value percent-encoded.
fn encode(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
