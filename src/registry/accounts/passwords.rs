//! Passwords (argon2id hashes, never the password itself) and the checks of a new
//! password or username.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::{AccountError, FieldFault};

/// OWASP's argon2id parameters: 19 MiB of memory, two passes, one lane.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Passes.
pub const ARGON2_TIME: u32 = 2;
/// Lanes.
pub const ARGON2_LANES: u32 = 1;

/// Longest password accepted, in characters: far beyond any passphrase, and a bound on
/// the work one sign-in asks for.
pub const PASSWORD_MAX_CHARS: usize = 256;

fn hasher() -> Result<Argon2<'static>, AccountError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES, None)
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// True when `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash to verify against when the username is unknown, so that an unknown username
/// costs the same time as a wrong password and does not give itself away.
pub(super) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// A password chosen through a one-time code (activation, reset): checked as
/// [`check_password`] against `username`, equal to its confirmation, then hashed — slow
/// on purpose, so callers do it before their write transaction, which stays short.
pub fn chosen_hash(
    password: &str,
    confirm: &str,
    username: &str,
    min_len: usize,
) -> Result<String, AccountError> {
    check_password("password", password, username, min_len)
        .map_err(|f| AccountError::Invalid(vec![f]))?;
    if password != confirm {
        return Err(AccountError::Invalid(vec![super::sessions::mismatch(
            "confirm_password",
        )]));
    }
    hash_password(password)
}

/// Checks a new password: length in characters, no control characters, not the
/// username.
pub fn check_password(
    field: &'static str,
    password: &str,
    username: &str,
    min_len: usize,
) -> Result<(), FieldFault> {
    let n = password.chars().count();
    if n < min_len {
        return Err(FieldFault {
            field,
            code: "too_short",
            zh: format!("密码至少需要 {min_len} 个字符"),
            en: format!("must be at least {min_len} characters long"),
        });
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(FieldFault {
            field,
            code: "too_long",
            zh: format!("密码最多 {PASSWORD_MAX_CHARS} 个字符"),
            en: format!("must be at most {PASSWORD_MAX_CHARS} characters long"),
        });
    }
    if password.chars().any(char::is_control) {
        return Err(FieldFault::new(
            field,
            "control_character",
            "密码不能包含控制字符",
            "must not contain control characters",
        ));
    }
    if password.trim().is_empty() {
        return Err(FieldFault::new(
            field,
            "blank",
            "密码不能全为空格",
            "must not be only spaces",
        ));
    }
    if password.to_lowercase() == username.to_lowercase() {
        return Err(FieldFault::new(
            field,
            "is_username",
            "密码不能与用户名相同",
            "must not be the username",
        ));
    }
    Ok(())
}

/// Checks a username: 3 to 64 characters, ASCII letters, digits and `.` `_` `-` `@`.
pub fn check_username(username: &str) -> Result<(), FieldFault> {
    let n = username.chars().count();
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !(3..=64).contains(&n) || !ok_chars {
        return Err(FieldFault::new(
            "username",
            "invalid",
            "用户名应为 3 至 64 个字符，只能包含英文字母、数字和 . _ - @",
            "must be 3 to 64 characters: ASCII letters, digits and . _ - @",
        ));
    }
    Ok(())
}
