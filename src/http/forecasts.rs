//! `/api/v1/employers/{uscc}/forecasts/{year}`: the in-year forecast of the current
//! year (docs/forecast.md) — store it, read it with its projection, or project a body
//! without storing it.

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::Value;

use super::context::EmployerYear;
use super::problem::{AppError, FieldProblem};
use super::AppState;
use crate::auth::Role;
use crate::db::forecasts as repo;
use crate::domain::{Language, LevyYear};
use crate::registry::declarations::mask_body;
use crate::registry::forecasts::{self as registry, Projection};

#[derive(Debug, Serialize)]
struct ForecastView {
    uscc: String,
    year: i32,
    levy_year: i32,
    months_entered: i32,
    updated_at: DateTime<Utc>,
    /// The body as stored; certificate numbers masked for the tax bureau.
    forecast: Value,
    certificates_masked: bool,
    /// Null when the stored body no longer projects (the packs changed): `faults` says
    /// why.
    projection: Option<Projection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    faults: Vec<FieldProblem>,
}

#[derive(Debug, Serialize)]
struct DryView {
    uscc: String,
    projection: Projection,
}

/// `{year}` of the path: the current calendar year only (the months "so far" are of
/// this year; a past year is declared, not forecast).
pub fn forecast_year(state: &AppState, s: &str, lang: Language) -> Result<i32, AppError> {
    let today = state.clock.today().year();
    match s.parse::<i32>() {
        Ok(y) if y == today && LevyYear::new((y + 1).into()).is_some() => Ok(y),
        _ => {
            Err(AppError::field(
                "/path/year",
                match lang {
                    Language::Zh => format!("只能预测本年（{today}）：填写本年已过的月份"),
                    Language::En => {
                        format!("only the current year ({today}) can be forecast, from its months so far")
                    }
                },
            ))
        }
    }
}

async fn view(
    state: &AppState,
    at: &EmployerYear,
    row: repo::ForecastRow,
) -> Result<ForecastView, AppError> {
    let lang = at.caller.lang;
    let mut body: Value = serde_json::from_str(&row.body_json)
        .map_err(|e| AppError::Internal(format!("stored forecast is not JSON: {e}")))?;
    let (projection, faults) =
        match registry::reparse(state.policy.as_ref(), &at.employer, &row, lang)
            .and_then(|f| registry::project(&f))
        {
            Ok(p) => (Some(p), vec![]),
            Err(e) => (None, e.into_iter().map(FieldProblem::from).collect()),
        };
    let masked = at.caller.who.role != Role::Employer;
    if masked {
        mask_body(&mut body);
    }
    Ok(ForecastView {
        uscc: at.employer.uscc.clone(),
        year: row.year,
        levy_year: row.year + 1,
        months_entered: row.months_entered,
        updated_at: row.updated_at.and_utc(),
        forecast: body,
        certificates_masked: masked,
        projection,
        faults,
    })
}

#[put("/api/v1/employers/{uscc}/forecasts/{year}")]
async fn put_forecast(
    state: web::Data<AppState>,
    at: EmployerYear,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    at.caller.require(&[Role::Employer, Role::Tax])?;
    let lang = at.caller.lang;
    let year = forecast_year(&state, at.year_text(), lang)?;
    let parsed = registry::parse(state.policy.as_ref(), &at.employer, year, &body, lang)?;
    // A body the engine cannot project is refused too, before anything is written.
    registry::project_figures(&parsed)?;
    let (audit, emp) = (at.caller.audit(), at.employer.clone());
    let (created, row) = state
        .call(move |c, _| {
            let before = repo::get(c, emp.id, year)?;
            let row = registry::put(c, &emp, &parsed, &audit.actor, audit.rid())?;
            Ok::<_, crate::db::DbError>((before.is_none(), row))
        })
        .await?;
    let v = view(&state, &at, row).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(v))
}

#[get("/api/v1/employers/{uscc}/forecasts/{year}")]
async fn get_forecast(
    state: web::Data<AppState>,
    at: EmployerYear,
) -> Result<HttpResponse, AppError> {
    at.caller.require(&[Role::Employer, Role::Tax])?;
    let year = forecast_year(&state, at.year_text(), at.caller.lang)?;
    let id = at.employer.id;
    let row = state
        .db
        .run(move |c| repo::get(c, id, year))
        .await?
        .ok_or_else(|| AppError::NotFound(registry::not_found()))?;
    let v = view(&state, &at, row).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[post("/api/v1/employers/{uscc}/forecasts/{year}/project")]
async fn project(
    state: web::Data<AppState>,
    at: EmployerYear,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    at.caller.require(&[Role::Employer, Role::Tax])?;
    let lang = at.caller.lang;
    let year = forecast_year(&state, at.year_text(), lang)?;
    let parsed = registry::parse(state.policy.as_ref(), &at.employer, year, &body, lang)?;
    let projection = registry::project(&parsed)?;
    Ok(HttpResponse::Ok().json(DryView {
        uscc: at.employer.uscc.clone(),
        projection,
    }))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(put_forecast)
        .service(get_forecast)
        .service(project);
}
