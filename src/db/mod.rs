//! The database layer: one binary over embedded SQLite and PostgreSQL.
//!
//! The backend is chosen by the URL scheme at run time. Diesel's `MultiConnection`
//! derive gives one connection type over both; its own `establish` tries each backend
//! in turn, which would turn an unreachable `postgres://` URL into a stray SQLite file,
//! so connections are made here by scheme instead.

pub mod accounts;
pub mod assessments;
pub mod audit;
pub mod bank_payments;
pub mod collection;
pub mod declarations;
pub mod demands;
pub mod demo;
pub mod employers;
pub mod forecasts;
pub mod hardship;
pub mod notices;
pub mod objections;
pub mod outbox;
pub mod payments;
pub mod positions;
pub mod receipts;
pub mod rewards;
pub mod run_chunks;
pub mod schema;
#[cfg(test)]
pub mod test_support;
pub mod tokens;
pub mod violator_lists;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

/// Runs one diesel expression on the concrete connection inside an [`AnyConnection`].
///
/// Some statements (multi-row inserts, upserts) do not compile for the `MultiBackend`;
/// the same expression compiles for each backend, so it is written once and
/// instantiated twice.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}

/// Migrations for SQLite, in its dialect.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, in its dialect.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (production).
    Postgresql(diesel::PgConnection),
    /// Embedded SQLite (default).
    Sqlite(diesel::SqliteConnection),
}

/// Rows per multi-row statement at most, whatever the backend allows: past this the
/// statement's size costs more to build and plan than the round trips it saves.
pub const MAX_ROWS_PER_STATEMENT: usize = 1_000;

impl AnyConnection {
    /// Bound parameters one statement may carry: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
    /// (32,766 since 3.32) and PostgreSQL's protocol limit (65,535).
    pub fn max_bind_params(&self) -> usize {
        match self {
            AnyConnection::Sqlite(_) => 32_766,
            AnyConnection::Postgresql(_) => 65_535,
        }
    }

    /// Rows of `columns` bound values each that one multi-row statement may carry on
    /// this backend, at most [`MAX_ROWS_PER_STATEMENT`].
    pub fn rows_per_statement(&self, columns: usize) -> usize {
        (self.max_bind_params() / columns.max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
    }
}

/// How many times a write transaction that could not start (SQLite's write lock still
/// held by another connection after the busy timeout) is tried before giving up.
const WRITE_BEGIN_ATTEMPTS: u32 = 4;

/// Runs `f` as one write transaction, the way every write of the service must run.
///
/// On SQLite the transaction starts `BEGIN IMMEDIATE`: it takes the write lock before
/// the first read, waiting up to the busy timeout. A deferred transaction would read
/// first and fail with `SQLITE_BUSY` at once when it later tries to write while another
/// connection wrote meanwhile (SQLite cannot upgrade a stale read snapshot), and that
/// is not retried by the busy handler. When the lock cannot be had even after the busy
/// timeout, the transaction is started again a few times; `f` has not run then. On
/// PostgreSQL it is an ordinary (read committed) transaction: writers that must not
/// overwrite each other check the version in the `UPDATE` itself.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Taken out when it runs: a retry happens only while it has not.
    let mut f = Some(f);
    let mut attempt = 1;
    loop {
        let mut call = |c: &mut AnyConnection| match f.take() {
            Some(f) => f(c),
            None => Err(E::from(diesel::result::Error::BrokenTransactionManager)),
        };
        let fresh_sqlite = match conn {
            AnyConnection::Sqlite(c) => !in_transaction(c),
            AnyConnection::Postgresql(_) => false,
        };
        let result = if fresh_sqlite {
            sqlite_immediate(conn, call)
        } else {
            // PostgreSQL, or a savepoint inside the caller's transaction.
            conn.transaction(|c| call(c))
        };
        match result {
            Err(_) if f.is_some() && attempt < WRITE_BEGIN_ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

/// True while `c` has a transaction open.
fn in_transaction(c: &mut diesel::SqliteConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()
        .is_ok_and(|d| d.is_some())
}

/// `BEGIN IMMEDIATE` on the SQLite connection inside `conn`, then `f` on `conn` itself
/// (diesel's `immediate_transaction` exists on the concrete connection only). The
/// transaction state lives in the inner connection, so a `transaction` that `f` opens
/// becomes a savepoint as usual.
fn sqlite_immediate<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if let AnyConnection::Sqlite(c) = &mut *conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(&mut *conn);
    if let AnyConnection::Sqlite(c) = &mut *conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    result
}

/// True when `e` is a unique-key violation: a concurrent writer got there first.
pub fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

// The address is read with the settings (which check it at load), so its type lives
// there; the pool takes it from here as before.
pub use crate::config::{Backend, DatabaseUrl};

/// How every SQLite connection is set up (`[database]` settings; README,
/// "Configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteTuning {
    /// `PRAGMA busy_timeout`, milliseconds.
    pub busy_timeout_ms: u32,
    /// `PRAGMA cache_size`, KiB.
    pub cache_kib: u32,
    /// `PRAGMA mmap_size`, MiB; 0 is off.
    pub mmap_mib: u32,
    /// `PRAGMA temp_store`.
    pub temp_store: crate::config::SqliteTempStore,
}

impl SqliteTuning {
    /// The tuning the settings ask for.
    pub fn of(settings: &crate::config::DatabaseSettings) -> SqliteTuning {
        SqliteTuning {
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
            cache_kib: settings.sqlite_cache_kib,
            mmap_mib: settings.sqlite_mmap_mib,
            temp_store: settings.sqlite_temp_store,
        }
    }

    /// The statements run on each new connection.
    ///
    /// WAL lets readers run beside the one writer; foreign keys are off by default in
    /// SQLite; the busy timeout turns lock contention into waiting. SQLite's default
    /// page cache (2 MiB) is far smaller than the indexes a batch run writes into, so
    /// without a larger one every insert reads its index pages from the file again
    /// (BENCHMARKS.md, "Batch assessment"); a negative `cache_size` is in KiB.
    pub fn pragmas(&self) -> String {
        format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; \
             PRAGMA cache_size = -{}; PRAGMA mmap_size = {}; PRAGMA temp_store = {};",
            self.busy_timeout_ms,
            self.cache_kib,
            u64::from(self.mmap_mib) * 1024 * 1024,
            self.temp_store.pragma_value(),
        )
    }
}

/// Makes connections for the pool, by URL scheme, with SQLite tuned on every connect.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    sqlite: SqliteTuning,
}

impl Manager {
    /// A manager for `url`. SQLite's folder is created here, so a fresh checkout starts.
    pub fn new(url: DatabaseUrl, sqlite: SqliteTuning) -> std::io::Result<Manager> {
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                if path.as_os_str() != ":memory:" {
                    std::fs::create_dir_all(parent)?;
                }
            }
        }
        Ok(Manager { url, sqlite })
    }

    /// Opens one connection outside the pool.
    pub fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(u) => Ok(AnyConnection::Postgresql(
                diesel::PgConnection::establish(u)?,
            )),
            DatabaseUrl::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                c.batch_execute(&self.sqlite.pragmas())
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        Manager::connect(self).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// How the connection pool is used at one moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    /// Connections open.
    pub connections: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The pool's size.
    pub max: u32,
}

/// SQLite's `PRAGMA data_version` on this connection: it changes exactly when another
/// connection has committed since it was last read (this connection's own commits
/// leave it). `None` on PostgreSQL.
pub fn sqlite_data_version(conn: &mut AnyConnection) -> Result<Option<i64>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        data_version: i64,
    }
    match conn {
        AnyConnection::Sqlite(c) => {
            let r: Row = diesel::sql_query("PRAGMA data_version").get_result(c)?;
            Ok(Some(r.data_version))
        }
        AnyConnection::Postgresql(_) => Ok(None),
    }
}

/// The connection pool.
pub type Pool = r2d2::Pool<Manager>;
/// A connection checked out of the pool.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had (database down, pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    /// Another writer changed the rows meanwhile; nothing of this write landed, and
    /// the same request may be tried again.
    #[error("{0}")]
    Conflict(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

/// The pool plus what it connects to; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    url: DatabaseUrl,
}

impl Db {
    /// Builds a pool without connecting yet: `serve` must start (and `/readyz` answer
    /// 503) even while the database is briefly down.
    pub fn new(
        url: DatabaseUrl,
        settings: &crate::config::DatabaseSettings,
    ) -> Result<Db, DbError> {
        let manager = Manager::new(url.clone(), SqliteTuning::of(settings))
            .map_err(|e| DbError::Unavailable(format!("cannot create the database folder: {e}")))?;
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_secs.max(1)))
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Db {
            backend: url.backend(),
            pool,
            url,
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL, safe to log.
    pub fn redacted_url(&self) -> String {
        self.url.redacted()
    }

    /// How the pool is used now (for `GET /metrics`).
    pub fn pool_state(&self) -> PoolUse {
        let st = self.pool.state();
        PoolUse {
            connections: st.connections,
            idle: st.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// Checks out a connection (blocking; call from a blocking context).
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        self.pool
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// Checks out a connection, waiting at most `timeout`.
    pub fn conn_timeout(&self, timeout: Duration) -> Result<PooledConn, DbError> {
        self.pool
            .get_timeout(timeout)
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// Runs blocking database work on tokio's blocking pool, never on the async executor.
    pub async fn run<F, R>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }
}

/// Applies pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// True when every migration of the connection's backend has been applied.
pub fn migrations_current(conn: &mut AnyConnection) -> Result<bool, DbError> {
    let pending = match conn {
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(!pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_selects_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn sqlite_connections_take_the_tuning() {
        #[derive(diesel::QueryableByName)]
        struct Val {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            v: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Mmap {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        // (cache_size, mmap_size, temp_store, busy_timeout) as the connection reports
        // them. `mmap_size` has no table-valued form.
        fn read(conn: &mut AnyConnection) -> (i64, i64, i64, i64) {
            let mut tv = |pragma: &str, column: &str| -> i64 {
                diesel::sql_query(format!("SELECT {column} AS v FROM pragma_{pragma}()"))
                    .get_result::<Val>(conn)
                    .unwrap()
                    .v
            };
            let cache = tv("cache_size", "cache_size");
            let temp = tv("temp_store", "temp_store");
            let busy = tv("busy_timeout", "timeout");
            let mmap = diesel::sql_query("PRAGMA mmap_size")
                .get_result::<Mmap>(conn)
                .unwrap()
                .mmap_size;
            (cache, mmap, temp, busy)
        }
        let dir = tempfile::tempdir().unwrap();
        let tuning = SqliteTuning {
            busy_timeout_ms: 1234,
            cache_kib: 40_000,
            mmap_mib: 16,
            temp_store: crate::config::SqliteTempStore::Memory,
        };
        let manager = Manager::new(DatabaseUrl::Sqlite(dir.path().join("t.db")), tuning).unwrap();
        // A negative cache_size is in KiB; temp_store 2 is MEMORY.
        assert_eq!(
            read(&mut manager.connect().unwrap()),
            (-40_000, 16 * 1024 * 1024, 2, 1234)
        );

        let off = SqliteTuning {
            mmap_mib: 0,
            temp_store: crate::config::SqliteTempStore::File,
            ..tuning
        };
        let manager = Manager::new(DatabaseUrl::Sqlite(dir.path().join("u.db")), off).unwrap();
        assert_eq!(read(&mut manager.connect().unwrap()), (-40_000, 0, 1, 1234));
    }

    #[test]
    fn passwords_are_redacted() {
        let u = DatabaseUrl::parse("postgres://me:secret@h/db").unwrap();
        assert_eq!(u.redacted(), "postgres://me:***@h/db");
    }

    #[test]
    fn sqlite_migrates_and_reports_current() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("sub/q.db"));
        let settings = crate::config::Settings::load_from(None, Vec::new())
            .unwrap()
            .database;
        let db = Db::new(url, &settings).unwrap();
        let mut conn = db.conn().unwrap();
        assert!(!migrations_current(&mut conn).unwrap());
        drop(conn);
        assert!(!db.migrate().unwrap().is_empty());
        let mut conn = db.conn().unwrap();
        assert!(migrations_current(&mut conn).unwrap());
        let fk: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(fk, 1);
    }
}
