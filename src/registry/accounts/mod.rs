//! Accounts of people: creating and disabling users, passwords (argon2id), signing in
//! and out with server-side sessions, the throttle of failed sign-ins, the
//! activation of employers by a mailed link or a printed letter, and the reset of a
//! password by the same kind of link or letter.
//!
//! A user is a principal like an API token of the same role and scope
//! ([`crate::auth::Principal`]): an employer user sees only its own USCC. A password is
//! never stored, logged, audited or printed; only its argon2id hash is kept, and no
//! audit entry carries the hash either.

use crate::db::DbError;
use crate::domain::Language;

// Split by concern; the items are re-exported here so that callers name
// `registry::accounts::X` as before.
mod activation;
mod invite;
mod passwords;
mod reset;
mod sessions;
mod users;

pub use activation::*;
pub use invite::*;
pub use passwords::*;
pub use reset::*;
pub use sessions::*;
pub use users::*;

/// A field at fault, with what is wrong in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFault {
    /// The form field (or CLI option without its dashes).
    pub field: &'static str,
    /// Stable code.
    pub code: &'static str,
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl FieldFault {
    fn new(field: &'static str, code: &'static str, zh: &str, en: &str) -> FieldFault {
        FieldFault {
            field,
            code,
            zh: zh.to_owned(),
            en: en.to_owned(),
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Language) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl std::fmt::Display for FieldFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} / {}", self.field, self.zh, self.en)
    }
}

/// Why an account operation did not happen; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Fields at fault.
    #[error("{}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldFault>),
    /// No such user or employer.
    #[error("{0}")]
    NotFound(String),
    /// The state does not allow it (username taken, employer already has an account).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Hashing failed (never with valid parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<diesel::result::Error> for AccountError {
    fn from(e: diesel::result::Error) -> Self {
        AccountError::Db(DbError::Query(e))
    }
}

#[cfg(test)]
mod tests;
