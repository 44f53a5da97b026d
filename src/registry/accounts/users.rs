//! Users: creating, disabling and resetting the password of one, each audited, and the
//! principal a user acts as.

use serde_json::json;

use crate::auth::{Credential, Principal, Role};
use crate::config::AccountSettings;
use crate::db::accounts::{self as repo, NewUser, UserRow};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::{self};
use crate::db::AnyConnection;
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::{Language, RegionCode};

use super::passwords::{check_password, check_username, hash_password};
use super::{AccountError, FieldFault};

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
pub(super) fn audit_view(u: &UserRow) -> serde_json::Value {
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
