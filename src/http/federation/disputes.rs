//! `GET /federation/disputes`: certificates claimed by two employers for a common month,
//! both claims shown (the number masked), each with the form naming the employer that
//! counts the person; `POST /federation/disputes/resolve` decides it with the API's
//! `registry::disputes::resolve` and re-assesses the claimants.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{layout, levy_year_or_now, officer, ok_page, prefix_of, said, visible, FormData, Nav};
use crate::domain::ids::DisabilityCertificate;
use crate::http::page_kit::{forged, PageRefusal, SignedIn};
use crate::http::pages::Layout;
use crate::http::AppState;
use crate::registry::declarations::mask_number;
use crate::registry::disputes::{self, holder_key, Dispute};
use crate::secret::ServerSecret;

#[derive(Debug, Deserialize)]
struct DisputesQuery {
    levy_year: Option<String>,
}

/// One claim on the page.
struct ClaimView {
    uscc: String,
    name: String,
    region: String,
    line: i32,
    months: String,
    counted: bool,
    /// The officer may name it (an employer of the officer's region).
    choosable: bool,
}

/// One dispute on the page.
struct DisputeView {
    n: usize,
    key: String,
    number: String,
    resolved: bool,
    claims: Vec<ClaimView>,
}

#[derive(Template)]
#[template(path = "pages/federation/disputes.html")]
struct DisputesView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    levy_year: i32,
    disputes: Vec<DisputeView>,
    filter_action: String,
    resolve_action: String,
}

/// The person a dispute is about, as the roster stores it (as the API reads it).
fn holder_of(d: &Dispute) -> String {
    match DisabilityCertificate::parse(&d.certificate_no) {
        Ok(c) => c.holder().expose().to_owned(),
        Err(_) => format!("V:{}", d.certificate_no),
    }
}

/// The form's name for a dispute: the holder's keyed digest, never the number itself.
fn key_of(secret: &ServerSecret, d: &Dispute) -> String {
    holder_key(secret, &holder_of(d))
}

#[get("/federation/disputes")]
async fn disputes_page(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<DisputesQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let levy_year = levy_year_or_now(q.levy_year.as_deref(), &state);
    let prefix = prefix_of(&who);
    let secret = state.secret().await?;
    let list = state
        .db
        .run(move |c| disputes::list(c, levy_year, &prefix))
        .await?;
    let mine = prefix_of(&who);
    let views = list
        .iter()
        .enumerate()
        .map(|(n, d)| DisputeView {
            n,
            key: key_of(&secret, d),
            number: mask_number(&d.certificate_no),
            resolved: d.counted_by.is_some(),
            claims: d
                .claims
                .iter()
                .map(|c| ClaimView {
                    uscc: c.uscc.clone(),
                    name: c.name.clone(),
                    region: c.region.clone(),
                    line: c.line_no + 1,
                    months: c
                        .months
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    counted: d.counted_by.as_deref() == Some(c.uscc.as_str()),
                    choosable: c.region.starts_with(&mine),
                })
                .collect(),
        })
        .collect();
    ok_page(&DisputesView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "disputes"),
        csrf: s.csrf().to_owned(),
        levy_year,
        disputes: views,
        filter_action: s.link("/federation/disputes"),
        resolve_action: s.link("/federation/disputes/resolve"),
    })
}

#[post("/federation/disputes/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    s: SignedIn,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let form = FormData::parse(&body);
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link("/federation/disputes"))?);
    }
    let levy_year = levy_year_or_now(form.get("levy_year"), &state);
    let back = format!("/federation/disputes?levy_year={levy_year}");
    let (Some(key), Some(counted_by)) = (form.get("dispute"), form.get("counted_by")) else {
        return said(
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            ("未处理", "Not decided"),
            s.lang
                .pick(
                    "请选择计入该残疾人的单位。",
                    "Choose the employer that counts the person.",
                )
                .to_owned(),
            &back,
        );
    };
    let note = form.get("note").map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return said(
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            ("未处理", "Not decided"),
            s.lang
                .pick(
                    "说明不能超过 500 个字符。",
                    "The note must be at most 500 characters.",
                )
                .to_owned(),
            &back,
        );
    }
    // The employer named must be one the officer may see, as in the API.
    let employer = visible(&state, &s, counted_by).await?;
    let secret = state.secret().await?;
    let prefix = prefix_of(&who);
    let list = state
        .db
        .run(move |c| disputes::list(c, levy_year, &prefix))
        .await?;
    let Some(d) = list.iter().find(|d| key_of(&secret, d) == key) else {
        return Err(s.not_found());
    };
    let holder = holder_of(d);
    let (audit, uscc) = (s.audit(), employer.uscc.clone());
    let result = state
        .call(move |c, st| {
            let decision = disputes::Resolution {
                levy_year,
                holder_id: &holder,
                counted_by_uscc: &uscc,
                note: note.as_deref(),
            };
            disputes::resolve(c, &decision, &audit.actor, audit.rid(), &secret)?;
            Ok::<_, crate::http::problem::AppError>(
                crate::registry::assessments::reassess_claimants(
                    c,
                    st.policy.as_ref(),
                    levy_year,
                    &holder,
                    &audit.actor,
                    audit.rid(),
                    &secret,
                )?,
            )
        })
        .await;
    match result {
        Ok(_) => said(
            &s,
            StatusCode::OK,
            ("已处理", "Decided"),
            match s.lang {
                crate::domain::Language::Zh => {
                    format!("该残疾人由{}计入；相关单位已重新核定。", employer.name)
                }
                crate::domain::Language::En => format!(
                    "{} counts the person; the employers concerned were re-assessed.",
                    employer.name
                ),
            },
            &back,
        ),
        Err(crate::http::problem::AppError::Validation(_)) => said(
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            ("未处理", "Not decided"),
            s.lang
                .pick(
                    "所选单位并未申报该残疾人。",
                    "The employer chosen does not declare the person.",
                )
                .to_owned(),
            &back,
        ),
        Err(e) => Err(e.into()),
    }
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(disputes_page).service(resolve);
}
