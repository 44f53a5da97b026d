//! `POST /api/v1/employers/{uscc}/payments/{levy_year}` (tax, with an Idempotency-Key)
//! and `GET /api/v1/employers/{uscc}/statements/{levy_year}?as_of=`.

use crate::domain::Said;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{as_of, EmployerYear};
use super::problem::AppError;
use super::AppState;
use crate::auth::Role;
use crate::db::payments::PaymentRow;
use crate::domain::money::{format_money, from_fen, to_fen};
use crate::domain::Language;
use crate::registry::fields::Fields;
use crate::registry::payments::{
    record, statement_under, PaymentRequest, Recorded, StatementError,
};
use crate::wire::Fault;

impl From<StatementError> for AppError {
    fn from(e: StatementError) -> Self {
        match e {
            StatementError::Policy(m) => AppError::Conflict(m.into()),
            StatementError::Internal(m) => AppError::Internal(m),
            StatementError::Db(e) => e.into(),
        }
    }
}

fn payment_view(p: &PaymentRow, uscc: &str) -> Value {
    json!({
        "id": p.id, "uscc": uscc, "levy_year": p.levy_year,
        "amount": format_money(from_fen(p.amount_fen)), "paid_on": p.paid_on,
        "reference": p.reference, "recorded_at": p.recorded_at.and_utc(),
    })
}

use crate::registry::payments::MAX_PAYMENT_FEN;

pub(crate) fn parse_payment(
    body: &Value,
    today: chrono::NaiveDate,
    lang: Language,
) -> Result<PaymentRequest, AppError> {
    let mut f = Fields::new(body, &["amount", "paid_on", "reference"], lang)?;
    let amount = match body.get("amount") {
        Some(Value::String(s)) => s.trim().parse::<rust_decimal::Decimal>().ok(),
        Some(Value::Number(n)) => n.to_string().parse::<rust_decimal::Decimal>().ok(),
        None | Some(Value::Null) => {
            f.fail("amount", Fault::Required);
            None
        }
        _ => None,
    };
    let amount_fen = match amount {
        Some(a) if a > rust_decimal::Decimal::new(MAX_PAYMENT_FEN, 2) => {
            f.fail(
                "amount",
                Fault::TooLarge {
                    max: "10000000000.00",
                },
            );
            None
        }
        Some(a) if a > rust_decimal::Decimal::ZERO => match to_fen(a) {
            Some(fen) => Some(fen),
            None => {
                f.fail("amount", Fault::TooManyDecimals { max_dp: 2 });
                None
            }
        },
        _ if f.has("amount") => {
            f.fail("amount", Fault::NotPositiveMoney);
            None
        }
        _ => None,
    };
    let paid_on = f.date("paid_on", true);
    if paid_on.is_some_and(|d| d > today) {
        f.fail("paid_on", Fault::InFuture);
    }
    let reference = f.string("reference", true);
    if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
        f.fail("reference", Fault::TooLong { max: 100 });
    }
    let errors = f.errors().to_vec();
    match (amount_fen, paid_on, reference, errors.is_empty()) {
        (Some(amount_fen), Some(paid_on), Some(reference), true) => Ok(PaymentRequest {
            amount_fen,
            paid_on,
            reference,
        }),
        _ => Err(errors.into()),
    }
}

#[post("/api/v1/employers/{uscc}/payments/{levy_year}")]
async fn post_payment(
    state: web::Data<AppState>,
    at: EmployerYear,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let EmployerYear {
        caller, employer, ..
    } = &at;
    caller.require(&[Role::Tax])?;
    let levy_year = at.levy_year()?.get();
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
    let (payment, audit, emp) = (
        parse_payment(&body, state.clock.today(), caller.lang)?,
        caller.audit(),
        employer.clone(),
    );
    let outcome = state
        .call(move |c, _| {
            record(
                c,
                &emp,
                levy_year,
                &payment,
                &key,
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    match outcome {
        Recorded::New(p) => Ok(HttpResponse::Created().json(payment_view(&p, &employer.uscc))),
        // A replay answers as the first request did (only a recorded payment is
        // ever replayed: 201), marked so that the caller can tell.
        Recorded::Replayed(p) => Ok(HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(payment_view(&p, &employer.uscc))),
        Recorded::KeyReused => Err(AppError::Conflict(Said::new(
            "该 Idempotency-Key 已用于另一笔不同的缴款",
            "this Idempotency-Key was already used for a different payment",
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementQuery {
    as_of: Option<String>,
}

#[get("/api/v1/employers/{uscc}/statements/{levy_year}")]
async fn get_statement(
    state: web::Data<AppState>,
    at: EmployerYear,
    q: web::Query<StatementQuery>,
) -> Result<HttpResponse, AppError> {
    let (levy_year, as_of) = (
        at.levy_year()?.get(),
        as_of(q.as_of.as_deref(), state.clock.today())?,
    );
    let s = state
        .call(move |c, st| {
            statement_under(
                c,
                st.book.as_ref(),
                &at.employer,
                levy_year,
                as_of,
                st.settings.collection.surcharge_from,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_payment).service(get_statement);
}
