//! `/api/v1/employers`: the registry.

use crate::domain::Said;
use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::context::{visible_employer, Caller};
use super::problem::AppError;
use super::{AppState, PageWindow};
use crate::auth::{scope_prefix, Role};
use crate::db::employers::{self as repo, Employer, EmployerFilter};
use crate::domain::{EmployerKind, RegionCode};
use crate::registry::employers as registry;

/// An employer as the API shows it.
#[derive(Debug, Serialize)]
pub struct EmployerView {
    uscc: String,
    name: String,
    kind: String,
    region: String,
    registered_on: Option<NaiveDate>,
    contact_email: Option<String>,
    establishment_size: Option<i32>,
    committee_member: bool,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl From<Employer> for EmployerView {
    fn from(e: Employer) -> Self {
        EmployerView {
            uscc: e.uscc,
            name: e.name,
            kind: e.kind,
            region: e.region,
            registered_on: e.registered_on,
            contact_email: e.contact_email,
            establishment_size: e.establishment_size,
            committee_member: e.committee_member,
            version: e.version,
            created_at: e.created_at.and_utc(),
            updated_at: e.updated_at.and_utc(),
            warnings: Vec::new(),
        }
    }
}

/// The ETag of an employer version.
pub fn employer_etag(e: &Employer) -> String {
    format!("\"employer-{}-v{}\"", e.uscc, e.version)
}

/// The 404 of an employer; the code asked for is not repeated (it came in the path).
#[post("/api/v1/employers")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let who = caller.require_write()?;
    let parsed = registry::parse_new_employer(
        state.policy.as_ref(),
        &body,
        state.clock.today(),
        caller.lang,
    )?;
    let uscc = parsed.new.uscc.clone();
    if !who.can_see(&uscc, &parsed.region) {
        return Err(match who.role {
            Role::Employer => AppError::NotFound(super::context::no_employer()),
            _ => AppError::Forbidden(super::context::outside_scope()),
        });
    }
    let (audit, new, warnings) = (caller.audit(), parsed.new, parsed.warnings.clone());
    let invitations = crate::registry::accounts::Invitations::from_settings(&state.settings)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let created = state
        .call(move |c, _| {
            registry::create(
                c,
                &new,
                &warnings,
                invitations.as_deref(),
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    let e = created.ok_or_else(|| {
        AppError::Conflict(Said::new(
            "该统一社会信用代码的单位已登记",
            "an employer with this credit code is already registered",
        ))
    })?;
    let etag = employer_etag(&e);
    let mut view = EmployerView::from(e);
    view.warnings = parsed.warnings;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/employers/{uscc}")))
        .insert_header((header::ETAG, etag))
        .json(view))
}

/// Query of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    kind: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[get("/api/v1/employers")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let who = caller.who;
    let mut errors = Vec::new();
    let mut filter = EmployerFilter::default();
    if let Some(r) = &q.region {
        match r.parse::<RegionCode>() {
            Ok(code) => filter.region_prefixes.push(scope_prefix(&code).to_owned()),
            Err(e) => errors.push(("/query/region", e.to_string())),
        }
    }
    if let Some(k) = &q.kind {
        match k.parse::<EmployerKind>() {
            Ok(k) => filter.kind = Some(k.as_str().to_owned()),
            Err(e) => errors.push(("/query/kind", e)),
        }
    }
    let mut problems: Vec<super::problem::FieldProblem> = errors
        .into_iter()
        .map(|(p, d)| super::problem::FieldProblem {
            pointer: p.into(),
            code: "invalid".into(),
            detail: d,
        })
        .collect();
    let window = match PageWindow::from_query(q.page, q.per_page, 50, 500) {
        Ok(w) => Some(w),
        Err(AppError::Validation(mut e)) => {
            problems.append(&mut e);
            None
        }
        Err(e) => return Err(e),
    };
    let Some(window) = window.filter(|_| problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    let PageWindow { page, per_page } = window;
    match who.role {
        Role::Employer => filter.uscc = Some(who.employer_uscc.clone().unwrap_or_default()),
        _ => {
            if let Some(scope) = &who.region {
                filter.region_prefixes.push(scope_prefix(scope).to_owned());
            }
        }
    }
    let (items, total) = state
        .db
        .run(move |c| repo::list(c, &filter, window.offset(), per_page))
        .await?;
    let items: Vec<EmployerView> = items.into_iter().map(EmployerView::from).collect();
    Ok(HttpResponse::Ok().json(json!({
        "items": items, "page": page, "per_page": per_page, "total": total,
    })))
}

#[get("/api/v1/employers/{uscc}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let e = visible_employer(&state, &caller.who, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, employer_etag(&e)))
        .json(EmployerView::from(e)))
}

#[patch("/api/v1/employers/{uscc}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let current = visible_employer(&state, &caller.who, &path).await?;
    let who = caller.require_write()?;
    let patch = registry::parse_patch(
        state.policy.as_ref(),
        who,
        &current,
        &body,
        state.clock.today(),
        caller.lang,
    )?;
    let expected_version = match req.headers().get(header::IF_MATCH) {
        None => None,
        Some(tag) if tag.to_str().ok() == Some("*") => None,
        Some(tag) if tag.to_str().ok() == Some(employer_etag(&current).as_str()) => {
            Some(current.version)
        }
        Some(_) => {
            return Err(AppError::PreconditionFailed(Said::new(
                "单位信息在您读取之后已被修改（If-Match 与其 ETag 不符）",
                "the employer changed since you read it (If-Match does not match its ETag)",
            )))
        }
    };
    let audit = caller.audit();
    let e = state
        .call(move |c, _| {
            let (actor, rid) = (&audit.actor, audit.rid());
            registry::update(c, &current.uscc, expected_version, &patch, actor, rid)
        })
        .await?;
    let e = match e {
        registry::UpdateOutcome::Updated(e) | registry::UpdateOutcome::Unchanged(e) => e,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, employer_etag(&e)))
        .json(EmployerView::from(e)))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update);
}
