//! The bearer token as an extractor: `Authorization: Bearer <token>`. Handlers take
//! [`super::context::Caller`], which adds the request ID, the language and the role checks.

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::problem::AppError;
use super::AppState;
use crate::auth::Principal;

/// A request with a valid token. Missing or unknown tokens answer 401.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
                AppError::Unauthorized(
                    "a bearer token is required (Authorization: Bearer …)".into(),
                )
            })?;
            let state = state.ok_or_else(|| AppError::Internal("no app state".into()))?;
            let principal = state
                .db
                .run(move |c| crate::db::tokens::authenticate(c, &token))
                .await?
                .ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))?;
            Ok(Auth(principal))
        })
    }
}
