//! Liveness and readiness.

use actix_web::{get, web, HttpResponse};
use serde_json::json;
use std::time::Duration;

use super::AppState;

/// Liveness: the process answers. Never touches the database, so an orchestrator does
/// not restart a healthy process because the database blinked.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and its migrations are current; else 503.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let backend = format!("{:?}", db.backend()).to_lowercase();
    let check = tokio::task::spawn_blocking(move || {
        let mut conn = db.conn_timeout(Duration::from_secs(2))?;
        crate::db::migrations_current(&mut conn)
    })
    .await;
    let (status, body) = match check {
        Ok(Ok(true)) => (200, json!({ "status": "ready", "database": backend })),
        Ok(Ok(false)) => (
            503,
            json!({ "status": "not ready", "database": backend, "reason": "migrations pending" }),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                503,
                json!({ "status": "not ready", "database": backend, "reason": "database unreachable" }),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check did not complete");
            (
                503,
                json!({ "status": "not ready", "reason": "readiness check failed" }),
            )
        }
    };
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
    HttpResponse::build(code).json(body)
}
