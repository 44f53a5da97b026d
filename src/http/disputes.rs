//! `/api/v1/certificate-disputes`: the federation lists certificates claimed by two
//! employers for the same month and names the one that counts the person.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::declarations::parse_levy_year;
use super::employers::visible_employer;
use super::problem::AppError;
use super::{request_id, AppState};
use crate::auth::{scope_prefix, Role};
use crate::domain::ids::DisabilityCertificate;
use crate::registry::disputes::{self, ResolveError};
use crate::registry::fields::Fields;
use crate::wire::Fault;

impl From<ResolveError> for AppError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::NotAClaimant(m) => AppError::field("/counted_by", m),
            ResolveError::Db(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    levy_year: String,
    region: Option<String>,
}

/// Open and resolved disputes of a year in the caller's region (federation, admin).
#[get("/api/v1/certificate-disputes")]
async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let who = auth.require(&[Role::Federation])?.clone();
    let levy_year = parse_levy_year(&q.levy_year)
        .map_err(|_| AppError::field("/query/levy_year", "must be a year from 2016 to 2100"))?;
    let wanted = match &q.region {
        Some(r) => Some(
            r.parse::<crate::domain::RegionCode>()
                .map_err(|e| AppError::field("/query/region", e.to_string()))?,
        ),
        None => None,
    };
    let prefix = match (who.region, wanted) {
        (Some(scope), Some(r)) if !crate::auth::region_covers(&scope, &r) => {
            return Err(AppError::Forbidden(
                "the region is outside your scope".into(),
            ))
        }
        (_, Some(r)) => scope_prefix(&r).to_owned(),
        (Some(scope), None) => scope_prefix(&scope).to_owned(),
        (None, None) => String::new(),
    };
    let items = state
        .db
        .run(move |c| disputes::list(c, levy_year, &prefix))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "levy_year": levy_year, "items": items })))
}

/// Names the employer that counts a disputed person (federation, admin).
#[post("/api/v1/certificate-disputes/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let who = auth.require(&[Role::Federation])?.clone();
    let mut f = Fields::new(
        &body,
        &["levy_year", "certificate_no", "counted_by", "note"],
        super::lang_of(&req),
    )?;
    let levy_year = f.int("levy_year", true, 2016, 2100);
    let cert = f.string("certificate_no", true);
    let counted_by = f.parsed("counted_by", true, |s| {
        crate::domain::ids::UnifiedSocialCreditCode::parse(s).map_err(Fault::Id)
    });
    let note = f.text("note", false);
    // A disability certificate names its holder by ID number; a veteran certificate is
    // its own key (as stored on roster lines).
    let holder = cert
        .as_deref()
        .map(|c| match DisabilityCertificate::parse(c) {
            Ok(d) => d.holder().expose().to_owned(),
            Err(_) => format!("V:{c}"),
        });
    let errors = f.errors().to_vec();
    let (Some(levy_year), Some(holder), Some(counted_by), true) =
        (levy_year, holder, counted_by, errors.is_empty())
    else {
        return Err(errors.into());
    };
    let uscc = counted_by.expose().to_owned();
    // The wall first: an employer outside the caller's region is answered as one that
    // does not claim the person, whoever else does.
    let visible = match visible_employer(&state, &who, &uscc).await {
        Ok(_) => true,
        Err(AppError::NotFound(_)) => false,
        Err(e) => return Err(e),
    };
    if !visible {
        return Err(disputes::not_a_claimant().into());
    }
    let actor = who.actor();
    let rid = request_id(&req);
    let u = uscc.clone();
    let secret = state.secret().await?;
    let policy = state.policy.clone();
    let reassessed = state
        .db
        .run(move |c| {
            let decision = disputes::Resolution {
                levy_year: levy_year as i32,
                holder_id: &holder,
                counted_by_uscc: &u,
                note: note.as_deref(),
            };
            if let Err(e) = disputes::resolve(c, &decision, &actor, rid.as_deref(), &secret) {
                return Ok(Err(e));
            }
            let done = crate::registry::assessments::reassess_claimants(
                c,
                policy.as_ref(),
                levy_year as i32,
                &holder,
                &actor,
                rid.as_deref(),
                &secret,
            )?;
            Ok(Ok(done))
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "levy_year": levy_year, "counted_by": uscc, "reassessed": reassessed,
    })))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(resolve);
}
