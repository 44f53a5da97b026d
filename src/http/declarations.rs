//! `/api/v1/employers/{uscc}/declarations/{levy_year}`: declare, submit, certify.

use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::auth::Auth;
use super::employers::visible_employer;
use super::problem::AppError;
use super::{lang_of, request_id, AppState};
use crate::auth::{Principal, Role};
use crate::db::declarations::{self as repo, Declaration};
use crate::registry::declarations::{
    self as registry, mask_body, RegistryError, SaveOptions, SaveOutcome, Step,
};

impl From<RegistryError> for AppError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound(m) => AppError::NotFound(m),
            RegistryError::Conflict(m) => AppError::Conflict(m),
            RegistryError::PreconditionFailed(m) => AppError::PreconditionFailed(m),
            RegistryError::Db(e) => e.into(),
        }
    }
}

/// Levy years the service accepts in paths (the modelled rules start 2015-10-01).
pub fn parse_levy_year(s: &str) -> Result<i32, AppError> {
    match s.parse::<i32>() {
        Ok(y) if (2016..=2100).contains(&y) => Ok(y),
        _ => Err(AppError::field(
            "/path/levy_year",
            "must be a year from 2016 to 2100",
        )),
    }
}

#[derive(Debug, Serialize)]
struct VersionView {
    version: i32,
    status: String,
    at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct DeclarationView {
    uscc: String,
    levy_year: i32,
    data_year: i32,
    version: i32,
    status: String,
    /// The declaration as stored; certificate numbers masked unless the caller needs them.
    declaration: Value,
    certificates_masked: bool,
    submitted_at: Option<DateTime<Utc>>,
    certified_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    history: Vec<VersionView>,
    /// Roster lines whose person another employer also declares for a common month:
    /// not counted there until the federation decides. Never says who the other is.
    disputes: Vec<DisputeView>,
    /// Figures of the law the assessment needs that no policy pack has yet: the
    /// declaration is valid and stored, the assessment waits for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assessment_waits_for: Vec<super::problem::FieldProblem>,
}

#[derive(Debug, Serialize)]
struct DisputeView {
    line: i32,
    months_not_counted: Vec<u8>,
    state: crate::registry::disputes::DisputeState,
}

/// The employer itself, the federation (which certifies rosters) and admins need the
/// numbers; everyone else sees them masked.
fn sees_certificates(who: &Principal) -> bool {
    matches!(who.role, Role::Employer | Role::Federation | Role::Admin)
}

async fn view(
    state: &AppState,
    who: &Principal,
    employer: &crate::db::employers::Employer,
    d: Declaration,
    lang: crate::domain::Language,
) -> Result<HttpResponse, AppError> {
    let uscc = employer.uscc.as_str();
    let (id, emp_id, year) = (d.id, d.employer_id, d.levy_year);
    let (history, mut disputes) = state
        .db
        .run(move |c| {
            Ok((
                repo::history(c, id)?,
                crate::registry::disputes::disputes_for(c, year, &[emp_id])?,
            ))
        })
        .await?;
    let disputes = disputes
        .remove(&emp_id)
        .unwrap_or_default()
        .into_iter()
        .map(|l| DisputeView {
            line: l.line_no,
            months_not_counted: crate::registry::disputes::mask_months(l.excluded_mask),
            state: l.state,
        })
        .collect();
    let mut body: Value = serde_json::from_str(&d.body_json)
        .map_err(|e| AppError::Internal(format!("stored declaration is not JSON: {e}")))?;
    let assessment_waits_for =
        registry::parse_declaration_lang(state.policy.as_ref(), employer, d.levy_year, &body, lang)
            .map(|(p, _)| p.waiting_for)
            .unwrap_or_default()
            .into_iter()
            .map(super::problem::FieldProblem::from)
            .collect();
    let masked = !sees_certificates(who);
    if masked {
        mask_body(&mut body);
    }
    let etag = d.etag();
    let v = DeclarationView {
        uscc: uscc.to_owned(),
        levy_year: d.levy_year,
        data_year: d.levy_year - 1,
        version: d.version,
        status: d.status,
        declaration: body,
        certificates_masked: masked,
        submitted_at: d.submitted_at.map(|t| t.and_utc()),
        certified_at: d.certified_at.map(|t| t.and_utc()),
        updated_at: d.updated_at.and_utc(),
        history: history
            .into_iter()
            .map(|h| VersionView {
                version: h.version,
                status: h.status,
                at: h.created_at.and_utc(),
            })
            .collect(),
        disputes,
        assessment_waits_for,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(v))
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[put("/api/v1/employers/{uscc}/declarations/{levy_year}")]
async fn put_declaration(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (uscc, year) = path.into_inner();
    let employer = visible_employer(&state, &auth.0, &uscc).await?;
    let who = auth.require(&[Role::Employer, Role::Tax])?.clone();
    let levy_year = parse_levy_year(&year)?;
    let (parsed, _) = registry::parse_declaration_lang(
        state.policy.as_ref(),
        &employer,
        levy_year,
        &body,
        lang_of(&req),
    )?;
    let actor = who.actor();
    let rid = request_id(&req);
    let tag = if_match(&req);
    let emp = employer.clone();
    let secret = state.secret().await?;
    let outcome = state
        .db
        .run(move |c| {
            let opts = SaveOptions {
                actor: &actor,
                request_id: rid.as_deref(),
                if_match: tag.as_deref(),
                secret: &secret,
            };
            Ok(registry::put(c, &emp, levy_year, &parsed, &opts))
        })
        .await??;
    let created = matches!(outcome, SaveOutcome::Created(_));
    let d = outcome.declaration().clone();
    let mut res = view(&state, &who, &employer, d, lang_of(&req)).await?;
    if created {
        *res.status_mut() = actix_web::http::StatusCode::CREATED;
    }
    Ok(res)
}

#[get("/api/v1/employers/{uscc}/declarations/{levy_year}")]
async fn get_declaration(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (uscc, year) = path.into_inner();
    let employer = visible_employer(&state, &auth.0, &uscc).await?;
    let levy_year = parse_levy_year(&year)?;
    let id = employer.id;
    let d = state
        .db
        .run(move |c| repo::current(c, id, levy_year))
        .await?
        .ok_or_else(|| {
            AppError::NotFound("this employer has no declaration for the levy year".into())
        })?;
    view(&state, &auth.0, &employer, d, lang_of(&req)).await
}

async fn do_step(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    step: Step,
) -> Result<HttpResponse, AppError> {
    let (uscc, year) = path.into_inner();
    let employer = visible_employer(&state, &auth.0, &uscc).await?;
    let who = match step {
        Step::Submit => auth.require(&[Role::Employer, Role::Tax])?,
        Step::Certify => auth.require(&[Role::Federation])?,
    }
    .clone();
    let levy_year = parse_levy_year(&year)?;
    let actor = who.actor();
    let rid = request_id(&req);
    let tag = if_match(&req);
    let emp = employer.clone();
    let secret = state.secret().await?;
    let d = state
        .db
        .run(move |c| {
            let opts = SaveOptions {
                actor: &actor,
                request_id: rid.as_deref(),
                if_match: tag.as_deref(),
                secret: &secret,
            };
            Ok(registry::step(c, &emp, levy_year, step, &opts))
        })
        .await??;
    view(&state, &who, &employer, d, lang_of(&req)).await
}

#[post("/api/v1/employers/{uscc}/declarations/{levy_year}/submit")]
async fn submit(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    do_step(state, auth, req, path, Step::Submit).await
}

#[post("/api/v1/employers/{uscc}/declarations/{levy_year}/certify")]
async fn certify(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    do_step(state, auth, req, path, Step::Certify).await
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(put_declaration)
        .service(get_declaration)
        .service(submit)
        .service(certify);
}
