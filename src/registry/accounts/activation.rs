//! Activation of employers: the mailed one-time link or the printed letter code, and
//! redeeming either into an account. The codes, their mail, their letter and their use
//! once (`use_once`) serve the reset of a password too (`reset.rs`).

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDateTime};
use rand::RngCore;
use serde_json::json;

use crate::auth::Role;
use crate::config::AccountSettings;
use crate::db::accounts::{self as repo, CodeFor, InvitationRow, NewUser, UserRow};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::{self, Employer};
use crate::db::outbox::{self, NewReminder, ReminderKind};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::Language;
use crate::mail::template::Templates;

use super::passwords::chosen_hash;
use super::sessions::NewSession;
use super::sessions::{random_hex, sha256_hex, start_session};
use super::users::audit_view;
use super::users::principal_of;
use super::{AccountError, FieldFault};

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

pub(super) fn code_hash(code: &str) -> String {
    sha256_hex(&normalize_code(code))
}

pub(super) fn china_time(t: NaiveDateTime) -> String {
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
        CodeFor::Activation(employer.id),
        &code_hash(&token),
        repo::BY_MAIL,
        now,
        expires,
        actor,
    )?;
    let mail = CodeMail {
        kind: ReminderKind::Activation,
        employer_id: employer.id,
        recipient,
        code_id: id,
        path: activation_path(&token),
        expires_at: expires,
    };
    mail.queue(
        conn,
        &inv.templates,
        vec![
            ("employer_name", employer.name.clone()),
            ("uscc", employer.uscc.clone()),
        ],
    )?;
    Ok(Some(id))
}

/// The mail of a one-time code: its link, to whom, until when.
pub(super) struct CodeMail<'a> {
    /// Activation or password reset.
    pub kind: ReminderKind,
    /// The employer the outbox files it under.
    pub employer_id: i64,
    /// The address.
    pub recipient: &'a str,
    /// The code's row.
    pub code_id: i64,
    /// The page of the code (never the code's digest).
    pub path: String,
    /// The end of its validity (UTC).
    pub expires_at: NaiveDateTime,
}

impl CodeMail<'_> {
    /// Queues the mail in the outbox, in the caller's transaction: the templates of its
    /// kind with `values`, the link's `url` and `expires_on`. Like every mail the outbox
    /// queues it has no audit entry of its own; the write that made the code has one.
    pub(super) fn queue(
        &self,
        conn: &mut AnyConnection,
        templates: &Templates,
        mut values: Vec<(&str, String)>,
    ) -> Result<(), DbError> {
        values.push(("url", crate::mail::plan::deferred_link(&self.path)));
        values.push(("expires_on", china_time(self.expires_at)));
        let render = |lang| {
            templates
                .render(self.kind, lang, &values)
                .map_err(|e| DbError::Task(e.to_string()))
        };
        let zh = render(Language::Zh)?;
        let en = render(Language::En)?;
        let now = chrono::Utc::now().naive_utc();
        outbox::enqueue(
            conn,
            &NewReminder {
                kind: self.kind,
                employer_id: self.employer_id,
                // An account is of no levy year: the year it was sent in.
                levy_year: crate::domain::calendar::china_date(now).year(),
                stage: format!("{}-{}", self.kind.as_str(), self.code_id),
                recipient: self.recipient.to_owned(),
                subject: format!("{} / {}", zh.subject, en.subject),
                body_zh: zh.body,
                body_en: en.body,
                act_by: Some(crate::domain::calendar::china_date(self.expires_at)),
            },
        )?;
        Ok(())
    }
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
    let Some(CodeFor::Activation(employer_id)) = inv.code_for() else {
        return Ok(false);
    };
    if !inv.is_open(chrono::Utc::now().naive_utc()) {
        return Ok(false);
    }
    let Some(e) = employers::by_id(conn, employer_id)? else {
        return Ok(false);
    };
    Ok(!repo::employer_has_user(conn, &e.uscc)?)
}

/// What a letter's code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterKind {
    /// An employer's activation.
    Activation,
    /// A user's new password.
    Reset,
}

/// A letter with a one-time code, for an employer (or a user) without e-mail.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Activation or reset.
    pub kind: LetterKind,
    /// The employer (or the user's name, for a reset).
    pub employer_name: String,
    /// Its USCC (also the username it will sign in with); for a reset, the username.
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
        if self.kind == LetterKind::Reset {
            return self.render_reset(base, &until);
        }
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

    fn render_reset(&self, base: &str, until: &str) -> String {
        // A user without a display name is named by the username: once, not twice.
        let (to_zh, to_en) = if self.employer_name == self.uscc {
            (format!("用户 {}", self.uscc), format!("user {}", self.uscc))
        } else {
            (
                format!("{}（用户名：{}）", self.employer_name, self.uscc),
                format!("{} (username {})", self.employer_name, self.uscc),
            )
        };
        format!(
            "残疾人就业保障金系统 重设密码函\n\n\
             {to_zh}：\n\n\
             系统管理员已为您的账户发出重设密码的通知。请在浏览器中打开以下地址：\n\n  {base}/reset\n\n\
             并输入重设码：\n\n  {code}\n\n\
             或直接打开：{base}{path}\n\n\
             然后设置新密码。重设码只能使用一次，有效期至{until}（北京时间）止；使用后，该账户在各处的登录都将结束。\n\
             请妥善保管本函，勿交给他人。\n\n\
             ----------------------------------------\n\n\
             Password reset letter: disabled persons' employment security fund service\n\n\
             To {to_en}:\n\n\
             The administrator has reset the password of your account. Open {base}/reset in a\n\
             browser and enter the reset code\n\n  {code}\n\n\
             (or open {base}{path} directly) to choose a new password. The code works once and\n\
             is valid until {until} (China time); using it ends every sign-in of the account.\n\
             Keep this letter to yourself.\n",
            code = self.code,
            path = super::reset::reset_path(&self.code),
        )
    }
}

/// Crockford's base-32 digits: no I, L, O or U to be misread.
const CODE_DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A letter code: 20 base-32 digits (100 random bits) in groups of four.
pub(super) fn letter_code() -> String {
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
            CodeFor::Activation(employer.id),
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
            kind: LetterKind::Activation,
            employer_name: employer.name,
            uscc: uscc.clone(),
            code,
            expires_at: expires,
        })
    })
}

/// Where a one-time code stands: `T` is what an open one is for (the employer an
/// activation code activates, the user whose password a reset code resets).
#[derive(Debug, Clone)]
pub enum CodeState<T = Employer> {
    /// It may be used: its row and what it is for.
    Open(Box<(InvitationRow, T)>),
    /// No such code (or one of the other kind).
    Unknown,
    /// Past its validity.
    Expired,
    /// Used, or replaced by a newer one, or its reason is gone (the employer has an
    /// account already, the user was disabled).
    Spent,
}

/// The row of `code` while it may be used at `now` (a reset code when `reset`, else an
/// activation code: one of the other kind is unknown here), with the user or employer
/// id it names; else where it stands.
pub(super) fn open_code<T>(
    conn: &mut AnyConnection,
    code: &str,
    now: NaiveDateTime,
    reset: bool,
) -> Result<Result<(InvitationRow, i64), CodeState<T>>, DbError> {
    let Some(inv) = repo::invitation_by_hash(conn, &code_hash(code))? else {
        return Ok(Err(CodeState::Unknown));
    };
    let id = match (inv.code_for(), reset) {
        (Some(CodeFor::Activation(e)), false) => e,
        (Some(CodeFor::Reset(u)), true) => u,
        _ => return Ok(Err(CodeState::Unknown)),
    };
    if inv.used_at.is_some() || inv.revoked_at.is_some() {
        return Ok(Err(CodeState::Spent));
    }
    if inv.expires_at <= now {
        return Ok(Err(CodeState::Expired));
    }
    Ok(Ok((inv, id)))
}

/// The state of activation code `code` at `now`.
pub fn code_state(
    conn: &mut AnyConnection,
    code: &str,
    now: NaiveDateTime,
) -> Result<CodeState, DbError> {
    let (inv, employer_id) = match open_code(conn, code, now, false)? {
        Ok(open) => open,
        Err(state) => return Ok(state),
    };
    let Some(employer) = employers::by_id(conn, employer_id)? else {
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

/// Activates the employer of `chosen.code` with the password it chose: its user
/// (username its USCC, role employer) is created, the code used up, and a session
/// started, in one transaction, audited. A second use of the same code is refused.
pub fn activate(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    chosen: Chosen<'_>,
    address: &str,
    request_id: Option<&str>,
) -> Result<Activation, AccountError> {
    let done = use_once(conn, settings, chosen, |c, open: Opened<'_, Employer>| {
        let employer = open.subject;
        let name: String = employer.name.chars().take(100).collect();
        let new = NewUser {
            username: &employer.uscc,
            display_name: Some(&name),
            role: Role::Employer.as_str(),
            employer_uscc: Some(&employer.uscc),
            region: None,
            password_hash: open.hash,
            disabled: false,
            created_at: open.now,
            updated_at: open.now,
        };
        // Another request made the account first: the code's reason is gone.
        let Some(user) = repo::insert_user(c, &new)? else {
            return Ok(None);
        };
        let inv = open.invitation;
        audit_use(
            c,
            &user,
            "user.activate",
            json!({"user": audit_view(&user), "channel": inv.channel, "invitation": inv.id}),
            request_id,
        )?;
        Ok(Some(start_session(
            c, &user, settings, open.now, address, request_id,
        )?))
    })?;
    Ok(match done {
        Ok(new) => Activation::Done(Box::new(new)),
        Err(state) => Activation::Refused(state),
    })
}

/// Where a code stands at a time, with what it opens while open.
pub(super) type StateOf<T> =
    fn(&mut AnyConnection, &str, NaiveDateTime) -> Result<CodeState<T>, DbError>;

/// What a one-time code opens: the employer an activation code activates, the user
/// whose password a reset code resets.
pub(super) trait CodeSubject: Sized {
    /// Where a code of this kind stands.
    const STATE: StateOf<Self>;

    /// The username a password chosen through the code must differ from.
    fn username(&self) -> &str;
}

impl CodeSubject for Employer {
    const STATE: StateOf<Self> = code_state;

    /// The account an activation makes signs in with the USCC.
    fn username(&self) -> &str {
        &self.uscc
    }
}

/// A one-time code and the password chosen on its page, typed twice.
#[derive(Debug, Clone, Copy)]
pub struct Chosen<'a> {
    /// The code, as typed or linked.
    pub code: &'a str,
    /// The new password.
    pub password: &'a str,
    /// Its confirmation.
    pub confirm: &'a str,
}

/// An open code being used, inside its write transaction.
pub(super) struct Opened<'a, T> {
    /// The code's row, already marked used.
    pub invitation: &'a InvitationRow,
    /// What it opens.
    pub subject: &'a T,
    /// The argon2id hash of the chosen password.
    pub hash: &'a str,
    /// The time of the use.
    pub now: NaiveDateTime,
}

/// Uses one-time code `chosen.code` once: while it is open, the password is checked,
/// confirmed and hashed (outside the transaction, which stays short), then in one write
/// transaction the code is marked used and `write` does what the code is for; an
/// error of `write` undoes both. A code another request used meanwhile is refused as
/// spent, and so is one whose reason `write` finds gone (`Ok(None)`: the code stays
/// used). `Err(state)` says why a code cannot be used.
pub(super) fn use_once<T: CodeSubject, R>(
    conn: &mut AnyConnection,
    settings: &AccountSettings,
    chosen: Chosen<'_>,
    write: impl FnOnce(&mut AnyConnection, Opened<'_, T>) -> Result<Option<R>, AccountError>,
) -> Result<Result<R, CodeState<T>>, AccountError> {
    let now = chrono::Utc::now().naive_utc();
    let (inv, subject) = match (T::STATE)(conn, chosen.code, now)? {
        CodeState::Open(open) => *open,
        other => return Ok(Err(other)),
    };
    let hash = chosen_hash(
        chosen.password,
        chosen.confirm,
        subject.username(),
        settings.password_min_length,
    )?;
    crate::db::write_transaction(conn, |c| {
        let now = chrono::Utc::now().naive_utc();
        // The update that marks it used is the check: of two uses at once, one wins.
        if !repo::use_invitation(c, inv.id, now)? {
            return Ok(Err(CodeState::Spent));
        }
        let opened = Opened {
            invitation: &inv,
            subject: &subject,
            hash: &hash,
            now,
        };
        Ok(write(c, opened)?.ok_or(CodeState::Spent))
    })
}

/// Audits the use of a one-time code as `action` on `user`, in the caller's
/// transaction, by the user itself (the code stood in for its password): never the
/// code, the password or its hash.
pub(super) fn audit_use(
    c: &mut AnyConnection,
    user: &UserRow,
    action: &str,
    after: serde_json::Value,
    request_id: Option<&str>,
) -> Result<(), DbError> {
    let actor = principal_of(user).map(|p| p.actor()).unwrap_or_default();
    audit::record(
        c,
        AuditEntry {
            actor: &actor,
            action,
            entity_type: "user",
            entity_id: &user.username,
            before: None,
            after: Some(after),
            request_id,
        },
    )?;
    Ok(())
}
