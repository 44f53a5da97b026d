//! Assessments: one employer now (`POST /api/v1/employers/{uscc}/assessments/{year}`),
//! its current assessment explained (`GET`), and batch runs (`/api/v1/assessment-runs`).

use crate::domain::Said;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{Caller, EmployerYear};
use super::problem::AppError;
use super::AppState;
use crate::auth::{Principal, Role};
use crate::db::assessments::{self as repo, Assessment};
use crate::db::employers::Employer;
use crate::domain::LevyYear;
use crate::registry::assessments::{
    assess_one, inputs_hmac, replay_with_inputs, AssessError, Outcome,
};
use crate::registry::declarations::mask_body;

impl From<AssessError> for AppError {
    fn from(e: AssessError) -> Self {
        match e {
            AssessError::NotDeclared(m) => AppError::Conflict(m),
            AssessError::Invalid(errors) => errors.into(),
            AssessError::Registry(r) => r.into(),
        }
    }
}

async fn render(
    state: &AppState,
    who: &Principal,
    employer: &Employer,
    a: Assessment,
    lang: crate::domain::Language,
) -> Result<Value, AppError> {
    let row = a.clone();
    let (result, history) = state
        .db
        .run(move |c| {
            let r = replay_with_inputs(c, &row, lang);
            let n = repo::count_for(c, row.employer_id, row.levy_year)?;
            Ok((r, n))
        })
        .await?;
    // A stored assessment that no longer reproduces its figures is an integrity fault:
    // say so loudly rather than show numbers nobody can explain.
    let (result, mut inputs) = result.map_err(AppError::Internal)?;
    if !matches!(who.role, Role::Employer | Role::Federation | Role::Admin) {
        mask_body(&mut inputs);
    }
    // Keyed: the plain digest of inputs whose certificate numbers are masked for this
    // caller would give those numbers back to anyone who tries them all.
    let inputs_digest = inputs_hmac(&state.secret().await?, &a.inputs_digest);
    Ok(json!({
        "id": a.id,
        "uscc": employer.uscc,
        "levy_year": a.levy_year,
        "declaration_version": a.declaration_version,
        "computed_at": DateTime::<Utc>::from_naive_utc_and_offset(a.computed_at, Utc),
        "current": a.is_current,
        "assessments_for_year": history,
        "inputs_digest": inputs_digest,
        "run_id": a.run_id,
        "inputs": inputs,
        "result": result,
    }))
}

#[post("/api/v1/employers/{uscc}/assessments/{levy_year}")]
async fn assess(state: web::Data<AppState>, at: EmployerYear) -> Result<HttpResponse, AppError> {
    let EmployerYear {
        caller, employer, ..
    } = &at;
    caller.require(&[Role::Tax])?;
    let levy_year = at.levy_year()?.get();
    let (audit, emp, secret) = (caller.audit(), employer.clone(), state.secret().await?);
    let outcome = state
        .call(move |c, st| {
            assess_one(
                c,
                st.book.as_ref(),
                &emp,
                levy_year,
                &audit.actor,
                audit.rid(),
                &secret,
            )
        })
        .await?;
    let (status, a) = match outcome {
        Outcome::Assessed(a) => (actix_web::http::StatusCode::CREATED, a),
        Outcome::Unchanged(a) => (actix_web::http::StatusCode::OK, a),
    };
    let body = render(&state, &caller.who, employer, a, caller.lang).await?;
    Ok(HttpResponse::build(status).json(body))
}

#[get("/api/v1/employers/{uscc}/assessments/{levy_year}")]
async fn current(state: web::Data<AppState>, at: EmployerYear) -> Result<HttpResponse, AppError> {
    let (levy_year, id) = (at.levy_year()?.get(), at.employer.id);
    let a = state
        .db
        .run(move |c| repo::current(c, id, levy_year))
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Said::new(
                "该单位没有本征收年度的核定",
                "this employer has no assessment for the levy year",
            ))
        })?;
    let body = render(&state, &at.caller.who, &at.employer, a, at.caller.lang).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    levy_year: i32,
    region: Option<String>,
}

/// Prepares a batch run and carries it out in the background; its id, to follow it by
/// (`GET /api/v1/assessment-runs/{id}`, the tax page of the run).
pub(crate) async fn launch(
    state: &AppState,
    job: crate::jobs::assess::AssessJob,
) -> Result<i64, AppError> {
    let book = state.book.clone();
    let run_id = state
        .db
        .run(move |c| crate::jobs::assess::prepare(c, &job))
        .await?;
    let job_db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = crate::jobs::assess::execute(&job_db, book.as_ref(), run_id, &mut |_| ()) {
            tracing::error!(run_id, error = %e, "assessment run failed");
        }
    });
    Ok(run_id)
}

/// Starts a batch run in the background; the answer points at its progress.
#[post("/api/v1/assessment-runs")]
async fn start_run(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let who = caller.require(&[Role::Tax])?;
    // Read through serde_path_to_error rather than actix's typed extractor: a wrong
    // value is then a 422 at its field, without serde's quote of the value.
    let body: RunRequest = super::problem::from_json(body.into_inner())?;
    let levy_year = LevyYear::new(body.levy_year.into())
        .ok_or_else(|| AppError::field("/levy_year", LevyYear::expected()))?
        .get();
    let region = match &body.region {
        Some(r) => Some(
            r.parse::<crate::domain::RegionCode>()
                .map_err(|e| AppError::field("/region", e.to_string()))?,
        ),
        None => None,
    };
    // An officer limited to a region runs only inside it.
    let region = match (who.region, region) {
        (Some(scope), Some(r)) if !crate::auth::region_covers(&scope, &r) => {
            return Err(AppError::Forbidden(super::context::outside_scope()))
        }
        (Some(scope), None) => Some(scope),
        (_, r) => r,
    };
    let job = crate::jobs::assess::AssessJob {
        levy_year,
        region,
        actor: who.actor(),
    };
    let run_id = launch(&state, job).await?;
    let run = state
        .db
        .run(move |c| repo::run(c, run_id))
        .await?
        .ok_or_else(|| AppError::Internal("run vanished".into()))?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/assessment-runs/{run_id}")))
        .json(run))
}

#[get("/api/v1/assessment-runs/{id}")]
async fn get_run(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let scope = caller
        .require(&[Role::Tax, Role::Inspector, Role::Federation])?
        .region;
    let id: i64 = path
        .parse()
        .map_err(|_| AppError::NotFound(Said::new("没有该核定批次", "no such run")))?;
    let run = state
        .db
        .run(move |c| repo::run(c, id))
        .await?
        .filter(
            |r| match (scope, r.region.as_deref().and_then(|s| s.parse().ok())) {
                (None, _) => true,
                (Some(scope), Some(region)) => crate::auth::region_covers(&scope, &region),
                (Some(_), None) => false,
            },
        )
        .ok_or_else(|| AppError::NotFound(Said::new("没有该核定批次", "no such run")))?;
    Ok(HttpResponse::Ok().json(run))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assess)
        .service(current)
        .service(start_run)
        .service(get_run);
}
