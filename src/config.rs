//! Layered configuration: the compiled-in `config/default.toml`, an optional file, then
//! `QUOTA_LEVY__SECTION__KEY` environment variables. Every failure names the key.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment variables that override settings.
pub const ENV_PREFIX: &str = "QUOTA_LEVY__";

/// All settings of the service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// Policy packs.
    pub policy: PolicySettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub host: String,
    /// Listen port; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest request body in bytes.
    pub body_limit_bytes: usize,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_timeout_secs: u64,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path`, a plain path, or `postgres://…`.
    pub url: String,
    /// Pool size.
    pub pool_size: u32,
    /// Wait for a pooled connection, seconds.
    pub connect_timeout_secs: u64,
    /// SQLite busy timeout, milliseconds.
    pub sqlite_busy_timeout_ms: u32,
    /// Run migrations when serving.
    pub migrate_on_start: bool,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter when `RUST_LOG` is unset.
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// `[policy]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// Folder of packs; empty = compiled-in packs.
    pub dir: String,
}

/// A setting that is missing, unknown or of the wrong form.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `--config` file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("configuration file {origin} is not valid TOML: {message}")]
    Syntax {
        /// File name.
        origin: String,
        /// Parser message (with line and column).
        message: String,
    },
    /// A key has a bad value or is unknown.
    #[error("invalid setting `{key}` (from {origin}): {message}")]
    Invalid {
        /// Dotted key, e.g. `database.url`.
        key: String,
        /// Where the value came from: a file or an environment variable.
        origin: String,
        /// What form was expected.
        message: String,
    },
}

impl Settings {
    /// Loads the defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut merged = parse_toml(DEFAULT_TOML, "config/default.toml (built in)")?;
        let mut origins: Vec<(String, String)> = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let origin = path.display().to_string();
            let overlay = parse_toml(&text, &origin)?;
            merge_file(&mut merged, overlay, "", &origin, &mut origins)?;
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env.sort();
        for (name, raw) in env {
            apply_env(&mut merged, &name, &raw)?;
            origins.push((env_key(&name), format!("environment variable {name}")));
        }
        let settings: Settings = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let origin = origins
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| "configuration".into());
            ConfigError::Invalid {
                key,
                origin,
                message: e.into_inner().to_string(),
            }
        })?;
        settings.validate(&origins)?;
        Ok(settings)
    }

    fn validate(&self, origins: &[(String, String)]) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| {
            let origin = origins
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| "config/default.toml".into());
            Err(ConfigError::Invalid {
                key: key.into(),
                origin,
                message,
            })
        };
        if let Err(message) = crate::db::DatabaseUrl::parse(&self.database.url) {
            return fail("database.url", message);
        }
        if self.database.pool_size == 0 || self.database.pool_size > 1000 {
            return fail(
                "database.pool_size",
                "expected a whole number from 1 to 1000".into(),
            );
        }
        if self.server.body_limit_bytes < 1024 {
            return fail(
                "server.body_limit_bytes",
                "expected at least 1024 bytes".into(),
            );
        }
        if self.server.host.trim().is_empty() {
            return fail(
                "server.host",
                "expected an address such as 127.0.0.1".into(),
            );
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return fail(
                "log.level",
                format!("expected a tracing filter such as \"info\": {e}"),
            );
        }
        Ok(())
    }

    /// The policy folder, when one is configured.
    pub fn policy_dir(&self) -> Option<PathBuf> {
        let d = self.policy.dir.trim();
        (!d.is_empty()).then(|| PathBuf::from(d))
    }
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, ConfigError> {
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::Syntax {
            origin: origin.into(),
            message: e.to_string(),
        })
}

/// Overlays a file onto the defaults, refusing keys the defaults do not have so that a
/// typo is an error rather than a silently ignored line.
fn merge_file(
    base: &mut toml::Value,
    overlay: toml::Value,
    prefix: &str,
    origin: &str,
    origins: &mut Vec<(String, String)>,
) -> Result<(), ConfigError> {
    let (toml::Value::Table(base), toml::Value::Table(overlay)) = (base, overlay) else {
        return Ok(());
    };
    for (k, v) in overlay {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match base.get_mut(&k) {
            None => {
                return Err(ConfigError::Invalid {
                    key,
                    origin: origin.into(),
                    message: "unknown setting (see config/default.toml for every key)".into(),
                })
            }
            Some(existing @ toml::Value::Table(_)) => {
                if !v.is_table() {
                    return Err(ConfigError::Invalid {
                        key,
                        origin: origin.into(),
                        message: "expected a section (table)".into(),
                    });
                }
                merge_file(existing, v, &key, origin, origins)?;
            }
            Some(slot) => {
                *slot = v;
                origins.push((key, origin.into()));
            }
        }
    }
    Ok(())
}

fn env_key(name: &str) -> String {
    name[ENV_PREFIX.len()..]
        .split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// Sets one value from an environment variable, typed after the default it replaces
/// (every key has a default, so the type is always known).
fn apply_env(base: &mut toml::Value, name: &str, raw: &str) -> Result<(), ConfigError> {
    let key = env_key(name);
    let invalid = |message: String| ConfigError::Invalid {
        key: key.clone(),
        origin: format!("environment variable {name}"),
        message,
    };
    let mut slot = base;
    for part in key.split('.') {
        slot = slot.get_mut(part).ok_or_else(|| {
            invalid("unknown setting (see config/default.toml for every key)".into())
        })?;
    }
    let value = match slot {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("expected a whole number, got {raw:?}")))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(invalid(format!("expected true or false, got {raw:?}"))),
        }),
        toml::Value::Table(_) => return Err(invalid("names a section, not a setting".into())),
        _ => {
            return Err(invalid(
                "this setting cannot be set from the environment".into(),
            ))
        }
    };
    *slot = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.database.url, "sqlite://data/quota-levy.db");
        assert_eq!(s.log.format, LogFormat::Text);
        assert!(s.policy_dir().is_none());
    }

    #[test]
    fn environment_overrides_with_types() {
        let s = Settings::load_from(
            None,
            env(&[
                ("QUOTA_LEVY__SERVER__PORT", "9000"),
                ("QUOTA_LEVY__DATABASE__URL", "postgres://u@localhost/x"),
                ("QUOTA_LEVY__LOG__FORMAT", "json"),
                ("QUOTA_LEVY__DATABASE__MIGRATE_ON_START", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.database.url, "postgres://u@localhost/x");
        assert_eq!(s.log.format, LogFormat::Json);
        assert!(!s.database.migrate_on_start);
    }

    #[test]
    fn bad_values_name_the_key_and_origin() {
        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "eighty")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("server.port") && e.contains("QUOTA_LEVY__SERVER__PORT"),
            "{e}"
        );

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "70000")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.port"), "{e}");

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__LOG__FORMAT", "xml")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.format"), "{e}");

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__DATABASE__URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PROT", "1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.prot") && e.contains("unknown"), "{e}");
    }

    #[test]
    fn file_overlay_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[server]\nport = 9100\n").unwrap();
        let s = Settings::load_from(Some(&good), env(&[])).unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.server.host, "127.0.0.1");

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[database]\nurll = \"x\"\n").unwrap();
        let e = Settings::load_from(Some(&bad), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.urll") && e.contains("bad.toml"), "{e}");

        let typed = dir.path().join("typed.toml");
        std::fs::write(&typed, "[database]\npool_size = \"many\"\n").unwrap();
        let e = Settings::load_from(Some(&typed), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("database.pool_size") && e.contains("typed.toml"),
            "{e}"
        );
    }
}
