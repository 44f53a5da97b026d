//! Sessions of people on the pages: the cookie, the signed-in user, and CSRF tokens.
//!
//! The session cookie holds a random 256-bit token and nothing else; the session lives
//! in the database (`crate::registry::accounts::session`), so signing out or disabling
//! the user ends it at once. It is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure`
//! when `server.public_base_url` is https.
//!
//! Every form POST carries a CSRF token: a signed-in form the session's synchronizer
//! token; a form shown before there is a session (sign-in, activation) a signed
//! double-submit token, the HMAC under the server secret of a random value the browser
//! holds in the [`CSRF_COOKIE`]. A request that the API authenticates by the session
//! cookie instead of a bearer token must send the session's token in [`CSRF_HEADER`]
//! unless its method is safe.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponseBuilder};

use super::problem::AppError;
use super::AppState;
use crate::registry::accounts::{self, LiveSession};

/// The cookie of a session.
pub const SESSION_COOKIE: &str = "ql_session";
/// The cookie behind the CSRF token of forms shown before there is a session.
pub const CSRF_COOKIE: &str = "ql_csrf";
/// The header an API request authenticated by a session cookie carries its token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` of a request, if it has one of the form tokens take (hex,
/// 64 characters): anything else is no cookie of ours.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// True when cookies must be `Secure`: the service is reached over https.
pub fn secure(state: &AppState) -> bool {
    state
        .settings
        .server
        .public_base_url
        .to_ascii_lowercase()
        .starts_with("https://")
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` on https;
/// `max_age` 0 removes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure(state) { "; Secure" } else { "" }
    )
}

/// Adds a `Set-Cookie` header to a response being built.
pub fn add_cookie(res: &mut HttpResponseBuilder, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.append_header((header::SET_COOKIE, v));
    }
}

/// The session cookie of a new session: it lives as long as the session may.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let max_age = i64::from(state.settings.accounts.session_absolute_hours) * 3600;
    set_cookie(state, SESSION_COOKIE, token, max_age)
}

/// Removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> String {
    set_cookie(state, SESSION_COOKIE, "", 0)
}

/// The live session of a request, if its cookie names one.
pub async fn current(state: &AppState, req: &HttpRequest) -> Result<Option<LiveSession>, AppError> {
    let Some(token) = cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let settings = state.settings.accounts.clone();
    let now = chrono::Utc::now().naive_utc();
    Ok(state
        .db
        .run(move |c| accounts::session(c, &settings, &token, now))
        .await?)
}

/// Equality that takes the same time wherever the first difference is.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// True when `token` is the synchronizer token of `live`.
pub fn session_token_ok(live: &LiveSession, token: Option<&str>) -> bool {
    token.is_some_and(|t| same(t, &live.session.csrf_token))
}

/// The CSRF token of a form shown before there is a session, and the `Set-Cookie` that
/// gives the browser its half when it has none yet.
pub async fn anonymous_token(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(String, Option<String>), AppError> {
    let secret = state.secret().await?;
    let (value, set) = match cookie(req, CSRF_COOKIE) {
        Some(v) => (v, None),
        None => {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            let v = hex::encode(bytes);
            let set = set_cookie(state, CSRF_COOKIE, &v, 24 * 3600);
            (v, Some(set))
        }
    };
    Ok((secret.keyed_digest("csrf-form", value.as_bytes()), set))
}

/// True when `token` (from the form) matches the browser's [`CSRF_COOKIE`].
pub async fn anonymous_token_ok(
    state: &AppState,
    req: &HttpRequest,
    token: Option<&str>,
) -> Result<bool, AppError> {
    let (Some(value), Some(token)) = (cookie(req, CSRF_COOKIE), token) else {
        return Ok(false);
    };
    let secret = state.secret().await?;
    Ok(same(
        token,
        &secret.keyed_digest("csrf-form", value.as_bytes()),
    ))
}

/// The client's address for the sign-in throttle: the connection's peer. A header
/// such as `X-Forwarded-For` is not believed: anyone can send one, and a throttle keyed
/// on it would be evaded by changing it.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}
