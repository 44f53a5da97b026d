//! `/api/v1/certificate-disputes`: the federation lists certificates claimed by two
//! employers for the same month and names the one that counts the person.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{visible_employer, Caller, ScopeQuery, Scoped};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::domain::ids::DisabilityCertificate;
use crate::domain::LevyYear;
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
impl ScopeQuery for ListQuery {
    const ROLES: &'static [Role] = &[Role::Federation];
    fn levy_year(&self) -> &str {
        &self.levy_year
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[get("/api/v1/certificate-disputes")]
async fn list(
    state: web::Data<AppState>,
    scoped: Scoped<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year, prefix, ..
    } = scoped;
    let levy_year = levy_year.get();
    let items = state
        .call(move |c, _| disputes::list(c, levy_year, &prefix))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "levy_year": levy_year, "items": items })))
}

#[post("/api/v1/certificate-disputes/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let who = caller.require(&[Role::Federation])?;
    let mut f = Fields::new(
        &body,
        &["levy_year", "certificate_no", "counted_by", "note"],
        caller.lang,
    )?;
    let levy_year = f.int(
        "levy_year",
        true,
        LevyYear::FIRST.into(),
        LevyYear::LAST.into(),
    );
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
    let visible = match visible_employer(&state, who, &uscc).await {
        Ok(_) => true,
        Err(AppError::NotFound(_)) => false,
        Err(e) => return Err(e),
    };
    if !visible {
        return Err(disputes::not_a_claimant().into());
    }
    let (audit, u, secret) = (caller.audit(), uscc.clone(), state.secret().await?);
    let reassessed = state
        .call(move |c, st| {
            let decision = disputes::Resolution {
                levy_year: levy_year as i32,
                holder_id: &holder,
                counted_by_uscc: &u,
                note: note.as_deref(),
            };
            disputes::resolve(c, &decision, &audit.actor, audit.rid(), &secret)?;
            Ok::<_, AppError>(crate::registry::assessments::reassess_claimants(
                c,
                st.policy.as_ref(),
                levy_year as i32,
                &holder,
                &audit.actor,
                audit.rid(),
                &secret,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "levy_year": levy_year, "counted_by": uscc, "reassessed": reassessed,
    })))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(resolve);
}
