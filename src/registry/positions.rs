//! Positions reserved for disabled people (岗位预留: 三政〔2016〕23号 §3(1), "建立…残疾人
//! 按比例安排就业岗位预留制度"). An employer registers a position; the federation
//! publishes or rejects it; a published position is listed publicly while open, and is
//! closed as filled (by a disabled employee of the roster: the link is stored, never
//! shown), withdrawn, or expired (past `open_to`, by the app's clock).
//!
//! The contact is the employer's office: a person's mobile number, an e-mail box named
//! by a number, or an ID number in any text is refused with the reason, so that nothing
//! personal reaches the public page (个人信息保护法 第二十八条).

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashSet;

use crate::db::audit::{self, AuditEntry};
use crate::db::employers::Employer;
use crate::db::positions::{self as repo, NewPosition, PositionRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::money::{format_money, from_fen, to_fen};
use crate::domain::{EmployerKind, Language, RegionCode, Said};
use crate::wire::{Fault, FieldError, Fields};

/// A position as its employer and the federation see it.
#[derive(Debug, Clone, Serialize)]
pub struct PositionView {
    /// Id.
    pub id: i64,
    /// Employer.
    pub uscc: String,
    /// Job title.
    pub title: String,
    /// How many people.
    pub openings: i32,
    /// County code of the workplace.
    pub county: String,
    /// Address of the workplace.
    pub address: String,
    /// What the job asks.
    pub requirements: String,
    /// The workplace's accessibility.
    pub accessibility: String,
    /// Monthly wage from.
    pub wage_min: String,
    /// Monthly wage to.
    pub wage_max: String,
    /// Open from.
    pub open_from: NaiveDate,
    /// Open to.
    pub open_to: NaiveDate,
    /// The office's phone.
    pub contact_phone: Option<String>,
    /// The office's e-mail.
    pub contact_email: Option<String>,
    /// `submitted`, `published`, `rejected`, `filled`, `withdrawn`, or `expired`
    /// (submitted or published, past `open_to`).
    pub status: String,
    /// The federation's note.
    pub review_note: Option<String>,
    /// True when filled by an employee of the roster (who is never shown).
    pub filled: bool,
}

/// The status as shown on `today`: an open position past its last day is expired.
pub fn shown_status(p: &PositionRow, today: NaiveDate) -> String {
    match p.status.as_str() {
        repo::SUBMITTED | repo::PUBLISHED if p.open_to < today => "expired".to_owned(),
        s => s.to_owned(),
    }
}

impl PositionView {
    /// The view of a row on `today`.
    pub fn of(p: &PositionRow, uscc: &str, today: NaiveDate) -> PositionView {
        PositionView {
            id: p.id,
            uscc: uscc.to_owned(),
            title: p.title.clone(),
            openings: p.openings,
            county: p.county.clone(),
            address: p.address.clone(),
            requirements: p.requirements.clone(),
            accessibility: p.accessibility.clone(),
            wage_min: format_money(from_fen(p.wage_min_fen)),
            wage_max: format_money(from_fen(p.wage_max_fen)),
            open_from: p.open_from,
            open_to: p.open_to,
            contact_phone: p.contact_phone.clone(),
            contact_email: p.contact_email.clone(),
            status: shown_status(p, today),
            review_note: p.review_note.clone(),
            filled: p.filled_roster_line_id.is_some(),
        }
    }
}

/// A published position as the public sees it: the job and the office to contact,
/// nothing about any person.
#[derive(Debug, Clone, Serialize)]
pub struct PublicPosition {
    /// Id.
    pub id: i64,
    /// Employer's name.
    pub employer: String,
    /// Employer's kind (API spelling).
    pub employer_kind: String,
    /// Job title.
    pub title: String,
    /// How many people.
    pub openings: i32,
    /// County code.
    pub county: String,
    /// Address.
    pub address: String,
    /// Requirements.
    pub requirements: String,
    /// Accessibility.
    pub accessibility: String,
    /// Monthly wage from.
    pub wage_min: String,
    /// Monthly wage to.
    pub wage_max: String,
    /// Open from.
    pub open_from: NaiveDate,
    /// Open to.
    pub open_to: NaiveDate,
    /// The office's phone.
    pub contact_phone: Option<String>,
    /// The office's e-mail.
    pub contact_email: Option<String>,
}

/// The published positions open on `today` in counties under `county_prefix`, of
/// employers of `kinds` (all when empty), public bodies first.
pub fn public_list(
    conn: &mut AnyConnection,
    county_prefix: &str,
    kinds: &[&str],
    today: NaiveDate,
) -> Result<Vec<PublicPosition>, DbError> {
    Ok(
        repo::listed(conn, repo::PUBLISHED, county_prefix, "", kinds, Some(today))?
            .into_iter()
            .map(|(_, name, kind, p)| PublicPosition {
                id: p.id,
                employer: name,
                employer_kind: kind,
                title: p.title,
                openings: p.openings,
                county: p.county,
                address: p.address,
                requirements: p.requirements,
                accessibility: p.accessibility,
                wage_min: format_money(from_fen(p.wage_min_fen)),
                wage_max: format_money(from_fen(p.wage_max_fen)),
                open_from: p.open_from,
                open_to: p.open_to,
                contact_phone: p.contact_phone,
                contact_email: p.contact_email,
            })
            .collect(),
    )
}

/// The positions awaiting review of employers under `region_prefix`.
pub fn pending(
    conn: &mut AnyConnection,
    region_prefix: &str,
    today: NaiveDate,
) -> Result<Vec<PositionView>, DbError> {
    Ok(
        repo::listed(conn, repo::SUBMITTED, "", region_prefix, &[], None)?
            .iter()
            .map(|(uscc, _, _, p)| PositionView::of(p, uscc, today))
            .collect(),
    )
}

/// The employers among `employer_ids` with a published position open on `today`: the
/// violator list and the employer facts show it beside "no disabled employee" of a
/// public body (docs/rules.md §8).
pub fn with_open_position(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    today: NaiveDate,
) -> Result<HashSet<i64>, DbError> {
    repo::with_open_position(conn, employer_ids, today)
}

/// Adds to a "no disabled employee" row of the violator list whether the body has an
/// open reserved position (岗位预留, 三政〔2016〕23号 §3(1)): the federation sees at once
/// who has not even reserved one.
pub fn note_on(row: Option<&mut crate::registry::violations::ViolationRow>, open: bool) {
    if let Some(r) = row {
        let (zh, en) = if open {
            (
                "；有开放中的残疾人预留岗位",
                "; has an open position reserved for disabled people",
            )
        } else {
            (
                "；无开放中的残疾人预留岗位",
                "; has no open position reserved for disabled people",
            )
        };
        r.why_zh.push_str(zh);
        r.why_en.push_str(en);
    }
}

/// Why a text must not be public: it holds an ID or certificate number (15 digits or
/// more) or a mobile number.
fn personal_in(text: &str) -> bool {
    let digits: Vec<String> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    crate::domain::ids::mask_numbers_in(text) != text || digits.iter().any(|d| is_mobile(d))
}

/// A mainland mobile number: 11 digits from 13 to 19.
fn is_mobile(d: &str) -> bool {
    d.len() == 11
        && d.starts_with('1')
        && d.as_bytes()
            .get(1)
            .is_some_and(|b| (b'3'..=b'9').contains(b))
}

/// An office phone: a landline with its area code (0xx-xxxxxxx, an extension allowed),
/// or a 400/800 service number. A mobile number is a person's, and refused.
fn check_phone(s: &str) -> Result<String, Said> {
    let main = s.split(['转', '#']).next().unwrap_or("");
    let digits: String = main.chars().filter(char::is_ascii_digit).collect();
    let only_marks = main
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+'));
    if is_mobile(digits.trim_start_matches("86")) {
        return Err(Said::new(
            "手机号码属于个人信息，不能公开；请填写单位的办公电话（区号-号码）",
            "a mobile number is a person's and must not be published: give the office's landline (area code and number)",
        ));
    }
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    let service = (digits.starts_with("400") || digits.starts_with("800")) && digits.len() == 10;
    if only_marks && (landline || service) {
        Ok(s.trim().to_owned())
    } else {
        Err(Said::new(
            "须为单位办公电话：区号加号码，如 0398-2912345，或 400/800 服务电话",
            "must be the office's phone: area code and number, e.g. 0398-2912345, or a 400/800 number",
        ))
    }
}

/// An office e-mail: a valid address whose mailbox is not a number (a QQ or mobile
/// number names a person).
fn check_office_email(s: &str) -> Result<String, Said> {
    let e = crate::wire::fields::check_email(s)
        .map_err(|_| Said::new("不是有效的电子邮件地址", "is not a valid e-mail address"))?;
    let local = e.split('@').next().unwrap_or("");
    if local.chars().all(|c| c.is_ascii_digit()) {
        return Err(Said::new(
            "以号码命名的邮箱（QQ、手机号）属于个人，请填写单位的办公邮箱",
            "a mailbox named by a number (QQ, mobile) is a person's: give the office's e-mail",
        ));
    }
    Ok(e)
}

/// A position's fields as checked.
#[derive(Debug, Clone)]
pub struct PositionInput {
    title: String,
    openings: i32,
    county: String,
    address: String,
    requirements: String,
    accessibility: String,
    wage_min_fen: i64,
    wage_max_fen: i64,
    open_from: NaiveDate,
    open_to: NaiveDate,
    contact_phone: Option<String>,
    contact_email: Option<String>,
}

/// The keys of a position's body.
pub const KEYS: [&str; 12] = [
    "title",
    "openings",
    "county",
    "address",
    "requirements",
    "accessibility",
    "wage_min",
    "wage_max",
    "open_from",
    "open_to",
    "contact_phone",
    "contact_email",
];

/// Reads a position's body, refused whole with every field at fault: lengths, a county
/// code, a wage range, dates in order, the office's contact (a phone or an e-mail), and
/// no personal data in any text.
pub fn parse(body: &Value, lang: Language) -> Result<PositionInput, Vec<FieldError>> {
    let mut f = Fields::new(body, &KEYS, lang)?;
    let mut own: Vec<FieldError> = Vec::new();
    let said = |own: &mut Vec<FieldError>, key: &str, code: &'static str, s: Said| {
        own.push(FieldError {
            pointer: format!("/{key}"),
            code,
            message: s.get(lang).to_owned(),
        })
    };
    let text = |f: &mut Fields<'_>, key: &str, max: usize, required: bool| {
        let v = f.text(key, required);
        if v.as_ref().is_some_and(|t| t.chars().count() > max) {
            f.fail(key, Fault::TooLong { max });
            return None;
        }
        v
    };
    let title = text(&mut f, "title", 100, true);
    let address = text(&mut f, "address", 200, true);
    let requirements = text(&mut f, "requirements", 1000, true);
    let accessibility = text(&mut f, "accessibility", 500, true);
    for (k, v) in [
        ("title", &title),
        ("address", &address),
        ("requirements", &requirements),
        ("accessibility", &accessibility),
    ] {
        if v.as_deref().is_some_and(personal_in) {
            said(
                &mut own,
                k,
                "personal_data",
                Said::new(
                    "不得包含身份证号、残疾人证号或手机号码等个人信息",
                    "must not hold personal data: no ID, certificate or mobile numbers",
                ),
            );
        }
    }
    let openings = f.int("openings", true, 1, 1000);
    let county = f.parsed("county", true, |s| {
        s.parse::<RegionCode>()
            .map(|r| r.as_str().to_owned())
            .map_err(|_| Fault::Region)
    });
    let wage = |f: &mut Fields<'_>, key: &str| {
        let s = f.string(key, true)?;
        match s
            .parse::<Decimal>()
            .ok()
            .filter(|d| *d > Decimal::ZERO)
            .and_then(to_fen)
        {
            Some(fen) if fen <= 100_000_000 => Some(fen),
            _ => {
                f.fail(key, Fault::NotPositiveMoney);
                None
            }
        }
    };
    let wage_min = wage(&mut f, "wage_min");
    let wage_max = wage(&mut f, "wage_max");
    if let (Some(a), Some(b)) = (wage_min, wage_max) {
        if a > b {
            said(
                &mut own,
                "wage_max",
                "out_of_range",
                Said::new("不得低于最低工资", "must not be below wage_min"),
            );
        }
    }
    let open_from = f.date("open_from", true);
    let open_to = f.date("open_to", true);
    if let (Some(a), Some(b)) = (open_from, open_to) {
        if b < a || (b - a).num_days() > 366 {
            said(
                &mut own,
                "open_to",
                "out_of_range",
                Said::new(
                    "须不早于开始日期，且开放期不超过一年",
                    "must be on or after open_from, and open for at most a year",
                ),
            );
        }
    }
    let phone = f.string("contact_phone", false).filter(|s| !s.is_empty());
    let email = f.string("contact_email", false).filter(|s| !s.is_empty());
    let phone = phone.and_then(|p| match check_phone(&p) {
        Ok(p) => Some(p),
        Err(s) => {
            said(&mut own, "contact_phone", "personal_contact", s);
            None
        }
    });
    let email = email.and_then(|e| match check_office_email(&e) {
        Ok(e) => Some(e),
        Err(s) => {
            said(&mut own, "contact_email", "personal_contact", s);
            None
        }
    });
    let contact_missing = phone.is_none()
        && email.is_none()
        && !own.iter().any(|e| e.pointer.starts_with("/contact_"));
    if contact_missing {
        said(
            &mut own,
            "contact_phone",
            "required",
            Said::new(
                "请填写单位办公电话或办公邮箱（至少一项）",
                "give the office's phone or e-mail (at least one)",
            ),
        );
    }
    let mut errors = f.errors().to_vec();
    errors.extend(own);
    match (
        title,
        openings,
        county,
        address,
        requirements,
        accessibility,
        wage_min,
        wage_max,
        open_from,
        open_to,
    ) {
        (
            Some(t),
            Some(n),
            Some(c),
            Some(a),
            Some(r),
            Some(x),
            Some(w0),
            Some(w1),
            Some(d0),
            Some(d1),
        ) if errors.is_empty() => Ok(PositionInput {
            title: t,
            openings: i32::try_from(n).unwrap_or(1),
            county: c,
            address: a,
            requirements: r,
            accessibility: x,
            wage_min_fen: w0,
            wage_max_fen: w1,
            open_from: d0,
            open_to: d1,
            contact_phone: phone,
            contact_email: email,
        }),
        _ => Err(errors),
    }
}

/// Why a position change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PositionError {
    /// No such position (of this employer).
    #[error("{0}")]
    NotFound(Said),
    /// Its state forbids it.
    #[error("{0}")]
    Conflict(Said),
    /// A field at fault: pointer, why.
    #[error("{1}")]
    Field(String, Said),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for PositionError {
    fn from(e: diesel::result::Error) -> Self {
        PositionError::Db(DbError::Query(e))
    }
}

fn audit_view(p: &PositionRow) -> Value {
    json!({"title": p.title, "openings": p.openings, "county": p.county,
           "open_from": p.open_from, "open_to": p.open_to, "status": p.status,
           "filled": p.filled_roster_line_id.is_some()})
}

/// Registers a position of `employer`, to be reviewed.
pub fn create(
    conn: &mut AnyConnection,
    employer: &Employer,
    p: &PositionInput,
    actor: &str,
    request_id: Option<&str>,
) -> Result<PositionRow, PositionError> {
    crate::db::write_transaction(conn, |c| {
        let now = Utc::now().naive_utc();
        let id = repo::insert(
            c,
            &NewPosition {
                employer_id: employer.id,
                title: p.title.clone(),
                openings: p.openings,
                county: p.county.clone(),
                address: p.address.clone(),
                requirements: p.requirements.clone(),
                accessibility: p.accessibility.clone(),
                wage_min_fen: p.wage_min_fen,
                wage_max_fen: p.wage_max_fen,
                open_from: p.open_from,
                open_to: p.open_to,
                contact_phone: p.contact_phone.clone(),
                contact_email: p.contact_email.clone(),
                status: repo::SUBMITTED.to_owned(),
                created_by: actor.to_owned(),
                created_at: now,
                updated_at: now,
            },
        )?;
        let row = repo::by_id(c, id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "position.create",
                entity_type: "reserved_position",
                entity_id: &format!("{}/{}", employer.uscc, id),
                before: None,
                after: Some(audit_view(&row)),
                request_id,
            },
        )?;
        Ok(row)
    })
}

/// How a position changes.
#[derive(Debug, Clone)]
pub enum Change {
    /// The federation publishes it.
    Publish,
    /// The federation rejects it, saying why.
    Reject(String),
    /// Filled by the person of roster line `line_no` of the declaration for `levy_year`.
    Filled {
        /// Levy year of the declaration.
        levy_year: i32,
        /// The roster line.
        line_no: i32,
    },
    /// Withdrawn by the employer.
    Withdraw,
}

/// Applies `change` to position `id` (of `employer`, when given: an employer changes
/// its own only), on `today`.
pub fn change(
    conn: &mut AnyConnection,
    id: i64,
    employer: Option<&Employer>,
    change: &Change,
    today: NaiveDate,
    actor: &str,
    request_id: Option<&str>,
) -> Result<PositionRow, PositionError> {
    crate::db::write_transaction(conn, |c| {
        let none = || {
            PositionError::NotFound(Said::new(
                "没有该岗位（或您无权查看）",
                "no such position (or not one you may see)",
            ))
        };
        let before = repo::by_id(c, id)?.ok_or_else(none)?;
        if employer.is_some_and(|e| e.id != before.employer_id) {
            return Err(none());
        }
        let status = shown_status(&before, today);
        let allowed = match change {
            Change::Publish | Change::Reject(_) => status == repo::SUBMITTED,
            Change::Filled { .. } | Change::Withdraw => {
                status == repo::SUBMITTED || status == repo::PUBLISHED
            }
        };
        if !allowed {
            return Err(PositionError::Conflict(Said::new(
                format!("该岗位当前状态为 {status}，不能这样变更"),
                format!("the position is {status}: it cannot change so"),
            )));
        }
        let filled = match change {
            Change::Filled { levy_year, line_no } => Some(
                repo::roster_line(c, before.employer_id, *levy_year, *line_no)?.ok_or_else(
                    || {
                        PositionError::Field(
                            "/line_no".to_owned(),
                            Said::new(
                                "该年度申报的残疾职工名单中没有这一行",
                                "no such line on the roster of that year's declaration",
                            ),
                        )
                    },
                )?,
            ),
            _ => None,
        };
        let (new_status, note, action) = match change {
            Change::Publish => (repo::PUBLISHED, None, "position.publish"),
            Change::Reject(n) => (repo::REJECTED, Some(n.as_str()), "position.reject"),
            Change::Filled { .. } => (repo::FILLED, None, "position.fill"),
            Change::Withdraw => (repo::WITHDRAWN, None, "position.withdraw"),
        };
        let now = Utc::now().naive_utc();
        repo::set_status(
            c,
            id,
            new_status,
            note.or(before.review_note.as_deref()),
            filled.as_ref().map(|(i, h)| (*i, h.as_str())),
            now,
        )?;
        let after = repo::by_id(c, id)?.ok_or_else(none)?;
        let uscc = crate::db::employers::by_id(c, after.employer_id)?
            .map(|e| e.uscc)
            .unwrap_or_default();
        audit::record(
            c,
            AuditEntry {
                actor,
                action,
                entity_type: "reserved_position",
                entity_id: &format!("{uscc}/{id}"),
                before: Some(audit_view(&before)),
                after: Some(audit_view(&after)),
                request_id,
            },
        )?;
        Ok(after)
    })
}

/// Queues the "please reserve a position" mail of every public body under
/// `region_prefix` whose assessment of `levy_year` counts no disabled employee and that
/// has no position reserved on `today` (published and open, or awaiting review: as the
/// reminder planner reads it), once a year each; returns how many were queued.
pub fn remind_public_bodies(
    conn: &mut AnyConnection,
    templates: &crate::mail::template::Templates,
    levy_year: i32,
    region_prefix: &str,
    today: NaiveDate,
) -> Result<usize, DbError> {
    crate::db::write_transaction(conn, |c| {
        let bodies = repo::public_bodies_without_disabled(c, levy_year, region_prefix)?;
        let ids: Vec<i64> = bodies.iter().map(|e| e.id).collect();
        let open = repo::reserved_among(c, &ids, today)?;
        let mut queued = 0;
        for e in bodies.iter().filter(|e| !open.contains(&e.id)) {
            let mail = crate::mail::plan::reserve_position(templates, e, levy_year)
                .map_err(|err| DbError::Task(err.to_string()))?;
            if let Some(m) = mail {
                if crate::db::outbox::enqueue(c, &m)? {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    })
}

/// The kinds of public body that must lead (docs/rules.md §8).
pub fn is_public_body(kind: &str) -> bool {
    matches!(
        kind.parse::<EmployerKind>(),
        Ok(EmployerKind::GovernmentAgency | EmployerKind::PublicInstitution)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_contacts_only() {
        assert!(check_phone("0398-2912345").is_ok());
        assert!(check_phone("(0398) 2912345转 801").is_ok());
        assert!(check_phone("400-123-4567").is_ok());
        assert!(check_phone("13800138000").is_err());
        assert!(check_phone("+86 138 0013 8000").is_err());
        assert!(check_office_email("rsc@smx.gov.cn").is_ok());
        assert!(check_office_email("12345678@qq.com").is_err());
        assert!(personal_in("联系王先生 13800138000"));
        assert!(personal_in("证号 11010519491231002X42"));
        assert!(!personal_in("每周工作 5 天，8:30-17:30"));
    }
}
