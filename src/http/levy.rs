//! The public calculator and the law it applies:
//! `POST /api/v1/levy/calculate`, `POST /api/v1/levy/surcharge`,
//! `GET /api/v1/policies/{region}?as_of=YYYY-MM-DD`.

use crate::domain::Said;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::problem::AppError;
use super::{lang_of, AppState};
use crate::domain::{PolicyLookupError, RegionCode};
use crate::wire::{calculate_request, surcharge_request, FieldError};

/// Parses a raw body as JSON; a syntax error is a field error at the document root, so
/// the calculator answers 422 with the position rather than a bare 400.
pub fn json_body(bytes: &[u8]) -> Result<Value, AppError> {
    serde_json::from_slice(bytes).map_err(|e| {
        AppError::from(vec![FieldError {
            pointer: String::new(),
            code: "invalid_json",
            message: format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        }])
    })
}

/// The calculation contract (docs/api.md): public, no token. The same function serves the
/// CLI (`quota-levy calc`), declarations and batch runs.
#[post("/api/v1/levy/calculate")]
async fn calculate(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let value = json_body(&body)?;
    let resp = calculate_request(state.policy.as_ref(), &value, lang_of(&req))?;
    json_answer(&resp, ANSWER_CAPACITY)
}

/// Room for a typical calculation's answer (about 12 KB with the explanation), so that
/// serialising it does not grow the buffer step by step.
const ANSWER_CAPACITY: usize = 16 * 1024;

/// A 200 JSON answer serialised into a buffer of `capacity` bytes.
fn json_answer(value: &impl serde::Serialize, capacity: usize) -> Result<HttpResponse, AppError> {
    let mut buf = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut buf, value).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(buf))
}

/// Late-payment surcharge of docs/rules.md §6 for a principal, due date and payments.
#[post("/api/v1/levy/surcharge")]
async fn surcharge(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let value = json_body(&body)?;
    let resp = surcharge_request(state.policy.as_ref(), &value, lang_of(&req))?;
    Ok(HttpResponse::Ok().json(resp))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyQuery {
    as_of: Option<String>,
    data_year: Option<i32>,
}

/// The parameters in force for a region on a date, each with its citation.
#[get("/api/v1/policies/{region}")]
async fn policy(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PolicyQuery>,
) -> Result<HttpResponse, AppError> {
    let region: RegionCode =
        path.parse()
            .map_err(|e: crate::domain::region::RegionCodeError| {
                AppError::field("/path/region", e.to_string())
            })?;
    let as_of = super::context::as_of(q.as_of.as_deref(), state.clock.today())?;
    // Data years are levy years − 1 (levy years run from 2016 to 2100).
    if q.data_year.is_some_and(|y| !(2015..=2099).contains(&y)) {
        return Err(AppError::field(
            "/query/data_year",
            "must be a year from 2015 to 2099",
        ));
    }
    let view = state
        .book
        .view(region, as_of, q.data_year)
        .map_err(|e| match e {
            PolicyLookupError::UnknownRegion(_) => {
                AppError::NotFound(Said::new("政策库中没有该地区", e.to_string()))
            }
            PolicyLookupError::AsOfTooEarly(_) => AppError::field("/query/as_of", e.to_string()),
            PolicyLookupError::Missing(m) => AppError::field("/query/as_of", m),
        })?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(calculate).service(surcharge).service(policy);
}
