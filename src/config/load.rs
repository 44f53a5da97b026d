//! Loading: the defaults, then a file, then environment overrides, each value remembered
//! with where it came from so that an error names the file or variable to fix.

use std::path::{Path, PathBuf};

use super::{Settings, DEFAULT_TOML, ENV_PREFIX};

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
        let mut settings: Settings = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let origin = origins
                .iter()
                .rev()
                .find(|(k, _)| names(k, &key))
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| "configuration".into());
            ConfigError::Invalid {
                key,
                origin,
                message: e.into_inner().to_string(),
            }
        })?;
        settings.validate(&origins)?;
        settings.resolve_public_base_url(&origins);
        Ok(settings)
    }

    /// Puts the public address in `server.public_base_url`, taking the old key
    /// `mail.public_base_url` when only that one is set, so that a configuration written
    /// for an earlier version keeps its links; either way a set old key is warned about.
    fn resolve_public_base_url(&mut self, origins: &[(String, String)]) {
        let new_set = origins.iter().any(|(k, _)| k == "server.public_base_url");
        let legacy = self.mail.public_base_url.trim().to_owned();
        if !legacy.is_empty() {
            if new_set {
                self.warnings.push(format!(
                    "mail.public_base_url is ignored: server.public_base_url ({}) is set; \
                     remove mail.public_base_url",
                    self.server.public_base_url.trim()
                ));
            } else {
                self.warnings.push(format!(
                    "mail.public_base_url is deprecated: rename it to \
                     server.public_base_url (using {legacy} meanwhile)"
                ));
                self.server.public_base_url = legacy;
            }
        }
        self.server.public_base_url = self
            .server
            .public_base_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
    }
}

/// True when a value set at `set` is, or is inside, the setting `key`: an error about a
/// whole entry (a missing key of `mail.payment.411200`) names where its keys came from.
pub(super) fn names(set: &str, key: &str) -> bool {
    set == key || set.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, ConfigError> {
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::Syntax {
            origin: origin.into(),
            message: e.to_string(),
        })
}

/// Tables whose keys the operator names (region codes) rather than the defaults: a new
/// key there is an entry, not a typo, and the entry's own keys are checked by its type
/// (`PaymentInstructions` refuses unknown ones).
const OPEN_TABLES: [&str; 2] = ["mail.payment", "notices.issuer"];

fn under_open_table(path: &str) -> bool {
    OPEN_TABLES
        .iter()
        .any(|t| path == *t || path.strip_prefix(t).is_some_and(|r| r.starts_with('.')))
}

/// Records where every value of a new entry came from, so that an error names its file.
fn record_origins(
    value: &toml::Value,
    key: &str,
    origin: &str,
    origins: &mut Vec<(String, String)>,
) {
    origins.push((key.to_owned(), origin.to_owned()));
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            record_origins(v, &format!("{key}.{k}"), origin, origins);
        }
    }
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
            None if under_open_table(prefix) => {
                record_origins(&v, &key, origin, origins);
                base.insert(k, v);
            }
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
    let parts: Vec<&str> = key.split('.').collect();
    let mut slot = base;
    for (i, part) in parts.iter().enumerate() {
        // An entry of an open table is made as its keys arrive; its values are text
        // (a wrong shape is refused when the entry is read).
        if let toml::Value::Table(t) = &mut *slot {
            if under_open_table(&parts[..i].join(".")) && !t.contains_key(*part) {
                let fresh = if i + 1 == parts.len() {
                    toml::Value::String(String::new())
                } else {
                    toml::Value::Table(toml::Table::new())
                };
                t.insert((*part).to_owned(), fresh);
            }
        }
        slot = slot.get_mut(*part).ok_or_else(|| {
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
        // Lists of numbers (the reminder schedule) are written comma-separated: "30,7".
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<i64>().map(toml::Value::Integer).map_err(|_| {
                        invalid(format!(
                            "expected whole numbers separated by commas, got {raw:?}"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
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
