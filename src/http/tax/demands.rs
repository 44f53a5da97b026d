//! `POST /tax/demands` issues written demands (催缴通知书) to the employers picked on
//! the arrears list (or the one whose button was pressed) and sends the officer to
//! `GET /tax/demands?ids=…`: the letters, one printable A4 page each, in Chinese (the
//! language of the law) under the page's chrome. Issuing is recorded and audited
//! ([`crate::registry::demands::issue`]); opening the letters again reprints the
//! figures recorded on the day of issue.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::{officer, page_year};
use crate::config::PaymentInstructions;
use crate::domain::money::{format_money, from_fen};
use crate::domain::Said;
use crate::http::context::visible_employer;
use crate::http::page_kit::{forged, message, page, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::registry::demands::{issue as issue_one, DemandError};

/// The most demands one form may issue (a page of the arrears list).
const MAX_PICKED: usize = 200;

impl From<DemandError> for AppError {
    fn from(e: DemandError) -> Self {
        match e {
            DemandError::NothingOwed(s) => AppError::Conflict(s),
            DemandError::Statement(s) => s.into(),
        }
    }
}

/// Issues the demands picked.
#[post("/tax/demands")]
pub async fn issue(
    state: web::Data<AppState>,
    s: SignedIn,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let form = form.into_inner();
    let today = state.clock.today();
    let levy_year = page_year(form.get("levy_year").map(String::as_str), today)?;
    let back = s.link(&format!("/tax/arrears?levy_year={levy_year}"));
    if !s.form_ok(form.get("csrf_token").map(String::as_str)) {
        return Ok(forged(s.lang, back)?);
    }
    let picked: Vec<String> = match form.get("only").map(|o| o.trim()).filter(|o| !o.is_empty()) {
        Some(one) => vec![one.to_owned()],
        None => form
            .iter()
            .filter(|(k, v)| k.starts_with("d_") && v.as_str() == "1")
            .map(|(k, _)| k.trim_start_matches("d_").to_owned())
            .collect(),
    };
    if picked.is_empty() || picked.len() > MAX_PICKED {
        return Ok(message(
            s.lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            ("未签发", "Nothing issued"),
            s.lang
                .pick(
                    "请在欠缴名单中选择要催缴的单位（每次至多 200 家）。",
                    "Pick the employers to send a demand to on the arrears list (200 at most at a time).",
                )
                .to_owned(),
            Some((back, s.lang.pick("返回欠缴名单", "Back to the arrears").to_owned())),
        )?);
    }
    // Every one looked up before any is issued: one employer the officer may not see
    // is a 404 page, as everywhere, and then none is issued.
    let mut employers = Vec::with_capacity(picked.len());
    for uscc in picked {
        employers.push(
            visible_employer(&state, &who, &uscc)
                .await
                .map_err(|_| s.not_found())?,
        );
    }
    let mut ids = Vec::new();
    let mut skipped = Vec::new();
    for employer in employers {
        let (audit, days, trigger) = (
            s.audit(),
            state.settings.collection.demand_deadline_days,
            state.settings.collection.surcharge_from,
        );
        let issued = state
            .call(move |c, st| {
                match issue_one(
                    c,
                    st.book.as_ref(),
                    &employer,
                    levy_year,
                    today,
                    days,
                    trigger,
                    &audit.actor,
                    audit.rid(),
                ) {
                    Ok((row, _)) => Ok(Ok(row.id)),
                    Err(DemandError::NothingOwed(said)) => Ok(Err(said)),
                    Err(e) => Err(AppError::from(e)),
                }
            })
            .await?;
        match issued {
            Ok(id) => ids.push(id),
            Err(said) => skipped.push(said),
        }
    }
    if ids.is_empty() {
        let text = skipped
            .iter()
            .map(|s2: &Said| s2.get(s.lang).to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        return Ok(message(
            s.lang,
            StatusCode::CONFLICT,
            ("未签发", "Nothing issued"),
            text,
            Some((
                back,
                s.lang
                    .pick("返回欠缴名单", "Back to the arrears")
                    .to_owned(),
            )),
        )?);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    Ok(see_other(&s.link(&format!("/tax/demands?ids={list}")), &[]))
}

/// `?ids=1,2,3`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrintQuery {
    ids: String,
    lang: Option<String>,
}

/// One letter as printed.
pub struct Letter {
    number: String,
    name: String,
    uscc: String,
    levy_year: i32,
    issued_on: String,
    deadline: String,
    principal: String,
    surcharge: String,
    total: String,
    pay: Option<PaymentInstructions>,
    office: String,
    /// The digest of the assessment's signed receipt (docs/receipts.md).
    receipt: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/tax/demands.html")]
struct LettersView {
    layout: Layout,
    letters: Vec<Letter>,
    back: String,
}

/// The letters.
#[get("/tax/demands")]
pub async fn print(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<PrintQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let ids: Vec<i64> = q
        .ids
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .take(MAX_PICKED)
        .map(|x| x.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| s.not_found())?;
    if ids.is_empty() {
        return Err(s.not_found());
    }
    let rows = state
        .call(move |c, _| {
            let rows = crate::db::demands::by_ids(c, &ids)?;
            let mut out = Vec::with_capacity(rows.len());
            for d in rows {
                let e = crate::db::employers::by_id(c, d.employer_id)?;
                out.push((d, e));
            }
            Ok::<_, crate::db::DbError>(out)
        })
        .await?;
    let mut letters = Vec::new();
    let mut last_year = None;
    for (d, e) in rows {
        // A demand of an employer outside the officer's region is not the officer's.
        let Some(e) = e.filter(|e| e.region.parse().is_ok_and(|r| who.can_see(&e.uscc, &r))) else {
            return Err(s.not_found());
        };
        let pay = state.settings.mail.payment.for_region(&e.region).cloned();
        last_year = Some(d.levy_year);
        let receipt = crate::http::receipts::current_receipt(&state, &e, d.levy_year)
            .await?
            .map(|r| r.digest);
        letters.push(Letter {
            number: format!("{}-{:06}", d.levy_year, d.id),
            office: pay
                .as_ref()
                .map(|p| p.tax_office.clone())
                .unwrap_or_else(|| "主管税务机关".to_owned()),
            name: e.name,
            uscc: e.uscc,
            levy_year: d.levy_year,
            issued_on: d.issued_on.format("%Y年%m月%d日").to_string(),
            deadline: d.deadline.format("%Y年%m月%d日").to_string(),
            principal: format_money(from_fen(d.principal_fen)),
            surcharge: format_money(from_fen(d.surcharge_fen)),
            total: format_money(from_fen(d.principal_fen + d.surcharge_fen)),
            pay,
            receipt,
        });
    }
    if letters.is_empty() {
        return Err(s.not_found());
    }
    let html = render(&LettersView {
        layout: Layout::chinese_document(s.lang),
        letters,
        back: s.link(&format!(
            "/tax/arrears?levy_year={}",
            last_year.unwrap_or_default()
        )),
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}
