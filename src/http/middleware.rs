//! Per-request plumbing: a request ID (taken from a sane incoming `X-Request-Id` or made
//! here), one tracing span per request with method, route, status and latency, and a
//! uniform problem+json body for errors raised outside our handlers (actix's own 405,
//! 413, extractor failures), which otherwise answer plain text. JSON and HTML error
//! bodies are left alone: our handlers already answer problem+json, `/readyz` its own
//! report, and a page its own error page.

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
    // A version 4 UUID from the thread's generator: no system call per request, as
    // `Uuid::new_v4` makes (an ID needs to be unique, not secret).
    let id = incoming_id(&req).unwrap_or_else(|| {
        uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .to_string()
    });
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
    let method = req.method().clone();
    let lang = super::lang_of(req.request());
    let result = super::problem::answering_in(lang, next.call(req).instrument(span.clone())).await;
    let res = match result {
        Ok(res) => res,
        Err(e) => {
            // An error that escaped the handler chain: answer it here so that it still
            // gets the request ID and a problem body.
            let status = e.as_response_error().status_code();
            super::metrics::observe(
                "<unmatched>",
                method.as_str(),
                status.as_u16(),
                started.elapsed().as_secs_f64(),
            );
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
    let elapsed = started.elapsed().as_secs_f64();
    super::metrics::observe(&route, method.as_str(), status.as_u16(), elapsed);
    // Formatting the fields costs even when the level filters the span out.
    if !span.is_disabled() {
        let latency_ms = elapsed * 1000.0;
        span.record("route", route.as_str());
        span.record("status", status.as_u16());
        span.record("latency_ms", format!("{latency_ms:.2}").as_str());
    }
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
            // A page's own error page (a refused form, a lockout) is for a person.
            .is_none_or(|ct| !ct.contains("json") && !ct.starts_with("text/html"));
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
    secure_html(res.headers_mut());
    Ok(res)
}

/// The policy an HTML page gets unless it sets a stricter one: everything from this
/// service only (images also as `data:` URIs, which the vendored API browser's
/// stylesheet uses for its icons), no plugins, never framed, forms posted here only.
pub const DEFAULT_HTML_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Every HTML response carries a Content-Security-Policy (its own, or
/// [`DEFAULT_HTML_CSP`]), `X-Content-Type-Options: nosniff`, a referrer policy that
/// sends no address to other sites and `X-Frame-Options` for browsers that ignore
/// `frame-ancestors`.
fn secure_html(h: &mut actix_web::http::header::HeaderMap) {
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        });
    if !html {
        return;
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_HTML_CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// Refuses, before any handler runs, a request whose address, query or JSON or form
/// body carries a control character or a bidirectional override (see
/// [`crate::domain::text`]): 422 naming where, and nothing is read further or written.
/// Free text in bodies may hold line breaks and tabs; addresses and query values may
/// not. Bodies of other types (CSV and XLSX uploads) are checked cell by cell by the
/// import.
pub async fn text_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let mut fault = address_fault(&req);
    if fault.is_none() {
        if let Some(kind) = checked_body(&req) {
            let body = match req.extract::<actix_web::web::Bytes>().await {
                Ok(b) => b,
                Err(e) => {
                    let status = e.as_response_error().status_code();
                    let problem = problem_for_status(status, e.to_string());
                    return Ok(req
                        .into_response(problem_response(&problem))
                        .map_into_right_body());
                }
            };
            fault = match kind {
                BodyKind::Json => json_fault(&body),
                BodyKind::Form => pairs_fault(&body, "/form", crate::domain::text::check_text),
            };
            req.set_payload(body.into());
        }
    }
    if let Some(problem) = fault {
        let e = super::problem::AppError::Validation(vec![problem]);
        return Ok(req
            .into_response(actix_web::ResponseError::error_response(&e))
            .map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The bodies [`text_guard`] reads.
enum BodyKind {
    Json,
    Form,
}

fn checked_body(req: &ServiceRequest) -> Option<BodyKind> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence == "application/json" || essence.ends_with("+json") {
        Some(BodyKind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else {
        None
    }
}

fn field_problem(
    pointer: String,
    fault: crate::domain::text::TextFault,
) -> super::problem::FieldProblem {
    super::problem::FieldProblem {
        pointer,
        code: fault.code().to_owned(),
        detail: fault.message().to_owned(),
    }
}

/// A fault in the path (pointer `/path`, the segment counted from 1 in the detail
/// would repeat the address, so it is not) or in a query parameter (`/query/NAME`).
fn address_fault(req: &ServiceRequest) -> Option<super::problem::FieldProblem> {
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    if let Err(f) = crate::domain::text::check_line(&path) {
        return Some(field_problem("/path".into(), f));
    }
    pairs_fault(
        req.query_string().as_bytes(),
        "/query",
        crate::domain::text::check_line,
    )
}

/// A fault in `application/x-www-form-urlencoded` pairs: `{base}/NAME`, or `{base}`
/// when the name itself is at fault.
fn pairs_fault(
    raw: &[u8],
    base: &str,
    check: fn(&str) -> Result<(), crate::domain::text::TextFault>,
) -> Option<super::problem::FieldProblem> {
    let decode = |s: &[u8]| {
        let plus: Vec<u8> = s
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8_lossy()
            .into_owned()
    };
    for pair in raw.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let mut it = pair.splitn(2, |&b| b == b'=');
        let name = decode(it.next().unwrap_or_default());
        let value = decode(it.next().unwrap_or_default());
        if let Err(f) = crate::domain::text::check_line(&name) {
            return Some(field_problem(base.to_owned(), f));
        }
        if let Err(f) = check(&value) {
            // A name is named only when it reads like one, never a value sent as a name.
            return Some(field_problem(
                crate::wire::unknown_key_pointer(base, &name),
                f,
            ));
        }
    }
    None
}

/// The first string (key or value) of a JSON body with a fault, as a JSON pointer.
/// Most bodies hold none of the byte sequences such a character needs, and are let
/// through without being parsed here; a body that is not JSON is left to the handler.
fn json_fault(body: &[u8]) -> Option<super::problem::FieldProblem> {
    if !may_hold_unsafe_text(body) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut pointer = String::new();
    walk(&value, &mut pointer)
}

fn walk(v: &serde_json::Value, pointer: &mut String) -> Option<super::problem::FieldProblem> {
    use serde_json::Value;
    match v {
        Value::String(s) => crate::domain::text::check_text(s)
            .err()
            .map(|f| field_problem(pointer.clone(), f)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let found = walk(item, pointer);
            pointer.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let len = pointer.len();
            if let Err(f) = crate::domain::text::check_line(k) {
                return Some(field_problem(pointer.clone(), f));
            }
            let token = crate::wire::unknown_key_pointer("", k);
            if token.is_empty() {
                // A key that may be an identifier is not put into the pointer: the fault
                // is reported at its object.
                return walk(item, pointer).map(|mut p| {
                    p.pointer.truncate(len);
                    p
                });
            }
            pointer.push_str(&token);
            let found = walk(item, pointer);
            pointer.truncate(len);
            found
        }),
        _ => None,
    }
}

/// False when `body` surely holds no control or bidirectional character in any JSON
/// string: no `\u` escape, no DEL and none of the UTF-8 sequences of C1 controls
/// (C2 80–9F), of U+200E/F and U+202A–E (E2 80 ..), of U+2066–9 (E2 81 A6–A9) or of
/// U+061C (D8 9C). Raw C0 controls are not valid inside JSON strings at all.
fn may_hold_unsafe_text(body: &[u8]) -> bool {
    body.iter().enumerate().any(|(i, &b)| {
        let next = |k: usize| body.get(i + k).copied().unwrap_or(0);
        match b {
            b'\\' => next(1) == b'u',
            0x7F => true,
            0xC2 => (0x80..=0x9F).contains(&next(1)),
            0xD8 => next(1) == 0x9C,
            0xE2 => {
                (next(1) == 0x80 && matches!(next(2), 0x8E | 0x8F | 0xAA..=0xAE))
                    || (next(1) == 0x81 && (0xA6..=0xA9).contains(&next(2)))
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_faults_name_their_pointer() {
        let body = br#"{"name":"ok","staff":{"list":["a","b\u0000"]}}"#;
        let p = json_fault(body).expect("a fault");
        assert_eq!(p.pointer, "/staff/list/1");
        assert_eq!(p.code, "control_character");
        let body = "{\"staff\":{\"note\":\"x\u{202E}y\"}}".as_bytes();
        let p = json_fault(body).expect("a fault");
        assert_eq!(p.pointer, "/staff/note");
        assert_eq!(p.code, "bidi_character");
        // A key that may be an identifier is not repeated: the fault is at its object.
        let body = br#"{"staff":{"411202198001019019":"x\u0000"}}"#;
        let p = json_fault(body).expect("a fault");
        assert_eq!(p.pointer, "/staff");
        let body = br#"{"note":"line one\nline two","name":"\u4e2d\u6587"}"#;
        assert!(json_fault(body).is_none());
    }

    #[test]
    fn the_fast_path_sees_every_encoded_bidi_character() {
        for c in ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200E}', '\u{200F}', '\u{061C}', '\u{85}', '\u{7f}'])
        {
            let body = format!("{{\"n\":\"{c}\"}}");
            assert!(may_hold_unsafe_text(body.as_bytes()), "U+{:04X}", c as u32);
            assert!(json_fault(body.as_bytes()).is_some(), "U+{:04X}", c as u32);
        }
        assert!(!may_hold_unsafe_text("{\"n\":\"三门峡 — ok\"}".as_bytes()));
    }

    #[test]
    fn query_and_form_pairs_are_decoded_before_the_check() {
        let p = pairs_fault(
            b"region=411200&name=a%00b",
            "/query",
            crate::domain::text::check_line,
        )
        .expect("a fault");
        assert_eq!(p.pointer, "/query/name");
        let p = pairs_fault(b"q=%E2%80%AEx", "/query", crate::domain::text::check_line)
            .expect("a fault");
        assert_eq!(p.code, "bidi_character");
        assert!(pairs_fault(b"note=a+b%0Ac", "/form", crate::domain::text::check_text).is_none());
        assert!(pairs_fault(
            b"page=2&region=411200",
            "/query",
            crate::domain::text::check_line
        )
        .is_none());
    }
}

/// One answer as the server sent it, for an [`Observer`].
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The request method.
    pub method: &'a str,
    /// The request path, without its query.
    pub path: &'a str,
    /// The status code answered.
    pub status: u16,
    /// The answer's `Content-Type`, empty when none.
    pub content_type: &'a str,
    /// The body, for JSON answers only (others are streamed and not read).
    pub body: Option<&'a [u8]>,
}

/// Sees every answer the server sends: the integration tests check each one against the
/// OpenAPI document, so that the document cannot drift from what is served.
pub type Observer = std::sync::Arc<dyn Fn(&Exchange<'_>) + Send + Sync>;

/// The observing middleware: a no-op unless the application was built with an
/// [`Observer`]; JSON bodies are buffered (they are small and already whole in memory).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let observer = req
        .app_data::<actix_web::web::Data<Observer>>()
        .map(|o| o.get_ref().clone());
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let Some(observer) = observer else {
        return Ok(res.map_into_boxed_body());
    };
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !content_type.contains("json") {
        observer(&Exchange {
            method: &method,
            path: &path,
            status,
            content_type: &content_type,
            body: None,
        });
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, http_res) = res.into_parts();
    let (head, body) = http_res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("answer body unreadable"))?;
    observer(&Exchange {
        method: &method,
        path: &path,
        status,
        content_type: &content_type,
        body: Some(&bytes),
    });
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(bytes)),
    ))
}
