//! A published notice and its objection register, `GET /federation/notices/{id}`:
//! objections recorded (`POST …/objections`), decided (`POST /federation/objections/
//! {id}/decide`), and the correcting notice that answers the upheld ones (`POST
//! …/correction`). Who objected is shown here, to officers of the notice's region, and
//! nowhere public.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use super::{china_time, layout, officer, ok_page, said, FormData, Nav};
use crate::auth::region_covers;
use crate::db::notices::NoticeRow;
use crate::db::objections::{self as repo, Objection, OPEN, REJECTED, UPHELD};
use crate::domain::{Language, RegionCode};
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::Layout;
use crate::http::AppState;
use crate::mail::Templates;
use crate::registry::notices::{plan_mails_now, NoticeContent, NoticeMail, DEFAULT_OBJECTION_DAYS};
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
    let content: NoticeContent = crate::registry::notices::head_of(&row)
        .map_err(|e| crate::http::problem::AppError::Internal(format!("stored notice: {e}")))?;
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
    ok_page(&RegisterView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "notices"),
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
            .map(|o| objection_view(&s, o, &entries))
            .collect(),
        choices,
        today: state.clock.today().to_string(),
        record_action: s.link(&format!("/federation/notices/{id}/objections")),
        correction_action: s.link(&format!("/federation/notices/{id}/correction")),
        to_answer,
        days: DEFAULT_OBJECTION_DAYS,
        back: s.link("/federation/notices"),
    })
}

/// An objection refused, as a page.
fn refused(s: &SignedIn, e: ObjectionError, back: &str) -> Result<HttpResponse, PageRefusal> {
    let lang = s.lang;
    let (status, text) = match e {
        ObjectionError::NotFound => return Err(s.not_found()),
        ObjectionError::Field(field, m) => {
            let name = match field {
                "objector" => lang.pick("异议人", "Objector"),
                "claim" => lang.pick("异议内容", "Claim"),
                "received_on" => lang.pick("收到日期", "Date received"),
                "entry_uscc" => lang.pick("所涉单位", "Employer concerned"),
                _ => lang.pick("说明", "Note"),
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{name}{}{}", lang.pick("：", ": "), m.get(lang)),
            )
        }
        ObjectionError::Conflict(m) => (StatusCode::CONFLICT, m.get(lang).to_owned()),
        ObjectionError::Publish(crate::registry::notices::PublishError::Conflict(m)) => {
            (StatusCode::CONFLICT, m.get(lang).to_owned())
        }
        ObjectionError::Publish(crate::registry::notices::PublishError::Field(_, m)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, m)
        }
        ObjectionError::Publish(other) => {
            return Err(crate::http::problem::AppError::from(other).into())
        }
        ObjectionError::Db(e) => return Err(e.into()),
    };
    said(s, status, ("未完成", "Not done"), text, back)
}

#[post("/federation/notices/{id}/objections")]
async fn record(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let id = path.into_inner();
    let back = format!("/federation/notices/{id}");
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link(&back))?);
    }
    notice_in_scope(&state, &s, id).await?;
    let Some(received_on) = form
        .get("received_on")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return refused(
            &s,
            ObjectionError::Field(
                "received_on",
                crate::domain::Said::new("须为日期（年-月-日）", "must be a date YYYY-MM-DD"),
            ),
            &back,
        );
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
    match result {
        Ok(_) => Ok(see_other(&s.link(&back), &[])),
        Err(e) => refused(&s, e, &back),
    }
}

#[post("/federation/objections/{id}/decide")]
async fn decide(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let oid = path.into_inner();
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation/notices"))?);
    }
    let o = state
        .db
        .run(move |c| repo::by_id(c, oid))
        .await?
        .ok_or_else(|| s.not_found())?;
    notice_in_scope(&state, &s, o.notice_id).await?;
    let back = format!("/federation/notices/{}", o.notice_id);
    let upheld = match form.get("decision") {
        Some(UPHELD) => true,
        Some(REJECTED) => false,
        _ => {
            return refused(
                &s,
                ObjectionError::Field(
                    "decision",
                    crate::domain::Said::new("请选择成立或不成立", "choose upheld or rejected"),
                ),
                &back,
            )
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
    match result {
        Ok(_) => Ok(see_other(&s.link(&back), &[])),
        Err(e) => refused(&s, e, &back),
    }
}

#[post("/federation/notices/{id}/correction")]
async fn correction(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let id = path.into_inner();
    let back = format!("/federation/notices/{id}");
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link(&back))?);
    }
    notice_in_scope(&state, &s, id).await?;
    let days = form
        .get("objection_days")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| (1..=crate::registry::notices::MAX_OBJECTION_DAYS).contains(d))
        .unwrap_or(DEFAULT_OBJECTION_DAYS);
    let note = form.get("note").unwrap_or_default().to_owned();
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| crate::http::problem::AppError::Internal(format!("mail templates: {e}")))?;
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
    match result {
        Ok((p, _)) => Ok(see_other(
            &s.link(&format!("/federation/notices/{}", p.row.id)),
            &[],
        )),
        Err(e) => refused(&s, e, &back),
    }
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(register_page)
        .service(record)
        .service(decide)
        .service(correction);
}
