//! `GET /api/v1/levy-roll?region=&levy_year=&page=&per_page=&as_of=&format=json|csv|xlsx`.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::io::{Read, Seek, SeekFrom};

use super::context::{as_of, ScopeQuery, Scoped};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::registry::roll::xlsx::{write_workbook, WorkbookError, XLSX_CONTENT_TYPE};
use crate::registry::roll::{csv_totals, for_each, push_csv_line, CSV_HEADER};

/// Bytes read from the finished workbook per chunk of the response body.
const XLSX_CHUNK: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollQuery {
    levy_year: String,
    region: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    as_of: Option<String>,
    format: Option<String>,
}

impl ScopeQuery for RollQuery {
    // The roll lists many employers: officers only, never an employer.
    const ROLES: &'static [Role] = &[Role::Tax, Role::Inspector, Role::Federation];
    fn levy_year(&self) -> &str {
        &self.levy_year
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[get("/api/v1/levy-roll")]
async fn levy_roll(
    state: web::Data<AppState>,
    scoped: Scoped<RollQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year,
        prefix,
        query: q,
        ..
    } = scoped;
    let (levy_year, as_of) = (
        levy_year.get(),
        as_of(q.as_of.as_deref(), state.clock.today())?,
    );
    // The statement's rule for when the surcharge starts (docs/rules.md §6).
    let trigger = state.settings.collection.surcharge_from;
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let window = super::PageWindow::from_query(q.page, q.per_page, 100, 1000)?;
            let super::PageWindow { page, per_page } = window;
            let (items, sums) = state
                .db
                .run(move |c| {
                    let mut items = Vec::new();
                    let sums = for_each(
                        c,
                        levy_year,
                        &prefix,
                        as_of,
                        window.offset(),
                        Some(per_page),
                        true,
                        trigger,
                        &mut |r| {
                            items.push(r);
                            Ok(())
                        },
                    )?;
                    Ok((items, sums))
                })
                .await?;
            let totals = sums.totals();
            Ok(HttpResponse::Ok().json(json!({
                "levy_year": levy_year, "as_of": as_of, "page": page, "per_page": per_page,
                "total": totals.employers, "items": items, "totals": totals,
            })))
        }
        "csv" => {
            let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(16);
            let db = state.db.clone();
            tokio::task::spawn_blocking(move || {
                let send = |s: String| {
                    tx.blocking_send(web::Bytes::from(s))
                        .map_err(|_| crate::db::DbError::Task("client went away".into()))
                };
                let result = (|| -> Result<(), crate::db::DbError> {
                    // The BOM makes Excel read the file as UTF-8 (Chinese Excel assumes GBK).
                    send(format!("\u{feff}{}\r\n", CSV_HEADER.join(",")))?;
                    let mut conn = db.conn()?;
                    let mut buf = String::new();
                    let sums = for_each(
                        &mut conn,
                        levy_year,
                        &prefix,
                        as_of,
                        0,
                        None,
                        true,
                        trigger,
                        &mut |r| {
                            push_csv_line(&mut buf, &r);
                            if buf.len() > 64 * 1024 {
                                send(std::mem::take(&mut buf))?;
                            }
                            Ok(())
                        },
                    )?;
                    buf.push_str(&csv_totals(&sums.totals()));
                    send(buf)
                })();
                if let Err(e) = result {
                    tracing::warn!(error = %e, "levy roll export stopped");
                }
            });
            let body = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
            });
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"levy-roll-{levy_year}.csv\""),
                ))
                .streaming(body))
        }
        "xlsx" => {
            // Built whole before the first byte is sent, so a failure is still answered
            // as a problem document; yet never in memory: rows go to rust_xlsxwriter's
            // temporary file as they come, the zipped workbook to an anonymous temporary
            // file (removed by the system when closed), streamed from there.
            let built = state
                .db
                .run(move |c| {
                    let io = |e: std::io::Error| {
                        crate::db::DbError::Task(format!("levy roll workbook file: {e}"))
                    };
                    let mut file = tempfile::tempfile().map_err(io)?;
                    match write_workbook(c, levy_year, &prefix, as_of, trigger, &mut file) {
                        Ok(_) => {}
                        Err(WorkbookError::Db(e)) => return Err(e),
                        Err(too_many @ WorkbookError::TooManyEmployers) => {
                            return Ok(Err(too_many))
                        }
                    }
                    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
                    file.rewind().map_err(io)?;
                    Ok(Ok((file, len)))
                })
                .await?;
            // Too big for one sheet is the request's fault (a whole country, say), not
            // the server's: a 422 naming the region to narrow.
            let (file, len) = built.map_err(|e| AppError::field("/query/region", e.to_string()))?;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"levy-roll-{levy_year}.xlsx\""),
                ))
                .no_chunking(len)
                .streaming(file_chunks(file)))
        }
        _ => Err(AppError::field(
            "/query/format",
            "must be json, csv or xlsx",
        )),
    }
}

/// The body of a file read chunk by chunk on the blocking pool (file reads would stall
/// the async workers); the next chunk is read only when the client has taken the last,
/// and a read error aborts the response rather than end it short.
pub(crate) fn file_chunks(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; XLSX_CHUNK];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        match read {
            Ok((_, buf)) if buf.is_empty() => None,
            Ok((file, buf)) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Err(e) => {
                tracing::warn!(error = %e, "levy roll workbook stopped");
                Some((Err(e), None))
            }
        }
    })
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(levy_roll);
}
