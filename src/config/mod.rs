//! Layered configuration: the compiled-in `config/default.toml`, an optional file, then
//! `QUOTA_LEVY__SECTION__KEY` environment variables. Every failure names the key.

// Split by concern: what the settings are, how they are loaded, how they are checked.
mod database_url;
mod load;
mod settings;
mod validate;

pub use database_url::{Backend, DatabaseUrl};
pub use load::ConfigError;
pub use settings::*;

#[cfg(test)]
mod tests;
