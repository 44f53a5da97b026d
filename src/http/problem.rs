//! One error type for the HTTP layer, answered as RFC 9457 `application/problem+json`
//! with a stable `type` per kind of failure.
//!
//! A problem document never repeats what the caller sent: a value in the wrong place
//! may be an ID or certificate number, and answers end up in browser histories, proxy
//! logs and support tickets. Details name the field and the form expected. Nor does it
//! carry what went wrong inside (database or driver text): that goes to the log, under
//! the request ID the caller sees in `X-Request-Id`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::{Language, Said};
use crate::wire::{key_is_nameable, FieldError};

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
    BadRequest(Said),
    /// No such resource (also: a resource the caller may not know exists).
    #[error("{0}")]
    NotFound(Said),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(Said),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(Said),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(Said),
    /// An `If-Match` precondition failed.
    #[error("{0}")]
    PreconditionFailed(Said),
    /// The body is larger than `server.body_limit_bytes`.
    #[error("{0}")]
    PayloadTooLarge(Said),
    /// A dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(Said),
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
                [one] if one.pointer.is_empty() => one.detail.clone(),
                [one] => format!("{}: {}", one.pointer, one.detail),
                _ => format!("{} fields are invalid; see errors", e.len()),
            },
            AppError::BadRequest(m)
            | AppError::NotFound(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::PreconditionFailed(m)
            | AppError::PayloadTooLarge(m)
            | AppError::Unavailable(m) => m.get(current_language()).to_owned(),
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

/// What a caller reads when the database cannot be reached.
pub const DATABASE_UNAVAILABLE: &str =
    "the database is unavailable; try again later (if it persists, quote the X-Request-Id of this answer)";
/// [`DATABASE_UNAVAILABLE`] in Chinese.
pub const DATABASE_UNAVAILABLE_ZH: &str =
    "数据库暂时无法访问，请稍后再试（如持续出现，请提供本次应答的 X-Request-Id）";

tokio::task_local! {
    /// The language of the request being answered, set by the request middleware, so
    /// that an error rendered anywhere below it speaks the caller's language.
    static ANSWER_LANGUAGE: Language;
}

/// Runs `fut` (a request's handling) with `lang` as the language of its error answers.
pub async fn answering_in<F: std::future::Future>(lang: Language, fut: F) -> F::Output {
    ANSWER_LANGUAGE.scope(lang, fut).await
}

/// The language of the answer being made: the caller's inside a request, else Chinese
/// (the service's default).
pub fn current_language() -> Language {
    ANSWER_LANGUAGE.try_with(|l| *l).unwrap_or_default()
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Unavailable(cause) => {
                // The pool's and libpq's text names hosts, ports and users: it is for the
                // operator, found in the log by the request ID of the current span.
                tracing::error!(error = %cause, "database unavailable");
                AppError::Unavailable(Said::new(DATABASE_UNAVAILABLE_ZH, DATABASE_UNAVAILABLE))
            }
            crate::db::DbError::Conflict(m) => AppError::Conflict(m.into()),
            // A unique key that a concurrent request took first: the caller may read
            // and try again; nothing of this request was written.
            other if crate::db::is_unique_violation(&other) => AppError::Conflict(Said::new(
                "另一请求已先修改了同一记录；请重新读取后再试",
                "a concurrent request changed the same record first; read it again and retry",
            )),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A serde error message (serde_json, serde_urlencoded, actix's path deserializer)
/// rewritten without the value it quotes: `invalid type: string "4112…", expected i32`
/// becomes `invalid type: expected i32`, `unknown field `4112…`, expected one of …`
/// becomes `unknown field; expected one of …`. Serde's own templates keep their
/// `expected …` part, which comes from the target type, not from the input; any other
/// message is kept only when it quotes nothing and holds no long number, else it
/// becomes a plain "value of the wrong form".
pub fn without_value(message: &str) -> String {
    let (text, position) = split_position(message);
    let expected = |rest: &str| {
        // The value comes first and may itself contain ", expected "; the type's
        // expectation is always the last part.
        rest.rfind(", expected ")
            .map(|i| rest[i + ", expected ".len()..].to_owned())
    };
    let rewritten = if let Some(rest) = text.strip_prefix("invalid type: ") {
        Some(match expected(rest) {
            Some(e) => format!("invalid type: expected {e}"),
            None => "invalid type".to_owned(),
        })
    } else if let Some(rest) = text.strip_prefix("invalid value: ") {
        Some(match expected(rest) {
            Some(e) => format!("invalid value: expected {e}"),
            None => "invalid value".to_owned(),
        })
    } else if let Some(rest) = text.strip_prefix("invalid length ") {
        Some(match expected(rest) {
            Some(e) => format!("invalid length: expected {e}"),
            None => "invalid length".to_owned(),
        })
    } else if let Some(rest) = text.strip_prefix("unknown variant ") {
        Some(match expected(rest) {
            Some(e) => format!("unknown variant; expected {e}"),
            None => "unknown variant".to_owned(),
        })
    } else if let Some(rest) = text.strip_prefix("unknown field ") {
        Some(match expected(rest) {
            Some(e) => format!("unknown field; expected {e}"),
            None => "unknown field".to_owned(),
        })
    } else if text.starts_with("missing field `") || text.starts_with("duplicate field `") {
        // The field named is one of the target type's own: serde reports only those.
        Some(text.to_owned())
    } else if quotes_nothing(text) {
        Some(text.to_owned())
    } else {
        None
    };
    let text = rewritten.unwrap_or_else(|| "a value of the wrong form".to_owned());
    format!("{text}{position}")
}

/// Splits serde_json's ` at line L column C` off the end of a message.
fn split_position(message: &str) -> (&str, &str) {
    if let Some(i) = message.rfind(" at line ") {
        let tail = &message[i + " at line ".len()..];
        let well_formed = tail.split_once(" column ").is_some_and(|(l, c)| {
            !l.is_empty()
                && !c.is_empty()
                && l.bytes().all(|b| b.is_ascii_digit())
                && c.bytes().all(|b| b.is_ascii_digit())
        });
        if well_formed {
            return (&message[..i], &message[i..]);
        }
    }
    (message, "")
}

/// True for a message that cannot be carrying a value: no quotes of any kind, no `@`,
/// no run of eight or more digits (the messages of this service's own types, such as
/// the region code's "e.g. 411200", stay as they are).
fn quotes_nothing(text: &str) -> bool {
    let mut run = 0usize;
    for c in text.chars() {
        if matches!(c, '"' | '`' | '\'' | '“' | '”' | '‘' | '’' | '@') {
            return false;
        }
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 8 {
            return false;
        }
    }
    true
}

/// Deserializes a JSON body into `T`. A value of the wrong form is a 422 at the JSON
/// pointer of its field, in words that do not repeat the value.
pub fn from_json<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let pointer = pointer_of(e.path());
        let detail = without_value(&e.inner().to_string());
        AppError::Validation(vec![FieldProblem {
            pointer,
            code: "invalid".into(),
            detail,
        }])
    })
}

/// The JSON pointer of a serde path. A map key that does not read like a field name
/// ends the pointer: it is the caller's input, not a name of ours.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !key_is_nameable(key) {
                    break;
                }
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => break,
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "41120219800101901913";

    #[test]
    fn serde_templates_lose_the_value_and_keep_what_is_expected() {
        let cases = [
            (
                format!("invalid type: string \"{ID}\", expected i32 at line 1 column 35"),
                "invalid type: expected i32 at line 1 column 35",
            ),
            (
                format!("invalid value: string \"{ID}, expected x\", expected a date"),
                "invalid value: expected a date",
            ),
            (
                format!("unknown field `{ID}`, expected `levy_year` or `region`"),
                "unknown field; expected `levy_year` or `region`",
            ),
            (
                format!("unknown variant `{ID}`, expected one of `a`, `b`"),
                "unknown variant; expected one of `a`, `b`",
            ),
            (
                format!("unknown field `{ID}`, there are no fields"),
                "unknown field",
            ),
            (
                "missing field `levy_year`".to_owned(),
                "missing field `levy_year`",
            ),
            (
                "invalid digit found in string".to_owned(),
                "invalid digit found in string",
            ),
            (
                "a region code is six digits (GB/T 2260), e.g. 411200".to_owned(),
                "a region code is six digits (GB/T 2260), e.g. 411200",
            ),
            (format!("cannot parse {ID}"), "a value of the wrong form"),
            (format!("bad value '{ID}'"), "a value of the wrong form"),
            (
                "hr@example.cn is bad".to_owned(),
                "a value of the wrong form",
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(without_value(&given), expected, "{given}");
        }
    }

    #[test]
    fn typed_bodies_answer_422_at_the_field_without_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            levy_year: i32,
            items: Vec<u8>,
        }
        let cases = [
            (
                serde_json::json!({"levy_year": ID, "items": []}),
                "/levy_year",
            ),
            (
                serde_json::json!({"levy_year": 2025, "items": [1, ID]}),
                "/items/1",
            ),
            (
                serde_json::json!({"levy_year": 2025, "items": [], ID: 1}),
                "",
            ),
            (
                serde_json::json!({"levy_year": 2025, "items": [], "itmes": 1}),
                "/itmes",
            ),
        ];
        for (body, pointer) in cases {
            let e = from_json::<Body>(body).expect_err("invalid");
            let p = e.problem();
            assert_eq!(p.status, 422);
            assert_eq!(p.errors[0].pointer, pointer);
            let text = serde_json::to_string(&p).expect("json");
            assert!(!text.contains(ID), "{text}");
        }
    }

    #[test]
    fn an_unreachable_database_is_not_described_to_the_caller() {
        let e = AppError::from(crate::db::DbError::Unavailable(
            "timed out waiting for connection: could not connect to server: Connection refused \
             Is the server running on host \"db.internal\" (10.0.0.5) and accepting TCP/IP \
             connections on port 5432?"
                .into(),
        ));
        let p = e.problem();
        assert_eq!(p.status, 503);
        // Outside a request: the service's default language.
        assert_eq!(p.detail, DATABASE_UNAVAILABLE_ZH);
        // Inside one, the caller's.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let en = rt.block_on(answering_in(Language::En, async { e.problem() }));
        assert_eq!(en.detail, DATABASE_UNAVAILABLE);
    }
}
