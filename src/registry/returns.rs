//! The federation returns a submitted declaration to its employer instead of certifying
//! it: the status `returned` with the reason, audited, and a mail to the employer in
//! the same transaction (the transactional outbox). The employer edits it (amended) or
//! submits it again; the submission clears the return.

use chrono::Utc;
use serde_json::json;

use super::declarations::{audit_view, RegistryError, SaveOptions};
use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{self as repo, Declaration, Status};
use crate::db::employers::Employer;
use crate::db::outbox::{self, NewReminder, ReminderKind};
use crate::db::AnyConnection;
use crate::domain::ids::mask_numbers_in;
use crate::domain::{Language, Said};
use crate::mail::Templates;

/// The longest reason accepted (characters).
pub const MAX_REASON: usize = 500;

/// What a return did.
#[derive(Debug, Clone)]
pub struct Returned {
    /// The declaration as returned.
    pub declaration: Declaration,
    /// True when a mail to the employer was queued (it has a contact address).
    pub mailed: bool,
}

/// Returns the submitted declaration of `employer` for `levy_year` with `reason`
/// (already checked non-empty and at most [`MAX_REASON`] characters), in one write
/// transaction: the new version, the reason, the audit entry (the reason with any
/// identifier masked) and the mail.
pub fn return_to_employer(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    reason: &str,
    templates: &Templates,
    opts: &SaveOptions<'_>,
) -> Result<Returned, RegistryError> {
    crate::db::write_transaction(conn, |c| {
        let d = repo::current_for_update(c, employer.id, levy_year)?.ok_or_else(|| {
            RegistryError::NotFound(Said::new(
                "该单位没有本征收年度的申报",
                "this employer has no declaration for the levy year",
            ))
        })?;
        if let Some(tag) = opts.if_match {
            if tag != d.etag() && tag != "*" {
                return Err(RegistryError::PreconditionFailed(Said::new(
                    "申报在您读取之后已被修改；请重新读取",
                    "the declaration changed since you read it; read it again",
                )));
            }
        }
        if d.status() != Status::Submitted {
            return Err(RegistryError::Conflict(Said::new(
                "只有已提交、待审核的申报可以退回",
                format!(
                    "only a submitted declaration can be returned (this one is {})",
                    d.status
                ),
            )));
        }
        let after = repo::set_returned(c, &d, reason, opts.actor)?;
        let mut view = audit_view(&after, None, opts.secret);
        view["reason"] = json!(mask_numbers_in(reason));
        audit::record(
            c,
            AuditEntry {
                actor: opts.actor,
                action: "declaration.return",
                entity_type: "declaration",
                entity_id: &format!("{}/{}", employer.uscc, levy_year),
                before: Some(audit_view(&d, None, opts.secret)),
                after: Some(view),
                request_id: opts.request_id,
            },
        )?;
        let mailed = match mail(templates, employer, &after, reason)? {
            Some(r) => outbox::enqueue(c, &r)?,
            None => false,
        };
        Ok(Returned {
            declaration: after,
            mailed,
        })
    })
}

/// The mail telling the employer, or `None` when it has no contact address.
fn mail(
    templates: &Templates,
    employer: &Employer,
    d: &Declaration,
    reason: &str,
) -> Result<Option<NewReminder>, RegistryError> {
    let Some(recipient) = employer
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let now = Utc::now().naive_utc();
    let on = crate::domain::calendar::china_date(now);
    let values: Vec<(&str, String)> = vec![
        ("employer_name", employer.name.clone()),
        ("uscc", employer.uscc.clone()),
        ("levy_year", d.levy_year.to_string()),
        ("reason", reason.to_owned()),
        ("returned_on", on.format("%Y-%m-%d").to_string()),
    ];
    let render = |lang| {
        templates
            .render(ReminderKind::DeclarationReturned, lang, &values)
            .map_err(|e| RegistryError::Db(crate::db::DbError::Task(e.to_string())))
    };
    let (zh, en) = (render(Language::Zh)?, render(Language::En)?);
    Ok(Some(NewReminder {
        kind: ReminderKind::DeclarationReturned,
        employer_id: employer.id,
        levy_year: d.levy_year,
        // One mail per return: the version the return made is new each time.
        stage: format!("returned-v{}", d.version),
        recipient: recipient.to_owned(),
        subject: format!("{} / {}", zh.subject, en.subject),
        body_zh: zh.body,
        body_en: en.body,
        act_by: None,
    }))
}
