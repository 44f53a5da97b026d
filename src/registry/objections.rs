//! The objection register of published notices (异议登记): an objection received
//! against one entry of a notice is recorded, then upheld or rejected with a note, and
//! the upheld ones are answered by a correcting notice (the notice's `replaces` and
//! reason). Who objected is personal data: it stays in the register, which only the
//! federation reads, and is never written into the audit log or a public notice.

use chrono::{NaiveDate, Utc};
use serde_json::json;

use super::notices::{self, NoticeMail, PublishError, PublishRequest, Published};
use crate::config::NoticeSettings;
use crate::db::audit::{self, AuditEntry};
use crate::db::notices as notice_repo;
use crate::db::objections::{self as repo, NewObjection, Objection, OPEN, REJECTED, UPHELD};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::{RegionCode, Said};
use crate::policy::PolicyBook;

/// The longest objector name accepted (characters).
pub const MAX_OBJECTOR: usize = 200;
/// The longest claim or note accepted (characters).
pub const MAX_TEXT: usize = 2000;

/// Why an objection could not be recorded or handled.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    /// No such notice or objection.
    #[error("not found")]
    NotFound,
    /// A field is wrong: its form name and why.
    #[error("{1}")]
    Field(&'static str, Said),
    /// Not allowed in the current state.
    #[error("{0}")]
    Conflict(Said),
    /// Publishing the correction failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ObjectionError {
    fn from(e: diesel::result::Error) -> Self {
        ObjectionError::Db(e.into())
    }
}

/// An objection as the officer typed it.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    /// The notice objected to.
    pub notice_id: i64,
    /// The entry (employer USCC).
    pub entry_uscc: &'a str,
    /// Who objected (an organisation or a person).
    pub objector: &'a str,
    /// When it was received.
    pub received_on: NaiveDate,
    /// What it claims.
    pub claim: &'a str,
}

fn text_ok(field: &'static str, text: &str, max: usize) -> Result<(), ObjectionError> {
    if text.trim().is_empty() {
        return Err(ObjectionError::Field(
            field,
            Said::new("必须填写", "is required"),
        ));
    }
    if text.chars().count() > max {
        return Err(ObjectionError::Field(
            field,
            Said::new(
                format!("不能超过 {max} 个字符"),
                format!("must be at most {max} characters"),
            ),
        ));
    }
    Ok(())
}

fn audit_view(o: &Objection) -> serde_json::Value {
    json!({
        "notice_id": o.notice_id, "entry_uscc": o.entry_uscc,
        "received_on": o.received_on, "status": o.status,
        "claim": mask_numbers_in(&o.claim),
        "handling_note": o.handling_note.as_deref().map(mask_numbers_in),
        "answered_by": o.answered_by,
    })
}

/// Records an objection received on or before `today` (and not before the notice was
/// published) against an entry of the notice, audited; the new objection.
pub fn record(
    conn: &mut AnyConnection,
    claim: &NewClaim<'_>,
    today: NaiveDate,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Objection, ObjectionError> {
    text_ok("objector", claim.objector, MAX_OBJECTOR)?;
    text_ok("claim", claim.claim, MAX_TEXT)?;
    crate::db::write_transaction(conn, |c| {
        let notice = notice_repo::by_id(c, claim.notice_id)?.ok_or(ObjectionError::NotFound)?;
        if notices::entry_in(c, &notice, claim.entry_uscc)?.is_none() {
            return Err(ObjectionError::Field(
                "entry_uscc",
                Said::new("该公示中没有此单位", "the notice names no such employer"),
            ));
        }
        if claim.received_on > today || claim.received_on < notice.published_on {
            return Err(ObjectionError::Field(
                "received_on",
                Said::new(
                    "收到日期须在公示发布之日与今天之间",
                    "the date received must be between the notice's publication and today",
                ),
            ));
        }
        let id = repo::insert(
            c,
            &NewObjection {
                notice_id: claim.notice_id,
                entry_uscc: claim.entry_uscc,
                objector: claim.objector.trim(),
                received_on: claim.received_on,
                claim: claim.claim.trim(),
                status: OPEN,
                recorded_by: actor,
                recorded_at: Utc::now().naive_utc(),
            },
        )?;
        let o = repo::by_id(c, id)?.ok_or(ObjectionError::NotFound)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "objection.record",
                entity_type: "notice_objection",
                entity_id: &id.to_string(),
                before: None,
                after: Some(audit_view(&o)),
                request_id,
            },
        )?;
        Ok(o)
    })
}

/// Upholds or rejects an open objection with a note, audited.
pub fn decide(
    conn: &mut AnyConnection,
    id: i64,
    upheld: bool,
    note: &str,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Objection, ObjectionError> {
    text_ok("note", note, MAX_TEXT)?;
    crate::db::write_transaction(conn, |c| {
        let before = repo::by_id(c, id)?.ok_or(ObjectionError::NotFound)?;
        let status = if upheld { UPHELD } else { REJECTED };
        if !repo::decide(c, id, status, note.trim(), actor, Utc::now().naive_utc())? {
            return Err(ObjectionError::Conflict(Said::new(
                "该异议已处理",
                "the objection has been decided already",
            )));
        }
        let after = repo::by_id(c, id)?.ok_or(ObjectionError::NotFound)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: if upheld {
                    "objection.uphold"
                } else {
                    "objection.reject"
                },
                entity_type: "notice_objection",
                entity_id: &id.to_string(),
                before: Some(audit_view(&before)),
                after: Some(audit_view(&after)),
                request_id,
            },
        )?;
        Ok(after)
    })
}

/// The upheld objections of a notice that no correction answers yet.
pub fn unanswered_upheld(objections: &[Objection]) -> Vec<&Objection> {
    objections
        .iter()
        .filter(|o| o.status == UPHELD && o.answered_by.is_none())
        .collect()
}

/// The correction's reason: the objections it answers by number, then the officer's
/// words (no objector: the notice is public).
pub fn correction_reason(ids: &[i64], note: &str) -> String {
    let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    format!("答复异议第 {} 号：{}", list.join("、"), note.trim())
}

/// What a correction needs besides the notice.
pub struct Correction<'a> {
    /// The notice corrected.
    pub notice_id: i64,
    /// The officer's words on what changed.
    pub note: &'a str,
    /// The correction's own objection period.
    pub objection_days: i64,
    /// Today (the publication date).
    pub today: NaiveDate,
}

/// Publishes the correcting notice that answers every upheld, unanswered objection of
/// the notice (its reason lists them), marks them answered and audits that, in one
/// transaction; the new notice and the objections it answers.
#[allow(clippy::too_many_arguments)]
pub fn correct(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    issuers: &NoticeSettings,
    fix: &Correction<'_>,
    mail: Option<&NoticeMail<'_>>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<(Published, Vec<i64>), ObjectionError> {
    text_ok("note", fix.note, 400)?;
    crate::db::write_transaction(conn, |c| {
        let notice = notice_repo::by_id(c, fix.notice_id)?.ok_or(ObjectionError::NotFound)?;
        let all = repo::for_notice(c, fix.notice_id)?;
        let ids: Vec<i64> = unanswered_upheld(&all).iter().map(|o| o.id).collect();
        if ids.is_empty() {
            return Err(ObjectionError::Conflict(Said::new(
                "没有待更正答复的成立异议",
                "no upheld objection is waiting for a correction",
            )));
        }
        let region: RegionCode = notice
            .region
            .parse()
            .map_err(|_| DbError::Task("stored notice has a bad region".into()))?;
        let req = PublishRequest {
            region,
            levy_year: notice.levy_year,
            objection_days: fix.objection_days,
            replaces: Some((notice.id, correction_reason(&ids, fix.note))),
        };
        let published =
            notices::publish(c, book, issuers, &req, fix.today, mail, actor, request_id)?;
        repo::answer(c, &ids, published.row.id)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "objection.answer",
                entity_type: "notice",
                entity_id: &notice.id.to_string(),
                before: None,
                after: Some(json!({ "objections": ids, "answered_by": published.row.id })),
                request_id,
            },
        )?;
        Ok((published, ids))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correction_names_the_objections_it_answers_and_no_one() {
        assert_eq!(
            correction_reason(&[3, 5], "  人数已更正 "),
            "答复异议第 3、5 号：人数已更正"
        );
    }

    #[test]
    fn texts_are_required_and_bounded() {
        assert!(text_ok("claim", "  ", 10).is_err());
        assert!(text_ok("claim", "一二三", 3).is_ok());
        assert!(matches!(
            text_ok("claim", "一二三四", 3),
            Err(ObjectionError::Field("claim", _))
        ));
    }
}
