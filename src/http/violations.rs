//! `GET /api/v1/violations?region=&levy_year=&kind=&page=&per_page=&as_of=&format=json|csv`:
//! the violator list for labour inspectors (docs/rules.md §8). Officers only; a
//! region-scoped token sees its region only. Rows never show certificate or ID numbers.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::context::{as_of, ScopeQuery, Scoped};
use super::problem::AppError;
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

impl ScopeQuery for ViolationsQuery {
    // The list names many employers: officers only, never an employer.
    const ROLES: &'static [Role] = &[Role::Inspector, Role::Tax, Role::Federation];
    fn levy_year(&self) -> &str {
        &self.levy_year
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[get("/api/v1/violations")]
async fn violations(
    state: web::Data<AppState>,
    scoped: Scoped<ViolationsQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year,
        prefix,
        query: q,
        ..
    } = scoped;
    let levy_year = levy_year.get();
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ViolationKind::parse(s).ok_or_else(|| {
            let all: Vec<&str> = ViolationKind::ALL.iter().map(|k| k.as_str()).collect();
            AppError::field("/query/kind", format!("must be one of {}", all.join(", ")))
        })?),
    };
    let as_of = as_of(q.as_of.as_deref(), state.clock.today())?;
    let format = q.format.as_deref().unwrap_or("json");
    if format != "json" && format != "csv" {
        return Err(AppError::field("/query/format", "must be json or csv"));
    }
    let window = super::PageWindow::from_query(q.page, q.per_page, 100, 1000)?;
    let super::PageWindow { page, per_page } = window;
    let rows = state
        .call(move |c, st| load(c, st.book.as_ref(), levy_year, &prefix, as_of, kind))
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
