//! `GET /federation/notices`: the notices of the officer's region and the form of a new
//! one; `POST /federation/notices/preview` shows what publishing would publish today
//! (the registry's preview, nothing stored) with the form that publishes it; `POST
//! /federation/notices/publish` publishes it (the registry's publish, audited, the
//! employers mailed through the outbox).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;

use super::{layout, officer, ok_page, prefix_of, said, FormData, Nav};
use crate::auth::{region_covers, Principal};
use crate::domain::{LevyYear, RegionCode};
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::Layout;
use crate::http::AppState;
use crate::mail::Templates;
use crate::registry::notices::{
    plan_mails_now, preview, publish, NoticeMail, PublishError, PublishRequest,
    DEFAULT_OBJECTION_DAYS, MAX_OBJECTION_DAYS,
};

/// One notice in the list.
struct NoticeItem {
    id: i64,
    region: String,
    levy_year: i32,
    published_on: String,
    corrects: Option<i64>,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/federation/notices.html")]
struct NoticesView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    region: String,
    levy_year: i32,
    days: i64,
    max_days: i64,
    notices: Vec<NoticeItem>,
    preview_action: String,
}

/// One entry of a preview.
struct EntryView {
    name: String,
    uscc: String,
    region: String,
    status: String,
}

#[derive(Template)]
#[template(path = "pages/federation/preview.html")]
struct PreviewView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    title: String,
    region: String,
    levy_year: i32,
    days: i64,
    objection_until: String,
    sha256: String,
    employers: i64,
    below_quota: i64,
    not_declared: i64,
    /// How many entries are shown: the first ones, at most the registry's preview size.
    shown: usize,
    entries: Vec<EntryView>,
    publish_action: String,
    back: String,
}

#[get("/federation/notices")]
async fn notices_page(
    state: web::Data<AppState>,
    s: SignedIn,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let prefix = prefix_of(&who);
    let (rows, _) = state
        .db
        .run(move |c| crate::db::notices::list(c, &prefix, None, 0, 50))
        .await?;
    let notices = rows
        .into_iter()
        .map(|n| NoticeItem {
            href: s.link(&format!("/federation/notices/{}", n.id)),
            id: n.id,
            region: n.region,
            levy_year: n.levy_year,
            published_on: n.published_on.to_string(),
            corrects: n.replaces_id,
        })
        .collect();
    ok_page(&NoticesView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "notices"),
        csrf: s.csrf().to_owned(),
        region: who
            .region
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        levy_year: super::levy_year_or_now(None, &state),
        days: DEFAULT_OBJECTION_DAYS,
        max_days: MAX_OBJECTION_DAYS,
        notices,
        preview_action: s.link("/federation/notices/preview"),
    })
}

/// The request the form asks for, or the sentence saying what is wrong with it.
fn read_request(s: &SignedIn, who: &Principal, form: &FormData) -> Result<PublishRequest, String> {
    let lang = s.lang;
    let region = form
        .get("region")
        .and_then(|r| r.parse::<RegionCode>().ok())
        .ok_or_else(|| {
            lang.pick(
                "地区代码须为六位数字。",
                "The region must be a six-digit code.",
            )
            .to_owned()
        })?;
    if who
        .region
        .as_ref()
        .is_some_and(|sc| !region_covers(sc, &region))
    {
        return Err(lang
            .pick(
                "该地区不在您的权限范围内。",
                "The region is outside your scope.",
            )
            .to_owned());
    }
    let levy_year = form
        .get("levy_year")
        .and_then(LevyYear::parse)
        .map(LevyYear::get)
        .ok_or_else(|| match lang {
            crate::domain::Language::Zh => format!(
                "征收年度须为 {} 至 {} 之间的年份。",
                LevyYear::FIRST,
                LevyYear::LAST
            ),
            crate::domain::Language::En => format!("The levy year {}.", LevyYear::expected()),
        })?;
    let days = match form.get("objection_days") {
        None => DEFAULT_OBJECTION_DAYS,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_OBJECTION_DAYS).contains(d))
            .ok_or_else(|| match lang {
                crate::domain::Language::Zh => {
                    format!("异议期须为 1 至 {MAX_OBJECTION_DAYS} 天。")
                }
                crate::domain::Language::En => {
                    format!("The objection period must be 1 to {MAX_OBJECTION_DAYS} days.")
                }
            })?,
    };
    Ok(PublishRequest {
        region,
        levy_year,
        objection_days: days,
        replaces: None,
    })
}

/// A publication refused, as a page.
fn refused(s: &SignedIn, e: PublishError) -> Result<HttpResponse, PageRefusal> {
    let text = match e {
        PublishError::Conflict(m) => m.get(s.lang).to_owned(),
        PublishError::Field(_, m) => m,
        PublishError::ReplacedMissing(_) => s
            .lang
            .pick(
                "要更正的公示不存在。",
                "The notice to correct does not exist.",
            )
            .to_owned(),
        PublishError::Db(e) => return Err(e.into()),
        PublishError::Mail(m) => return Err(crate::http::problem::AppError::Internal(m).into()),
    };
    said(
        s,
        StatusCode::CONFLICT,
        ("未发布", "Not published"),
        text,
        "/federation/notices",
    )
}

#[post("/federation/notices/preview")]
async fn preview_page(
    state: web::Data<AppState>,
    s: SignedIn,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation/notices"))?);
    }
    let req = match read_request(&s, &who, &form) {
        Ok(r) => r,
        Err(text) => {
            return said(
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                ("无法预览", "Cannot preview"),
                text,
                "/federation/notices",
            )
        }
    };
    let today = state.clock.today();
    let r3 = req.clone();
    let composed = state
        .call(move |c, st| {
            Ok::<_, crate::db::DbError>(preview(
                c,
                &st.book,
                &st.settings.notices,
                &r3,
                today,
                &mut |_, _| Ok(()),
            ))
        })
        .await?;
    let composed = match composed {
        Ok(c) => c,
        Err(e) => return refused(&s, e),
    };
    let content = &composed.content;
    ok_page(&PreviewView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "notices"),
        csrf: s.csrf().to_owned(),
        title: content.title.clone(),
        region: req.region.as_str().to_owned(),
        levy_year: req.levy_year,
        days: req.objection_days,
        objection_until: content.objection_until.to_string(),
        sha256: composed.sha256.clone(),
        employers: content.summary.employers,
        below_quota: content.summary.below_quota,
        not_declared: content.summary.not_declared,
        shown: composed.sample.len(),
        entries: composed
            .sample
            .iter()
            .map(|e| EntryView {
                name: e.name.clone(),
                uscc: e.uscc.clone(),
                region: e.region_name.clone(),
                status: e.status_zh.clone(),
            })
            .collect(),
        publish_action: s.link("/federation/notices/publish"),
        back: s.link("/federation/notices"),
    })
}

#[post("/federation/notices/publish")]
async fn publish_page(
    state: web::Data<AppState>,
    s: SignedIn,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation/notices"))?);
    }
    let req = match read_request(&s, &who, &form) {
        Ok(r) => r,
        Err(text) => {
            return said(
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                ("未发布", "Not published"),
                text,
                "/federation/notices",
            )
        }
    };
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| crate::http::problem::AppError::Internal(format!("mail templates: {e}")))?;
    let audit = s.audit();
    let published = state
        .call(move |c, st| {
            let mail = NoticeMail {
                templates: &templates,
            };
            let published = publish(
                c,
                &st.book,
                &st.settings.notices,
                &req,
                st.clock.today(),
                Some(&mail),
                &audit.actor,
                audit.rid(),
            );
            if let Ok(p) = &published {
                plan_mails_now(c, &st.book, &templates, p.row.id);
            }
            Ok::<_, crate::db::DbError>(published)
        })
        .await?;
    match published {
        Ok(p) => Ok(see_other(
            &s.link(&format!("/federation/notices/{}", p.row.id)),
            &[],
        )),
        Err(e) => refused(&s, e),
    }
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notices_page)
        .service(preview_page)
        .service(publish_page);
}
