//! `POST /tax/runs` starts an assessment run from the overview's form;
//! `GET /tax/runs/{id}` shows it, kept up to date without reloading by
//! `/static/run-progress.js` (it reads the run's JSON, `GET /api/v1/assessment-runs/{id}`,
//! with the session's cookie); without a script the page has a link that reloads it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{money, officer, TaxNav};
use crate::db::assessments::{self as repo, Run};
use crate::domain::money::from_fen;
use crate::http::page_kit::{forged, page, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;

/// The run form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunForm {
    csrf_token: Option<String>,
    levy_year: Option<String>,
}

/// Starts a run over the officer's region.
#[post("/tax/runs")]
pub async fn start(
    state: web::Data<AppState>,
    s: SignedIn,
    form: web::Form<RunForm>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    if !s.form_ok(form.csrf_token.as_deref()) {
        return Ok(forged(s.lang, s.link("/tax"))?);
    }
    let levy_year = super::page_year(form.levy_year.as_deref(), state.clock.today())?;
    let job = crate::jobs::assess::AssessJob {
        levy_year,
        region: who.region,
        actor: who.actor(),
    };
    let id = crate::http::assessments::launch(&state, job).await?;
    Ok(see_other(&s.link(&format!("/tax/runs/{id}")), &[]))
}

#[derive(Template)]
#[template(path = "pages/tax/run.html")]
struct RunView {
    layout: Layout,
    nav: TaxNav,
    run: Run,
    payable: String,
    api: String,
    refresh: String,
    roll: String,
}

impl RunView {
    fn status(&self) -> &'static str {
        status_text(self.layout.lang, &self.run.status)
    }

    fn running(&self) -> bool {
        self.run.status == "running"
    }
}

/// A run's status in words (the script has the same words, in the page's data).
fn status_text(lang: crate::domain::Language, status: &str) -> &'static str {
    match status {
        "running" => lang.pick("进行中", "running"),
        "finished" => lang.pick("已完成", "finished"),
        _ => lang.pick("失败", "failed"),
    }
}

/// The run's page.
#[get("/tax/runs/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let id: i64 = path.parse().map_err(|_| s.not_found())?;
    let run = state
        .db
        .run(move |c| repo::run(c, id))
        .await
        .map_err(crate::http::problem::AppError::from)?
        // A run of another region is not the officer's to see.
        .filter(
            |r| match (who.region, r.region.as_deref().and_then(|x| x.parse().ok())) {
                (None, _) => true,
                (Some(scope), Some(region)) => crate::auth::region_covers(&scope, &region),
                (Some(_), None) => false,
            },
        )
        .ok_or_else(|| s.not_found())?;
    let html = render(&RunView {
        layout: Layout::new(s.lang),
        nav: TaxNav::new(&s, run.levy_year, ""),
        payable: money(from_fen(run.payable_total_fen)),
        api: format!("/api/v1/assessment-runs/{}", run.id),
        refresh: s.link(&format!("/tax/runs/{}", run.id)),
        roll: s.link(&format!("/tax/roll?levy_year={}", run.levy_year)),
        run,
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}
