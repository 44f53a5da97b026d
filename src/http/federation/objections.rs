//! A published notice and its objection register, `GET /federation/notices/{id}`:
//! objections recorded (`POST …/objections`), decided (`POST /federation/objections/
//! {id}/decide`), and the correcting notice that answers the upheld ones (`POST
//! …/correction`). Who objected is shown here, to officers of the notice's region, and
//! nowhere public.

use std::borrow::Borrow;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use super::{china_time, layout, officer, FormData, Nav};
use crate::auth::region_covers;
use crate::db::notices::NoticeRow;
use crate::db::objections::{self as repo, Objection, OPEN, REJECTED, UPHELD};
use crate::domain::{Language, RegionCode, Said};
use crate::http::page_kit::{forged, page, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::mail::Templates;
use crate::registry::notices::{
    plan_mails_now, NoticeContent, NoticeMail, PublishError, DEFAULT_OBJECTION_DAYS,
};
use crate::registry::objections::{self as registry, Correction, NewClaim, ObjectionError};

/// One objection on the register.
struct ObjectionView {
    id: i64,
    entry: String,
    objector: String,
    received_on: String,
    claim: String,
    status: String,
    open: bool,
    note: String,
    handled: String,
    answered_by: Option<i64>,
    decide_action: String,
    /// Its decision form, for the draft of a refused one.
    form: FormOf,
}

#[derive(Template)]
#[template(path = "pages/federation/register.html")]
struct RegisterView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    id: i64,
    title: String,
    region: String,
    levy_year: i32,
    published_on: String,
    objection_until: String,
    corrects: Option<i64>,
    superseded_by: Option<i64>,
    public_href: String,
    /// The employers to choose from, when the notice is short enough for a list; else
    /// the USCC is typed.
    choices: Option<Vec<(String, String)>>,
    objections: Vec<ObjectionView>,
    today: String,
    record_action: String,
    correction_action: String,
    to_answer: Vec<i64>,
    days: i64,
    back: String,
    draft: Draft,
    record_form: FormOf,
    correction_form: FormOf,
}

/// Which form of the register a draft belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum FormOf {
    /// None: the register as it stands.
    #[default]
    Nothing,
    /// The new objection.
    Record,
    /// The decision on objection `id`.
    Decide(i64),
    /// The correcting notice.
    Correction,
}

/// What a refused form of the register shows again: the values as the officer typed
/// them (so a refusal loses nothing), the fault beside its field or, when the state
/// refused it, above the forms.
#[derive(Debug, Default)]
struct Draft {
    form: FormOf,
    values: Vec<(&'static str, String)>,
    /// The field at fault and why, in the page's language.
    error: Option<(&'static str, String)>,
    /// A refusal of no one field (the objection was decided meanwhile…).
    message: Option<String>,
}

impl Draft {
    /// The fields `names` of `form` as sent.
    fn of(form: FormOf, sent: &FormData, names: &[&'static str]) -> Draft {
        Draft {
            form,
            values: names
                .iter()
                .map(|n| (*n, sent.get(n).unwrap_or_default().to_owned()))
                .collect(),
            ..Draft::default()
        }
    }

    fn mine(&self, form: FormOf) -> bool {
        self.form == form && self.form != FormOf::Nothing
    }

    /// The value typed into `field` of `form`, when it is this draft's.
    fn value(&self, form: impl Borrow<FormOf>, field: &str) -> Option<&str> {
        if !self.mine(*form.borrow()) {
            return None;
        }
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The fault of `field` of `form`.
    fn err(&self, form: impl Borrow<FormOf>, field: &str) -> Option<&str> {
        match &self.error {
            Some((f, m)) if self.mine(*form.borrow()) && *f == field => Some(m.as_str()),
            _ => None,
        }
    }

    /// True when the draft is of `form` and sent `field` as `value` (a radio).
    fn is(&self, form: impl Borrow<FormOf>, field: &str, value: &str) -> bool {
        self.value(form, field) == Some(value)
    }

    /// True when the page answers a refused form.
    fn refused(&self) -> bool {
        self.error.is_some() || self.message.is_some()
    }
}

fn status_label(lang: Language, status: &str) -> &'static str {
    match status {
        OPEN => lang.pick("待处理", "open"),
        UPHELD => lang.pick("成立", "upheld"),
        REJECTED => lang.pick("不成立", "rejected"),
        _ => lang.pick("未知", "unknown"),
    }
}

/// The most employers the register lists to choose from; past that the officer types
/// the USCC (the public notice's search finds it by name).
const CHOICES_LISTED: usize = 500;

/// The notice if it is of the officer's region, else a 404 page.
async fn notice_in_scope(
    state: &AppState,
    s: &SignedIn,
    id: i64,
) -> Result<NoticeRow, PageRefusal> {
    let row = state
        .db
        .run(move |c| crate::db::notices::by_id(c, id))
        .await?
        .ok_or_else(|| s.not_found())?;
    let covered = match (&s.who().region, row.region.parse::<RegionCode>()) {
        (None, _) => true,
        (Some(scope), Ok(r)) => region_covers(scope, &r),
        (Some(_), Err(_)) => false,
    };
    if covered {
        Ok(row)
    } else {
        Err(s.not_found())
    }
}

fn objection_view(s: &SignedIn, o: &Objection, names: &[(String, String)]) -> ObjectionView {
    let entry = names
        .iter()
        .find(|(u, _)| *u == o.entry_uscc)
        .map(|(u, n)| format!("{n}（{u}）"))
        .unwrap_or_else(|| o.entry_uscc.clone());
    ObjectionView {
        id: o.id,
        entry,
        objector: o.objector.clone(),
        received_on: o.received_on.to_string(),
        claim: o.claim.clone(),
        status: status_label(s.lang, &o.status).to_owned(),
        open: o.status == OPEN,
        note: o.handling_note.clone().unwrap_or_default(),
        handled: match (&o.handled_by, o.handled_at) {
            (Some(by), Some(at)) => format!("{by} · {}", china_time(at)),
            _ => String::new(),
        },
        answered_by: o.answered_by,
        decide_action: s.link(&format!("/federation/objections/{}/decide", o.id)),
        form: FormOf::Decide(o.id),
    }
}

#[get("/federation/notices/{id}")]
async fn register_page(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let id = path.into_inner();
    let row = notice_in_scope(&state, &s, id).await?;
    register(&state, &s, row, Draft::default(), StatusCode::OK).await
}

/// The register of notice `row`, a refused form shown again as `draft` left it.
async fn register(
    state: &AppState,
    s: &SignedIn,
    row: NoticeRow,
    draft: Draft,
    status: StatusCode,
) -> Result<HttpResponse, PageRefusal> {
    let id = row.id;
    let content: NoticeContent = crate::registry::notices::head_of(&row)
        .map_err(|e| AppError::Internal(format!("stored notice: {e}")))?;
    let row2 = row.clone();
    let (objections, superseded_by, entries) = state
        .db
        .run(move |c| {
            let objections = repo::for_notice(c, id)?;
            // Only the employers objected about are named: a notice may list a million.
            let mut usccs: Vec<String> = objections.iter().map(|o| o.entry_uscc.clone()).collect();
            usccs.sort();
            usccs.dedup();
            let entries = crate::registry::notices::entries_in(c, &row2, &usccs)?;
            let mut choices = None;
            if usize::try_from(row2.entries).unwrap_or(usize::MAX) <= CHOICES_LISTED {
                let mut all = Vec::new();
                crate::registry::notices::for_each_entry(c, &row2, &mut |_, es| {
                    all.extend(es.iter().map(|e| (e.uscc.clone(), e.name.clone())));
                    Ok(())
                })?;
                choices = Some(all);
            }
            Ok((
                objections,
                crate::db::notices::successor_of(c, id)?,
                (entries, choices),
            ))
        })
        .await?;
    let (entries, choices) = entries;
    let entries: Vec<(String, String)> = entries.into_iter().map(|e| (e.uscc, e.name)).collect();
    let to_answer = registry::unanswered_upheld(&objections)
        .iter()
        .map(|o| o.id)
        .collect();
    let view = RegisterView {
        layout: layout(s.lang),
        nav: Nav::new(s, "notices"),
        csrf: s.csrf().to_owned(),
        id,
        title: content.title.clone(),
        region: row.region.clone(),
        levy_year: row.levy_year,
        published_on: row.published_on.to_string(),
        objection_until: row.objection_until.to_string(),
        corrects: row.replaces_id,
        superseded_by,
        public_href: s.link(&format!("/notices/{id}")),
        objections: objections
            .iter()
            .map(|o| objection_view(s, o, &entries))
            .collect(),
        choices,
        today: state.clock.today().to_string(),
        record_action: s.link(&format!("/federation/notices/{id}/objections")),
        correction_action: s.link(&format!("/federation/notices/{id}/correction")),
        to_answer,
        days: DEFAULT_OBJECTION_DAYS,
        back: s.link("/federation/notices"),
        draft,
        record_form: FormOf::Record,
        correction_form: FormOf::Correction,
    };
    Ok(page(status, render(&view)?, &[]))
}

/// The name of `field` of `form` as its label says it.
fn field_name(lang: Language, form: FormOf, field: &str) -> &'static str {
    match (form, field) {
        (_, "objector") => lang.pick("异议人", "Objector"),
        (_, "claim") => lang.pick("异议内容", "Claim"),
        (_, "received_on") => lang.pick("收到日期", "Date received"),
        (_, "entry_uscc") => lang.pick("所涉单位", "Employer concerned"),
        (_, "decision") => lang.pick("处理决定", "Decision"),
        (_, "objection_days") => lang.pick("异议期", "Objection period"),
        (FormOf::Correction, _) => lang.pick("更正说明", "What was corrected"),
        _ => lang.pick("处理意见", "Handling note"),
    }
}

/// A refused form: the register again with the draft, the fault beside its field (422)
/// or, when the state refused it, above the forms (409). Nothing was written: the
/// registry checks before it writes, and writes in one transaction.
async fn refused(
    state: &AppState,
    s: &SignedIn,
    notice: NoticeRow,
    mut draft: Draft,
    e: ObjectionError,
) -> Result<HttpResponse, PageRefusal> {
    let lang = s.lang;
    let status = match e {
        ObjectionError::NotFound => return Err(s.not_found()),
        ObjectionError::Field(field, m) => {
            let name = field_name(lang, draft.form, field);
            let text = format!("{name}{}{}", lang.pick("：", ": "), m.get(lang));
            draft.error = Some((field, text));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ObjectionError::Conflict(m) | ObjectionError::Publish(PublishError::Conflict(m)) => {
            draft.message = Some(m.get(lang).to_owned());
            StatusCode::CONFLICT
        }
        ObjectionError::Publish(PublishError::Field(_, m)) => {
            draft.message = Some(m);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ObjectionError::Publish(other) => return Err(AppError::from(other).into()),
        ObjectionError::Db(e) => return Err(e.into()),
    };
    register(state, s, notice, draft, status).await
}

/// The fields of a form POST, after the officer's role and the form's token: `Err` is
/// the answer to a forged form (403, nothing changed).
fn posted(
    s: &SignedIn,
    body: &[u8],
    back: &str,
) -> Result<Result<FormData, HttpResponse>, PageRefusal> {
    officer(s)?;
    let form = FormData::parse(body);
    if s.form_ok(form.csrf()) {
        Ok(Ok(form))
    } else {
        Ok(Err(forged(s.lang, s.link(back))?))
    }
}

/// The fields of a form POST on the register of notice `id`, and the notice if it is
/// of the officer's region: `Err` is the answer to a forged form.
async fn posted_on(
    state: &AppState,
    s: &SignedIn,
    body: &[u8],
    id: i64,
) -> Result<Result<(FormData, NoticeRow), HttpResponse>, PageRefusal> {
    let form = match posted(s, body, &format!("/federation/notices/{id}"))? {
        Ok(f) => f,
        Err(forged) => return Ok(Err(forged)),
    };
    Ok(Ok((form, notice_in_scope(state, s, id).await?)))
}

/// The answer to a form the registry was given: 303 to the register of notice
/// `shown(done)` when it was written, else the register again with the draft.
async fn answered<T>(
    state: &AppState,
    s: &SignedIn,
    notice: NoticeRow,
    draft: Draft,
    result: Result<T, ObjectionError>,
    shown: impl FnOnce(T) -> i64,
) -> Result<HttpResponse, PageRefusal> {
    match result {
        Ok(done) => Ok(see_other(
            &s.link(&format!("/federation/notices/{}", shown(done))),
            &[],
        )),
        Err(e) => refused(state, s, notice, draft, e).await,
    }
}

#[post("/federation/notices/{id}/objections")]
async fn record(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let id = path.into_inner();
    let (form, notice) = match posted_on(&state, &s, &body, id).await? {
        Ok(posted) => posted,
        Err(forged) => return Ok(forged),
    };
    let fields = ["entry_uscc", "objector", "received_on", "claim"];
    let draft = Draft::of(FormOf::Record, &form, &fields);
    let Some(received_on) = form
        .get("received_on")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        let e = ObjectionError::Field(
            "received_on",
            Said::new("须为日期（年-月-日）", "must be a date YYYY-MM-DD"),
        );
        return refused(&state, &s, notice, draft, e).await;
    };
    let (entry, objector, claim) = (
        form.get("entry_uscc").unwrap_or_default().to_owned(),
        form.get("objector").unwrap_or_default().to_owned(),
        form.get("claim").unwrap_or_default().to_owned(),
    );
    let (audit, today) = (s.audit(), state.clock.today());
    let result = state
        .db
        .run(move |c| {
            Ok(registry::record(
                c,
                &NewClaim {
                    notice_id: id,
                    entry_uscc: &entry,
                    objector: &objector,
                    received_on,
                    claim: &claim,
                },
                today,
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    answered(&state, &s, notice, draft, result, |_| id).await
}

#[post("/federation/objections/{id}/decide")]
async fn decide(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let oid = path.into_inner();
    let form = match posted(&s, &body, "/federation/notices")? {
        Ok(f) => f,
        Err(forged) => return Ok(forged),
    };
    let o = state
        .db
        .run(move |c| repo::by_id(c, oid))
        .await?
        .ok_or_else(|| s.not_found())?;
    let notice = notice_in_scope(&state, &s, o.notice_id).await?;
    let draft = Draft::of(FormOf::Decide(oid), &form, &["decision", "note"]);
    let upheld = match form.get("decision") {
        Some(UPHELD) => true,
        Some(REJECTED) => false,
        _ => {
            let e = ObjectionError::Field(
                "decision",
                Said::new("请选择成立或不成立", "choose upheld or rejected"),
            );
            return refused(&state, &s, notice, draft, e).await;
        }
    };
    let note = form.get("note").unwrap_or_default().to_owned();
    let audit = s.audit();
    let result = state
        .db
        .run(move |c| {
            Ok(registry::decide(
                c,
                oid,
                upheld,
                &note,
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    let id = notice.id;
    answered(&state, &s, notice, draft, result, |_| id).await
}

#[post("/federation/notices/{id}/correction")]
async fn correction(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let id = path.into_inner();
    let (form, notice) = match posted_on(&state, &s, &body, id).await? {
        Ok(posted) => posted,
        Err(forged) => return Ok(forged),
    };
    let draft = Draft::of(FormOf::Correction, &form, &["note", "objection_days"]);
    let max = crate::registry::notices::MAX_OBJECTION_DAYS;
    let days = match form.get("objection_days").map(str::parse::<i64>) {
        None => DEFAULT_OBJECTION_DAYS,
        Some(Ok(d)) if (1..=max).contains(&d) => d,
        Some(_) => {
            let e = ObjectionError::Field(
                "objection_days",
                Said::new(
                    format!("须为 1 至 {max} 的整数（天）"),
                    format!("must be a whole number of days from 1 to {max}"),
                ),
            );
            return refused(&state, &s, notice, draft, e).await;
        }
    };
    let note = form.get("note").unwrap_or_default().to_owned();
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| AppError::Internal(format!("mail templates: {e}")))?;
    let audit = s.audit();
    let result = state
        .call(move |c, st| {
            let mail = NoticeMail {
                templates: &templates,
            };
            let corrected = registry::correct(
                c,
                &st.book,
                &st.settings.notices,
                &Correction {
                    notice_id: id,
                    note: &note,
                    objection_days: days,
                    today: st.clock.today(),
                },
                Some(&mail),
                &audit.actor,
                audit.rid(),
            );
            if let Ok((p, _)) = &corrected {
                plan_mails_now(c, &st.book, &templates, p.row.id);
            }
            Ok::<_, crate::db::DbError>(corrected)
        })
        .await?;
    answered(&state, &s, notice, draft, result, |(p, _)| p.row.id).await
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(register_page)
        .service(record)
        .service(decide)
        .service(correction);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_shows_its_values_and_fault_on_its_own_form_only() {
        let sent = FormData::parse(b"note=%E5%B7%B2%E6%A0%B8&decision=upheld");
        let mut d = Draft::of(FormOf::Decide(3), &sent, &["decision", "note"]);
        d.error = Some(("note", "处理意见：必须填写".into()));
        assert_eq!(d.value(FormOf::Decide(3), "note"), Some("已核"));
        assert!(d.is(FormOf::Decide(3), "decision", "upheld"));
        assert!(!d.is(FormOf::Decide(3), "decision", "rejected"));
        assert_eq!(d.value(FormOf::Decide(4), "note"), None);
        assert_eq!(d.err(FormOf::Decide(3), "note"), Some("处理意见：必须填写"));
        assert_eq!(d.err(FormOf::Decide(3), "decision"), None);
        assert_eq!(d.err(FormOf::Correction, "note"), None);
        assert!(d.refused());
        assert!(!Draft::default().refused());
        assert_eq!(Draft::default().value(FormOf::Nothing, "note"), None);
    }
}
