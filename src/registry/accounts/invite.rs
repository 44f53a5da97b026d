//! An administrator's invitation of an employer: the activation mail of an employer
//! registered earlier (or whose first mail was lost), sent to the address the
//! administrator typed or, without one, to the employer's recorded contact address.
//! The invitation and its audit entry are one transaction (docs/architecture.md,
//! Conventions); the mail itself is queued in the outbox like the one sent at
//! registration, and goes out with the next pass of the mail worker.

use serde_json::json;

use crate::db::accounts as repo;
use crate::db::audit::{self, AuditEntry};
use crate::db::employers;
use crate::db::AnyConnection;
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::Language;

use super::activation::{invite_by_mail, Invitations};
use super::{AccountError, FieldFault};

/// Queues the activation mail of the employer `uscc` to `email` (else its recorded
/// contact address) and audits it as `activation.invite` on the employer; returns the
/// invitation's id. Faults name the form's fields `employer` and `email`; an employer
/// that already has an account is a conflict (its password is reset instead).
pub fn invite_employer(
    conn: &mut AnyConnection,
    inv: &Invitations,
    uscc: &str,
    email: Option<&str>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<i64, AccountError> {
    let code = UnifiedSocialCreditCode::parse(uscc).map_err(|e| {
        AccountError::Invalid(vec![FieldFault {
            field: "employer",
            code: "invalid",
            zh: e.message(Language::Zh),
            en: e.message(Language::En),
        }])
    })?;
    let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Some(crate::wire::fields::check_email(e).map_err(|_| {
            AccountError::Invalid(vec![FieldFault::new(
                "email",
                "invalid",
                "电子邮箱格式不正确",
                "is not an e-mail address",
            )])
        })?),
        None => None,
    };
    let uscc = code.expose().to_owned();
    crate::db::write_transaction(conn, |c| {
        let mut employer = employers::by_uscc(c, &uscc)?.ok_or_else(|| {
            AccountError::Invalid(vec![FieldFault::new(
                "employer",
                "unknown",
                "没有以该统一社会信用代码登记的用人单位",
                "no employer is registered with this USCC",
            )])
        })?;
        if repo::employer_has_user(c, &uscc)? {
            return Err(AccountError::Conflict(
                "this employer already has an account: reset its password instead".into(),
            ));
        }
        if let Some(e) = &email {
            // The typed address is the mail's recipient only; the employer's record
            // is changed through the employer's own update, never here.
            employer.contact_email = Some(e.clone());
        }
        if employer
            .contact_email
            .as_deref()
            .is_none_or(|e| e.trim().is_empty())
        {
            return Err(AccountError::Invalid(vec![FieldFault::new(
                "email",
                "required",
                "该单位没有登记电子邮箱：请填写邀请邮件的收件地址",
                "the employer has no contact address on record: enter the address to invite",
            )]));
        }
        let id = invite_by_mail(c, inv, &employer, actor)?
            .ok_or_else(|| AccountError::Conflict("the invitation could not be queued".into()))?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "activation.invite",
                entity_type: "employer",
                entity_id: &uscc,
                before: None,
                after: Some(json!({
                    "channel": repo::BY_MAIL, "invitation": id,
                    "recipient": employer.contact_email.as_deref()
                        .map(crate::domain::ids::mask_numbers_in),
                })),
                request_id,
            },
        )?;
        Ok(id)
    })
}
