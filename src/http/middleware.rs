//! Per-request plumbing: a request ID (taken from a sane incoming `X-Request-Id` or made
//! here), one tracing span per request with method, route, status and latency, and a
//! uniform problem+json body for errors raised outside our handlers (actix's own 405,
//! 413, extractor failures), which otherwise answer plain text. JSON error bodies are
//! left alone: our handlers already answer problem+json, and `/readyz` its own report.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use tracing::Instrument;

use super::problem::{problem_for_status, problem_response, without_value};

/// The header carrying the request ID both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request ID, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    // Only echo IDs that cannot inject anything into logs or headers.
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| v.to_owned())
}

/// The request middleware (used with `actix_web::middleware::from_fn`).
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let res = match result {
        Ok(res) => res,
        Err(e) => {
            // An error that escaped the handler chain: answer it here so that it still
            // gets the request ID and a problem body.
            let status = e.as_response_error().status_code();
            tracing::warn!(
                parent: &span,
                status = status.as_u16(),
                "request failed: {}",
                without_value(&e.to_string())
            );
            return Err(e);
        }
    };
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let status = res.status();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("route", route.as_str());
    span.record("status", status.as_u16());
    span.record("latency_ms", format!("{latency_ms:.2}").as_str());
    if status.is_server_error() {
        tracing::error!(parent: &span, "request finished");
    } else {
        tracing::info!(parent: &span, "request finished");
    }

    let needs_problem = (status.is_client_error() || status.is_server_error())
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| !ct.contains("json"));
    let mut res = if needs_problem {
        // Errors of actix's own extractors quote what they could not read.
        let detail = res
            .response()
            .error()
            .map(|e| without_value(&e.to_string()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let problem = problem_for_status(status, detail);
        let (req, old) = res.into_parts();
        let mut new = problem_response(&problem);
        for (k, v) in old.headers() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                new.headers_mut().insert(k.clone(), v.clone());
            }
        }
        ServiceResponse::new(req, new).map_into_right_body()
    } else {
        res.map_into_left_body()
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}
