//! The signed-in caller as an extractor: `Authorization: Bearer <token>`.

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::problem::AppError;
use super::AppState;
use crate::auth::{Principal, Role};

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

impl Auth {
    /// 403 unless the caller has one of `roles` (admin always has).
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, AppError> {
        if self.0.has_any(roles) {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role may not do this",
                self.0.role.as_str()
            )))
        }
    }

    /// 403 for read-only roles.
    pub fn require_write(&self) -> Result<&Principal, AppError> {
        if self.0.can_write() {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role is read-only",
                self.0.role.as_str()
            )))
        }
    }
}
