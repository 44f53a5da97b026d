//! `/my/{uscc}/forecast`: the employer's in-year forecast of the current year
//! (docs/forecast.md) as a form — the headcounts of the months so far, the wages, the
//! roster rows of the calculator — and its projection: the year-end ratio, the levy of
//! the next levy year, what it takes to reach 1 % and the full ratio, and every
//! assumption. Saving goes through `registry::forecasts` as
//! `PUT /api/v1/employers/{uscc}/forecasts/{year}` does; its faults are shown beside
//! their fields with the form typed back, nothing written. `/my/forecast` leads here.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use chrono::Datelike;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{employer_only, own_employer, MyFrame, Section};
use crate::db::employers::Employer;
use crate::db::forecasts as repo;
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::site::calculator::{form_pairs, Fault, Faults, Field, RowView};
use crate::http::site::form::{self, CalcForm, RowForm};
use crate::http::site::page::{figure_fields, FigureFields};
use crate::http::AppState;
use crate::registry::forecasts::{self as registry, Projection};
use crate::wire::FieldError;

/// The projection as the page shows it.
struct ResultView {
    ratio: String,
    required: String,
    disabled: String,
    payable: String,
    takes: Vec<String>,
    assumptions: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/my/forecast.html")]
struct ForecastView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    levy_year: i32,
    action: String,
    csrf: String,
    message: Option<String>,
    faults: Vec<Fault>,
    result: Option<ResultView>,
    months: Vec<Field>,
    months_errors: Vec<String>,
    wages: Vec<Field>,
    rows: Vec<RowView>,
    roster_errors: Vec<String>,
    rows_full: bool,
}

/// `?done=saved` after a save.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn result_view(p: &Projection) -> ResultView {
    let ratio = p
        .levy
        .employment_ratio
        .as_deref()
        .and_then(|r| r.parse::<Decimal>().ok())
        .map_or_else(
            || "-".to_owned(),
            |r| {
                format!(
                    "{}%",
                    crate::domain::money::round2(r * Decimal::ONE_HUNDRED)
                )
            },
        );
    ResultView {
        ratio,
        required: p.levy.required.clone(),
        disabled: p.levy.disabled_counted.clone(),
        payable: p.levy.levy_payable.clone(),
        takes: p.what_it_takes.iter().map(|t| t.text.clone()).collect(),
        assumptions: p.assumptions.iter().map(|a| a.text.clone()).collect(),
    }
}

/// The form's faults at the calculator's pointers, so that each lands at its field.
fn form_pointer(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("/monthly_headcount") {
        return format!("/staff/monthly_headcount{rest}");
    }
    if p == "/wages_so_far" {
        return "/total_wages".into();
    }
    p.to_owned()
}

#[allow(clippy::too_many_arguments)]
fn page(
    s: &SignedIn,
    e: &Employer,
    year: i32,
    f: &CalcForm,
    rows: &[usize],
    errors: &[FieldError],
    result: Option<ResultView>,
    message: Option<String>,
) -> Result<String, AppError> {
    let lang = s.lang;
    let errors: Vec<FieldError> = errors
        .iter()
        .cloned()
        .map(|mut x| {
            x.pointer = form_pointer(&x.pointer);
            x
        })
        .collect();
    let mut faults = Faults::from_errors(&errors, rows);
    let summary = faults
        .order
        .iter()
        .map(|(field, message)| Fault {
            target: field.as_ref().map(|f| match f.as_str() {
                "months" | "staff" => "f-months".to_owned(),
                "roster" => "roster".to_owned(),
                other => format!("f-{other}"),
            }),
            message: message.clone(),
        })
        .collect();
    let FigureFields {
        months,
        months_errors,
        mut wages,
        rows: mut row_views,
        roster_errors,
        ..
    } = figure_fields(&mut faults, f, lang);
    // The data year of a forecast is this year, not the one before.
    for c in row_views
        .iter_mut()
        .flat_map(|r| r.checks.iter_mut())
        .filter(|c| c.name.ends_with("_graduate"))
    {
        c.label = lang
            .pick(
                "本年新招用的高校毕业生",
                "Fresh college graduate hired this year",
            )
            .to_owned();
    }
    if let [so_far, given] = wages.as_mut_slice() {
        so_far.label = lang
            .pick(
                "本年已发工资总额（元）",
                "Wages paid so far this year (yuan)",
            )
            .to_owned();
        given.label = lang
            .pick(
                "或：年平均工资（元，例如上年的）",
                "Or: an average annual wage (yuan, e.g. last year's)",
            )
            .to_owned();
    }
    let u = &e.uscc;
    render(&ForecastView {
        layout: Layout::new(lang),
        frame: MyFrame::new(s, e, Section::Forecast, year),
        year,
        levy_year: year + 1,
        action: s.link(&format!("/my/{u}/forecast")),
        csrf: s.csrf().to_owned(),
        message,
        faults: summary,
        result,
        months,
        months_errors,
        wages,
        rows_full: f.rows.len() >= form::MAX_ROWS,
        rows: row_views,
        roster_errors,
    })
}

/// The form a stored body fills.
fn form_of(e: &Employer, year: i32, body: &Value) -> CalcForm {
    let mut req = Map::new();
    if let Some(h) = body.get("monthly_headcount") {
        req.insert("staff".into(), json!({ "monthly_headcount": h }));
    }
    for (from, to) in [
        ("wages_so_far", "total_wages"),
        ("average_wage", "average_wage"),
        ("disabled_employees", "disabled_employees"),
    ] {
        if let Some(v) = body.get(from) {
            req.insert(to.into(), v.clone());
        }
    }
    let mut f = form::from_request(&Value::Object(req));
    f.region = e.region.clone();
    f.levy_year = (year + 1).to_string();
    if f.rows.is_empty() {
        f.rows = vec![RowForm::default(); form::EMPTY_ROWS];
    }
    f
}

/// The forecast body of a sent form, and the form row of each roster line.
fn body_of(f: &CalcForm) -> (Value, Vec<usize>) {
    let (request, rows) = form::to_request(f);
    let mut body = Map::new();
    let entered = f
        .months
        .iter()
        .rposition(|m| !m.trim().is_empty())
        .map_or(0, |i| i + 1);
    if entered > 0 {
        let months: Vec<Value> = f.months[..entered]
            .iter()
            .map(|m| {
                let t = m.trim();
                t.parse::<i64>().map_or_else(|_| json!(t), |n| json!(n))
            })
            .collect();
        body.insert("monthly_headcount".into(), Value::Array(months));
    }
    if let Some(w) = request.get("total_wages") {
        body.insert("wages_so_far".into(), w.clone());
    }
    if let Some(w) = request.get("average_wage") {
        body.insert("average_wage".into(), w.clone());
    }
    if let Some(r) = request.get("disabled_employees") {
        body.insert("disabled_employees".into(), r.clone());
    }
    (Value::Object(body), rows)
}

/// `/my/forecast`: the signed-in employer's own forecast page.
#[get("/my/forecast")]
pub async fn shortcut(s: SignedIn) -> Result<HttpResponse, PageRefusal> {
    let uscc = employer_only(&s)?;
    Ok(see_other(&s.link(&format!("/my/{uscc}/forecast")), &[]))
}

/// The form, filled from the stored forecast, with its projection.
#[get("/my/{uscc}/forecast")]
pub async fn show(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let e = own_employer(&state, &s, &path).await?;
    let year = state.clock.today().year();
    let id = e.id;
    let row = state.db.run(move |c| repo::get(c, id, year)).await?;
    let lang = s.lang;
    let (f, result, errors) = match &row {
        Some(r) => {
            let body: Value = serde_json::from_str(&r.body_json).unwrap_or(Value::Null);
            let projected = registry::reparse(state.policy.as_ref(), &e, r, lang)
                .and_then(|p| registry::project(&p));
            match projected {
                Ok(p) => (form_of(&e, year, &body), Some(result_view(&p)), vec![]),
                Err(errors) => (form_of(&e, year, &body), None, errors),
            }
        }
        None => {
            let mut f = CalcForm::new(&e.region, year + 1);
            f.rows = vec![RowForm::default(); form::EMPTY_ROWS];
            (f, None, vec![])
        }
    };
    let message = q.done.as_deref().filter(|d| *d == "saved").map(|_| {
        lang.pick(
            "预测已保存。以下为按已填报月份顺延至年底的预测。",
            "The forecast is saved. Below: the months entered carried forward to December.",
        )
        .to_owned()
    });
    let rows: Vec<usize> = (0..f.rows.len()).collect();
    let html = page(&s, &e, year, &f, &rows, &errors, result, message)?;
    Ok(super::respond(StatusCode::OK, html))
}

/// A sent form: a row added, or the forecast saved and projected.
#[post("/my/{uscc}/forecast")]
pub async fn send(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let uscc = path.into_inner();
    let here = format!("/my/{uscc}/forecast");
    let pairs = form_pairs(&body);
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if !s.form_ok(field("csrf_token")) {
        return Ok(forged(s.lang, s.link(&here))?);
    }
    let e = own_employer(&state, &s, &uscc).await?;
    let year = state.clock.today().year();
    let lang = s.lang;
    let (f, _) = form::from_pairs(&pairs);
    if field("action") == Some("add_row") {
        let html = page(&s, &e, year, &f, &[], &[], None, None)?;
        return Ok(super::respond(StatusCode::OK, html));
    }
    let (b, rows) = body_of(&f);
    let checked = registry::parse(state.policy.as_ref(), &e, year, &b, lang)
        .and_then(|p| registry::project(&p).map(|_| p));
    let parsed = match checked {
        Ok(p) => p,
        Err(errors) => {
            let message = lang
                .pick(
                    "预测未保存：请更正标出的各项。",
                    "The forecast was not saved: correct the entries marked.",
                )
                .to_owned();
            let html = page(&s, &e, year, &f, &rows, &errors, None, Some(message))?;
            return Ok(super::respond(StatusCode::UNPROCESSABLE_ENTITY, html));
        }
    };
    let (audit, emp) = (s.audit(), e.clone());
    state
        .call(move |c, _| registry::put(c, &emp, &parsed, &audit.actor, audit.rid()))
        .await?;
    Ok(see_other(&s.link(&format!("{here}?done=saved")), &[]))
}
