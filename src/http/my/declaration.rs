//! `/my/{uscc}/declaration/{year}`: the employer's declaration as a form — the
//! calculator's staff, wage and roster fields (`templates/pages/figures.html`, read and
//! written by [`crate::http::site::form`]), prefilled from the current declaration, else
//! from last year's. "Save as draft" stores it as `PUT …/declarations/{year}` does,
//! "submit" stores and files it in one transaction; both go through the API's own
//! validation, whose faults come back at their JSON pointers and are shown beside their
//! fields with the whole form typed back, nothing written. "Add a row" is a plain
//! submit button, as on the calculator.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{own_employer, page_year, status_text, MyFrame, Section};
use crate::db::declarations::{self as repo, Declaration};
use crate::db::employers::Employer;
use crate::domain::Language;
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::site::calculator::{form_pairs, Fault, Faults, Field, RowView};
use crate::http::site::form::{self, CalcForm, RowForm};
use crate::http::site::page::{figure_fields, FigureFields};
use crate::http::AppState;
use crate::registry::declarations::{
    self as registry, calc_request_for, RegistryError, SaveOptions, SaveOutcome, DECLARATION_FIELDS,
};
use crate::wire::FieldError;

#[derive(Template)]
#[template(path = "pages/my/declaration.html")]
struct DeclarationView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    data_year: i32,
    action: String,
    csrf: String,
    etag: String,
    status: Option<&'static str>,
    filed: bool,
    message: Option<String>,
    prefill_note: Option<String>,
    faults: Vec<Fault>,
    roster_href: String,
    template_href: String,
    months: Vec<Field>,
    months_errors: Vec<String>,
    average_headcount: Field,
    staff_errors: Vec<String>,
    wages: Vec<Field>,
    rows: Vec<RowView>,
    roster_errors: Vec<String>,
    rows_full: bool,
    disabled_count: Field,
}

/// `?done=` after a save: what the form did.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// What the page says besides the form.
struct PageNotes {
    message: Option<String>,
    prefill_note: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn page(
    s: &SignedIn,
    e: &Employer,
    year: i32,
    f: &CalcForm,
    rows: &[usize],
    errors: &[FieldError],
    current: Option<&Declaration>,
    said: PageNotes,
) -> Result<String, AppError> {
    let lang = s.lang;
    let mut faults = Faults::from_errors(errors, rows);
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
        average_headcount,
        staff_errors,
        wages,
        rows: row_views,
        roster_errors,
        disabled_count,
    } = figure_fields(&mut faults, f, lang);
    let u = &e.uscc;
    render(&DeclarationView {
        layout: Layout::new(lang),
        frame: MyFrame::new(s, e, Section::Declaration, year),
        year,
        data_year: year - 1,
        action: s.link(&format!("/my/{u}/declaration/{year}")),
        csrf: s.csrf().to_owned(),
        etag: current.map(Declaration::etag).unwrap_or_default(),
        status: current.map(|d| status_text(&d.status, lang)),
        filed: current.is_some_and(|d| matches!(d.status.as_str(), "submitted" | "certified")),
        message: said.message,
        prefill_note: said.prefill_note,
        faults: summary,
        roster_href: s.link(&format!("/my/{u}/declaration/{year}/roster")),
        template_href: s.link(&format!("/my/{u}/roster-template.xlsx")),
        months,
        months_errors,
        average_headcount,
        staff_errors,
        wages,
        rows_full: f.rows.len() >= form::MAX_ROWS,
        rows: row_views,
        roster_errors,
        disabled_count,
    })
}

/// The current declaration of the year and, when there is none, last year's.
async fn stored(
    state: &AppState,
    e: &Employer,
    year: i32,
) -> Result<(Option<Declaration>, Option<Declaration>), AppError> {
    let id = e.id;
    Ok(state
        .db
        .run(move |c| {
            let current = repo::current(c, id, year)?;
            let last = match current {
                Some(_) => None,
                None => repo::current(c, id, year - 1)?,
            };
            Ok((current, last))
        })
        .await?)
}

/// The form a stored declaration fills.
fn form_of(e: &Employer, d: &Declaration) -> CalcForm {
    let body: Value = serde_json::from_str(&d.body_json).unwrap_or(Value::Null);
    form::from_request(&calc_request_for(e, d.levy_year, &body))
}

/// Last year's declaration as this year's starting point: staff, wages and the people
/// of the roster are kept; each person's months and period are cleared (they are of
/// another year, and the employer must say them for this one), and so is the fresh
/// graduate mark (it counts only in the year of hiring).
fn carried_over(mut f: CalcForm) -> CalcForm {
    for r in &mut f.rows {
        r.months.clear();
        r.from.clear();
        r.to.clear();
        r.graduate = false;
    }
    f
}

/// The declaration body of a form: the calculation request's fields a declaration
/// has (region, kind and registration date are the employer record's).
pub fn declaration_body(request: &Value) -> Value {
    let mut body = Map::new();
    if let Some(o) = request.as_object() {
        for (k, v) in o {
            if DECLARATION_FIELDS.contains(&k.as_str()) {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(body)
}

fn done_message(done: Option<&str>, lang: Language) -> Option<String> {
    let text = match done? {
        "saved" => lang.pick(
            "草稿已保存。确认无误后请点击“提交申报”。",
            "The draft is saved. When it is right, press \"Submit\".",
        ),
        "submitted" => lang.pick(
            "申报已提交。残联审核、税务机关核定后，可在“核定结果”中查看。",
            "The declaration is submitted. Once certified and assessed, see it under \"Assessment\".",
        ),
        "unchanged" => lang.pick(
            "申报没有改动，未作任何更改。",
            "Nothing in the declaration changed; nothing was written.",
        ),
        "roster" => lang.pick(
            "名单已导入草稿。请核对后保存或提交。",
            "The roster is in the draft. Check it, then save or submit.",
        ),
        _ => return None,
    };
    Some(text.to_owned())
}

/// The form, filled from what is stored.
#[get("/my/{uscc}/declaration/{year}")]
pub async fn show(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let (current, last) = stored(&state, &e, year).await?;
    let lang = s.lang;
    // A declaration the federation returned shows its reason until it is submitted again.
    let returned = match &current {
        Some(d) => {
            let id = d.id;
            state.db.run(move |c| repo::return_note(c, id)).await?
        }
        None => None,
    };
    let (f, prefill_note) = match (&current, &last) {
        (Some(d), _) => (form_of(&e, d), None),
        (None, Some(d)) => (
            carried_over(form_of(&e, d)),
            Some(match lang {
                Language::Zh => format!(
                    "已按 {} 年度的申报预填职工人数、工资和残疾职工名单。每人的在职月份已清空，请按 {} 年的实际情况填写；“上年新招用的高校毕业生”也已取消勾选。",
                    year - 1,
                    year - 1
                ),
                Language::En => format!(
                    "Staff, wages and the roster are filled in from the declaration of levy year {}. Each person's months are cleared: enter those of {}; the fresh graduate marks are cleared too.",
                    year - 1,
                    year - 1
                ),
            }),
        ),
        (None, None) => {
            let mut f = CalcForm::new(&e.region, year);
            f.rows = vec![RowForm::default(); form::EMPTY_ROWS];
            (f, None)
        }
    };
    let html = page(
        &s,
        &e,
        year,
        &f,
        &[],
        &[],
        current.as_ref(),
        PageNotes {
            message: returned
                .map(|r| match lang {
                    Language::Zh => format!(
                        "残疾人联合会退回了本申报，原因：{}。请更正后重新提交。",
                        r.reason
                    ),
                    Language::En => format!(
                        "The disabled persons' federation returned this declaration: {}. Correct it and submit it again.",
                        r.reason
                    ),
                })
                .or_else(|| done_message(q.done.as_deref(), lang)),
            prefill_note,
        },
    )?;
    Ok(super::respond(StatusCode::OK, html))
}

fn field_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A sent form: a row added, or the declaration saved (and submitted).
#[post("/my/{uscc}/declaration/{year}")]
pub async fn send(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let here = format!("/my/{uscc}/declaration/{y}");
    let pairs = form_pairs(&body);
    if !s.form_ok(field_value(&pairs, "csrf_token")) {
        return Ok(forged(s.lang, s.link(&here))?);
    }
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let lang = s.lang;
    let action = field_value(&pairs, "action").unwrap_or("save").to_owned();
    let etag = field_value(&pairs, "etag")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let (f, _) = form::from_pairs(&pairs);
    let (current, _) = stored(&state, &e, year).await?;
    let again = |f: &CalcForm, rows: &[usize], errors: &[FieldError], message: Option<String>| {
        page(
            &s,
            &e,
            year,
            f,
            rows,
            errors,
            current.as_ref(),
            PageNotes {
                message,
                prefill_note: None,
            },
        )
    };
    if action == "add_row" {
        let html = again(&f, &[], &[], None)?;
        return Ok(super::respond(StatusCode::OK, html));
    }
    let (request, rows) = form::to_request(&f);
    let body = declaration_body(&request);
    let parsed = registry::parse_declaration_lang(state.policy.as_ref(), &e, year, &body, lang);
    let parsed = match parsed {
        Ok((p, _)) => p,
        Err(errors) => {
            let message = lang
                .pick(
                    "申报未保存：请更正标出的各项。",
                    "The declaration was not saved: correct the entries marked.",
                )
                .to_owned();
            let html = again(&f, &rows, &errors, Some(message))?;
            return Ok(super::respond(StatusCode::UNPROCESSABLE_ENTITY, html));
        }
    };
    let submit = action == "submit";
    let (audit, emp, secret) = (s.audit(), e.clone(), state.secret().await?);
    let outcome = state
        .call(move |c, _| {
            let opts = SaveOptions {
                actor: &audit.actor,
                request_id: audit.rid(),
                if_match: etag.as_deref(),
                secret: &secret,
            };
            if submit {
                let before = repo::current(c, emp.id, year)?.map(|d| (d.status, d.body_digest));
                let d = registry::put_and_submit(c, &emp, year, &parsed, &opts)?;
                let unchanged =
                    before.is_some_and(|(st, dg)| st == d.status && dg == d.body_digest);
                Ok::<_, RegistryError>(if unchanged { "unchanged" } else { "submitted" })
            } else {
                Ok(match registry::put(c, &emp, year, &parsed, &opts)? {
                    SaveOutcome::Unchanged(_) => "unchanged",
                    _ => "saved",
                })
            }
        })
        .await;
    match outcome {
        Ok(done) => Ok(see_other(&s.link(&format!("{here}?done={done}")), &[])),
        Err(AppError::PreconditionFailed(_)) => {
            let message = lang
                .pick(
                    "申报在您打开本页之后已被修改（可能在另一窗口或由税务机关代为申报），未作任何更改。请重新打开申报页面。",
                    "The declaration changed after you opened this page (in another window, or by the tax bureau); nothing was changed. Open the declaration again.",
                )
                .to_owned();
            let html = again(&f, &rows, &[], Some(message))?;
            Ok(super::respond(StatusCode::CONFLICT, html))
        }
        Err(AppError::Conflict(said)) => {
            let html = again(&f, &rows, &[], Some(said.get(lang).to_owned()))?;
            Ok(super::respond(StatusCode::CONFLICT, html))
        }
        Err(other) => Err(other.into()),
    }
}
