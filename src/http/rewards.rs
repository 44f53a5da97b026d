//! Over-quota rewards (docs/rules.md §7): `GET /api/v1/rewards?region=&levy_year=` (the
//! rewards roll, JSON paged, CSV or XLSX), `GET /api/v1/rewards/{uscc}/{levy_year}` (one
//! employer's reward, the employer's own too), the federation's decisions (one, or many
//! at once), and payouts recorded under an Idempotency-Key.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{visible_employer, Caller, EmployerYear, ScopeQuery, Scoped};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::domain::money::to_fen;
use crate::domain::{Language, LevyYear, Said};
use crate::mail::template::Templates;
use crate::registry::fields::Fields;
use crate::registry::rewards::{
    self, cells, decide, for_each, pay, rule_of_region, total_cells, DecisionRequest, PaidOut,
    PayoutRequest, PayoutView, RewardError, CSV_HEADER,
};
use crate::registry::roll::xlsx::XLSX_CONTENT_TYPE;
use crate::wire::Fault;

impl From<RewardError> for AppError {
    fn from(e: RewardError) -> Self {
        match e {
            RewardError::NotFound(s) => AppError::NotFound(s),
            RewardError::Conflict(s) => AppError::Conflict(s),
            RewardError::Field(p, s) => {
                AppError::field(p, s.get(super::problem::current_language()))
            }
            RewardError::At(i, e) => match *e {
                RewardError::Field(p, s) => AppError::field(
                    format!("/uscc/{i}{p}"),
                    s.get(super::problem::current_language()),
                ),
                other => other.into(),
            },
            RewardError::Db(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RewardsQuery {
    levy_year: String,
    region: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    format: Option<String>,
}

impl ScopeQuery for RewardsQuery {
    // The federation decides, the tax bureau and the finance office follow the money.
    const ROLES: &'static [Role] = &[Role::Federation, Role::Tax];
    fn levy_year(&self) -> &str {
        &self.levy_year
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[get("/api/v1/rewards")]
async fn rewards_roll(
    state: web::Data<AppState>,
    scoped: Scoped<RewardsQuery>,
) -> Result<HttpResponse, AppError> {
    let Scoped {
        levy_year,
        prefix,
        query: q,
        ..
    } = scoped;
    let levy_year = levy_year.get();
    let format = q.format.clone().unwrap_or_else(|| "json".to_owned());
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(AppError::field(
            "/query/format",
            "must be json, csv or xlsx",
        ));
    }
    // The rule of the region asked for: when it is "none", its note says why nobody is
    // rewarded (Sanmenxia: 三政〔2016〕23号 promises rewards but names no amount).
    let rule = q
        .region
        .as_deref()
        .and_then(|r| r.parse().ok())
        .map(|r| rule_of_region(state.policy.as_ref(), r, levy_year));
    let window = super::PageWindow::from_query(q.page, q.per_page, 100, 1000)?;
    let all = format != "json";
    let (items, sums) = state
        .db
        .run(move |c| {
            let mut items = Vec::new();
            let (skip, limit) = if all {
                (0, None)
            } else {
                (window.offset(), Some(window.per_page))
            };
            let sums = for_each(c, levy_year, &prefix, skip, limit, &mut |r| {
                items.push(r);
                Ok(())
            })?;
            Ok((items, sums))
        })
        .await?;
    let totals = sums.totals();
    let (rule, rule_error) = match rule {
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    match format.as_str() {
        "json" => Ok(HttpResponse::Ok().json(json!({
            "levy_year": levy_year, "page": window.page, "per_page": window.per_page,
            "total": totals.employers, "items": items, "totals": totals,
            "rule": rule, "rule_unavailable": rule_error,
        }))),
        "csv" => {
            let mut out = format!("\u{feff}{}", crate::registry::csv::line(&CSV_HEADER));
            for r in &items {
                let c = cells(r);
                out.push_str(&crate::registry::csv::line(
                    &c.each_ref().map(String::as_str),
                ));
            }
            let t = total_cells(&totals);
            out.push_str(&crate::registry::csv::line(
                &t.each_ref().map(String::as_str),
            ));
            if let Some(note) = rule.as_ref().and_then(|r| r.note.as_deref()) {
                out.push_str(&crate::registry::csv::line(&[&format!(
                    "未设奖励规则 (no reward rule): {note}"
                )]));
            }
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"rewards-{levy_year}.csv\""),
                ))
                .body(out))
        }
        _ => {
            let mut rows: Vec<Vec<String>> = items.iter().map(|r| cells(r).to_vec()).collect();
            rows.push(total_cells(&totals).to_vec());
            let bytes = web::block(move || {
                crate::registry::sheet::workbook("超比例奖励", &CSV_HEADER, &rows, &[4, 5, 9, 10])
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"rewards-{levy_year}.xlsx\""),
                ))
                .body(bytes))
        }
    }
}

#[get("/api/v1/rewards/{uscc}/{levy_year}")]
async fn employer_reward(
    state: web::Data<AppState>,
    at: EmployerYear,
) -> Result<HttpResponse, AppError> {
    at.caller
        .require(&[Role::Employer, Role::Federation, Role::Tax])?;
    let levy_year = at.levy_year()?.get();
    let found = state
        .call(move |c, _| rewards::of_employer(c, &at.employer, levy_year))
        .await?;
    match found {
        Some(r) => Ok(HttpResponse::Ok().json(r)),
        None => Err(AppError::NotFound(Said::new(
            format!("{levy_year} 年度尚无核定结果"),
            format!("there is no assessment of {levy_year}"),
        ))),
    }
}

/// Reads a decision: `decision` approve or refuse, `reason` (required to refuse),
/// `reward` (optional: the figure the decider saw). `extra` are further keys allowed.
fn parse_decision(
    body: &Value,
    extra: &[&str],
    lang: Language,
) -> Result<DecisionRequest, AppError> {
    let mut keys = vec!["decision", "reason", "reward"];
    keys.extend_from_slice(extra);
    let mut f = Fields::new(body, &keys, lang)?;
    let mut own = Vec::new();
    let approve = match f.string("decision", true).as_deref() {
        Some("approve") => Some(true),
        Some("refuse") => Some(false),
        Some(_) => {
            own.push(crate::wire::FieldError {
                pointer: "/decision".into(),
                code: "invalid",
                message: Said::new("须为 approve 或 refuse", "must be approve or refuse")
                    .get(lang)
                    .to_owned(),
            });
            None
        }
        None => None,
    };
    let reason = f.text("reason", approve == Some(false));
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        f.fail("reason", Fault::TooLong { max: 500 });
    }
    let expected = f
        .string("reward", false)
        .map(|s| s.parse::<rust_decimal::Decimal>().ok().and_then(to_fen));
    if expected == Some(None) {
        f.fail("reward", Fault::BadDecimal);
    }
    let mut errors = f.errors().to_vec();
    errors.extend(own);
    match (approve, errors.is_empty()) {
        (Some(approve), true) => Ok(DecisionRequest {
            approve,
            reason,
            expected_reward_fen: expected.flatten(),
        }),
        _ => Err(errors.into()),
    }
}

fn templates(state: &AppState) -> Result<Templates, AppError> {
    Templates::from_settings(&state.settings.mail)
        .map_err(|e| AppError::Internal(format!("mail templates: {e}")))
}

#[post("/api/v1/rewards/{uscc}/{levy_year}/decision")]
async fn post_decision(
    state: web::Data<AppState>,
    at: EmployerYear,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    at.caller.require(&[Role::Federation])?;
    at.caller.require_write()?;
    let levy_year = at.levy_year()?.get();
    let req = parse_decision(&body, &[], at.caller.lang)?;
    let (t, audit) = (templates(&state)?, at.caller.audit());
    let mut done = state
        .call(move |c, _| {
            decide(
                c,
                std::slice::from_ref(&at.employer),
                levy_year,
                &req,
                Some(&t),
                &audit.actor,
                audit.rid(),
            )
            .map_err(|e| match e {
                RewardError::At(_, e) => *e,
                e => e,
            })
        })
        .await?;
    match done.pop() {
        Some(r) => Ok(HttpResponse::Ok().json(r)),
        None => Err(AppError::Internal("no decision made".into())),
    }
}

#[post("/api/v1/rewards/decisions")]
async fn post_decisions(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Federation])?;
    caller.require_write()?;
    let req = parse_decision(&body, &["levy_year", "uscc"], caller.lang)?;
    let levy_year = match body.get("levy_year") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|y| i32::try_from(y).ok())
            .and_then(|y| LevyYear::parse(&y.to_string())),
        Some(Value::String(s)) => LevyYear::parse(s),
        _ => None,
    }
    .ok_or_else(|| AppError::field("/levy_year", LevyYear::expected()))?
    .get();
    let list: Vec<String> = match body.get("uscc") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 1000 => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    AppError::field(format!("/uscc/{i}"), "must be a unified social credit code")
                })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(AppError::field(
                "/uscc",
                "must be a list of 1 to 1000 unified social credit codes",
            ))
        }
    };
    // Every employer must be one the caller may see; one that is not is named by its
    // place in the list, and nothing is decided.
    let mut employers = Vec::with_capacity(list.len());
    for (i, u) in list.iter().enumerate() {
        match visible_employer(&state, &caller.who, u).await {
            Ok(e) => employers.push(e),
            Err(_) => {
                return Err(AppError::field(
                    format!("/uscc/{i}"),
                    super::context::NO_EMPLOYER,
                ))
            }
        }
    }
    let (t, audit) = (templates(&state)?, caller.audit());
    let done = state
        .call(move |c, _| {
            decide(
                c,
                &employers,
                levy_year,
                &req,
                Some(&t),
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "levy_year": levy_year, "items": done })))
}

/// Reads a payout: the amount is the approved reward's (or the reversed payout's), never
/// the caller's.
fn parse_payout(
    body: &Value,
    today: chrono::NaiveDate,
    lang: Language,
) -> Result<PayoutRequest, AppError> {
    let mut f = Fields::new(body, &["paid_on", "reference", "reverses"], lang)?;
    let paid_on = f.date("paid_on", true);
    if paid_on.is_some_and(|d| d > today) {
        f.fail("paid_on", Fault::InFuture);
    }
    let reference = f.string("reference", true);
    if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
        f.fail("reference", Fault::TooLong { max: 100 });
    }
    let reverses = f.int("reverses", false, 1, i64::MAX);
    let errors = f.errors().to_vec();
    match (paid_on, reference, errors.is_empty()) {
        (Some(paid_on), Some(reference), true) => Ok(PayoutRequest {
            paid_on,
            reference,
            reverses,
        }),
        _ => Err(errors.into()),
    }
}

#[post("/api/v1/rewards/{uscc}/{levy_year}/payouts")]
async fn post_payout(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    at.caller.require(&[Role::Federation])?;
    at.caller.require_write()?;
    let levy_year = at.levy_year()?.get();
    // The key as payments read it: a retried request records nothing new.
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_owned)
        .ok_or_else(|| {
            AppError::field(
                "/header/Idempotency-Key",
                "is required (1-200 characters), so that a retried request records nothing new",
            )
        })?;
    let payout = parse_payout(&body, state.clock.today(), at.caller.lang)?;
    let (t, audit) = (templates(&state)?, at.caller.audit());
    let outcome = state
        .call(move |c, _| {
            pay(
                c,
                &at.employer,
                levy_year,
                &payout,
                &key,
                Some(&t),
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    match outcome {
        PaidOut::New(p) => Ok(HttpResponse::Created().json(PayoutView::of(&p))),
        PaidOut::Replayed(p) => Ok(HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(PayoutView::of(&p))),
        PaidOut::KeyReused => Err(AppError::Conflict(Said::new(
            "该 Idempotency-Key 已用于另一笔不同的奖励发放",
            "this Idempotency-Key was already used for a different payout",
        ))),
    }
}

/// Registers the routes (the bulk path before the per-employer ones).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(rewards_roll)
        .service(post_decisions)
        .service(employer_reward)
        .service(post_decision)
        .service(post_payout);
}
