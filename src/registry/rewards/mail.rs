//! The employer's mails about its reward: approved, paid (queued in the outbox in the
//! transaction of the decision or the payout, docs/architecture.md).

use crate::db::employers::Employer;
use crate::db::outbox::{self, NewReminder, ReminderKind};
use crate::db::rewards::{NewDecision, PayoutRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::money::{format_money, from_fen};
use crate::domain::Language;
use crate::mail::template::Templates;

use super::RewardError;

/// The employer's contact address, if any.
fn recipient(e: &Employer) -> Option<&str> {
    e.contact_email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn queue(
    conn: &mut AnyConnection,
    templates: &Templates,
    e: &Employer,
    kind: ReminderKind,
    levy_year: i32,
    stage: String,
    values: &[(&str, String)],
) -> Result<(), RewardError> {
    let Some(to) = recipient(e) else {
        return Ok(());
    };
    let render = |lang| {
        templates
            .render(kind, lang, values)
            .map_err(|err| RewardError::Db(DbError::Task(err.to_string())))
    };
    let (zh, en) = (render(Language::Zh)?, render(Language::En)?);
    outbox::enqueue(
        conn,
        &NewReminder {
            kind,
            employer_id: e.id,
            levy_year,
            stage,
            recipient: to.to_owned(),
            subject: format!("{} / {}", zh.subject, en.subject),
            body_zh: zh.body,
            body_en: en.body,
            act_by: None,
        },
    )?;
    Ok(())
}

/// Queues "your reward was approved" (once per assessment and amount decided on).
pub fn approved(
    conn: &mut AnyConnection,
    templates: &Templates,
    e: &Employer,
    d: &NewDecision,
) -> Result<(), RewardError> {
    let citation = crate::db::assessments::current(conn, e.id, d.levy_year)?
        .map(|a| crate::db::assessments::snapshot_json(conn, a.policy_snapshot_id))
        .transpose()?
        .and_then(|j| serde_json::from_str::<crate::domain::ResolvedPolicy>(&j).ok())
        .map(|p| p.reward.citation)
        .unwrap_or_default();
    let values = [
        ("employer_name", e.name.clone()),
        ("uscc", e.uscc.clone()),
        ("levy_year", d.levy_year.to_string()),
        ("amount", format_money(from_fen(d.reward_fen))),
        ("citation", citation),
    ];
    queue(
        conn,
        templates,
        e,
        ReminderKind::RewardApproved,
        d.levy_year,
        format!("approved-{}-{}", d.assessment_id, d.reward_fen),
        &values,
    )
}

/// Queues "your reward was paid" for a payout.
pub fn paid(
    conn: &mut AnyConnection,
    templates: &Templates,
    e: &Employer,
    p: &PayoutRow,
) -> Result<(), RewardError> {
    let values = [
        ("employer_name", e.name.clone()),
        ("uscc", e.uscc.clone()),
        ("levy_year", p.levy_year.to_string()),
        ("amount", format_money(from_fen(p.amount_fen))),
        ("paid_on", p.paid_on.to_string()),
        ("reference", p.reference.clone()),
    ];
    queue(
        conn,
        templates,
        e,
        ReminderKind::RewardPaid,
        p.levy_year,
        format!("paid-{}", p.id),
        &values,
    )
}
