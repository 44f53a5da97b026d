//! `/api/v1/employers/{uscc}/declarations/{levy_year}`: declare, submit, certify.

use crate::domain::Said;
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::context::{Audit, EmployerYear};
use super::problem::AppError;
use super::AppState;
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
    /// Why the federation returned it, while the return stands (a submission clears
    /// it): for the employer to correct the declaration.
    returned: Option<ReturnedView>,
}

#[derive(Debug, Serialize)]
struct ReturnedView {
    reason: String,
    at: DateTime<Utc>,
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
    let (history, mut disputes, returned) = state
        .db
        .run(move |c| {
            Ok((
                repo::history(c, id)?,
                crate::registry::disputes::disputes_for(c, year, &[emp_id])?,
                repo::return_note(c, id)?,
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
        returned: returned.map(|r| ReturnedView {
            reason: r.reason,
            at: r.returned_at.and_utc(),
        }),
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

/// The options of a save: who, which request, the version the caller read.
fn save_options<'a>(
    audit: &'a Audit,
    if_match: &'a Option<String>,
    secret: &'a crate::secret::ServerSecret,
) -> SaveOptions<'a> {
    SaveOptions {
        actor: &audit.actor,
        request_id: audit.rid(),
        if_match: if_match.as_deref(),
        secret,
    }
}

#[put("/api/v1/employers/{uscc}/declarations/{levy_year}")]
async fn put_declaration(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let EmployerYear {
        caller, employer, ..
    } = &at;
    caller.require(&[Role::Employer, Role::Tax])?;
    let levy_year = at.levy_year()?.get();
    let (parsed, _) = registry::parse_declaration_lang(
        state.policy.as_ref(),
        employer,
        levy_year,
        &body,
        caller.lang,
    )?;
    let (audit, tag, emp, secret) = (
        caller.audit(),
        if_match(&req),
        employer.clone(),
        state.secret().await?,
    );
    let outcome = state
        .call(move |c, _| {
            registry::put(
                c,
                &emp,
                levy_year,
                &parsed,
                &save_options(&audit, &tag, &secret),
            )
        })
        .await?;
    let created = matches!(outcome, SaveOutcome::Created(_));
    let mut res = view(
        &state,
        &caller.who,
        employer,
        outcome.declaration().clone(),
        caller.lang,
    )
    .await?;
    if created {
        *res.status_mut() = actix_web::http::StatusCode::CREATED;
    }
    Ok(res)
}

#[get("/api/v1/employers/{uscc}/declarations/{levy_year}")]
async fn get_declaration(
    state: web::Data<AppState>,
    at: EmployerYear,
) -> Result<HttpResponse, AppError> {
    let (levy_year, id) = (at.levy_year()?.get(), at.employer.id);
    let d = state
        .db
        .run(move |c| repo::current(c, id, levy_year))
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Said::new(
                "该单位没有本征收年度的申报",
                "this employer has no declaration for the levy year",
            ))
        })?;
    view(&state, &at.caller.who, &at.employer, d, at.caller.lang).await
}

async fn do_step(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
    step: Step,
) -> Result<HttpResponse, AppError> {
    let EmployerYear {
        caller, employer, ..
    } = &at;
    match step {
        Step::Submit => caller.require(&[Role::Employer, Role::Tax])?,
        Step::Certify => caller.require(&[Role::Federation])?,
    };
    let levy_year = at.levy_year()?.get();
    let (audit, tag, emp, secret) = (
        caller.audit(),
        if_match(&req),
        employer.clone(),
        state.secret().await?,
    );
    let d = state
        .call(move |c, _| {
            registry::step(
                c,
                &emp,
                levy_year,
                step,
                &save_options(&audit, &tag, &secret),
            )
        })
        .await?;
    view(&state, &caller.who, employer, d, caller.lang).await
}

#[post("/api/v1/employers/{uscc}/declarations/{levy_year}/submit")]
async fn submit(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    do_step(state, at, req, Step::Submit).await
}

#[post("/api/v1/employers/{uscc}/declarations/{levy_year}/certify")]
async fn certify(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    do_step(state, at, req, Step::Certify).await
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(put_declaration)
        .service(get_declaration)
        .service(submit)
        .service(certify);
}
