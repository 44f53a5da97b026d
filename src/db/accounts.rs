//! Accounts of people: users, their server-side sessions, the sign-in throttle and the
//! one-time codes (employers' activation, users' password reset). Queries only; the operations of record (validation,
//! password hashing, audit) are in `crate::registry::accounts`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{activation_invitations, sessions, sign_in_throttle, users};
use super::{AnyConnection, DbError};

diesel::define_sql_function! {
    /// SQL `lower`: usernames are compared without regard to case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A stored user (the password hash never leaves this layer in output).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// As typed at creation; unique without regard to case.
    pub username: String,
    /// Shown on the pages.
    pub display_name: Option<String>,
    /// `admin`, `federation`, `tax`, `inspector`, `employer`.
    pub role: String,
    /// The one employer an employer user may see.
    pub employer_uscc: Option<String>,
    /// The region an officer is limited to.
    pub region: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot sign in and has no session.
    pub disabled: bool,
    /// Last successful sign-in (UTC).
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: NaiveDateTime,
}

/// The fields of a new user.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Username.
    pub username: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Role.
    pub role: &'a str,
    /// Employer scope.
    pub employer_uscc: Option<&'a str>,
    /// Region scope.
    pub region: Option<&'a str>,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Disabled.
    pub disabled: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

/// Inserts a user; `None` when the username (without regard to case) is taken.
pub fn insert_user(
    conn: &mut AnyConnection,
    new: &NewUser<'_>,
) -> Result<Option<UserRow>, DbError> {
    if by_username(conn, new.username)?.is_some() {
        return Ok(None);
    }
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    by_username(conn, new.username)
}

/// The user of `username`, without regard to case.
pub fn by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .filter(lower(users::username).eq(username.to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user of row `id`.
pub fn user_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every user, by username.
pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<UserRow>, DbError> {
    Ok(users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

/// Up to `limit` users after `after` (a username) in username order: a keyset page of
/// the administration's user list.
pub fn users_page(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UserRow>, DbError> {
    let mut q = users::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(users::username.gt(a.to_owned()));
    }
    Ok(q.order(users::username.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)?)
}

/// True when an employer user exists for `uscc`.
pub fn employer_has_user(conn: &mut AnyConnection, uscc: &str) -> Result<bool, DbError> {
    let n: i64 = users::table
        .filter(users::employer_uscc.eq(uscc))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Sets the disabled flag.
pub fn set_disabled(
    conn: &mut AnyConnection,
    id: i64,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Replaces the password hash.
pub fn set_password_hash(
    conn: &mut AnyConnection,
    id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Records a successful sign-in.
pub fn touch_sign_in(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::last_sign_in_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    /// Id.
    pub id: i64,
    /// SHA-256 of the cookie's token.
    pub token_hash: String,
    /// Whose.
    pub user_id: i64,
    /// The synchronizer token of its forms.
    pub csrf_token: String,
    /// Signed in (UTC).
    pub created_at: NaiveDateTime,
    /// Last request (UTC), for the idle timeout.
    pub last_seen_at: NaiveDateTime,
    /// The absolute end (UTC).
    pub expires_at: NaiveDateTime,
}

/// Stores a new session.
pub fn insert_session(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    csrf_token: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(csrf_token),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session of a cookie digest, with its user.
pub fn session_by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<(SessionRow, UserRow)>, DbError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Moves the idle clock of a session.
pub fn touch_session(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends one session.
pub fn delete_session(conn: &mut AnyConnection, id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.find(id)).execute(conn)?)
}

/// Ends every session of a user but `keep` (the one changing its password); returns how
/// many ended.
pub fn delete_sessions_of(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: Option<i64>,
) -> Result<usize, DbError> {
    let q = sessions::table.filter(sessions::user_id.eq(user_id));
    Ok(match keep {
        Some(k) => diesel::delete(q.filter(sessions::id.ne(k))).execute(conn)?,
        None => diesel::delete(q).execute(conn)?,
    })
}

/// Deletes sessions past their absolute end (housekeeping; a stale one is refused
/// anyway when presented).
pub fn delete_expired_sessions(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

/// The throttle key kinds.
pub const BY_USERNAME: &str = "username";
/// Per client address.
pub const BY_ADDRESS: &str = "address";

/// Until when `key_digest` is locked, if it is at `now`.
pub fn locked_until(
    conn: &mut AnyConnection,
    kind: &str,
    key_digest: &str,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, DbError> {
    let until: Option<Option<NaiveDateTime>> = sign_in_throttle::table
        .filter(sign_in_throttle::kind.eq(kind))
        .filter(sign_in_throttle::key_digest.eq(key_digest))
        .select(sign_in_throttle::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|u| *u > now))
}

/// Counts one failure of `key_digest`; returns the end of the lockout it started, when
/// it reached `max_failures` within `window`. Call inside a write transaction: each
/// step is one statement, so that on PostgreSQL concurrent failures all count (the
/// increment is made by the database, under the row's lock).
pub fn record_failure(
    conn: &mut AnyConnection,
    kind: &str,
    key_digest: &str,
    now: NaiveDateTime,
    window: chrono::Duration,
    max_failures: i32,
) -> Result<Option<NaiveDateTime>, DbError> {
    // Keys whose window and lockout are both over count for nothing: gone, so that
    // this key starts a window afresh (and no table of old keys grows).
    diesel::delete(
        sign_in_throttle::table
            .filter(sign_in_throttle::first_failure_at.lt(now - window))
            .filter(
                sign_in_throttle::locked_until
                    .is_null()
                    .or(sign_in_throttle::locked_until.le(now)),
            ),
    )
    .execute(conn)?;
    // Upserts do not compile on the MultiBackend; the same statement per backend does.
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(sign_in_throttle::table)
        .values((
            sign_in_throttle::kind.eq(kind),
            sign_in_throttle::key_digest.eq(key_digest),
            sign_in_throttle::failures.eq(0),
            sign_in_throttle::first_failure_at.eq(now),
        ))
        .on_conflict((sign_in_throttle::kind, sign_in_throttle::key_digest))
        .do_nothing()
        .execute(c))?;
    let row = sign_in_throttle::table
        .filter(sign_in_throttle::kind.eq(kind))
        .filter(sign_in_throttle::key_digest.eq(key_digest));
    diesel::update(row)
        .set(sign_in_throttle::failures.eq(sign_in_throttle::failures + 1))
        .execute(conn)?;
    let failures: i32 = row.select(sign_in_throttle::failures).first(conn)?;
    if failures < max_failures {
        return Ok(None);
    }
    let until = now + window;
    diesel::update(row)
        .set((
            sign_in_throttle::failures.eq(0),
            sign_in_throttle::first_failure_at.eq(now),
            sign_in_throttle::locked_until.eq(Some(until)),
        ))
        .execute(conn)?;
    Ok(Some(until))
}

/// Forgets the failures of `key_digest` (a successful sign-in of that username, which
/// is only tried while it is not locked).
pub fn clear_failures(
    conn: &mut AnyConnection,
    kind: &str,
    key_digest: &str,
) -> Result<(), DbError> {
    diesel::delete(
        sign_in_throttle::table
            .filter(sign_in_throttle::kind.eq(kind))
            .filter(sign_in_throttle::key_digest.eq(key_digest)),
    )
    .execute(conn)?;
    Ok(())
}

/// How an activation code reached the employer.
pub const BY_MAIL: &str = "mail";
/// On a printed letter.
pub const BY_LETTER: &str = "letter";

/// Whose a one-time code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFor {
    /// The activation of this employer (row id) into its account.
    Activation(i64),
    /// A new password of this user (row id).
    Reset(i64),
}

/// A stored one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = activation_invitations)]
pub struct InvitationRow {
    /// Id.
    pub id: i64,
    /// The employer it activates (an activation code).
    pub employer_id: Option<i64>,
    /// The user whose password it resets (a reset code).
    pub user_id: Option<i64>,
    /// SHA-256 of the code.
    pub token_hash: String,
    /// `mail` or `letter`.
    pub channel: String,
    /// Made (UTC).
    pub created_at: NaiveDateTime,
    /// By whom.
    pub created_by: String,
    /// Not valid from then on (UTC).
    pub expires_at: NaiveDateTime,
    /// Used (UTC).
    pub used_at: Option<NaiveDateTime>,
    /// Replaced by a newer one (UTC).
    pub revoked_at: Option<NaiveDateTime>,
}

impl InvitationRow {
    /// True while it may still be used at `now`.
    pub fn is_open(&self, now: NaiveDateTime) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }

    /// Whose it is (`None` for a row that names neither, which the table refuses).
    pub fn code_for(&self) -> Option<CodeFor> {
        match (self.employer_id, self.user_id) {
            (Some(e), None) => Some(CodeFor::Activation(e)),
            (None, Some(u)) => Some(CodeFor::Reset(u)),
            _ => None,
        }
    }
}

/// Stores a new code `whose`, replacing the open ones of the same employer or user;
/// returns its id.
pub fn insert_invitation(
    conn: &mut AnyConnection,
    whose: CodeFor,
    token_hash: &str,
    channel: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    created_by: &str,
) -> Result<i64, DbError> {
    let (employer_id, user_id) = match whose {
        CodeFor::Activation(e) => (Some(e), None),
        CodeFor::Reset(u) => (None, Some(u)),
    };
    let open = activation_invitations::table
        .filter(activation_invitations::used_at.is_null())
        .filter(activation_invitations::revoked_at.is_null());
    let replaced = diesel::update(open);
    match whose {
        CodeFor::Activation(e) => replaced
            .filter(activation_invitations::employer_id.eq(e))
            .set(activation_invitations::revoked_at.eq(Some(now)))
            .execute(conn)?,
        CodeFor::Reset(u) => replaced
            .filter(activation_invitations::user_id.eq(u))
            .set(activation_invitations::revoked_at.eq(Some(now)))
            .execute(conn)?,
    };
    diesel::insert_into(activation_invitations::table)
        .values((
            activation_invitations::employer_id.eq(employer_id),
            activation_invitations::user_id.eq(user_id),
            activation_invitations::token_hash.eq(token_hash),
            activation_invitations::channel.eq(channel),
            activation_invitations::created_at.eq(now),
            activation_invitations::created_by.eq(created_by),
            activation_invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(activation_invitations::table
        .filter(activation_invitations::token_hash.eq(token_hash))
        .select(activation_invitations::id)
        .first(conn)?)
}

/// The code of a digest (either kind: the caller checks [`InvitationRow::code_for`]).
pub fn invitation_by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<InvitationRow>, DbError> {
    Ok(activation_invitations::table
        .filter(activation_invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

/// The code of row `id`.
pub fn invitation_by_id(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<InvitationRow>, DbError> {
    Ok(activation_invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a code used, once: false when it was used, replaced or expired meanwhile (a
/// second request with the same link loses here, whatever it read before).
pub fn use_invitation(
    conn: &mut AnyConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        activation_invitations::table
            .filter(activation_invitations::id.eq(id))
            .filter(activation_invitations::used_at.is_null())
            .filter(activation_invitations::revoked_at.is_null())
            .filter(activation_invitations::expires_at.gt(now)),
    )
    .set(activation_invitations::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
