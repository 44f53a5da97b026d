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
use crate::db::violator_lists::EntryFilter;
use crate::db::{AnyConnection, Db, DbError};
use crate::registry::violations::{csv_line, ViolationKind, ViolationRow, CSV_HEADER};
use crate::registry::violator_list::{count_rows, current, for_each_row};

/// Bytes of CSV gathered before they are sent.
const CSV_CHUNK: usize = 64 * 1024;

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

/// What a CSV download walks: the rows to write, in order, handed to `emit`.
pub(crate) type CsvWalk = Box<
    dyn FnOnce(
            &mut AnyConnection,
            &mut dyn FnMut(&ViolationRow) -> Result<(), DbError>,
        ) -> Result<(), DbError>
        + Send,
>;

/// The body of a violator CSV: the BOM and the header, then the rows `walk` emits,
/// written on a blocking thread and sent [`CSV_CHUNK`] bytes at a time, so that the
/// list is never whole in memory. The thread stops when the client goes away; a
/// failure part way aborts the response instead of ending it as if complete.
pub(crate) fn csv_body(
    db: Db,
    walk: CsvWalk,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let send = |s: String| {
            tx.blocking_send(Ok(web::Bytes::from(s)))
                .map_err(|_| DbError::Task("client went away".into()))
        };
        let result = (|| -> Result<(), DbError> {
            // The BOM makes Excel read the file as UTF-8 (Chinese Excel assumes GBK).
            let mut buf = format!("\u{feff}{}\r\n", CSV_HEADER.join(","));
            let mut conn = db.conn()?;
            walk(&mut conn, &mut |r| {
                buf.push_str(&csv_line(r));
                if buf.len() > CSV_CHUNK {
                    send(std::mem::take(&mut buf))?;
                }
                Ok(())
            })?;
            send(buf)
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "violator list download stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other("violator list download stopped")));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
}

/// A CSV attachment response of `body`.
pub(crate) fn csv_response(
    name: String,
    body: impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .streaming(body)
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
    // Decided (when the register changed) before the first byte, so that a failure is
    // still answered as a problem document.
    let list = state
        .call(move |c, st| current(c, st.book.as_ref(), levy_year, as_of))
        .await?;
    let filter = EntryFilter {
        region_prefix: prefix,
        ..EntryFilter::default()
    };
    if format == "csv" {
        let walk: CsvWalk = Box::new(move |c, emit| {
            for_each_row(c, list, &filter, kind, 0, None, &mut |r| emit(&r))
        });
        return Ok(csv_response(
            format!("violations-{levy_year}.csv"),
            csv_body(state.db.clone(), walk),
        ));
    }
    let (total, items) = state
        .call(move |c, _| {
            let total = count_rows(c, list, &filter, kind)?;
            let mut items = Vec::new();
            for_each_row(
                c,
                list,
                &filter,
                kind,
                window.offset(),
                Some(per_page),
                &mut |r| {
                    items.push(r);
                    Ok(())
                },
            )?;
            Ok::<_, DbError>((total, items))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "levy_year": levy_year, "as_of": as_of, "kind": kind, "page": page,
        "per_page": per_page, "total": total, "items": items,
    })))
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(violations);
}
