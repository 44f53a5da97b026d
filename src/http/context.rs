//! What a handler extracts instead of assembling it (in the manner of an
//! authenticated-user extractor): the caller ([`Caller`]: principal, request ID,
//! language), an employer named in the path and visible to the caller
//! ([`EmployerYear`]), a listing's levy year and region inside the caller's scope
//! ([`Scoped`]), and the one reading of `as_of`. Errors keep the order the handlers
//! always checked in: the query's form, then the token, the employer, the role, the
//! year, the region.

use crate::domain::Said;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::NaiveDate;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::auth::Auth;
use super::problem::AppError;
use super::{lang_of, request_id, AppState};
use crate::auth::{region_covers, scope_prefix, Principal, Role};
use crate::db::employers as repo;
use crate::db::employers::Employer;
use crate::domain::{Language, LevyYear, RegionCode};

/// The signed-in caller of a request, with what every handler passes on.
pub struct Caller {
    /// Who calls (401 before the handler runs when the token is missing or unknown).
    pub who: Principal,
    /// The request ID, for the audit log.
    pub request_id: Option<String>,
    /// The language the caller reads (`Accept-Language`).
    pub lang: Language,
}

/// How the audit log names a write: owned, so it moves into database work.
pub struct Audit {
    /// The caller as the audit log names it.
    pub actor: String,
    /// The request ID.
    pub request_id: Option<String>,
}

impl Audit {
    /// The request ID as the registry functions take it.
    pub fn rid(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Auth::from_request(req, payload);
        let request_id = request_id(req);
        let lang = lang_of(req);
        Box::pin(async move {
            Ok(Caller {
                who: auth.await?.0,
                request_id,
                lang,
            })
        })
    }
}

impl Caller {
    /// 403 unless the caller has one of `roles` (admin always has).
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, AppError> {
        if self.who.has_any(roles) {
            Ok(&self.who)
        } else {
            Err(AppError::Forbidden(Said::new(
                format!("{} 角色无权进行此操作", self.who.role.as_str()),
                format!("the {} role may not do this", self.who.role.as_str()),
            )))
        }
    }

    /// 403 for read-only roles.
    pub fn require_write(&self) -> Result<&Principal, AppError> {
        if self.who.can_write() {
            Ok(&self.who)
        } else {
            Err(AppError::Forbidden(Said::new(
                format!("{} 角色只能查看，不能修改", self.who.role.as_str()),
                format!("the {} role is read-only", self.who.role.as_str()),
            )))
        }
    }

    /// The audit names of a write by this caller.
    pub fn audit(&self) -> Audit {
        Audit {
            actor: self.who.actor(),
            request_id: self.request_id.clone(),
        }
    }
}

/// `{levy_year}` of a path.
pub fn path_levy_year(s: &str) -> Result<LevyYear, AppError> {
    LevyYear::parse(s).ok_or_else(|| AppError::field("/path/levy_year", LevyYear::expected()))
}

/// `levy_year=` of a query.
pub fn query_levy_year(s: &str) -> Result<LevyYear, AppError> {
    LevyYear::parse(s).ok_or_else(|| AppError::field("/query/levy_year", LevyYear::expected()))
}

/// `as_of=` of a query: a date, `today` (the app's clock) when absent.
pub fn as_of(s: Option<&str>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    match s {
        None => Ok(today),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::field("/query/as_of", "must be a date YYYY-MM-DD")),
    }
}

/// The region prefix a caller may list: the asked region, inside the caller's scope.
pub fn scoped_prefix(who: &Principal, region: Option<&str>) -> Result<String, AppError> {
    let wanted = region
        .map(|r| {
            r.parse::<RegionCode>()
                .map_err(|e| AppError::field("/query/region", e.to_string()))
        })
        .transpose()?;
    Ok(match (who.region, wanted) {
        (Some(scope), Some(r)) if !region_covers(&scope, &r) => {
            return Err(AppError::Forbidden(outside_scope()))
        }
        (_, Some(r)) => scope_prefix(&r).to_owned(),
        (Some(scope), None) => scope_prefix(&scope).to_owned(),
        (None, None) => String::new(),
    })
}

/// What a caller hears of an employer it may not see, and of one that does not exist.
pub const NO_EMPLOYER: &str = "no such employer (or not one you may see)";

/// The 404 of an employer the caller may not see (or that does not exist): one answer
/// for both, so that a code cannot be probed.
pub fn no_employer() -> Said {
    Said::new("没有该单位（或您无权查看）", NO_EMPLOYER)
}

/// The 403 of a region outside the caller's scope.
pub fn outside_scope() -> Said {
    Said::new(
        "该地区不在您的权限范围内",
        "the region is outside your scope",
    )
}

/// Loads an employer the caller may see, else 404 (never 403: an employer must not
/// learn whether another USCC is registered).
pub async fn visible_employer(
    state: &AppState,
    who: &Principal,
    uscc: &str,
) -> Result<Employer, AppError> {
    let key = uscc.to_owned();
    let found = state.db.run(move |c| repo::by_uscc(c, &key)).await?;
    match found {
        Some(e) if e.region.parse().is_ok_and(|r| who.can_see(&e.uscc, &r)) => Ok(e),
        _ => Err(AppError::NotFound(no_employer())),
    }
}

/// An employer named by `{uscc}` in the path, visible to the caller (404 otherwise, so
/// that an invisible employer and a missing one answer alike), and the path's
/// `{levy_year}`, read when the handler has checked the role.
pub struct EmployerYear {
    /// The caller.
    pub caller: Caller,
    /// The employer.
    pub employer: Employer,
    year: String,
}

impl EmployerYear {
    /// The path's levy year (422 at `/path/levy_year`).
    pub fn levy_year(&self) -> Result<LevyYear, AppError> {
        path_levy_year(&self.year)
    }

    /// The path's year as written (a route whose year is not a levy year reads it
    /// itself).
    pub fn year_text(&self) -> &str {
        &self.year
    }
}

impl FromRequest for EmployerYear {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let path = web::Path::<(String, String)>::from_request(req, payload);
        let caller = Caller::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (uscc, year) = path.await?.into_inner();
            let caller = caller.await?;
            let state = state.ok_or_else(|| AppError::Internal("no app state".into()))?;
            let employer = visible_employer(&state, &caller.who, &uscc).await?;
            Ok(EmployerYear {
                caller,
                employer,
                year,
            })
        })
    }
}

/// The query of a listing over a levy year and a region: who may list it, and where
/// the two values are.
pub trait ScopeQuery: DeserializeOwned + 'static {
    /// The roles that may list (admin always may).
    const ROLES: &'static [Role];
    /// `levy_year=` as sent.
    fn levy_year(&self) -> &str;
    /// `region=` as sent.
    fn region(&self) -> Option<&str>;
}

/// A listing's query, checked: the caller has one of the roles, the levy year is in
/// range and the region (or the caller's own, when none is asked) is within scope.
pub struct Scoped<Q> {
    /// The caller.
    pub caller: Caller,
    /// The levy year.
    pub levy_year: LevyYear,
    /// The region code prefix to list under (empty: everywhere).
    pub prefix: String,
    /// The rest of the query.
    pub query: Q,
}

impl<Q: ScopeQuery> FromRequest for Scoped<Q> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let query = web::Query::<Q>::from_request(req, payload);
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let query = query.await?.into_inner();
            let caller = caller.await?;
            caller.require(Q::ROLES)?;
            let levy_year = query_levy_year(query.levy_year())?;
            let prefix = scoped_prefix(&caller.who, query.region())?;
            Ok(Scoped {
                caller,
                levy_year,
                prefix,
                query,
            })
        })
    }
}

impl AppState {
    /// Runs `work` on a connection off the executor, with this state at hand; a database
    /// fault and the work's own error both become the answer's problem.
    pub async fn call<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut crate::db::AnyConnection, &AppState) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let state = self.clone();
        self.db
            .run(move |c| Ok(work(c, &state)))
            .await?
            .map_err(Into::into)
    }

    /// Runs `work` on a connection of the blocking pool without waiting for it: work a
    /// request begins for the requests after it (a stale list decided again). Nobody
    /// awaits the answer, so a failure is logged under `what`.
    pub fn in_background<F>(&self, what: &'static str, work: F)
    where
        F: FnOnce(&mut crate::db::AnyConnection, &AppState) -> Result<(), crate::db::DbError>
            + Send
            + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let done = state.db.conn().and_then(|mut c| work(&mut c, &state));
            if let Err(e) = done {
                tracing::warn!(error = %e, "{what} failed in the background");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reading_of_dates_and_years() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        assert!(as_of(Some("2025-02-30"), today).is_err());
        assert_eq!(
            as_of(Some("2025-03-01"), today).ok(),
            NaiveDate::from_ymd_opt(2025, 3, 1)
        );
        assert_eq!(as_of(None, today).ok(), Some(today));
        assert!(path_levy_year("2015").is_err());
        assert_eq!(query_levy_year("2025").ok().map(LevyYear::get), Some(2025));
    }
}
