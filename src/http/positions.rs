//! Reserved positions (岗位预留): the employer registers and closes its own
//! (`/api/v1/employers/{uscc}/positions…`), the federation reviews
//! (`/api/v1/positions/pending`, `/api/v1/positions/{id}/review`), and the public reads
//! the published ones that are open (`GET /api/v1/positions`, JSON or CSV, and the page
//! `/positions`): the job and the office to contact, nothing about any person.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{scoped_prefix, visible_employer, Caller};
use super::pages::{page_lang, render, Layout, HTML};
use super::problem::AppError;
use super::AppState;
use crate::auth::{scope_prefix, Role};
use crate::domain::{EmployerKind, Language, LevyYear, RegionCode, Said};
use crate::registry::fields::Fields;
use crate::registry::positions::{
    self, change, create, parse, Change, PositionError, PositionView, PublicPosition,
};

impl From<PositionError> for AppError {
    fn from(e: PositionError) -> Self {
        match e {
            PositionError::NotFound(s) => AppError::NotFound(s),
            PositionError::Conflict(s) => AppError::Conflict(s),
            PositionError::Field(p, s) => {
                AppError::field(p, s.get(super::problem::current_language()))
            }
            PositionError::Db(e) => e.into(),
        }
    }
}

#[post("/api/v1/employers/{uscc}/positions")]
async fn post_position(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let employer = visible_employer(&state, &caller.who, &path).await?;
    caller.require(&[Role::Employer])?;
    caller.require_write()?;
    let input = parse(&body, caller.lang)?;
    let audit = caller.audit();
    let today = state.clock.today();
    let (row, uscc) = state
        .call(move |c, _| {
            create(c, &employer, &input, &audit.actor, audit.rid()).map(|r| (r, employer.uscc))
        })
        .await?;
    Ok(HttpResponse::Created().json(PositionView::of(&row, &uscc, today)))
}

#[get("/api/v1/employers/{uscc}/positions")]
async fn own_positions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let employer = visible_employer(&state, &caller.who, &path).await?;
    caller.require(&[Role::Employer, Role::Federation])?;
    let today = state.clock.today();
    let items = state
        .call(move |c, _| {
            crate::db::positions::of_employer(c, employer.id).map(|rows| {
                rows.iter()
                    .map(|p| PositionView::of(p, &employer.uscc, today))
                    .collect::<Vec<_>>()
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[post("/api/v1/employers/{uscc}/positions/{id}/close")]
async fn close_position(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (uscc, id) = path.into_inner();
    let employer = visible_employer(&state, &caller.who, &uscc).await?;
    caller.require(&[Role::Employer])?;
    caller.require_write()?;
    let mut f = Fields::new(&body, &["reason", "levy_year", "line_no"], caller.lang)?;
    let reason = f.string("reason", true);
    let year = f.int("levy_year", false, 2016, 2100);
    let line = f.int("line_no", false, 0, 100_000);
    let mut errors = f.errors().to_vec();
    let how = match reason.as_deref() {
        Some("withdrawn") => Some(Change::Withdraw),
        Some("filled") => match (year.map(|y| y.to_string()).as_deref().and_then(LevyYear::parse), line) {
            (Some(y), Some(l)) => Some(Change::Filled {
                levy_year: y.get(),
                line_no: i32::try_from(l).unwrap_or(0),
            }),
            _ if errors.is_empty() => {
                return Err(AppError::field(
                    "/line_no",
                    "a filled position names the roster line (levy_year and line_no) of the disabled employee who took it",
                ))
            }
            _ => None,
        },
        Some(_) => {
            errors.push(crate::wire::FieldError {
                pointer: "/reason".into(),
                code: "invalid",
                message: caller
                    .lang
                    .pick("须为 filled 或 withdrawn", "must be filled or withdrawn")
                    .to_owned(),
            });
            None
        }
        None => None,
    };
    let Some(how) = how.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let (audit, today) = (caller.audit(), state.clock.today());
    let row = state
        .call(move |c, _| {
            change(
                c,
                id,
                Some(&employer),
                &how,
                today,
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(PositionView::of(&row, &uscc, today)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingQuery {
    region: Option<String>,
}

#[get("/api/v1/positions/pending")]
async fn pending(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PendingQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Federation])?;
    let prefix = scoped_prefix(&caller.who, q.region.as_deref())?;
    let today = state.clock.today();
    let items = state
        .call(move |c, _| positions::pending(c, &prefix, today))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[post("/api/v1/positions/{id}/review")]
async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Federation])?;
    caller.require_write()?;
    let id = path.into_inner();
    let mut f = Fields::new(&body, &["decision", "note"], caller.lang)?;
    let decision = f.string("decision", true);
    let note = f.text("note", decision.as_deref() == Some("reject"));
    let mut errors = f.errors().to_vec();
    let how = match (decision.as_deref(), note) {
        (Some("publish"), _) => Some(Change::Publish),
        (Some("reject"), Some(n)) => Some(Change::Reject(n)),
        (Some("reject"), None) => None,
        (Some(_), _) => {
            errors.push(crate::wire::FieldError {
                pointer: "/decision".into(),
                code: "invalid",
                message: caller
                    .lang
                    .pick("须为 publish 或 reject", "must be publish or reject")
                    .to_owned(),
            });
            None
        }
        (None, _) => None,
    };
    let Some(how) = how.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    // The federation reviews the positions of employers in its region only.
    let who = caller.who.clone();
    let (audit, today) = (caller.audit(), state.clock.today());
    let found = state
        .call(move |c, _| -> Result<_, crate::db::DbError> {
            let Some(p) = crate::db::positions::by_id(c, id)? else {
                return Ok(None);
            };
            crate::db::employers::by_id(c, p.employer_id)
        })
        .await?;
    let employer = found
        .filter(|e| e.region.parse().is_ok_and(|r| who.can_see(&e.uscc, &r)))
        .ok_or_else(|| {
            AppError::NotFound(Said::new(
                "没有该岗位（或您无权查看）",
                "no such position (or not one you may see)",
            ))
        })?;
    let uscc = employer.uscc.clone();
    let row = state
        .call(move |c, _| change(c, id, None, &how, today, &audit.actor, audit.rid()))
        .await?;
    Ok(HttpResponse::Ok().json(PositionView::of(&row, &uscc, today)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicQuery {
    county: Option<String>,
    kind: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

/// The county prefix and kinds of a public query; a fault names its parameter.
fn public_filter(q: &PublicQuery) -> Result<(String, Vec<&'static str>), AppError> {
    let county = match q.county.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => String::new(),
        Some(c) => c
            .parse::<RegionCode>()
            .map(|r| scope_prefix(&r).to_owned())
            .map_err(|e| AppError::field("/query/county", e.to_string()))?,
    };
    let kinds = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => Vec::new(),
        Some(k) => vec![k
            .parse::<EmployerKind>()
            .map_err(|_| AppError::field("/query/kind", "must be an employer kind"))?
            .as_str()],
    };
    Ok((county, kinds))
}

/// The CSV header of the feed.
const CSV_HEADER: [&str; 14] = [
    "编号 (id)",
    "单位名称 (employer)",
    "单位类型 (employer_kind)",
    "岗位 (title)",
    "人数 (openings)",
    "县区 (county)",
    "地址 (address)",
    "要求 (requirements)",
    "无障碍 (accessibility)",
    "工资下限 (wage_min)",
    "工资上限 (wage_max)",
    "开始 (open_from)",
    "截止 (open_to)",
    "联系方式 (contact)",
];

fn csv_cells(p: &PublicPosition) -> Vec<String> {
    let contact = [p.contact_phone.clone(), p.contact_email.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        p.id.to_string(),
        p.employer.clone(),
        crate::registry::roll::kind_zh(&p.employer_kind).to_owned(),
        p.title.clone(),
        p.openings.to_string(),
        p.county.clone(),
        p.address.clone(),
        p.requirements.clone(),
        p.accessibility.clone(),
        p.wage_min.clone(),
        p.wage_max.clone(),
        p.open_from.to_string(),
        p.open_to.to_string(),
        contact,
    ]
}

#[get("/api/v1/positions")]
async fn feed(
    state: web::Data<AppState>,
    q: web::Query<PublicQuery>,
) -> Result<HttpResponse, AppError> {
    let (county, kinds) = public_filter(&q)?;
    let csv = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        _ => return Err(AppError::field("/query/format", "must be json or csv")),
    };
    let today = state.clock.today();
    let items = state
        .call(move |c, _| positions::public_list(c, &county, &kinds, today))
        .await?;
    if csv {
        let mut out = format!("\u{feff}{}", crate::registry::csv::line(&CSV_HEADER));
        for p in &items {
            let cells = csv_cells(p);
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            out.push_str(&crate::registry::csv::line(&refs));
        }
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"positions.csv\"",
            ))
            .body(out));
    }
    Ok(HttpResponse::Ok().json(json!({ "as_of": today, "items": items })))
}

/// A position on the page.
struct Card {
    title: String,
    employer: String,
    kind_label: String,
    openings: i32,
    county: String,
    address: String,
    wage_min: String,
    wage_max: String,
    open_from: chrono::NaiveDate,
    open_to: chrono::NaiveDate,
    requirements: String,
    accessibility: String,
    contact_phone: Option<String>,
    contact_email: Option<String>,
}

struct Words {
    title: &'static str,
    lead: &'static str,
    filter: &'static str,
    county: &'static str,
    kind: &'static str,
    all_kinds: &'static str,
    show: &'static str,
    count: &'static str,
    openings: &'static str,
    place: &'static str,
    wage: &'static str,
    open: &'static str,
    requirements: &'static str,
    accessibility: &'static str,
    contact: &'static str,
}

impl Words {
    fn of(l: Language) -> Words {
        Words {
            title: l.pick("残疾人就业预留岗位", "Positions reserved for disabled people"),
            lead: l.pick(
                "以下岗位由用人单位为残疾人预留，经残疾人联合会审核发布。请直接联系单位办公电话或邮箱。",
                "Employers reserve these positions for disabled people; the disabled persons' federation reviewed and published them. Contact the employer's office directly.",
            ),
            filter: l.pick("筛选岗位", "Filter positions"),
            county: l.pick("县区代码", "County code"),
            kind: l.pick("单位类型", "Employer kind"),
            all_kinds: l.pick("全部", "All"),
            show: l.pick("查看", "Show"),
            count: l.pick("开放中的岗位：", "Open positions:"),
            openings: l.pick("人数", "Openings"),
            place: l.pick("工作地点", "Workplace"),
            wage: l.pick("月工资（元）", "Monthly wage (yuan)"),
            open: l.pick("开放期", "Open"),
            requirements: l.pick("岗位要求", "Requirements"),
            accessibility: l.pick("无障碍条件", "Accessibility"),
            contact: l.pick("单位联系方式", "Employer's office"),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/positions/index.html")]
struct PositionsPage {
    layout: Layout,
    t: Words,
    county: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    items: Vec<Card>,
}

#[get("/positions")]
async fn positions_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PublicQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let today = state.clock.today();
    let (filter, error) = match public_filter(&q) {
        Ok(f) => (f, None),
        Err(_) => (
            (String::new(), Vec::new()),
            Some(lang.pick(
                "县区代码须为六位行政区划代码；单位类型须从列表中选择。以下为全部岗位。",
                "The county must be a six-digit region code and the kind one of the list; all positions are shown.",
            )),
        ),
    };
    let (county, kinds) = filter;
    let items = state
        .call(move |c, _| positions::public_list(c, &county, &kinds, today))
        .await?;
    let view = PositionsPage {
        layout: Layout::new(lang),
        t: Words::of(lang),
        county: q.county.clone().unwrap_or_default(),
        kind: q.kind.clone().unwrap_or_default(),
        kinds: EmployerKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    if lang == Language::En {
                        k.as_str()
                    } else {
                        k.name_zh()
                    },
                )
            })
            .collect(),
        error: error.map(str::to_owned),
        items: items
            .into_iter()
            .map(|p| Card {
                kind_label: EmployerKind::name_of(&p.employer_kind, lang),
                title: p.title,
                employer: p.employer,
                openings: p.openings,
                county: p.county,
                address: p.address,
                wage_min: p.wage_min,
                wage_max: p.wage_max,
                open_from: p.open_from,
                open_to: p.open_to,
                requirements: p.requirements,
                accessibility: p.accessibility,
                contact_phone: p.contact_phone,
                contact_email: p.contact_email,
            })
            .collect(),
    };
    let status = if view.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HTML))
        .body(render(&view)?))
}

/// Registers the routes (the fixed paths before `{id}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(pending)
        .service(feed)
        .service(review)
        .service(post_position)
        .service(own_positions)
        .service(close_position)
        .service(positions_page);
}
