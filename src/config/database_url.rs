//! `database.url`: which backend it selects, and its form for logs (password hidden).

use std::path::PathBuf;

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://path`, `sqlite:path` or a plain path), or `:memory:`.
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL; the error says which forms are accepted.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || (path.contains("://") && !url.starts_with("sqlite")) {
            return Err(
                "expected sqlite://PATH, a file path, or postgres://USER@HOST/DB".to_owned(),
            );
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// A form safe to log: the password of a PostgreSQL URL is hidden.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact_password(u),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
