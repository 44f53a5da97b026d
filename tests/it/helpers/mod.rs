//! `spawn_app`: the service on a random port over a fresh database — a temporary SQLite
//! file, or, when QUOTA_LEVY_TEST_POSTGRES_URL is set, a new PostgreSQL database that is
//! dropped when the test ends.

use diesel::{Connection, PgConnection, RunQueryDsl};
use quota_levy::config::Settings;
use quota_levy::db::{DatabaseUrl, Db};
use quota_levy::policy::PolicyBook;
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
}

impl TestApp {
    /// A full URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
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
    let address = serve(settings, pool);
    TestApp {
        address,
        db,
        db_url,
        client: reqwest::Client::new(),
    }
}

/// Starts another app on the database of a running one, with other settings (env
/// pairs): the same data served by a process configured differently. Returns its
/// address; the first app owns the database.
pub fn serve_also(first: &TestApp, extra: &[(&str, &str)]) -> String {
    let settings = test_settings(&first.db_url, extra);
    let pool = Db::new(
        DatabaseUrl::parse(&first.db_url).expect("url"),
        &settings.database,
    )
    .expect("pool");
    serve(settings, pool)
}

fn serve(settings: Settings, pool: Db) -> String {
    let app = quota_levy::http::Application::build(settings, pool, policy()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}
