//! The HTTP interface (actix-web): one module per resource.

pub mod account_pages;
pub mod admin;
pub mod assessments;
pub mod auth;
pub mod calendar;
pub mod conformance;
pub mod context;
pub mod declarations;
pub mod disputes;
pub mod docs;
pub mod employers;
pub mod escape;
pub mod federation;
pub mod forecasts;
pub mod hardship;
pub mod health;
pub mod impact;
pub mod imports;
pub mod inspector;
pub mod ledger;
pub mod levy;
pub mod metrics;
pub mod middleware;
pub mod my;
pub mod notices;
pub mod officer;
pub mod page_kit;
pub mod pages;
pub mod payments;
pub mod positions;
pub mod positions_pages;
pub mod problem;
pub mod receipts;
pub mod rewards;
pub mod rewards_pages;
pub mod roll;
pub mod session;
pub mod site;
pub mod tax;
pub mod violations;

use crate::domain::Said;
use actix_web::dev::Server;
use actix_web::{web, App, HttpMessage, HttpRequest, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::PolicyProvider;
use crate::policy::PolicyBook;
use crate::secret::{SecretStore, ServerSecret};
use problem::AppError;

/// Shared state of every worker.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The settings the process started with.
    pub settings: Arc<Settings>,
    /// The law: policy packs, as the calculation reads them.
    pub policy: Arc<dyn PolicyProvider>,
    /// The same packs, for views of what is in force.
    pub book: Arc<PolicyBook>,
    /// The server secret, which keys the digests of personal numbers.
    pub secrets: Arc<SecretStore>,
    /// Today's date for the business rules (the system's in China; a test's own).
    pub clock: Clock,
    /// The pages' region select, made once from `book`.
    pub regions: Arc<site::RegionMenu>,
    /// The violator lists being decided again off the request.
    pub violator_refreshes: Arc<crate::registry::violator_list::Refreshes>,
    /// The tax overviews reckoned, kept per date and state of the register.
    pub overviews: Arc<crate::registry::collection::KeptOverviews>,
}

impl AppState {
    /// The server secret: read (or made) at first use, in a statement of its own, so
    /// that it is never part of a request's transaction.
    pub async fn secret(&self) -> Result<ServerSecret, AppError> {
        if let Some(s) = self.secrets.cached() {
            return Ok(s.clone());
        }
        let store = self.secrets.clone();
        Ok(self.db.run(move |c| Ok(store.get(c)?.clone())).await?)
    }
}

/// The language a caller reads: English when `Accept-Language` prefers it, else Chinese
/// (docs/architecture.md, Conventions: what people read is Chinese, with English available).
pub fn lang_of(req: &HttpRequest) -> crate::domain::Language {
    let prefers_en = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("en"));
    if prefers_en {
        crate::domain::Language::En
    } else {
        crate::domain::Language::Zh
    }
}

/// The request ID of a request, for the audit log.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<middleware::RequestId>()
        .map(|r| r.0.clone())
}

/// The highest page a list may be asked for. With the largest page size that reaches
/// past a billion rows, far beyond any region, while `(page − 1) × per_page` stays a
/// small `i64` on both backends.
pub const MAX_PAGE: i64 = 1_000_000;

/// One page of a list, as asked for by `page` (from 1) and `per_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// The page, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl PageWindow {
    /// Checks `page` (1 to [`MAX_PAGE`], default 1) and `per_page` (1 to `max_per_page`,
    /// default `default_per_page`); every fault names its query parameter.
    pub fn from_query(
        page: Option<i64>,
        per_page: Option<i64>,
        default_per_page: i64,
        max_per_page: i64,
    ) -> Result<PageWindow, AppError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(default_per_page);
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&page) {
            errors.push(problem::FieldProblem {
                pointer: "/query/page".into(),
                code: "out_of_range".into(),
                detail: format!("must be a whole number from 1 to {MAX_PAGE}"),
            });
        }
        if !(1..=max_per_page).contains(&per_page) {
            errors.push(problem::FieldProblem {
                pointer: "/query/per_page".into(),
                code: "out_of_range".into(),
                detail: format!("must be a whole number from 1 to {max_per_page}"),
            });
        }
        if errors.is_empty() {
            Ok(PageWindow { page, per_page })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// Rows before this page.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// Unknown routes answer a problem document, not actix's empty 404. The path is not
/// repeated: it may hold an identifier.
async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound(Said::new(
        "此路径下没有资源（见 /api/openapi.json）",
        "no resource at this path (see /api/openapi.json)",
    )))
}

/// A body actix could not read as the handler's JSON type, as a problem without the
/// value serde's message would quote.
fn json_error(err: actix_web::error::JsonPayloadError) -> AppError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => {
            AppError::PayloadTooLarge(Said::new("请求内容过大", err.to_string()))
        }
        E::Deserialize(e) if e.is_data() => {
            let why = problem::without_value(&e.to_string());
            AppError::BadRequest(Said::new(
                format!("请求内容的结构不符合要求：{why}"),
                format!("the body does not have the expected form: {why}"),
            ))
        }
        // Syntax errors say what was expected where, never what was found.
        E::Deserialize(e) => AppError::BadRequest(Said::new(
            format!("请求内容不是有效的 JSON：{e}"),
            format!("the body is not valid JSON: {e}"),
        )),
        E::ContentType => AppError::BadRequest(Said::new(
            "请求内容须为 JSON（Content-Type: application/json）",
            "the body must be JSON (Content-Type: application/json)",
        )),
        other => {
            let why = problem::without_value(&other.to_string());
            AppError::BadRequest(Said::new(
                format!("无法读取请求内容：{why}"),
                format!("the body could not be read: {why}"),
            ))
        }
    }
}

/// A query string that does not fit the route's parameters. Serde does not say which
/// parameter held a value of the wrong form, so the pointer names one only when serde
/// does (a missing one).
fn query_error(err: actix_web::error::QueryPayloadError) -> AppError {
    let actix_web::error::QueryPayloadError::Deserialize(e) = err else {
        return AppError::field("/query", "the query string could not be read");
    };
    let message = e.to_string();
    if let Some((name, _)) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return AppError::field(format!("/query/{name}"), "is required");
    }
    // An unknown parameter is named when its name reads like one (a typo), never when
    // it may be a value sent as a name.
    let unknown = message.strip_prefix("unknown field `").and_then(|rest| {
        rest.rfind("`, expected")
            .or_else(|| rest.rfind("`, there are no fields"))
            .map(|i| &rest[..i])
    });
    let pointer = match unknown {
        Some(name) => crate::wire::unknown_key_pointer("/query", name),
        None => "/query".to_owned(),
    };
    AppError::field(
        pointer,
        format!(
            "a query parameter is not of the expected form: {}",
            problem::without_value(&message)
        ),
    )
}

/// A path segment that does not fit the route (a number expected, say).
fn path_error(err: actix_web::error::PathError) -> AppError {
    let actix_web::error::PathError::Deserialize(e) = err else {
        return AppError::NotFound(Said::new("此路径下没有资源", "no resource at this path"));
    };
    AppError::field(
        "/path",
        format!(
            "a path segment is not of the expected form: {}",
            problem::without_value(&e.to_string())
        ),
    )
}

/// Registers every route; shared by `serve` and the tests.
pub fn configure(cfg: &mut web::ServiceConfig, body_limit: usize, upload_limit: usize) {
    cfg.app_data(web::PayloadConfig::new(body_limit))
        .app_data(
            web::JsonConfig::default()
                .limit(body_limit)
                .error_handler(|err, _req| json_error(err).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _req| query_error(err).into()))
        .app_data(web::PathConfig::default().error_handler(|err, _req| path_error(err).into()))
        .service(health::healthz)
        .service(health::readyz)
        // The router tries resources in the order they are registered, matching each
        // pattern: the public pages and the calculator, which take the most traffic,
        // come before the many patterns of the officers' pages.
        .configure(site::routes)
        .configure(levy::routes)
        .configure(conformance::routes)
        .configure(employers::routes)
        .configure(declarations::routes)
        .configure(assessments::routes)
        .configure(disputes::routes)
        .configure(payments::routes)
        .configure(hardship::routes)
        .configure(forecasts::routes)
        .configure(roll::routes)
        .configure(impact::routes)
        .configure(rewards::routes)
        .configure(rewards_pages::routes)
        .configure(ledger::routes)
        .configure(positions::routes)
        .configure(positions_pages::routes)
        .configure(violations::routes)
        .configure(notices::routes)
        .configure(metrics::routes)
        .configure(pages::routes)
        .configure(account_pages::routes)
        .configure(inspector::routes)
        .configure(admin::routes)
        .configure(federation::routes)
        .configure(my::routes)
        .configure(receipts::routes)
        .configure(calendar::routes)
        .configure(|c| tax::routes(c, upload_limit))
        .configure(officer::routes)
        .configure(|c| imports::routes(c, upload_limit))
        .configure(docs::routes);
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    /// The email reminder worker, when `mail.enabled`.
    reminders: Option<crate::jobs::reminders::ReminderWorker>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server, on the
    /// system clock.
    pub fn build(
        settings: Settings,
        db: Db,
        book: Arc<PolicyBook>,
    ) -> std::io::Result<Application> {
        Application::build_with_clock(settings, db, book, Clock::System)
    }

    /// [`Application::build`] with the clock that says what day it is (tests walk a
    /// levy year on a [`crate::clock::FixedClock`]).
    pub fn build_with_clock(
        settings: Settings,
        db: Db,
        book: Arc<PolicyBook>,
        clock: Clock,
    ) -> std::io::Result<Application> {
        Application::build_observed(settings, db, book, clock, None)
    }

    /// [`Application::build_with_clock`] with an observer of every answer (the tests
    /// check each against the OpenAPI document).
    pub fn build_observed(
        settings: Settings,
        db: Db,
        book: Arc<PolicyBook>,
        clock: Clock,
        observer: Option<middleware::Observer>,
    ) -> std::io::Result<Application> {
        let policy: Arc<dyn PolicyProvider> = book.clone();
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        // Started here, once per process (not per actix worker); it runs on a thread of
        // its own and is stopped after the server has drained.
        let reminders = if settings.mail.enabled {
            Some(
                crate::jobs::reminders::ReminderWorker::start(
                    db.clone(),
                    book.clone(),
                    &settings,
                    clock.clone(),
                )
                .map_err(std::io::Error::other)?,
            )
        } else {
            None
        };
        let secrets =
            Arc::new(SecretStore::open(&settings.security).map_err(std::io::Error::other)?);
        let body_limit = settings.server.body_limit_bytes;
        let upload_limit = settings.server.upload_limit_bytes;
        let workers = settings.server.workers;
        let shutdown = settings.server.shutdown_timeout_secs;
        let regions = Arc::new(site::RegionMenu::new(&book));
        let state = web::Data::new(AppState {
            db,
            settings: Arc::new(settings),
            policy,
            regions,
            book,
            secrets,
            clock,
            violator_refreshes: Arc::default(),
            overviews: Arc::default(),
        });
        let observer = observer.map(web::Data::new);
        let mut server = HttpServer::new(move || {
            let mut app = App::new().app_data(state.clone());
            if let Some(o) = &observer {
                app = app.app_data(o.clone());
            }
            app
                // The last `wrap` runs first: every request gets its id and span before
                // its text is checked.
                .wrap(actix_web::middleware::from_fn(middleware::text_guard))
                .wrap(actix_web::middleware::from_fn(middleware::request_context))
                .wrap(actix_web::middleware::from_fn(middleware::observe))
                .configure(|cfg| configure(cfg, body_limit, upload_limit))
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
            reminders,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until a shutdown signal, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(worker) = self.reminders {
            // Joining waits for the mail in flight: off the async executor.
            let _ = tokio::task::spawn_blocking(move || worker.stop()).await;
        }
        result
    }
}
