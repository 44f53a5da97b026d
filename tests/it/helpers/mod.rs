//! What the integration tests share. `spawn_app`: the service on a random port over a
//! fresh database — a temporary SQLite file, or, when QUOTA_LEVY_TEST_POSTGRES_URL is
//! set, a new PostgreSQL database that is dropped when the test ends — on a clock the
//! test sets (`app.clock.set(date)`); requests and tokens; `run_jobs`, the reminder
//! worker's and the batch runner's work done at once on the app's date; `bin`, the
//! binary; the SMTP sink (`smtp`) and the fixtures (`fixtures`).

pub mod contract;
pub mod fixtures;
pub mod smtp;
pub mod violators;
pub mod web;

pub use fixtures::*;

use diesel::prelude::*;
use diesel::{Connection, PgConnection, RunQueryDsl};
use quota_levy::auth::Role;
use quota_levy::clock::FixedClock;
use quota_levy::config::Settings;
use quota_levy::db::{DatabaseUrl, Db};
use quota_levy::policy::PolicyBook;
use serde_json::Value;
use smtp::SmtpSink;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, OnceLock};

/// The variable that switches the suite to PostgreSQL.
pub const PG_ENV: &str = "QUOTA_LEVY_TEST_POSTGRES_URL";

/// A fresh database for one test.
pub enum TestDb {
    /// A temporary folder holding the SQLite file; held, never read, so that the
    /// folder lives exactly as long as the test.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// A PostgreSQL database created for this test.
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Creates the database named by the environment's choice of backend.
    pub fn create() -> (TestDb, String) {
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("ql_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = with_database(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (TestDb::Sqlite(dir), url)
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Replaces the database name (the URL path) of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// The database the app uses (kept alive for the test).
    pub db: TestDb,
    /// Its URL.
    pub db_url: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The app's date: today in China when it starts, then wherever the test sets it.
    pub clock: FixedClock,
    /// The settings it runs with.
    pub settings: Settings,
    /// The SMTP server its mail goes to, when started with one.
    pub smtp: Option<SmtpSink>,
    /// What its answers did not match in the OpenAPI document: checked when the app is
    /// dropped, so every test that talks to the service checks the contract too.
    pub contract: contract::Contract,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let faults = self.contract.faults();
        if !faults.is_empty() && !std::thread::panicking() {
            panic!(
                "answers that src/http/openapi.json does not describe:\n{}",
                faults.join("\n")
            );
        }
    }
}

impl TestApp {
    /// A full URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A pool of its own on the app's database.
    pub fn pool(&self) -> Db {
        open_db(&self.db_url)
    }

    /// Creates a token straight in the database.
    pub async fn token(&self, role: Role, employer: Option<&str>, region: Option<&str>) -> String {
        let url = self.db_url.clone();
        let employer = employer.map(str::to_owned);
        let region = region.map(|r| r.parse().expect("region"));
        tokio::task::spawn_blocking(move || {
            let db = open_db(&url);
            let mut c = db.conn().expect("conn");
            quota_levy::db::tokens::create(&mut c, role, employer.as_deref(), region, None)
                .expect("token")
                .0
        })
        .await
        .expect("join")
    }

    /// An admin's token.
    pub async fn admin(&self) -> String {
        self.token(Role::Admin, None, None).await
    }

    /// A tax officer's token for `region` (every region: `None`).
    pub async fn tax(&self, region: Option<&str>) -> String {
        self.token(Role::Tax, None, region).await
    }

    /// A federation officer's token for `region` (every region: `None`).
    pub async fn federation(&self, region: Option<&str>) -> String {
        self.token(Role::Federation, None, region).await
    }

    /// A labour inspector's token for `region` (every region: `None`).
    pub async fn inspector(&self, region: Option<&str>) -> String {
        self.token(Role::Inspector, None, region).await
    }

    /// The token of employer `uscc`.
    pub async fn employer(&self, uscc: &str) -> String {
        self.token(Role::Employer, Some(uscc), None).await
    }

    /// Sends a JSON request with a token.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.expect("send")
    }

    /// Sends a JSON request and reads the answer: (status, JSON body; `Null` when the
    /// body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let r = self.send(method, path, token, body).await;
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A GET answered 200, as text (CSV, HTML).
    pub async fn get_text(&self, path: &str, token: Option<&str>) -> String {
        let r = self.send(reqwest::Method::GET, path, token, None).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {text}");
        text
    }

    /// Posts a file body of `content_type`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut rb = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send().await.expect("send")
    }

    /// Queues a batch assessment run as `POST /api/v1/assessment-runs` does (the same
    /// job, `jobs::assess::prepare`), for [`TestApp::run_jobs`] to carry out. Returns its
    /// id.
    pub async fn queue_assessment_run(&self, levy_year: i32, region: Option<&str>) -> i64 {
        let pool = self.pool();
        let job = quota_levy::jobs::assess::AssessJob {
            levy_year,
            region: region.map(|r| r.parse().expect("region")),
            actor: "test:run".into(),
        };
        tokio::task::spawn_blocking(move || {
            quota_levy::jobs::assess::prepare(&mut pool.conn().expect("conn"), &job)
                .expect("prepare run")
        })
        .await
        .expect("join")
    }

    /// Everything the service does in the background, done now and to the end on the
    /// app's date: [`TestApp::run_assessments`], [`TestApp::plan_reminders`] and
    /// [`TestApp::send_mail`], in that order. No waiting: when it returns, the work is
    /// done.
    pub async fn run_jobs(&self) -> JobsReport {
        let runs = self.run_assessments().await;
        let queued = self.plan_reminders().await;
        let pass = self.send_mail().await;
        JobsReport { runs, queued, pass }
    }

    /// Carries out every unfinished assessment run (`jobs::assess::execute`, as the
    /// endpoint's background task and `quota-levy assess` do) and returns them as they
    /// ended.
    pub async fn run_assessments(&self) -> Vec<quota_levy::db::assessments::Run> {
        use quota_levy::db::schema::assessment_runs;
        let pool = self.pool();
        tokio::task::spawn_blocking(move || {
            let unfinished: Vec<i64> = assessment_runs::table
                .filter(assessment_runs::status.eq("running"))
                .order(assessment_runs::id.asc())
                .select(assessment_runs::id)
                .load(&mut *pool.conn().expect("conn"))
                .expect("unfinished runs");
            unfinished
                .into_iter()
                .map(|id| {
                    quota_levy::jobs::assess::execute(&pool, policy().as_ref(), id, &mut |_| ())
                        .expect("assessment run")
                })
                .collect()
        })
        .await
        .expect("join")
    }

    /// Plans the reminders due on the app's date, for this levy year and the last, as
    /// the worker of `serve` does; returns how many were newly queued, per kind.
    pub async fn plan_reminders(&self) -> BTreeMap<&'static str, u64> {
        use chrono::Datelike;
        let pool = self.pool();
        let settings = self.settings.clone();
        let today = self.clock.today();
        tokio::task::spawn_blocking(move || {
            let templates =
                quota_levy::mail::Templates::from_settings(&settings.mail).expect("templates");
            let schedule = quota_levy::mail::plan::Schedule::from_settings(&settings.mail);
            let mut conn = pool.conn().expect("conn");
            let mut queued = BTreeMap::new();
            for year in [today.year() - 1, today.year()] {
                let r = quota_levy::jobs::reminders::plan_reminders(
                    &mut conn,
                    &policy(),
                    &templates,
                    &settings.mail.payment,
                    &schedule,
                    year,
                    today,
                    settings.collection.surcharge_from,
                )
                .expect("plan reminders");
                for (k, n) in r.queued {
                    *queued.entry(k).or_default() += n;
                }
            }
            queued
        })
        .await
        .expect("join")
    }

    /// Sends what the outbox holds to the app's SMTP server, the checks before sending
    /// judging by the app's date; nothing without a server.
    pub async fn send_mail(&self) -> quota_levy::mail::PassReport {
        if self.smtp.is_none() {
            return quota_levy::mail::PassReport::default();
        }
        let pool = self.pool();
        let settings = self.settings.clone();
        let clock = self.clock.clone();
        tokio::task::spawn_blocking(move || {
            let mailer = quota_levy::mail::mailer_from_settings(&settings).expect("mailer");
            let cfg = quota_levy::mail::PassConfig::from_settings(&settings.mail, "test")
                .with_surcharge_from(settings.collection.surcharge_from);
            quota_levy::mail::run_pass(
                &pool,
                &mailer,
                &cfg,
                &|| chrono::Utc::now().naive_utc(),
                &|| clock.today(),
                &std::sync::atomic::AtomicBool::new(false),
            )
            .expect("send pass")
        })
        .await
        .expect("join")
    }
}

/// What [`TestApp::run_jobs`] did.
#[derive(Debug, Default)]
pub struct JobsReport {
    /// The assessment runs carried out, as they ended.
    pub runs: Vec<quota_levy::db::assessments::Run>,
    /// Reminders newly queued, per kind (both levy years).
    pub queued: BTreeMap<&'static str, u64>,
    /// The sending pass (all zero without an SMTP server).
    pub pass: quota_levy::mail::PassReport,
}

/// The binary, without the developer's own `QUOTA_LEVY__*` overrides; on `db_url`,
/// when given, with warnings only in its log.
pub fn bin(db_url: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quota-levy"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUOTA_LEVY__") {
            c.env_remove(k);
        }
    }
    if let Some(url) = db_url {
        c.env("QUOTA_LEVY__DATABASE__URL", url)
            .env("QUOTA_LEVY__LOG__LEVEL", "warn");
    }
    c
}

/// Settings for a test: random port, the given database, quiet logs.
pub fn test_settings(db_url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut env = vec![
        ("QUOTA_LEVY__SERVER__PORT".to_owned(), "0".to_owned()),
        ("QUOTA_LEVY__SERVER__WORKERS".to_owned(), "2".to_owned()),
        ("QUOTA_LEVY__DATABASE__URL".to_owned(), db_url.to_owned()),
        (
            "QUOTA_LEVY__DATABASE__CONNECT_TIMEOUT_SECS".to_owned(),
            "2".to_owned(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load_from(None, env).expect("test settings")
}

/// A pool of its own on a test's database (for checks behind the app's back).
pub fn open_db(url: &str) -> Db {
    let settings = test_settings(url, &[]);
    Db::new(DatabaseUrl::parse(url).expect("url"), &settings.database).expect("pool")
}

/// The shipped policy packs, parsed once for the whole test binary.
pub fn policy() -> Arc<PolicyBook> {
    static BOOK: OnceLock<Arc<PolicyBook>> = OnceLock::new();
    BOOK.get_or_init(|| Arc::new(PolicyBook::load_embedded().expect("shipped packs load")))
        .clone()
}

/// Starts the app on a random port over a fresh, migrated database.
pub async fn spawn_app() -> TestApp {
    let (db, db_url) = TestDb::create();
    spawn_app_on(db, db_url, true).await
}

/// Starts the app on a fresh, migrated database with extra settings (env pairs).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (db, db_url) = TestDb::create();
    spawn_app_configured(db, db_url, true, extra).await
}

/// Starts the app with an SMTP server of its own that its mail goes to (by
/// [`TestApp::run_jobs`]), and extra settings.
pub async fn spawn_app_with_smtp(extra: &[(&str, &str)]) -> TestApp {
    let sink = tokio::task::spawn_blocking(SmtpSink::start)
        .await
        .expect("join");
    let mut env = sink.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (db, db_url) = TestDb::create();
    let mut app = spawn_app_configured(db, db_url, true, &refs).await;
    app.smtp = Some(sink);
    app
}

/// Starts the app over `db`, migrating first when asked.
pub async fn spawn_app_on(db: TestDb, db_url: String, migrate: bool) -> TestApp {
    spawn_app_configured(db, db_url, migrate, &[]).await
}

async fn spawn_app_configured(
    db: TestDb,
    db_url: String,
    migrate: bool,
    extra: &[(&str, &str)],
) -> TestApp {
    let settings = test_settings(&db_url, extra);
    let pool = Db::new(
        DatabaseUrl::parse(&db_url).expect("url"),
        &settings.database,
    )
    .expect("pool");
    if migrate {
        let p = pool.clone();
        tokio::task::spawn_blocking(move || p.migrate())
            .await
            .expect("join")
            .expect("migrate");
    }
    let clock = FixedClock::new(quota_levy::clock::china_today());
    let contract = contract::Contract::default();
    let address = serve(settings.clone(), pool, &clock, &contract);
    TestApp {
        address,
        db,
        db_url,
        client: reqwest::Client::new(),
        clock,
        settings,
        smtp: None,
        contract,
    }
}

/// Starts another app on the database of a running one, with other settings (env
/// pairs): the same data served by a process configured differently. Returns its
/// address; the first app owns the database, and its clock is theirs.
pub fn serve_also(first: &TestApp, extra: &[(&str, &str)]) -> String {
    let settings = test_settings(&first.db_url, extra);
    let pool = Db::new(
        DatabaseUrl::parse(&first.db_url).expect("url"),
        &settings.database,
    )
    .expect("pool");
    serve(settings, pool, &first.clock, &first.contract)
}

fn serve(
    settings: Settings,
    pool: Db,
    clock: &FixedClock,
    contract: &contract::Contract,
) -> String {
    // Packs of a folder when the test names one (`QUOTA_LEVY__POLICY__DIR`), else the
    // shipped ones parsed once.
    let book = match settings.policy_dir() {
        Some(_) => Arc::new(settings.load_policy().expect("the test's packs load")),
        None => policy(),
    };
    let app = quota_levy::http::Application::build_observed(
        settings,
        pool,
        book,
        clock.clone().into(),
        Some(contract.observer()),
    )
    .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}
