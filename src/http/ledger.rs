//! The fund's account (征收使用管理): `GET /api/v1/ledger?region=&levy_year=&as_of=`
//! (JSON, CSV, XLSX), `GET /api/v1/ledger/entries?…&kind=payments|payouts` (what a line
//! sums), and the pages `/ledger` and `/ledger/entries` for tax and federation officers.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::context::{as_of, query_levy_year, scoped_prefix, ScopeQuery, Scoped};
use super::page_kit::{page, PageRefusal, SignedIn};
use super::pages::{render, Layout};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::domain::Language;
use crate::registry::ledger::{account, entries, rows, Entry, Ledger, CSV_HEADER};
use crate::registry::roll::xlsx::XLSX_CONTENT_TYPE;

/// Who may read the account: the finance side (tax) and the federation (admin always).
const ROLES: &[Role] = &[Role::Tax, Role::Federation];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    levy_year: String,
    region: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
    kind: Option<String>,
}

impl ScopeQuery for LedgerQuery {
    const ROLES: &'static [Role] = ROLES;
    fn levy_year(&self) -> &str {
        &self.levy_year
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[get("/api/v1/ledger")]
async fn get_ledger(
    state: web::Data<AppState>,
    scoped: Scoped<LedgerQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year,
        prefix,
        query: q,
        ..
    } = scoped;
    if q.kind.is_some() {
        return Err(AppError::field(
            "/query/kind",
            "belongs to /api/v1/ledger/entries",
        ));
    }
    let (levy_year, as_of) = (
        levy_year.get(),
        as_of(q.as_of.as_deref(), state.clock.today())?,
    );
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(AppError::field(
            "/query/format",
            "must be json, csv or xlsx",
        ));
    }
    let l = state
        .call(move |c, _| account(c, levy_year, &prefix, as_of))
        .await?;
    match format.as_str() {
        "json" => Ok(HttpResponse::Ok().json(&l)),
        "csv" => {
            let mut out = format!("\u{feff}{}", crate::registry::csv::line(&CSV_HEADER));
            for r in rows(&l) {
                let cells: Vec<&str> = r.iter().map(String::as_str).collect();
                out.push_str(&crate::registry::csv::line(&cells));
            }
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"ledger-{levy_year}.csv\""),
                ))
                .body(out))
        }
        _ => {
            let r = rows(&l);
            let bytes = web::block(move || {
                crate::registry::sheet::workbook("保障金收支", &CSV_HEADER, &r, &[2])
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"ledger-{levy_year}.xlsx\""),
                ))
                .body(bytes))
        }
    }
}

fn payouts_kind(kind: Option<&str>) -> Result<bool, AppError> {
    match kind {
        Some("payments") => Ok(false),
        Some("payouts") => Ok(true),
        _ => Err(AppError::field(
            "/query/kind",
            "must be payments or payouts",
        )),
    }
}

#[get("/api/v1/ledger/entries")]
async fn get_entries(
    state: web::Data<AppState>,
    scoped: Scoped<LedgerQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year,
        prefix,
        query: q,
        ..
    } = scoped;
    let payouts = payouts_kind(q.kind.as_deref())?;
    let (levy_year, as_of) = (
        levy_year.get(),
        as_of(q.as_of.as_deref(), state.clock.today())?,
    );
    let (items, sum) = state
        .call(move |c, _| entries(c, levy_year, &prefix, as_of, payouts))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "levy_year": levy_year, "as_of": as_of, "kind": q.kind, "sum": sum, "items": items,
    })))
}

/// The words of the page.
struct Words {
    title: &'static str,
    filter: &'static str,
    region: &'static str,
    year: &'static str,
    show: &'static str,
    as_of: &'static str,
    employers: &'static str,
    line: &'static str,
    amount: &'static str,
    sum: &'static str,
    date: &'static str,
    uscc: &'static str,
    name: &'static str,
    reference: &'static str,
    back: &'static str,
}

impl Words {
    fn of(l: Language) -> Words {
        Words {
            title: l.pick(
                "残疾人就业保障金收支",
                "The employment security fund's account",
            ),
            filter: l.pick("选择地区和年度", "Choose region and year"),
            region: l.pick("行政区划代码", "Region code"),
            year: l.pick("征收年度", "Levy year"),
            show: l.pick("查看", "Show"),
            as_of: l.pick("截至", "As of"),
            employers: l.pick("核定单位数", "Employers assessed"),
            line: l.pick("项目", "Line"),
            amount: l.pick("金额（元）", "Amount (yuan)"),
            sum: l.pick("合计", "sum"),
            date: l.pick("日期", "Date"),
            uscc: l.pick("统一社会信用代码", "USCC"),
            name: l.pick("单位名称", "Employer"),
            reference: l.pick("凭证号", "Reference"),
            back: l.pick("返回收支表", "Back to the account"),
        }
    }
}

/// A drill-down list on the page.
struct EntryList {
    caption: &'static str,
    sum: String,
    items: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "pages/ledger/index.html")]
struct LedgerPage {
    layout: Layout,
    t: Words,
    region: String,
    levy_year: String,
    error: Option<String>,
    ledger: Option<Ledger>,
    entries: Option<EntryList>,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    region: Option<String>,
    levy_year: Option<String>,
    kind: Option<String>,
}

async fn ledger_page_of(
    state: web::Data<AppState>,
    who: SignedIn,
    q: PageQuery,
    drill: bool,
) -> Result<HttpResponse, PageRefusal> {
    let principal = who.require(ROLES)?.clone();
    let lang = who.lang;
    // A year asked for, else last year's levy (the one being collected).
    let today = state.clock.today();
    let levy_year = q
        .levy_year
        .clone()
        .unwrap_or_else(|| chrono::Datelike::year(&today).to_string());
    let region = q.region.clone().unwrap_or_default();
    let mut view = LedgerPage {
        layout: Layout::new(lang),
        t: Words::of(lang),
        region: region.clone(),
        levy_year: levy_year.clone(),
        error: None,
        ledger: None,
        entries: None,
    };
    let checked = query_levy_year(&levy_year).and_then(|y| {
        let r = (!region.is_empty()).then_some(region.as_str());
        Ok((y.get(), scoped_prefix(&principal, r)?))
    });
    let status = match checked {
        Err(AppError::Forbidden(_)) => return Err(PageRefusal::Forbidden(lang)),
        Err(e) => {
            view.error = Some(
                lang.pick(
                    "请填写六位行政区划代码（可留空）和有效的征收年度。",
                    "Give a six-digit region code (or none) and a valid levy year.",
                )
                .to_owned()
                    + &format!(" ({e})"),
            );
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok((year, prefix)) => {
            let payouts = match (drill, q.kind.as_deref()) {
                (false, _) => None,
                (true, k) => Some(payouts_kind(k).map_err(|_| who.not_found())?),
            };
            let (l, list) = state
                .call(move |c, _| -> Result<_, crate::db::DbError> {
                    let l = account(c, year, &prefix, today)?;
                    let list = payouts
                        .map(|p| entries(c, year, &prefix, today, p).map(|e| (p, e)))
                        .transpose()?;
                    Ok((l, list))
                })
                .await?;
            view.entries = list.map(|(p, (items, sum))| EntryList {
                caption: if p {
                    lang.pick("超比例奖励发放明细", "Reward payouts")
                } else {
                    lang.pick("保障金缴款明细", "Levy payments")
                },
                sum,
                items,
            });
            view.ledger = Some(l);
            StatusCode::OK
        }
    };
    Ok(page(status, render(&view)?, &[]))
}

#[get("/ledger")]
async fn ledger_page(
    state: web::Data<AppState>,
    who: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageRefusal> {
    ledger_page_of(state, who, q.into_inner(), false).await
}

#[get("/ledger/entries")]
async fn ledger_entries_page(
    state: web::Data<AppState>,
    who: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageRefusal> {
    ledger_page_of(state, who, q.into_inner(), true).await
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_ledger)
        .service(get_entries)
        .service(ledger_page)
        .service(ledger_entries_page);
}
