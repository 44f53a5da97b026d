//! `GET /federation/positions`: the reserved positions (岗位预留) of the officer's region
//! awaiting review, each with its form: publish it, or reject it with a reason
//! (`POST /federation/positions/{id}/review`, the API's `registry::positions::change`).
//! A rejection without a reason is refused beside the reason's field, nothing written.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{layout, officer, prefix_of, FormData, Nav};
use crate::db::positions::{self as repo, SUBMITTED};
use crate::domain::EmployerKind;
use crate::http::page_kit::{forged, page, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::registry::positions::{change, Change, PositionError, PositionView};

/// The longest reason kept (as the API's free texts).
const MAX_NOTE: usize = 500;

/// One position on the page, with its form's state after a refused POST.
struct Item {
    p: PositionView,
    employer: String,
    kind: String,
    /// Still to be reviewed (not past its last day).
    reviewable: bool,
    note: String,
    note_error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/federation/positions.html")]
struct PositionsView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    items: Vec<Item>,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    done: Option<String>,
}

/// A refused form of one position: its id, the reason typed and why refused.
struct Refused {
    id: i64,
    note: String,
    note_error: Option<String>,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    s: &SignedIn,
    message: Option<String>,
    refused: Option<Refused>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(s)?.clone();
    let prefix = prefix_of(&who);
    let today = state.clock.today();
    let rows = state
        .call(move |c, _| repo::listed(c, SUBMITTED, "", &prefix, &[], None))
        .await?;
    let lang = s.lang;
    let items = rows
        .iter()
        .map(|(uscc, name, kind, row)| {
            let p = PositionView::of(row, uscc, today);
            let mine = refused.as_ref().filter(|r| r.id == row.id);
            Item {
                reviewable: p.status == SUBMITTED,
                employer: name.clone(),
                kind: EmployerKind::name_of(kind, lang),
                note: mine.map(|r| r.note.clone()).unwrap_or_default(),
                note_error: mine.and_then(|r| r.note_error.clone()),
                p,
            }
        })
        .collect();
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = PositionsView {
        layout: layout(lang),
        nav: Nav::new(s, "positions"),
        csrf: s.csrf().to_owned(),
        items,
        message,
        error: refused.and_then(|r| r.error),
    };
    Ok(page(status, render(&view)?, &[]))
}

#[get("/federation/positions")]
async fn queue(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let message = match q.done.as_deref() {
        Some("publish") => Some(s.lang.pick(
            "岗位已发布，开放期内公开显示。",
            "The position is published: it is listed publicly while open.",
        )),
        Some("reject") => Some(s.lang.pick(
            "岗位已退回，理由已告知用人单位。",
            "The position was rejected; the employer sees the reason.",
        )),
        _ => None,
    };
    show(&state, &s, message.map(str::to_owned), None).await
}

#[post("/federation/positions/{id}/review")]
async fn review(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation/positions"))?);
    }
    let id = path.into_inner();
    let lang = s.lang;
    let note: String = form
        .get("note")
        .unwrap_or_default()
        .chars()
        .take(MAX_NOTE)
        .collect();
    let how = match form.get("decision") {
        Some("publish") => Change::Publish,
        Some("reject") if !note.is_empty() => Change::Reject(note.clone()),
        Some("reject") => {
            let refused = Refused {
                id,
                note,
                note_error: Some(
                    lang.pick(
                        "退回须填写理由（用人单位会看到）",
                        "a rejection needs a reason (the employer sees it)",
                    )
                    .to_owned(),
                ),
                error: None,
            };
            return show(&state, &s, None, Some(refused)).await;
        }
        _ => {
            let refused = Refused {
                id,
                note,
                note_error: None,
                error: Some(
                    lang.pick("请选择发布或退回。", "Choose publish or reject.")
                        .to_owned(),
                ),
            };
            return show(&state, &s, None, Some(refused)).await;
        }
    };
    // The same wall as the API: a position of an employer outside the officer's region
    // is not found.
    let found = state
        .call(move |c, _| -> Result<_, crate::db::DbError> {
            let Some(p) = repo::by_id(c, id)? else {
                return Ok(None);
            };
            crate::db::employers::by_id(c, p.employer_id)
        })
        .await?;
    if !found.is_some_and(|e| e.region.parse().is_ok_and(|r| who.can_see(&e.uscc, &r))) {
        return Err(s.not_found());
    }
    let decision = match &how {
        Change::Publish => "publish",
        _ => "reject",
    };
    let (audit, today) = (s.audit(), state.clock.today());
    let done = state
        .db
        .run(move |c| Ok(change(c, id, None, &how, today, &audit.actor, audit.rid())))
        .await?;
    match done {
        Ok(_) => Ok(see_other(
            &s.link(&format!("/federation/positions?done={decision}")),
            &[],
        )),
        Err(PositionError::NotFound(_)) => Err(s.not_found()),
        Err(PositionError::Conflict(m) | PositionError::Field(_, m)) => {
            let refused = Refused {
                id,
                note: String::new(),
                note_error: None,
                error: Some(m.get(lang).to_owned()),
            };
            show(&state, &s, None, Some(refused)).await
        }
        Err(PositionError::Db(e)) => Err(e.into()),
    }
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(queue).service(review);
}
