//! `POST /api/v1/policy-impact?region=&levy_year=&format=`: a draft policy pack (the
//! body, TOML) previewed over the register of a region and levy year beside today's
//! law, nothing written (docs/impact.md). For the tax bureau and the federation (an
//! administrator too), within the caller's region. `format=json` (default) answers the
//! report; `format=csv` streams one line per employer that changes, then the totals.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use serde::Deserialize;

use super::context::{outside_scope, Caller};
use super::problem::{AppError, FieldProblem};
use super::AppState;
use crate::auth::{region_covers, Role};
use crate::domain::{Language, LevyYear, RegionCode};
use crate::policy::DraftBook;
use crate::registry::impact::{self, draft_fault, ImpactJob, ImpactReport};

/// The query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImpactQuery {
    region: Option<String>,
    levy_year: Option<String>,
    format: Option<String>,
    file_name: Option<String>,
}

#[post("/api/v1/policy-impact")]
async fn policy_impact(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ImpactQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let who = caller.require(&[Role::Tax, Role::Federation])?.clone();
    let lang = caller.lang;
    let q = q.into_inner();
    let levy_year = q
        .levy_year
        .as_deref()
        .and_then(|y| y.trim().parse::<i64>().ok())
        .and_then(LevyYear::new)
        .ok_or_else(|| AppError::field("/query/levy_year", LevyYear::expected()))?
        .get();
    let region = match (q.region.as_deref(), who.region) {
        (Some(r), _) => r
            .parse::<RegionCode>()
            .map_err(|e| AppError::field("/query/region", e.to_string()))?,
        (None, Some(scope)) => scope,
        (None, None) => RegionCode::NATIONAL,
    };
    if let Some(scope) = who.region {
        if !region_covers(&scope, &region) {
            return Err(AppError::Forbidden(outside_scope()));
        }
    }
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(AppError::field("/query/format", "must be json or csv"));
    }
    let src = std::str::from_utf8(&body)
        .map_err(|_| AppError::field("/body", "the draft pack must be TOML text in UTF-8"))?;
    let draft = state
        .book
        .with_draft(q.file_name.as_deref(), src)
        .map_err(|e| {
            AppError::Validation(
                e.issues
                    .iter()
                    .map(|i| FieldProblem {
                        pointer: match &i.key {
                            Some(k) => format!("/body/{k}"),
                            None => "/body".into(),
                        },
                        code: "invalid_policy".into(),
                        detail: draft_fault(i, lang),
                    })
                    .collect(),
            )
        })?;
    impact::check_draft_region(region, draft.region)
        .map_err(|said| AppError::field("/body/region.code", said.get(lang).to_owned()))?;
    if format == "csv" {
        return Ok(csv_response(&state, levy_year, region, draft, lang));
    }
    let report = report(&state, levy_year, region, draft, lang).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The whole preview of `draft` beside today's law, off the executor (the API's JSON,
/// the page's report and its workbook).
pub(crate) async fn report(
    state: &AppState,
    levy_year: i32,
    region: RegionCode,
    draft: DraftBook,
    lang: Language,
) -> Result<ImpactReport, crate::db::DbError> {
    let today = state.book.clone();
    state
        .db
        .run(move |c| {
            let job = ImpactJob {
                levy_year,
                region,
                today: &today,
                draft: &draft,
                lang,
            };
            impact::run(c, &job, &mut |_| Ok(()))
        })
        .await
}

/// The CSV of a preview, streamed as it goes: one line per employer whose status,
/// levy or reward changes, then the totals (the page's download too).
pub(crate) fn csv_response(
    state: &AppState,
    levy_year: i32,
    region: RegionCode,
    draft: DraftBook,
    lang: Language,
) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(16);
    let db = state.db.clone();
    let today = state.book.clone();
    tokio::task::spawn_blocking(move || {
        let send = |s: String| {
            tx.blocking_send(web::Bytes::from(s))
                .map_err(|_| crate::db::DbError::Task("client went away".into()))
        };
        let result = (|| -> Result<(), crate::db::DbError> {
            // The BOM makes Excel read the file as UTF-8 (Chinese Excel assumes GBK).
            send(format!(
                "\u{feff}{}\r\n",
                impact::csv_header(lang).join(",")
            ))?;
            let mut conn = db.conn()?;
            let job = ImpactJob {
                levy_year,
                region,
                today: &today,
                draft: &draft,
                lang,
            };
            let mut buf = String::new();
            let report = impact::run(&mut conn, &job, &mut |e| {
                if e.changed() {
                    impact::push_csv_line(&mut buf, e, lang);
                    if buf.len() > 64 * 1024 {
                        send(std::mem::take(&mut buf))?;
                    }
                }
                Ok(())
            })?;
            buf.push_str(&impact::csv_totals(&report, lang));
            send(buf)
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "policy impact export stopped");
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"policy-impact-{region}-{levy_year}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(policy_impact);
}
