//! The reset of a user's password by a one-time link an administrator sends: mailed
//! through the outbox to the contact address of an employer's user, or a printed letter
//! (address and code) for a user without one (an officer's account has no address).
//! The code is the activation's (a digest stored, a newer one replacing the older, used
//! once: `activation.rs`); using it sets the password the user chose and ends every
//! session of the user. Both are audited, never with the code.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use crate::config::AccountSettings;
use crate::db::accounts::{self as repo, CodeFor, UserRow};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers;
use crate::db::outbox::ReminderKind;
use crate::db::{AnyConnection, DbError};
use crate::mail::template::Templates;

use super::activation::LetterKind;
use super::activation::{audit_use, use_once, Chosen, CodeSubject, Opened, StateOf};
use super::activation::{code_hash, letter_code, open_code, CodeMail, CodeState, Letter};
use super::sessions::random_hex;
use super::AccountError;

/// The path of the reset page of `code`.
pub fn reset_path(code: &str) -> String {
    format!("/reset/{code}")
}

/// How a reset link went out.
#[derive(Debug, Clone)]
pub enum ResetSent {
    /// Queued in the outbox to the employer's contact address, valid until then (UTC).
    Mailed {
        /// The address.
        recipient: String,
        /// The end of its validity.
        expires_at: NaiveDateTime,
    },
    /// No address: the letter to print and hand over.
    Letter(Letter),
}

/// The contact address of the employer of an employer's user, with the employer's row.
fn address_of(
    conn: &mut AnyConnection,
    user: &UserRow,
) -> Result<Option<(employers::Employer, String)>, DbError> {
    let Some(uscc) = user.employer_uscc.as_deref() else {
        return Ok(None);
    };
    let Some(e) = employers::by_uscc(conn, uscc)? else {
        return Ok(None);
    };
    let address = e
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    Ok(address.map(|a| (e, a)))
}

/// Sends user `username` a one-time link to choose a new password, valid for
/// `accounts.reset_valid_hours` and replacing any earlier one: mailed (the outbox, in
/// this transaction) to its employer's contact address, else a letter returned to be
/// printed. Audited as `user.reset_link` without the code; a disabled user is refused
/// (its password would open nothing).
pub fn send_reset(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    templates: &Templates,
    username: &str,
    actor: &str,
    request_id: Option<&str>,
) -> Result<ResetSent, AccountError> {
    crate::db::write_transaction(conn, |c| {
        let user = repo::by_username(c, username)?
            .ok_or_else(|| AccountError::NotFound(format!("no user named {username}")))?;
        if user.disabled {
            return Err(AccountError::Conflict(
                "the account is disabled: no reset link is sent".into(),
            ));
        }
        let now = chrono::Utc::now().naive_utc();
        let expires = now + Duration::hours(i64::from(settings.reset_valid_hours));
        let address = address_of(c, &user)?;
        let (code, channel) = match &address {
            Some(_) => (random_hex(), repo::BY_MAIL),
            None => (letter_code(), repo::BY_LETTER),
        };
        let id = repo::insert_invitation(
            c,
            CodeFor::Reset(user.id),
            &code_hash(&code),
            channel,
            now,
            expires,
            actor,
        )?;
        if let Some((employer, recipient)) = &address {
            let mail = CodeMail {
                kind: ReminderKind::PasswordReset,
                employer_id: employer.id,
                recipient,
                code_id: id,
                path: reset_path(&code),
                expires_at: expires,
            };
            mail.queue(
                c,
                templates,
                vec![
                    ("employer_name", employer.name.clone()),
                    ("uscc", employer.uscc.clone()),
                    ("username", user.username.clone()),
                ],
            )?;
        }
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "user.reset_link",
                entity_type: "user",
                entity_id: &user.username,
                before: None,
                after: Some(json!({
                    "channel": channel, "code": id, "expires_at": expires,
                    "recipient": address.as_ref()
                        .map(|(_, a)| crate::domain::ids::mask_numbers_in(a)),
                })),
                request_id,
            },
        )?;
        Ok(match address {
            Some((_, recipient)) => ResetSent::Mailed {
                recipient,
                expires_at: expires,
            },
            None => ResetSent::Letter(Letter {
                kind: LetterKind::Reset,
                employer_name: user
                    .display_name
                    .clone()
                    .unwrap_or_else(|| user.username.clone()),
                uscc: user.username.clone(),
                code,
                expires_at: expires,
            }),
        })
    })
}

/// The state of reset code `code` at `now`: open with its user while the user is
/// enabled.
pub fn reset_state(
    conn: &mut AnyConnection,
    code: &str,
    now: NaiveDateTime,
) -> Result<CodeState<UserRow>, DbError> {
    let (inv, user_id) = match open_code(conn, code, now, true)? {
        Ok(open) => open,
        Err(state) => return Ok(state),
    };
    Ok(match repo::user_by_id(conn, user_id)? {
        None => CodeState::Unknown,
        Some(u) if u.disabled => CodeState::Spent,
        Some(u) => CodeState::Open(Box::new((inv, u))),
    })
}

/// True while reset mail `code_id` still has its reason: the code is open and its user
/// enabled (the sender's check before mailing it).
pub fn reset_still_open(conn: &mut AnyConnection, code_id: i64) -> Result<bool, DbError> {
    let Some(inv) = repo::invitation_by_id(conn, code_id)? else {
        return Ok(false);
    };
    let Some(CodeFor::Reset(user_id)) = inv.code_for() else {
        return Ok(false);
    };
    if !inv.is_open(chrono::Utc::now().naive_utc()) {
        return Ok(false);
    }
    Ok(repo::user_by_id(conn, user_id)?.is_some_and(|u| !u.disabled))
}

/// What using a reset code came to.
#[derive(Debug)]
pub enum Reset {
    /// The password is set; this many sessions of the user ended.
    Done {
        /// The user, to sign in again.
        username: String,
        /// Sessions ended.
        sessions_ended: usize,
    },
    /// The code cannot be used.
    Refused(CodeState<UserRow>),
}

/// Sets the password the user of reset code `chosen.code` chose, uses the code up and
/// ends every session of the user, in one transaction, audited as `user.reset_by_link`
/// (never the code or the password). A second use of the same code is refused.
pub fn reset_by_code(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    chosen: Chosen<'_>,
    request_id: Option<&str>,
) -> Result<Reset, AccountError> {
    let done = use_once(conn, settings, chosen, |c, open: Opened<'_, UserRow>| {
        let user = open.subject;
        repo::set_password_hash(c, user.id, open.hash, open.now)?;
        let ended = repo::delete_sessions_of(c, user.id, None)?;
        let inv = open.invitation;
        audit_use(
            c,
            user,
            "user.reset_by_link",
            json!({"channel": inv.channel, "code": inv.id, "sessions_ended": ended}),
            request_id,
        )?;
        Ok(Some(Reset::Done {
            username: user.username.clone(),
            sessions_ended: ended,
        }))
    })?;
    Ok(done.unwrap_or_else(Reset::Refused))
}

impl CodeSubject for UserRow {
    const STATE: StateOf<Self> = reset_state;

    fn username(&self) -> &str {
        &self.username
    }
}
