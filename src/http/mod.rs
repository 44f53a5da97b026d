//! The HTTP interface (actix-web): one module per resource.

pub mod health;
pub mod middleware;
pub mod problem;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use problem::AppError;

/// Shared state of every worker.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The settings the process started with.
    pub settings: Arc<Settings>,
}

/// Unknown routes answer a problem document, not actix's empty 404.
async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound(format!("no resource at {}", req.path())))
}

/// Registers every route; shared by `serve` and the tests.
pub fn configure(cfg: &mut web::ServiceConfig, body_limit: usize) {
    cfg.app_data(web::PayloadConfig::new(body_limit))
        .app_data(
            web::JsonConfig::default()
                .limit(body_limit)
                .error_handler(|err, _req| {
                    let e = match &err {
                        actix_web::error::JsonPayloadError::Overflow { .. }
                        | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                            AppError::PayloadTooLarge(err.to_string())
                        }
                        _ => AppError::BadRequest(format!("the body is not valid JSON: {err}")),
                    };
                    e.into()
                }),
        )
        .service(health::healthz)
        .service(health::readyz);
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(settings: Settings, db: Db) -> std::io::Result<Application> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let body_limit = settings.server.body_limit_bytes;
        let workers = settings.server.workers;
        let shutdown = settings.server.shutdown_timeout_secs;
        let state = web::Data::new(AppState {
            db,
            settings: Arc::new(settings),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(actix_web::middleware::from_fn(middleware::request_context))
                .configure(|cfg| configure(cfg, body_limit))
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        // actix already stops on SIGTERM/SIGINT and lets in-flight requests finish.
        .shutdown_timeout(shutdown);
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until a shutdown signal, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
