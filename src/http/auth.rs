//! The signed-in caller as an extractor: `Authorization: Bearer <token>` (machines), or
//! the session cookie of a person signed in on the pages. Both give the same principal
//! for the same role and scope, so every wall holds for both. Handlers take
//! [`super::context::Caller`], which adds the request ID, the language and the role checks.

use crate::domain::Said;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::problem::AppError;
use super::AppState;
use crate::auth::Principal;

/// A request with a valid token or session. Missing or unknown credentials answer 401.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req.headers().get(actix_web::http::header::AUTHORIZATION);
        let has_header = header.is_some();
        let token = header
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal("no app state".into()))?;
            if !has_header && super::session::cookie(&req, super::session::SESSION_COOKIE).is_some()
            {
                return from_session(&state, &req).await;
            }
            let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
                AppError::Unauthorized(Said::new(
                    "需要访问令牌（Authorization: Bearer …）",
                    "a bearer token is required (Authorization: Bearer …)",
                ))
            })?;
            let principal = state
                .db
                .run(move |c| crate::db::tokens::authenticate(c, &token))
                .await?
                .ok_or_else(|| {
                    AppError::Unauthorized(Said::new(
                        "访问令牌无效或已被撤销",
                        "the token is unknown or revoked",
                    ))
                })?;
            Ok(Auth(principal))
        })
    }
}

/// The principal of the session cookie. A request that could change something must
/// also carry the session's CSRF token in `X-CSRF-Token`: a cookie alone goes with any
/// request the browser is made to send.
async fn from_session(state: &AppState, req: &HttpRequest) -> Result<Auth, AppError> {
    let live = super::session::current(state, req).await?.ok_or_else(|| {
        AppError::Unauthorized(Said::new(
            "会话已结束；请重新登录（/login）或使用访问令牌",
            "the session has ended; sign in again (/login) or send a bearer token",
        ))
    })?;
    if !req.method().is_safe() {
        let sent = req
            .headers()
            .get(super::session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        if !super::session::session_token_ok(&live, sent) {
            return Err(AppError::Forbidden(Said::new(
                "以会话 Cookie 登录的修改请求须在 X-CSRF-Token 中附带会话的 CSRF 令牌",
                "a request signed in by a session cookie must carry the session's CSRF \
                 token in X-CSRF-Token",
            )));
        }
    }
    Ok(Auth(live.principal))
}
