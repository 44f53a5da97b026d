//! `GET /api/v1/violations?region=&levy_year=&kind=&page=&per_page=&as_of=&format=json|csv`:
//! the violator list for labour inspectors (levy-rules §8). Officers only; a
//! region-scoped token sees its region only. Rows never show certificate or ID numbers.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::auth::Auth;
use super::declarations::parse_levy_year;
use super::problem::AppError;
use super::roll::scoped_prefix;
use super::AppState;
use crate::auth::Role;
use crate::registry::violations::{csv_line, load, ViolationKind, CSV_HEADER};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViolationsQuery {
    levy_year: String,
    region: Option<String>,
    kind: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    as_of: Option<String>,
    format: Option<String>,
}

#[get("/api/v1/violations")]
async fn violations(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ViolationsQuery>,
) -> Result<HttpResponse, AppError> {
    // The list names many employers: officers only, never an employer.
    let who = auth
        .require(&[Role::Inspector, Role::Tax, Role::Federation])?
        .clone();
    let levy_year = parse_levy_year(&q.levy_year)
        .map_err(|_| AppError::field("/query/levy_year", "must be a year from 2016 to 2100"))?;
    let prefix = scoped_prefix(&who, q.region.as_deref())?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ViolationKind::parse(s).ok_or_else(|| {
            let all: Vec<&str> = ViolationKind::ALL.iter().map(|k| k.as_str()).collect();
            AppError::field("/query/kind", format!("must be one of {}", all.join(", ")))
        })?),
    };
    let as_of = match &q.as_of {
        None => state.clock.today(),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::field("/query/as_of", "must be a date YYYY-MM-DD"))?,
    };
    let format = q.format.as_deref().unwrap_or("json");
    if format != "json" && format != "csv" {
        return Err(AppError::field("/query/format", "must be json or csv"));
    }
    let window = super::PageWindow::from_query(q.page, q.per_page, 100, 1000)?;
    let super::PageWindow { page, per_page } = window;
    let book = state.book.clone();
    let rows = state
        .db
        .run(move |c| load(c, book.as_ref(), levy_year, &prefix, as_of, kind))
        .await?;
    if format == "csv" {
        // The BOM makes Excel read the file as UTF-8 (Chinese Excel assumes GBK).
        let mut body = format!("\u{feff}{}\r\n", CSV_HEADER.join(","));
        for r in &rows {
            body.push_str(&csv_line(r));
        }
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"violations-{levy_year}.csv\""),
            ))
            .body(body));
    }
    let total = rows.len();
    let skip = usize::try_from(window.offset()).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(100);
    let items: Vec<_> = rows.into_iter().skip(skip).take(take).collect();
    Ok(HttpResponse::Ok().json(json!({
        "levy_year": levy_year, "as_of": as_of, "kind": kind, "page": page,
        "per_page": per_page, "total": total, "items": items,
    })))
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(violations);
}
