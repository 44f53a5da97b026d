//! `POST /federation/certify`: certify the declarations ticked in the queue (or the one
//! of a declaration page), each its own audited step of the registry, with a report of
//! which were certified and which not and why; `POST /federation/declarations/{uscc}/
//! {year}/return`: return one to the employer with a reason (mailed to it).

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use askama::Template;

use super::queue::{declaration_page, ReturnDraft};
use super::{layout, levy_year_or_now, officer, ok_page, said, visible, FormData, Nav};
use crate::db::declarations::Declaration;
use crate::http::page_kit::{forged, PageRefusal, SignedIn};
use crate::http::pages::Layout;
use crate::http::AppState;
use crate::mail::Templates;
use crate::registry::declarations::{self as registry, RegistryError, SaveOptions, Step};
use crate::registry::returns::{return_to_employer, MAX_REASON};

/// Most declarations one submission certifies (a page of the queue).
const MAX_PICKS: usize = 200;

/// One line of the report.
struct Outcome {
    uscc: String,
    name: String,
    done: bool,
    why: String,
}

#[derive(Template)]
#[template(path = "pages/federation/certified.html")]
struct ReportView {
    layout: Layout,
    nav: Nav,
    levy_year: i32,
    certified: usize,
    outcomes: Vec<Outcome>,
    back: String,
}

/// The ETag of version `version` of an employer's declaration (as the API gives it):
/// a certification names the version the officer saw, and a declaration changed since
/// is not certified unseen.
fn etag_of(employer_id: i64, levy_year: i32, version: i32) -> String {
    format!("\"declaration-{employer_id}-{levy_year}-v{version}\"")
}

fn refusal_text(s: &SignedIn, e: &RegistryError) -> String {
    match e {
        RegistryError::NotFound(m) | RegistryError::Conflict(m) => m.get(s.lang).to_owned(),
        RegistryError::PreconditionFailed(_) => s
            .lang
            .pick(
                "您查看之后申报已被修改，请重新打开后再审核",
                "the declaration changed after you saw it; open it again before certifying",
            )
            .to_owned(),
        RegistryError::Db(_) => s
            .lang
            .pick(
                "数据库暂时不可用，请稍后再试",
                "the database failed; try again later",
            )
            .to_owned(),
    }
}

#[post("/federation/certify")]
async fn certify(
    state: web::Data<AppState>,
    s: SignedIn,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation"))?);
    }
    let levy_year = levy_year_or_now(form.get("levy_year"), &state);
    let picks = form.all("pick");
    if picks.is_empty() || picks.len() > MAX_PICKS {
        return said(
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            ("未审核", "Nothing certified"),
            s.lang
                .pick(
                    "请在队列中勾选要审核的申报（一次最多 200 份）。",
                    "Tick the declarations to certify in the queue (at most 200 at once).",
                )
                .to_owned(),
            &format!("/federation?levy_year={levy_year}"),
        );
    }
    let secret = state.secret().await?;
    let mut outcomes = Vec::with_capacity(picks.len());
    for pick in picks {
        let (uscc, version) = match pick.split_once('@') {
            Some((u, v)) => (u, v.parse::<i32>().ok()),
            None => (pick, None),
        };
        // Outside the region it is answered as unknown, as the API does.
        let employer = match visible(&state, &s, uscc).await {
            Ok(e) => e,
            Err(PageRefusal::NotFound(_)) => {
                outcomes.push(Outcome {
                    uscc: uscc.to_owned(),
                    name: String::new(),
                    done: false,
                    why: crate::http::context::no_employer().get(s.lang).to_owned(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let (emp, audit, secret) = (employer.clone(), s.audit(), secret.clone());
        let tag = version.map(|v| etag_of(employer.id, levy_year, v));
        let result: Result<Declaration, RegistryError> = state
            .db
            .run(move |c| {
                Ok(registry::step(
                    c,
                    &emp,
                    levy_year,
                    Step::Certify,
                    &SaveOptions {
                        actor: &audit.actor,
                        request_id: audit.rid(),
                        if_match: tag.as_deref(),
                        secret: &secret,
                    },
                ))
            })
            .await?;
        outcomes.push(Outcome {
            uscc: employer.uscc.clone(),
            name: employer.name.clone(),
            done: result.is_ok(),
            why: result
                .err()
                .map(|e| refusal_text(&s, &e))
                .unwrap_or_default(),
        });
    }
    ok_page(&ReportView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "queue"),
        levy_year,
        certified: outcomes.iter().filter(|o| o.done).count(),
        outcomes,
        back: s.link(&format!("/federation?levy_year={levy_year}")),
    })
}

#[post("/federation/declarations/{uscc}/{year}/return")]
async fn return_one(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let (uscc, year) = path.into_inner();
    let back = format!("/federation/declarations/{uscc}/{year}");
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link(&back))?);
    }
    let levy_year = crate::domain::LevyYear::parse(&year)
        .map(crate::domain::LevyYear::get)
        .ok_or_else(|| s.not_found())?;
    let employer = visible(&state, &s, &uscc).await?;
    let reason = form.get("reason").unwrap_or_default().to_owned();
    if reason.trim().is_empty() || reason.chars().count() > MAX_REASON {
        // The form again with the reason as typed and the fault beside it.
        let error = s.lang.pick(
            "退回原因：请填写（不超过 500 个字符）。",
            "Reason: give one (at most 500 characters).",
        );
        let draft = ReturnDraft {
            reason,
            error: Some(error.to_owned()),
        };
        return declaration_page(&state, &s, &uscc, levy_year, None, draft).await;
    }
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| crate::http::problem::AppError::Internal(format!("mail templates: {e}")))?;
    let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
    let tag = version.map(|v| etag_of(employer.id, levy_year, v));
    let (emp, audit, secret) = (employer.clone(), s.audit(), state.secret().await?);
    let result = state
        .db
        .run(move |c| {
            Ok(return_to_employer(
                c,
                &emp,
                levy_year,
                &reason,
                &templates,
                &SaveOptions {
                    actor: &audit.actor,
                    request_id: audit.rid(),
                    if_match: tag.as_deref(),
                    secret: &secret,
                },
            ))
        })
        .await?;
    match result {
        Ok(r) => said(
            &s,
            StatusCode::OK,
            ("已退回", "Returned"),
            match (s.lang, r.mailed) {
                (crate::domain::Language::Zh, true) => {
                    format!("{}的申报已退回，并已发邮件通知该单位。", employer.name)
                }
                (crate::domain::Language::Zh, false) => format!(
                    "{}的申报已退回；该单位没有联系邮箱，请另行通知。",
                    employer.name
                ),
                (_, true) => format!(
                    "The declaration of {} was returned and the employer was mailed.",
                    employer.name
                ),
                (_, false) => format!(
                    "The declaration of {} was returned; the employer has no contact address, tell it otherwise.",
                    employer.name
                ),
            },
            &format!("/federation?levy_year={levy_year}"),
        ),
        Err(RegistryError::Db(e)) => Err(e.into()),
        Err(e) => said(
            &s,
            StatusCode::CONFLICT,
            ("未退回", "Not returned"),
            refusal_text(&s, &e),
            &back,
        ),
    }
}

/// Registers the forms.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(certify).service(return_one);
}
