//! `POST /api/v1/imports/employers` and `POST /api/v1/imports/declarations?levy_year=Y`:
//! bulk import by upload (roles `admin` and `tax`). The file layouts and the rules are
//! those of the CLI, described in [`crate::import`].
//!
//! **Request.** The file itself is the body (no multipart form), with
//! `Content-Type: text/csv` (optionally `; charset=utf-8` or `; charset=gbk`),
//! `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` for XLSX, or
//! `application/octet-stream` to have the format and encoding detected. Query:
//! `partial=true|false` (default false), `levy_year=Y` (declarations, required),
//! optional `encoding=utf-8|gbk`, `format=csv|xlsx` (override the content type) and
//! `lang=zh|en` (default: `Accept-Language`, else Chinese). Uploads may be up to
//! `server.upload_limit_bytes` (default 50 MiB), more than the JSON body limit. A
//! multipart upload answers 415.
//!
//! **Response.**
//! - `200` with the import report (`import_id`, `counts`, `rows: []`, `warnings`,
//!   `committed: true`) when every row was valid and written.
//! - `413` `application/problem+json` when the file unpacks to more than
//!   `import.max_uncompressed_bytes` or has more data rows than `import.max_rows`:
//!   `detail` names the setting and its value, `limit` is `{setting, value}`, and the
//!   problem carries the report (`committed: false`: nothing was read or written).
//! - `422` `application/problem+json` when any row is invalid, whether or not `partial`
//!   was asked: the problem's `errors` list one entry per fault, `{pointer:
//!   "/rows/N/COLUMN_KEY", code, detail}` (N = row as the user sees it, header = 1;
//!   `/rows/N` for the row as a whole), and the problem carries the whole report
//!   (`rows`, `counts`, `committed`, …). Without `partial` nothing was written
//!   (`committed: false`); with `partial=true` the valid rows *were* written
//!   (`committed: true`, `counts.imported` of them) — a client must read `committed`.
//!
//! A region-scoped officer may only import employers (and declarations of employers)
//! in its region: other rows are faults on their row, and the valid rows follow the
//! `partial` rule like any other fault.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{query_levy_year, Caller};
use super::problem::{problem_for_status, problem_response, AppError, PROBLEM_JSON};
use super::{lang_of, AppState};
use crate::auth::Role;
use crate::db::{AnyConnection, DbError};
use crate::domain::Language;
use crate::domain::PolicyProvider;
use crate::import::{self, Encoding, Format, Input, Options, Report, Silent};

/// The XLSX media type.
pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Query of `POST /api/v1/imports/employers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmployersQuery {
    partial: Option<bool>,
    encoding: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

/// Query of `POST /api/v1/imports/declarations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclarationsQuery {
    levy_year: Option<i32>,
    partial: Option<bool>,
    submit: Option<bool>,
    encoding: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

/// Query of `POST /api/v1/imports/payments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentsQuery {
    levy_year: Option<i32>,
    partial: Option<bool>,
    encoding: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

/// How the body is to be read, from the content type and the query.
struct Source {
    format: Option<Format>,
    encoding: Encoding,
    lang: Language,
}

/// Reads the content type and query overrides; `Err` is the response to send.
fn source(
    req: &HttpRequest,
    format: Option<&str>,
    encoding: Option<&str>,
    lang: Option<&str>,
) -> Result<Source, Box<HttpResponse>> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut parts = ct.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("");
    let charset = parts
        .find_map(|p| p.strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_owned());
    let unsupported = |detail: String| {
        Err(Box::new(problem_response(&problem_for_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            detail,
        ))))
    };
    let mut src = Source {
        format: None,
        encoding: Encoding::Auto,
        lang: Language::Zh,
    };
    match mime {
        "text/csv" | "application/csv" | "text/plain" | "text/tab-separated-values" => src.format = Some(Format::Csv),
        XLSX_MEDIA_TYPE => src.format = Some(Format::Xlsx),
        "" | "application/octet-stream" => {}
        "multipart/form-data" => {
            return unsupported(format!(
                "send the file itself as the request body (Content-Type text/csv or {XLSX_MEDIA_TYPE}), not a multipart form"
            ))
        }
        _ => {
            return unsupported(format!(
                "this media type is not an import format: send text/csv, {XLSX_MEDIA_TYPE} or application/octet-stream"
            ))
        }
    }
    let mut errors = Vec::new();
    if let Some(c) = charset.as_deref().or(encoding) {
        match c.parse::<Encoding>() {
            Ok(e) => src.encoding = e,
            Err(m) => errors.push(("/query/encoding", m)),
        }
    }
    if let Some(f) = format {
        match f.parse::<Format>() {
            Ok(f) => src.format = Some(f),
            Err(m) => errors.push(("/query/format", m)),
        }
    }
    src.lang = match lang {
        None => lang_of(req),
        Some(l) => match l.parse() {
            Ok(l) => l,
            Err(m) => {
                errors.push(("/query/lang", m));
                Language::Zh
            }
        },
    };
    if errors.is_empty() {
        Ok(src)
    } else {
        Err(Box::new(actix_web::ResponseError::error_response(
            &AppError::Validation(
                errors
                    .into_iter()
                    .map(|(p, d)| super::problem::FieldProblem {
                        pointer: p.into(),
                        code: "invalid".into(),
                        detail: d,
                    })
                    .collect(),
            ),
        )))
    }
}

/// 200 with the report when every row was written; 413 problem+json carrying it when
/// the file unpacks to more than a limit allows; else 422 problem+json carrying it.
fn respond(report: Report, lang: Language) -> HttpResponse {
    if report.rows.is_empty() {
        return HttpResponse::Ok().json(&report);
    }
    let status = if report.limit.is_some() {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let summary = report.summary(lang);
    let errors: Vec<Value> = report
        .rows
        .iter()
        .map(|i| {
            let pointer = if i.field.is_empty() {
                format!("/rows/{}", i.row)
            } else {
                format!("/rows/{}/{}", i.row, i.field)
            };
            json!({ "pointer": pointer, "code": i.code, "detail": i.message })
        })
        .collect();
    let mut body = match serde_json::to_value(&report) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    if let Some(limit) = &report.limit {
        // The detail is the reason itself (naming the setting and its value), not the
        // row counts: no row was read.
        let detail = report.rows.first().map_or(summary, |i| i.message.clone());
        body.insert("type".into(), json!("/problems/payload-too-large"));
        body.insert("title".into(), json!("Import file too large"));
        body.insert("detail".into(), json!(detail));
        body.insert(
            "limit".into(),
            json!({ "setting": limit.setting, "value": limit.value }),
        );
    } else {
        body.insert("type".into(), json!("/problems/validation"));
        body.insert("title".into(), json!("Invalid rows"));
        body.insert("detail".into(), json!(summary));
    }
    body.insert("status".into(), json!(status.as_u16()));
    body.insert("errors".into(), Value::Array(errors));
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(Value::Object(body).to_string())
}

/// The query fields both uploads share.
struct Common<'a> {
    partial: Option<bool>,
    /// File what is imported (declarations).
    submit: bool,
    format: Option<&'a str>,
    encoding: Option<&'a str>,
    lang: Option<&'a str>,
}

/// What both uploads share: the role, how the body is read, the import options and the
/// blocking run; `import` is the import itself (employers or declarations).
async fn upload<F>(
    caller: Caller,
    state: &AppState,
    req: &HttpRequest,
    q: Common<'_>,
    body: web::Bytes,
    import: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut AnyConnection,
            &dyn PolicyProvider,
            &Input<'_>,
            &Options,
        ) -> Result<Report, DbError>
        + Send
        + 'static,
{
    let who = caller.require(&[Role::Tax])?;
    let src = match source(req, q.format, q.encoding, q.lang) {
        Ok(s) => s,
        Err(resp) => return Ok(*resp),
    };
    let opts = Options {
        partial: q.partial.unwrap_or(false),
        submit: q.submit,
        actor: who.actor(),
        import_id: caller
            .request_id
            .clone()
            .unwrap_or_else(import::new_import_id),
        scope: who.region,
        lang: src.lang,
        secret: state.secret().await?,
        today: state.clock.today(),
        invitations: crate::registry::accounts::Invitations::from_settings(&state.settings)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    };
    let lang = src.lang;
    let limits = import::Limits::from(&state.settings.import);
    let report = state
        .call(move |c, st| {
            let input = Input {
                bytes: &body,
                format: src.format,
                encoding: src.encoding,
                file_name: None,
                limits,
            };
            import(c, st.policy.as_ref(), &input, &opts)
        })
        .await?;
    Ok(respond(report, lang))
}

async fn employers(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<EmployersQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let common = Common {
        partial: q.partial,
        submit: false,
        format: q.format.as_deref(),
        encoding: q.encoding.as_deref(),
        lang: q.lang.as_deref(),
    };
    upload(
        caller,
        &state,
        &req,
        common,
        body,
        |c, policy, input, opts| {
            import::employers::import_employers(c, policy, input, opts, &Silent)
        },
    )
    .await
}

async fn declarations(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<DeclarationsQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // The same years as every other levy-year parameter of the API.
    let levy_year = match q.levy_year {
        None => return Err(AppError::field("/query/levy_year", "is required")),
        Some(y) => query_levy_year(&y.to_string())?.get(),
    };
    let common = Common {
        partial: q.partial,
        submit: q.submit.unwrap_or(false),
        format: q.format.as_deref(),
        encoding: q.encoding.as_deref(),
        lang: q.lang.as_deref(),
    };
    upload(
        caller,
        &state,
        &req,
        common,
        body,
        move |c, policy, input, opts| {
            import::declarations::import_declarations(c, policy, levy_year, input, opts, &Silent)
        },
    )
    .await
}

/// `POST /api/v1/imports/payments?levy_year=Y`: a bank's file of payments, each
/// recorded once under its bank reference ([`import::payments`]).
async fn payments(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PaymentsQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let levy_year = match q.levy_year {
        None => return Err(AppError::field("/query/levy_year", "is required")),
        Some(y) => query_levy_year(&y.to_string())?.get(),
    };
    let common = Common {
        partial: q.partial,
        submit: false,
        format: q.format.as_deref(),
        encoding: q.encoding.as_deref(),
        lang: q.lang.as_deref(),
    };
    upload(
        caller,
        &state,
        &req,
        common,
        body,
        move |c, _, input, opts| {
            import::payments::import_payments(c, levy_year, input, opts, &Silent)
        },
    )
    .await
}

/// Registers the import routes, each with its own, larger body limit
/// (`server.upload_limit_bytes`).
pub fn routes(cfg: &mut web::ServiceConfig, upload_limit: usize) {
    cfg.service(
        web::resource("/api/v1/imports/employers")
            .app_data(web::PayloadConfig::new(upload_limit))
            .route(web::post().to(employers)),
    )
    .service(
        web::resource("/api/v1/imports/declarations")
            .app_data(web::PayloadConfig::new(upload_limit))
            .route(web::post().to(declarations)),
    )
    .service(
        web::resource("/api/v1/imports/payments")
            .app_data(web::PayloadConfig::new(upload_limit))
            .route(web::post().to(payments)),
    );
}
