//! One error type for the HTTP layer, answered as RFC 9457 `application/problem+json`
//! with a stable `type` per kind of failure.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::request::FieldError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field at fault in a request: a JSON pointer into the body (or `/query/NAME`,
/// `/header/NAME` for other parts), a stable code and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// JSON pointer, e.g. `/staff/monthly_headcount/3`.
    pub pointer: String,
    /// Stable machine code, e.g. `required`, `check_character`.
    pub code: String,
    /// What is wrong, for a person.
    pub detail: String,
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        FieldProblem {
            pointer: e.pointer,
            code: e.code.to_owned(),
            detail: e.message,
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Validation(errors.into_iter().map(FieldProblem::from).collect())
    }
}

/// The problem document (RFC 9457).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// This occurrence, for a person.
    pub detail: String,
    /// Fields at fault (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid; nothing was written.
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<FieldProblem>),
    /// The body is not JSON, or not of the expected shape at all.
    #[error("{0}")]
    BadRequest(String),
    /// No such resource (also: a resource the caller may not know exists).
    #[error("{0}")]
    NotFound(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// An `If-Match` precondition failed.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is larger than `server.body_limit_bytes`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details go to the log, not to the caller.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// A single-field validation error.
    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldProblem {
            pointer: pointer.into(),
            code: "invalid".into(),
            detail: detail.into(),
        }])
    }

    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/validation",
                "Invalid request",
            ),
            AppError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "/problems/bad-request",
                "Bad request",
            ),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "/problems/not-found", "Not found"),
            AppError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "/problems/unauthorized",
                "Authentication required",
            ),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "/problems/conflict", "Conflict"),
            AppError::PreconditionFailed(_) => (
                StatusCode::PRECONDITION_FAILED,
                "/problems/precondition-failed",
                "Precondition failed",
            ),
            AppError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "/problems/payload-too-large",
                "Payload too large",
            ),
            AppError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/unavailable",
                "Service unavailable",
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "/problems/internal",
                "Internal error",
            ),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, type_, title) = self.kind();
        let errors = match self {
            AppError::Validation(e) => e.clone(),
            _ => Vec::new(),
        };
        let detail = match self {
            AppError::Validation(e) => match e.as_slice() {
                [one] => format!("{}: {}", one.pointer, one.detail),
                _ => format!("{} fields are invalid; see errors", e.len()),
            },
            other => other.to_string(),
        };
        Problem {
            type_: type_.into(),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Unavailable(m) => {
                AppError::Unavailable(format!("database unavailable: {m}"))
            }
            crate::db::DbError::Conflict(m) => AppError::Conflict(m),
            // A unique key that a concurrent request took first: the caller may read
            // and try again; nothing of this request was written.
            other if crate::db::is_unique_violation(&other) => AppError::Conflict(
                "a concurrent request changed the same record first; read it again and retry"
                    .into(),
            ),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(m) = self {
            // The cause stays in the log; the caller gets the request id to quote.
            tracing::error!(error = %m, "internal error");
        }
        problem_response(&self.problem())
    }
}

/// Renders a problem document with its media type.
pub fn problem_response(p: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(serde_json::to_string(p).unwrap_or_else(|_| "{}".into()))
}

/// A problem for a status that some other part of the stack answered (actix's own 405,
/// 413, …), so every error body has the same shape.
pub fn problem_for_status(status: StatusCode, detail: String) -> Problem {
    let slug = match status.as_u16() {
        400 => "bad-request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        409 => "conflict",
        412 => "precondition-failed",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        422 => "validation",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    };
    Problem {
        type_: format!("/problems/{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    }
}
