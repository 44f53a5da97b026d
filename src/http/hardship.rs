//! `POST /api/v1/employers/{uscc}/hardship/{levy_year}` (tax) and `GET` of the same: the
//! tax bureau's decision on a hardship application (docs/rules.md §6a).

use actix_web::{get, post, web, HttpResponse};
use serde_json::Value;

use super::context::EmployerYear;
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::domain::money::to_fen;
use crate::domain::{Language, Said};
use crate::registry::fields::Fields;
use crate::registry::hardship::{self, HardshipError, HardshipRequest, Kind};
use crate::wire::{Fault, FieldError};

impl From<HardshipError> for AppError {
    fn from(e: HardshipError) -> Self {
        match e {
            HardshipError::Invalid(errors) => errors.into(),
            HardshipError::Policy(m) => AppError::Conflict(m.into()),
            HardshipError::Db(e) => e.into(),
        }
    }
}

/// Reads the body: kind, decision, dates, reason; an amount for an approved reduction
/// and a new due date for an approved deferral, and neither where it has no meaning.
fn parse(
    body: &Value,
    today: chrono::NaiveDate,
    lang: Language,
) -> Result<HardshipRequest, AppError> {
    let mut f = Fields::new(
        body,
        &[
            "kind",
            "decision",
            "amount",
            "deferred_to",
            "applied_on",
            "decided_on",
            "reason",
        ],
        lang,
    )?;
    // Faults of this body's own words, beside those of the shared field walker.
    let mut extra: Vec<FieldError> = Vec::new();
    let mut bad = |key: &str, zh: &str, en: &str| {
        extra.push(FieldError {
            pointer: format!("/{key}"),
            code: "invalid",
            message: lang.pick(zh, en).to_owned(),
        })
    };
    let kind = match f.string("kind", true).as_deref() {
        Some("reduction") => Some(Kind::Reduction),
        Some("deferral") => Some(Kind::Deferral),
        Some(_) => {
            bad(
                "kind",
                "应为 \"reduction\"（减免）或 \"deferral\"（缓缴）",
                "must be \"reduction\" or \"deferral\"",
            );
            None
        }
        None => None,
    };
    let approved = match f.string("decision", true).as_deref() {
        Some("approved") => Some(true),
        Some("refused") => Some(false),
        Some(_) => {
            bad(
                "decision",
                "应为 \"approved\"（批准）或 \"refused\"（不予批准）",
                "must be \"approved\" or \"refused\"",
            );
            None
        }
        None => None,
    };
    let amount_fen = match f.value("amount") {
        None => None,
        Some(v) => {
            let d = match v {
                Value::String(s) => s.trim().parse::<rust_decimal::Decimal>().ok(),
                Value::Number(n) => n.to_string().parse::<rust_decimal::Decimal>().ok(),
                _ => None,
            };
            match d.filter(|d| *d > rust_decimal::Decimal::ZERO) {
                Some(d) => match to_fen(d) {
                    Some(fen) => Some(fen),
                    None => {
                        f.fail("amount", Fault::TooManyDecimals { max_dp: 2 });
                        None
                    }
                },
                None => {
                    f.fail("amount", Fault::NotPositiveMoney);
                    None
                }
            }
        }
    };
    let deferred_to = f.date("deferred_to", false);
    let applied_on = f.date("applied_on", true);
    let decided_on = f.date("decided_on", true);
    if decided_on.is_some_and(|d| d > today) {
        f.fail("decided_on", Fault::InFuture);
    }
    let reason = f.text("reason", true);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        f.fail("reason", Fault::TooLong { max: 500 });
    }
    // What an approved decision needs, and what a refusal or the other kind must not carry.
    match (kind, approved) {
        (Some(Kind::Reduction), Some(true)) if !f.has("amount") => {
            f.fail("amount", Fault::Required)
        }
        (Some(Kind::Deferral), Some(true)) if !f.has("deferred_to") => {
            f.fail("deferred_to", Fault::Required)
        }
        _ => {}
    }
    if f.has("amount") && (kind == Some(Kind::Deferral) || approved == Some(false)) {
        bad(
            "amount",
            "仅批准的减免需提供减免额",
            "only an approved reduction has an amount",
        );
    }
    if f.has("deferred_to") && (kind == Some(Kind::Reduction) || approved == Some(false)) {
        bad(
            "deferred_to",
            "仅批准的缓缴需提供缓缴期限",
            "only an approved deferral has a new due date",
        );
    }
    let mut errors = f.errors().to_vec();
    errors.extend(extra);
    match (
        kind,
        approved,
        applied_on,
        decided_on,
        reason,
        errors.is_empty(),
    ) {
        (Some(kind), Some(approved), Some(applied_on), Some(decided_on), Some(reason), true) => {
            Ok(HardshipRequest {
                kind,
                approved,
                amount_fen,
                deferred_to,
                applied_on,
                decided_on,
                reason,
            })
        }
        _ => Err(errors.into()),
    }
}

#[post("/api/v1/employers/{uscc}/hardship/{levy_year}")]
async fn post_hardship(
    state: web::Data<AppState>,
    at: EmployerYear,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let EmployerYear {
        caller, employer, ..
    } = &at;
    caller.require(&[Role::Tax])?;
    let levy_year = at.levy_year()?.get();
    let (req, audit, emp, lang) = (
        parse(&body, state.clock.today(), caller.lang)?,
        caller.audit(),
        employer.clone(),
        caller.lang,
    );
    let row = state
        .call(move |c, st| {
            hardship::record(
                c,
                st.book.as_ref(),
                &emp,
                levy_year,
                &req,
                &audit.actor,
                audit.rid(),
                lang,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(hardship::view(&row)))
}

#[get("/api/v1/employers/{uscc}/hardship/{levy_year}")]
async fn get_hardship(
    state: web::Data<AppState>,
    at: EmployerYear,
) -> Result<HttpResponse, AppError> {
    let levy_year = at.levy_year()?.get();
    let id = at.employer.id;
    let found = state
        .call(move |c, _| crate::db::hardship::current(c, id, levy_year))
        .await?;
    match found {
        Some(row) => Ok(HttpResponse::Ok().json(hardship::view(&row))),
        None => Err(AppError::NotFound(Said::new(
            "该年度无减免或缓缴决定",
            "no hardship decision for that levy year",
        ))),
    }
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_hardship).service(get_hardship);
}
