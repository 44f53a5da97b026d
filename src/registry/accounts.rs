//! Accounts of people: creating and disabling users, passwords (argon2id), signing in
//! and out with server-side sessions, the throttle of failed sign-ins, and the
//! activation of employers by a mailed link or a printed letter.
//!
//! A user is a principal like an API token of the same role and scope
//! ([`crate::auth::Principal`]): an employer user sees only its own USCC. A password is
//! never stored, logged, audited or printed; only its argon2id hash is kept, and no
//! audit entry carries the hash either.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{Datelike, Duration, NaiveDateTime};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{Credential, Principal, Role};
use crate::config::AccountSettings;
use crate::db::accounts::{self as repo, InvitationRow, NewUser, SessionRow, UserRow};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::{self, Employer};
use crate::db::outbox::{self, NewReminder, ReminderKind};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::{Language, RegionCode};
use crate::mail::template::Templates;
use crate::secret::ServerSecret;

/// OWASP's argon2id parameters: 19 MiB of memory, two passes, one lane.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Passes.
pub const ARGON2_TIME: u32 = 2;
/// Lanes.
pub const ARGON2_LANES: u32 = 1;

/// Longest password accepted, in characters: far beyond any passphrase, and a bound on
/// the work one sign-in asks for.
pub const PASSWORD_MAX_CHARS: usize = 256;

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
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
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

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Username.
    pub username: String,
    /// Shown on the pages.
    pub display_name: Option<String>,
    /// Role.
    pub role: Role,
    /// For an employer user: its USCC (as typed; checked here).
    pub employer: Option<String>,
    /// For an officer: the region it is limited to (as typed; checked here).
    pub region: Option<String>,
}

/// What the audit log keeps of a user: never the password or its hash.
fn audit_view(u: &UserRow) -> serde_json::Value {
    json!({
        "username": u.username, "display_name": u.display_name, "role": u.role,
        "employer_uscc": u.employer_uscc, "region": u.region, "disabled": u.disabled,
    })
}

/// Creates a user with `password`, audited. Every fault of the input is reported
/// together; nothing is written then.
pub fn create_user(
    conn: &mut AnyConnection,
    account: &NewAccount,
    password: &str,
    settings: &AccountSettings,
    actor: &str,
) -> Result<UserRow, AccountError> {
    let mut faults = Vec::new();
    if let Err(f) = check_username(&account.username) {
        faults.push(f);
    }
    let display_name = account
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(d) = display_name {
        if d.chars().count() > 100 || crate::domain::text::check_line(d).is_err() {
            faults.push(FieldFault::new(
                "display_name",
                "invalid",
                "显示名称最多 100 个字符，且不能包含控制字符",
                "must be at most 100 characters, without control characters",
            ));
        }
    }
    let employer = match (account.role, account.employer.as_deref()) {
        (Role::Employer, Some(u)) => match UnifiedSocialCreditCode::parse(u) {
            Ok(code) => Some(code.expose().to_owned()),
            Err(e) => {
                faults.push(FieldFault {
                    field: "employer",
                    code: "invalid",
                    zh: e.message(Language::Zh),
                    en: e.message(Language::En),
                });
                None
            }
        },
        (Role::Employer, None) => {
            faults.push(FieldFault::new(
                "employer",
                "required",
                "用人单位账户必须指定统一社会信用代码",
                "is required for an employer user (its USCC)",
            ));
            None
        }
        (_, Some(_)) => {
            faults.push(FieldFault::new(
                "employer",
                "not_allowed",
                "只有用人单位账户才能指定统一社会信用代码",
                "goes only with the employer role",
            ));
            None
        }
        (_, None) => None,
    };
    let region = match (account.role, account.region.as_deref()) {
        (Role::Employer, Some(_)) => {
            faults.push(FieldFault::new(
                "region",
                "not_allowed",
                "用人单位账户不能指定行政区划",
                "does not go with the employer role",
            ));
            None
        }
        (_, Some(r)) => match r.parse::<RegionCode>() {
            Ok(code) => Some(code.to_string()),
            Err(e) => {
                faults.push(FieldFault {
                    field: "region",
                    code: "invalid",
                    zh: format!("行政区划代码无效：{e}"),
                    en: e.to_string(),
                });
                None
            }
        },
        (_, None) => None,
    };
    if let Err(f) = check_password(
        "password",
        password,
        &account.username,
        settings.password_min_length,
    ) {
        faults.push(f);
    }
    if !faults.is_empty() {
        return Err(AccountError::Invalid(faults));
    }
    if let Some(u) = &employer {
        if employers::by_uscc(conn, u)?.is_none() {
            return Err(AccountError::Invalid(vec![FieldFault::new(
                "employer",
                "unknown",
                "没有以该统一社会信用代码登记的用人单位",
                "no employer is registered with this USCC",
            )]));
        }
    }
    // Slow on purpose: hashed before the transaction, which then stays short.
    let hash = hash_password(password)?;
    let now = chrono::Utc::now().naive_utc();
    let new = NewUser {
        username: &account.username,
        display_name,
        role: account.role.as_str(),
        employer_uscc: employer.as_deref(),
        region: region.as_deref(),
        password_hash: &hash,
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    crate::db::write_transaction(conn, |c| {
        let user = repo::insert_user(c, &new)?.ok_or_else(|| {
            AccountError::Conflict(format!("the username {} is taken", account.username))
        })?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "user.create",
                entity_type: "user",
                entity_id: &user.username,
                before: None,
                after: Some(audit_view(&user)),
                request_id: None,
            },
        )?;
        Ok(user)
    })
}

fn user_or_404(conn: &mut AnyConnection, username: &str) -> Result<UserRow, AccountError> {
    repo::by_username(conn, username)?
        .ok_or_else(|| AccountError::NotFound(format!("no user named {username}")))
}

/// Disables a user and ends its sessions at once, audited; returns how many sessions
/// ended.
pub fn disable_user(
    conn: &mut AnyConnection,
    username: &str,
    actor: &str,
) -> Result<usize, AccountError> {
    crate::db::write_transaction(conn, |c| {
        let before = user_or_404(c, username)?;
        let now = chrono::Utc::now().naive_utc();
        repo::set_disabled(c, before.id, true, now)?;
        let ended = repo::delete_sessions_of(c, before.id, None)?;
        let mut after = audit_view(&before);
        after["disabled"] = json!(true);
        after["sessions_ended"] = json!(ended);
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "user.disable",
                entity_type: "user",
                entity_id: &before.username,
                before: Some(audit_view(&before)),
                after: Some(after),
                request_id: None,
            },
        )?;
        Ok(ended)
    })
}

/// Sets a new password for a user (by an administrator) and ends its sessions, audited
/// (that it happened, never the password).
pub fn reset_password(
    conn: &mut AnyConnection,
    username: &str,
    password: &str,
    settings: &AccountSettings,
    actor: &str,
) -> Result<usize, AccountError> {
    let user = user_or_404(conn, username)?;
    check_password(
        "password",
        password,
        &user.username,
        settings.password_min_length,
    )
    .map_err(|f| AccountError::Invalid(vec![f]))?;
    let hash = hash_password(password)?;
    crate::db::write_transaction(conn, |c| {
        let now = chrono::Utc::now().naive_utc();
        repo::set_password_hash(c, user.id, &hash, now)?;
        let ended = repo::delete_sessions_of(c, user.id, None)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "user.reset_password",
                entity_type: "user",
                entity_id: &user.username,
                before: None,
                after: Some(json!({"sessions_ended": ended})),
                request_id: None,
            },
        )?;
        Ok(ended)
    })
}

/// The principal a user signs in as: the same as a token of its role and scope.
pub fn principal_of(u: &UserRow) -> Option<Principal> {
    Some(Principal {
        credential: Credential::User(u.id),
        role: u.role.parse().ok()?,
        employer_uscc: u.employer_uscc.clone(),
        region: match &u.region {
            Some(r) => Some(r.parse().ok()?),
            None => None,
        },
    })
}

/// A session just started: the cookie's token (shown to the browser only) and its
/// form token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value: 256 random bits, hex. Only its SHA-256 is stored.
    pub token: String,
    /// The synchronizer token of the session's forms.
    pub csrf: String,
    /// Whose.
    pub user: UserRow,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Starts a session for `user`, in the caller's transaction, audited as a sign-in.
fn start_session(
    c: &mut AnyConnection,
    user: &UserRow,
    settings: &AccountSettings,
    now: NaiveDateTime,
    address: &str,
    request_id: Option<&str>,
) -> Result<NewSession, DbError> {
    let token = random_hex();
    let csrf = random_hex();
    let expires = now + Duration::hours(i64::from(settings.session_absolute_hours));
    // Housekeeping on the way: sessions past their end are refused anyway.
    repo::delete_expired_sessions(c, now)?;
    repo::insert_session(c, user.id, &sha256_hex(&token), &csrf, now, expires)?;
    repo::touch_sign_in(c, user.id, now)?;
    let actor = principal_of(user).map(|p| p.actor()).unwrap_or_default();
    audit::record(
        c,
        AuditEntry {
            actor: &actor,
            action: "session.sign_in",
            entity_type: "user",
            entity_id: &user.username,
            before: None,
            after: Some(json!({"address": address, "expires_at": expires})),
            request_id,
        },
    )?;
    Ok(NewSession {
        token,
        csrf,
        user: user.clone(),
    })
}

/// What a sign-in came to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Ok(Box<NewSession>),
    /// Wrong username or password (or a disabled user: the same answer).
    Failed,
    /// Too many failures of this username or from this address: wait this many seconds.
    Locked {
        /// Seconds until the lockout ends.
        retry_after_secs: i64,
    },
}

fn throttle_keys(
    secret: &ServerSecret,
    username: &str,
    address: &str,
) -> [(&'static str, String); 2] {
    [
        (
            repo::BY_USERNAME,
            secret.keyed_digest(
                "sign-in-throttle",
                username.trim().to_lowercase().as_bytes(),
            ),
        ),
        (
            repo::BY_ADDRESS,
            secret.keyed_digest("sign-in-throttle", address.as_bytes()),
        ),
    ]
}

/// Signs `username` in with `password` from client `address`. Refused without looking
/// at the password while the username or the address is locked; each failure counts
/// for both, in the database (a restart forgets nothing), and is audited without the
/// password, and without the username unless it names a user (a password typed into
/// the wrong field is not written down).
pub fn sign_in(
    conn: &mut AnyConnection,
    secret: &ServerSecret,
    settings: &AccountSettings,
    username: &str,
    password: &str,
    address: &str,
    request_id: Option<&str>,
) -> Result<SignIn, DbError> {
    let now = chrono::Utc::now().naive_utc();
    let keys = throttle_keys(secret, username, address);
    let mut locked: Option<NaiveDateTime> = None;
    for (kind, key) in &keys {
        if let Some(until) = repo::locked_until(conn, kind, key, now)? {
            locked = Some(locked.map_or(until, |l| l.max(until)));
        }
    }
    let user = if username.trim().is_empty() {
        None
    } else {
        repo::by_username(conn, username.trim())?
    };
    let entity = user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_else(|| "(unknown)".to_owned());
    if let Some(until) = locked {
        audit::record(
            conn,
            AuditEntry {
                actor: &format!("anonymous:{address}"),
                action: "session.sign_in_locked",
                entity_type: "user",
                entity_id: &entity,
                before: None,
                after: Some(json!({"address": address, "locked_until": until})),
                request_id,
            },
        )?;
        return Ok(SignIn::Locked {
            retry_after_secs: (until - now).num_seconds().max(1),
        });
    }
    // Verified in every case, so that each answer takes the same time.
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let matches = verify_password(hash, password);
    let good = match &user {
        Some(u) if matches && !u.disabled && principal_of(u).is_some() => Some(u.clone()),
        _ => None,
    };
    if let Some(user) = good {
        return crate::db::write_transaction(conn, |c| {
            repo::clear_failures(c, keys[0].0, &keys[0].1)?;
            start_session(c, &user, settings, now, address, request_id)
                .map(|s| SignIn::Ok(Box::new(s)))
        });
    }
    let window = Duration::minutes(i64::from(settings.sign_in_lockout_minutes));
    let max = i32::try_from(settings.sign_in_max_failures).unwrap_or(i32::MAX);
    crate::db::write_transaction(conn, |c| {
        let mut until: Option<NaiveDateTime> = None;
        for (kind, key) in &keys {
            if let Some(u) = repo::record_failure(c, kind, key, now, window, max)? {
                until = Some(until.map_or(u, |l| l.max(u)));
            }
        }
        audit::record(
            c,
            AuditEntry {
                actor: &format!("anonymous:{address}"),
                action: "session.sign_in_failed",
                entity_type: "user",
                entity_id: &entity,
                before: None,
                after: Some(json!({"address": address, "locked_until": until})),
                request_id,
            },
        )?;
        Ok(match until {
            Some(u) => SignIn::Locked {
                retry_after_secs: (u - now).num_seconds().max(1),
            },
            None => SignIn::Failed,
        })
    })
}

/// A live session, as a request presents it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// Row.
    pub session: SessionRow,
    /// Whose.
    pub user: UserRow,
    /// As whom it acts.
    pub principal: Principal,
}

/// How long a session's idle clock is left alone: its `last_seen_at` is written at most
/// once a minute, not on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// The session of a cookie token, if it is live at `now`: not past its absolute end,
/// not idle too long, of a user still enabled. A dead one is deleted when presented.
pub fn session(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<LiveSession>, DbError> {
    let Some((session, user)) = repo::session_by_hash(conn, &sha256_hex(token))? else {
        return Ok(None);
    };
    let idle = Duration::minutes(i64::from(settings.session_idle_minutes));
    let principal = principal_of(&user);
    let live = session.expires_at > now && session.last_seen_at + idle > now && !user.disabled;
    let (true, Some(principal)) = (live, principal) else {
        repo::delete_session(conn, session.id)?;
        return Ok(None);
    };
    if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
        repo::touch_session(conn, session.id, now)?;
    }
    Ok(Some(LiveSession {
        session,
        user,
        principal,
    }))
}

/// Ends the session of a cookie token (signing out), audited.
pub fn sign_out(
    conn: &mut AnyConnection,
    live: &LiveSession,
    request_id: Option<&str>,
) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |c| {
        repo::delete_session(c, live.session.id)?;
        audit::record(
            c,
            AuditEntry {
                actor: &live.principal.actor(),
                action: "session.sign_out",
                entity_type: "user",
                entity_id: &live.user.username,
                before: None,
                after: None,
                request_id,
            },
        )
    })
}

/// Changes the password of a signed-in user: the current one must match. Every other
/// session of the user ends; this one goes on.
pub fn change_password(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    live: &LiveSession,
    current: &str,
    new: &str,
    confirm: &str,
    request_id: Option<&str>,
) -> Result<(), AccountError> {
    let mut faults = Vec::new();
    if !verify_password(&live.user.password_hash, current) {
        faults.push(FieldFault::new(
            "current_password",
            "wrong",
            "当前密码不正确",
            "is not the current password",
        ));
    }
    if let Err(f) = check_password(
        "new_password",
        new,
        &live.user.username,
        settings.password_min_length,
    ) {
        faults.push(f);
    } else if new != confirm {
        faults.push(mismatch("confirm_password"));
    }
    if !faults.is_empty() {
        return Err(AccountError::Invalid(faults));
    }
    let hash = hash_password(new)?;
    crate::db::write_transaction(conn, |c| {
        let now = chrono::Utc::now().naive_utc();
        repo::set_password_hash(c, live.user.id, &hash, now)?;
        let ended = repo::delete_sessions_of(c, live.user.id, Some(live.session.id))?;
        audit::record(
            c,
            AuditEntry {
                actor: &live.principal.actor(),
                action: "user.change_password",
                entity_type: "user",
                entity_id: &live.user.username,
                before: None,
                after: Some(json!({"other_sessions_ended": ended})),
                request_id,
            },
        )?;
        Ok(())
    })
}

fn mismatch(field: &'static str) -> FieldFault {
    FieldFault::new(
        field,
        "mismatch",
        "两次输入的密码不一致",
        "does not match the new password",
    )
}

/// What the activation of employers needs: the mail templates and how long a code is
/// valid. `None` from [`Invitations::from_settings`] when registration sends none.
#[derive(Debug, Clone)]
pub struct Invitations {
    templates: Arc<Templates>,
    valid_days: u32,
}

impl Invitations {
    /// From `[accounts]` and the mail templates; `None` when
    /// `accounts.invite_on_registration` is off.
    pub fn from_settings(
        settings: &crate::config::Settings,
    ) -> Result<Option<Arc<Invitations>>, crate::mail::template::TemplateError> {
        if !settings.accounts.invite_on_registration {
            return Ok(None);
        }
        Ok(Some(Arc::new(Invitations {
            templates: Arc::new(Templates::from_settings(&settings.mail)?),
            valid_days: settings.accounts.activation_valid_days,
        })))
    }
}

/// The path of the activation page of `code`.
pub fn activation_path(code: &str) -> String {
    format!("/activate/{code}")
}

/// The form codes are compared in: without spaces and dashes, in upper case, with the
/// letters a printed code is misread as (O, I, L) read as the digits.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn code_hash(code: &str) -> String {
    sha256_hex(&normalize_code(code))
}

fn china_time(t: NaiveDateTime) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Queues the activation mail of a newly registered employer, in the caller's
/// transaction: a one-time link (its code stored as a digest) valid for
/// `accounts.activation_valid_days`. Nothing when the employer has no contact address or
/// already has an account. Returns the code's id. Like every mail the outbox queues, it
/// has no audit entry of its own: it is part of the registration, which has one, and
/// the code's row keeps who made it and when (`created_by`, `created_at`).
pub fn invite_by_mail(
    conn: &mut AnyConnection,
    inv: &Invitations,
    employer: &Employer,
    actor: &str,
) -> Result<Option<i64>, DbError> {
    let Some(recipient) = employer
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    if repo::employer_has_user(conn, &employer.uscc)? {
        return Ok(None);
    }
    let now = chrono::Utc::now().naive_utc();
    let token = random_hex();
    let expires = now + Duration::days(i64::from(inv.valid_days));
    let id = repo::insert_invitation(
        conn,
        employer.id,
        &code_hash(&token),
        repo::BY_MAIL,
        now,
        expires,
        actor,
    )?;
    let values: Vec<(&str, String)> = vec![
        ("employer_name", employer.name.clone()),
        ("uscc", employer.uscc.clone()),
        (
            "url",
            crate::mail::plan::deferred_link(&activation_path(&token)),
        ),
        ("expires_on", china_time(expires)),
    ];
    let render = |lang| {
        inv.templates
            .render(ReminderKind::Activation, lang, &values)
            .map_err(|e| DbError::Task(e.to_string()))
    };
    let zh = render(Language::Zh)?;
    let en = render(Language::En)?;
    outbox::enqueue(
        conn,
        &NewReminder {
            kind: ReminderKind::Activation,
            employer_id: employer.id,
            // An account is of no levy year: the year it was sent in.
            levy_year: crate::domain::calendar::china_date(now).year(),
            stage: format!("activation-{id}"),
            recipient: recipient.to_owned(),
            subject: format!("{} / {}", zh.subject, en.subject),
            body_zh: zh.body,
            body_en: en.body,
            act_by: Some(crate::domain::calendar::china_date(expires)),
        },
    )?;
    Ok(Some(id))
}

/// True while activation mail `invitation_id` still has its reason: the code is open
/// and the employer has no account yet (the sender's check before mailing it).
pub fn invitation_still_open(
    conn: &mut AnyConnection,
    invitation_id: i64,
) -> Result<bool, DbError> {
    let Some(inv) = repo::invitation_by_id(conn, invitation_id)? else {
        return Ok(false);
    };
    if !inv.is_open(chrono::Utc::now().naive_utc()) {
        return Ok(false);
    }
    let Some(e) = employers::by_id(conn, inv.employer_id)? else {
        return Ok(false);
    };
    Ok(!repo::employer_has_user(conn, &e.uscc)?)
}

/// An activation letter for an employer without e-mail.
#[derive(Debug, Clone)]
pub struct Letter {
    /// The employer.
    pub employer_name: String,
    /// Its USCC (also the username it will sign in with).
    pub uscc: String,
    /// The code, in groups of four to be typed.
    pub code: String,
    /// Valid until (UTC).
    pub expires_at: NaiveDateTime,
}

impl Letter {
    /// The letter as printed, Chinese then English, with the page's address under
    /// `base` (`server.public_base_url`).
    pub fn render(&self, base: &str) -> String {
        let base = base.trim().trim_end_matches('/');
        let until = china_time(self.expires_at);
        format!(
            "残疾人就业保障金系统 账户激活函\n\n\
             {name}（统一社会信用代码：{uscc}）：\n\n\
             请在浏览器中打开以下地址，为贵单位的账户设置密码：\n\n  {base}/activate\n\n\
             并输入激活码：\n\n  {code}\n\n\
             或直接打开：{base}{path}\n\n\
             激活码只能使用一次，有效期至{until}（北京时间）止。激活后，请以统一社会信用代码作为用户名登录。\n\
             请妥善保管本函，勿交给他人。\n\n\
             ----------------------------------------\n\n\
             Activation letter: disabled persons' employment security fund service\n\n\
             To {name} (unified social credit code {uscc}):\n\n\
             Open {base}/activate in a browser and enter the activation code\n\n  {code}\n\n\
             (or open {base}{path} directly) to choose the password of your organisation's account.\n\
             The code works once and is valid until {until} (China time). Then sign in with the\n\
             unified social credit code as your username. Keep this letter to yourself.\n",
            name = self.employer_name,
            uscc = self.uscc,
            code = self.code,
            path = activation_path(&self.code),
        )
    }
}

/// Crockford's base-32 digits: no I, L, O or U to be misread.
const CODE_DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A letter code: 20 base-32 digits (100 random bits) in groups of four.
fn letter_code() -> String {
    let mut rng = rand::thread_rng();
    let digits: Vec<char> = (0..20)
        .map(|_| CODE_DIGITS[(rng.next_u32() % 32) as usize] as char)
        .collect();
    digits
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Makes an activation letter for the employer of `uscc` (replacing any open code of
/// it), audited without the code.
pub fn activation_letter(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    uscc: &str,
    actor: &str,
) -> Result<Letter, AccountError> {
    let code = UnifiedSocialCreditCode::parse(uscc).map_err(|e| {
        AccountError::Invalid(vec![FieldFault {
            field: "uscc",
            code: "invalid",
            zh: e.message(Language::Zh),
            en: e.message(Language::En),
        }])
    })?;
    let uscc = code.expose().to_owned();
    crate::db::write_transaction(conn, |c| {
        let employer = employers::by_uscc(c, &uscc)?.ok_or_else(|| {
            AccountError::NotFound("no employer is registered with this USCC".into())
        })?;
        if repo::employer_has_user(c, &uscc)? {
            return Err(AccountError::Conflict(
                "this employer already has an account (reset its password with `user reset-password`)"
                    .into(),
            ));
        }
        let now = chrono::Utc::now().naive_utc();
        let expires = now + Duration::days(i64::from(settings.activation_valid_days));
        let code = letter_code();
        let id = repo::insert_invitation(
            c,
            employer.id,
            &code_hash(&code),
            repo::BY_LETTER,
            now,
            expires,
            actor,
        )?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "activation.letter",
                entity_type: "employer",
                entity_id: &uscc,
                before: None,
                after: Some(
                    json!({"channel": repo::BY_LETTER, "invitation": id, "expires_at": expires}),
                ),
                request_id: None,
            },
        )?;
        Ok(Letter {
            employer_name: employer.name,
            uscc: uscc.clone(),
            code,
            expires_at: expires,
        })
    })
}

/// Where an activation code stands.
#[derive(Debug, Clone)]
pub enum CodeState {
    /// It may be used: the employer it activates.
    Open(Box<(InvitationRow, Employer)>),
    /// No such code.
    Unknown,
    /// Past its validity.
    Expired,
    /// Used, or replaced by a newer one, or the employer has an account already.
    Spent,
}

/// The state of activation code `code` at `now`.
pub fn code_state(
    conn: &mut AnyConnection,
    code: &str,
    now: NaiveDateTime,
) -> Result<CodeState, DbError> {
    let Some(inv) = repo::invitation_by_hash(conn, &code_hash(code))? else {
        return Ok(CodeState::Unknown);
    };
    if inv.used_at.is_some() || inv.revoked_at.is_some() {
        return Ok(CodeState::Spent);
    }
    if inv.expires_at <= now {
        return Ok(CodeState::Expired);
    }
    let Some(employer) = employers::by_id(conn, inv.employer_id)? else {
        return Ok(CodeState::Unknown);
    };
    if repo::employer_has_user(conn, &employer.uscc)? {
        return Ok(CodeState::Spent);
    }
    Ok(CodeState::Open(Box::new((inv, employer))))
}

/// What an activation came to.
#[derive(Debug)]
pub enum Activation {
    /// The account was made and signed in.
    Done(Box<NewSession>),
    /// The code cannot be used (as [`CodeState`] says).
    Refused(CodeState),
}

/// Activates the employer of `code` with the password it chose: its user (username its
/// USCC, role employer) is created, the code used up, and a session started, in one
/// transaction, audited. A second use of the same code is refused.
pub fn activate(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    code: &str,
    password: &str,
    confirm: &str,
    address: &str,
    request_id: Option<&str>,
) -> Result<Activation, AccountError> {
    let now = chrono::Utc::now().naive_utc();
    let (inv, employer) = match code_state(conn, code, now)? {
        CodeState::Open(open) => *open,
        other => return Ok(Activation::Refused(other)),
    };
    check_password(
        "password",
        password,
        &employer.uscc,
        settings.password_min_length,
    )
    .map_err(|f| AccountError::Invalid(vec![f]))?;
    if password != confirm {
        return Err(AccountError::Invalid(vec![mismatch("confirm_password")]));
    }
    let hash = hash_password(password)?;
    crate::db::write_transaction(conn, |c| {
        let now = chrono::Utc::now().naive_utc();
        if !repo::use_invitation(c, inv.id, now)? {
            return Ok(Activation::Refused(CodeState::Spent));
        }
        let name: String = employer.name.chars().take(100).collect();
        let new = NewUser {
            username: &employer.uscc,
            display_name: Some(&name),
            role: Role::Employer.as_str(),
            employer_uscc: Some(&employer.uscc),
            region: None,
            password_hash: &hash,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let Some(user) = repo::insert_user(c, &new)? else {
            return Ok(Activation::Refused(CodeState::Spent));
        };
        let actor = principal_of(&user).map(|p| p.actor()).unwrap_or_default();
        audit::record(
            c,
            AuditEntry {
                actor: &actor,
                action: "user.activate",
                entity_type: "user",
                entity_id: &user.username,
                before: None,
                after: Some(
                    json!({"user": audit_view(&user), "channel": inv.channel, "invitation": inv.id}),
                ),
                request_id,
            },
        )?;
        Ok(Activation::Done(Box::new(start_session(
            c, &user, settings, now, address, request_id,
        )?)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_support::{employer, temp_db};

    fn settings() -> AccountSettings {
        crate::config::Settings::load_from(None, Vec::new())
            .expect("defaults")
            .accounts
    }

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_salted() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_password(&a, "correct horse battery"));
        assert!(!verify_password(&a, "correct horse battery "));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn passwords_and_usernames_are_checked() {
        assert_eq!(
            check_password("password", "short", "u", 12)
                .unwrap_err()
                .code,
            "too_short"
        );
        assert_eq!(
            check_password("password", "Admin.User.01", "admin.user.01", 12)
                .unwrap_err()
                .code,
            "is_username"
        );
        assert!(check_password("password", "a\u{7}bcdefghijkl", "u", 12).is_err());
        assert!(check_password("password", "一二三四五六七八九十壹贰", "u", 12).is_ok());
        assert!(check_username("ab").is_err());
        assert!(check_username("tax.officer@411200").is_ok());
        assert!(check_username("bad name").is_err());
    }

    #[test]
    fn five_failures_lock_the_username_and_the_address_and_a_restart_forgets_nothing() {
        let (_dir, db) = temp_db();
        let s = settings();
        let secret = ServerSecret::from_bytes([3; 32]);
        let mut c = db.conn().unwrap();
        let account = NewAccount {
            username: "officer1".into(),
            display_name: None,
            role: Role::Tax,
            employer: None,
            region: Some("411200".into()),
        };
        create_user(&mut c, &account, "a long passphrase", &s, "test").unwrap();
        for _ in 0..4 {
            let r = sign_in(&mut c, &secret, &s, "officer1", "wrong", "10.0.0.1", None).unwrap();
            assert!(matches!(r, SignIn::Failed), "{r:?}");
        }
        let r = sign_in(&mut c, &secret, &s, "OFFICER1", "wrong", "10.0.0.1", None).unwrap();
        let SignIn::Locked { retry_after_secs } = r else {
            panic!("the fifth failure locks: {r:?}");
        };
        assert!(
            (14 * 60..=15 * 60).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        drop(c);
        // Another connection (a restarted process) sees the lockout; the right password
        // does not lift it, from this address or another.
        let mut c = db.conn().unwrap();
        let r = sign_in(
            &mut c,
            &secret,
            &s,
            "officer1",
            "a long passphrase",
            "10.0.0.2",
            None,
        );
        assert!(matches!(r.unwrap(), SignIn::Locked { .. }));
        // The address is locked too, for any username.
        let r = sign_in(&mut c, &secret, &s, "someone", "x", "10.0.0.1", None).unwrap();
        assert!(matches!(r, SignIn::Locked { .. }));
        let audit = crate::db::audit::for_entity(&mut c, "user", "officer1").unwrap();
        assert!(audit.iter().any(|a| a.action == "session.sign_in_failed"));
        for a in &audit {
            let text = format!("{:?}{:?}", a.before_json, a.after_json);
            assert!(
                !text.contains("passphrase") && !text.contains("argon2"),
                "{text}"
            );
        }
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let (_dir, db) = temp_db();
        let mut c = db.conn().unwrap();
        let window = Duration::minutes(15);
        let t0 = chrono::Utc::now().naive_utc();
        for i in 0..10 {
            let at = t0 + Duration::minutes(16 * i);
            let locked = repo::record_failure(&mut c, repo::BY_USERNAME, "k", at, window, 5);
            assert_eq!(locked.unwrap(), None, "failure {i}");
        }
        let mut until = None;
        for i in 0..5 {
            until = repo::record_failure(
                &mut c,
                repo::BY_USERNAME,
                "k",
                t0 + Duration::minutes(200 + i),
                window,
                5,
            )
            .unwrap();
        }
        let until = until.expect("five within the window lock");
        assert_eq!(until, t0 + Duration::minutes(204) + window);
        let probe = t0 + Duration::minutes(210);
        assert_eq!(
            repo::locked_until(&mut c, repo::BY_USERNAME, "k", probe).unwrap(),
            Some(until)
        );
        assert_eq!(
            repo::locked_until(&mut c, repo::BY_USERNAME, "k", until).unwrap(),
            None
        );
    }

    #[test]
    fn sessions_end_when_idle_past_their_end_or_when_the_user_is_disabled() {
        let (_dir, db) = temp_db();
        let s = settings();
        let secret = ServerSecret::from_bytes([4; 32]);
        let mut c = db.conn().unwrap();
        let account = NewAccount {
            username: "fed1".into(),
            display_name: Some("残联 一".into()),
            role: Role::Federation,
            employer: None,
            region: None,
        };
        create_user(&mut c, &account, "another passphrase", &s, "test").unwrap();
        let SignIn::Ok(new) = sign_in(
            &mut c,
            &secret,
            &s,
            "fed1",
            "another passphrase",
            "::1",
            None,
        )
        .unwrap() else {
            panic!("signs in");
        };
        let now = chrono::Utc::now().naive_utc();
        let live = session(&mut c, &s, &new.token, now).unwrap().expect("live");
        assert_eq!(live.principal.role, Role::Federation);
        assert!(live.principal.actor().starts_with("user:"));
        // 31 minutes without a request: idle.
        let later = now + Duration::minutes(31);
        assert!(session(&mut c, &s, &new.token, later).unwrap().is_none());
        // And it is gone for good, even presented in time again.
        assert!(session(&mut c, &s, &new.token, now).unwrap().is_none());

        let SignIn::Ok(new) = sign_in(
            &mut c,
            &secret,
            &s,
            "fed1",
            "another passphrase",
            "::1",
            None,
        )
        .unwrap() else {
            panic!("signs in");
        };
        let mut t = now;
        for _ in 0..26 {
            t += Duration::minutes(29);
            if t > now + Duration::hours(12) {
                break;
            }
            assert!(session(&mut c, &s, &new.token, t).unwrap().is_some(), "{t}");
        }
        assert!(
            session(&mut c, &s, &new.token, now + Duration::minutes(12 * 60 + 1))
                .unwrap()
                .is_none()
        );

        let SignIn::Ok(new) = sign_in(
            &mut c,
            &secret,
            &s,
            "fed1",
            "another passphrase",
            "::1",
            None,
        )
        .unwrap() else {
            panic!("signs in");
        };
        assert_eq!(disable_user(&mut c, "fed1", "test").unwrap(), 1);
        assert!(session(&mut c, &s, &new.token, now).unwrap().is_none());
        let r = sign_in(
            &mut c,
            &secret,
            &s,
            "fed1",
            "another passphrase",
            "::1",
            None,
        )
        .unwrap();
        assert!(matches!(r, SignIn::Failed));
    }

    #[test]
    fn a_letter_code_activates_once_and_is_typed_forgivingly() {
        let (_dir, db) = temp_db();
        let s = settings();
        let mut c = db.conn().unwrap();
        let uscc = "91350100M000100Y43";
        employer(&mut c, uscc);
        let letter = activation_letter(&mut c, &s, uscc, "cli:test").unwrap();
        assert_eq!(letter.code.len(), 24);
        let text = letter.render("https://levy.example.gov.cn");
        assert!(
            text.contains("https://levy.example.gov.cn/activate") && text.contains(&letter.code)
        );
        let typed = letter.code.to_lowercase().replace('-', " ");
        assert!(matches!(
            activate(&mut c, &s, &typed, "short", "short", "::1", None),
            Err(AccountError::Invalid(_))
        ));
        let done = activate(
            &mut c,
            &s,
            &typed,
            "our own passphrase",
            "our own passphrase",
            "::1",
            None,
        )
        .unwrap();
        let Activation::Done(new) = done else {
            panic!("activates: {done:?}");
        };
        assert_eq!(new.user.username, uscc);
        assert_eq!(new.user.employer_uscc.as_deref(), Some(uscc));
        let again = activate(
            &mut c,
            &s,
            &letter.code,
            "our own passphrase",
            "our own passphrase",
            "::1",
            None,
        )
        .unwrap();
        assert!(
            matches!(again, Activation::Refused(CodeState::Spent)),
            "{again:?}"
        );
        assert!(matches!(
            activation_letter(&mut c, &s, uscc, "cli:test"),
            Err(AccountError::Conflict(_))
        ));
    }
}
