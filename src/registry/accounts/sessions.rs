//! Sessions: signing in (behind the throttle of failed attempts), the live session of a
//! cookie, signing out and changing one's own password.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::config::AccountSettings;
use crate::db::accounts::{self as repo, SessionRow, UserRow};
use crate::db::audit::{self, AuditEntry};
use crate::db::{AnyConnection, DbError};
use crate::secret::ServerSecret;

use super::passwords::dummy_hash;
use super::passwords::{check_password, hash_password, verify_password};
use super::users::principal_of;
use super::{AccountError, FieldFault};

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

pub(super) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(super) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Starts a session for `user`, in the caller's transaction, audited as a sign-in.
pub(super) fn start_session(
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

pub(super) fn mismatch(field: &'static str) -> FieldFault {
    FieldFault::new(
        field,
        "mismatch",
        "两次输入的密码不一致",
        "does not match the new password",
    )
}
