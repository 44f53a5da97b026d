//! `GET /officer/employers/{uscc}?levy_year=`: one employer for an officer of its
//! region (tax, inspector, federation, admin), read-only: its declaration and every
//! version, the assessment with its explanation, the payments and the statement, the
//! written demands issued, and its positions reserved for disabled people (岗位预留:
//! whether one is open, as the violator list says). Another region's employer is a 404 page, an employer's
//! account a 403 page. Tax officers (and administrators) also see the form that records
//! a payment (`POST /officer/employers/{uscc}/payments`): it carries an idempotency key
//! made when the page was rendered, so that a double click records one payment
//! ([`crate::registry::payments::record`]).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Role;
use crate::db::demands::DemandRow;
use crate::db::employers::Employer;
use crate::domain::money::{format_money, from_fen};
use crate::domain::{EmployerKind, Language, LevyYear};
use crate::http::context::visible_employer;
use crate::http::page_kit::{forged, message, page, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::registry::payments::{record, statement_under, Recorded, Statement};

/// Who may open the page (an administrator always may).
const OFFICERS: &[Role] = &[Role::Tax, Role::Inspector, Role::Federation];

/// `?levy_year=&recorded=`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    levy_year: Option<String>,
    recorded: Option<String>,
    lang: Option<String>,
}

/// One version of the declaration, as shown.
pub struct VersionLine {
    version: i32,
    status: String,
    at: String,
    by: String,
}

/// One step of the assessment's explanation.
pub struct StepLine {
    text: String,
    citation: String,
}

/// The assessment, as shown.
pub struct AssessmentView {
    computed_at: String,
    payable: String,
    fee_due: String,
    reduction: String,
    staff: String,
    required: String,
    counted: String,
    steps: Vec<StepLine>,
}

/// The payment form: its values and faults after a refused POST.
#[derive(Default)]
pub struct PaymentForm {
    action: String,
    key: String,
    amount: String,
    paid_on: String,
    reference: String,
    faults: Vec<(String, String)>,
}

impl PaymentForm {
    fn fault(&self, field: &str) -> Option<&str> {
        self.faults
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "pages/officer/employer.html")]
struct EmployerView {
    layout: Layout,
    employer: Employer,
    kind: String,
    levy_year: i32,
    year_action: String,
    declaration: Option<(i32, String)>,
    versions: Vec<VersionLine>,
    assessment: Option<AssessmentView>,
    statement: Statement,
    demands: Vec<(i64, String, String, String, String, String)>,
    positions: Vec<PositionLine>,
    open_position: bool,
    form: Option<PaymentForm>,
    csrf: String,
    recorded: bool,
    back: Option<String>,
}

fn decl_status(lang: Language, s: &str) -> String {
    let zh = match s {
        "draft" => "草稿",
        "submitted" => "已报送",
        "certified" => "已审核",
        "amended" => "已更正",
        other => other,
    };
    lang.pick(zh, s).to_owned()
}

fn demand_line(d: &DemandRow, link: String) -> (i64, String, String, String, String, String) {
    (
        d.id,
        d.issued_on.to_string(),
        d.deadline.to_string(),
        format_money(from_fen(d.principal_fen)),
        format_money(from_fen(d.surcharge_fen)),
        link,
    )
}

/// One reserved position, as shown: title, status, open from, open to.
pub struct PositionLine {
    title: String,
    status: String,
    from: String,
    to: String,
}

/// A position's status in the reader's language.
fn position_status(lang: Language, s: &str) -> String {
    let zh = match s {
        "submitted" => "待审核",
        "published" => "已发布",
        "rejected" => "已退回",
        "filled" => "已招用",
        "withdrawn" => "已撤回",
        "expired" => "已过期",
        other => other,
    };
    lang.pick(zh, s).to_owned()
}

/// Everything the page shows, read in one piece of database work.
struct Loaded {
    declaration: Option<(i32, String)>,
    versions: Vec<crate::db::declarations::VersionRow>,
    assessment: Option<AssessmentView>,
    statement: Statement,
    demands: Vec<DemandRow>,
    positions: Vec<PositionLine>,
    open_position: bool,
}

async fn load(
    state: &AppState,
    employer: &Employer,
    levy_year: i32,
    lang: Language,
) -> Result<Loaded, AppError> {
    let emp = employer.clone();
    let today = state.clock.today();
    let trigger = state.settings.collection.surcharge_from;
    state
        .call(move |c, st| -> Result<Loaded, AppError> {
            let decl = crate::db::declarations::current(c, emp.id, levy_year)?;
            let versions = match &decl {
                Some(d) => crate::db::declarations::history(c, d.id)?,
                None => Vec::new(),
            };
            let assessment = match crate::db::assessments::current(c, emp.id, levy_year)? {
                Some(a) => {
                    let r = crate::registry::assessments::replay(c, &a, lang)
                        .map_err(AppError::Internal)?;
                    Some(AssessmentView {
                        computed_at: a.computed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                        payable: r.levy_payable.clone(),
                        fee_due: r.fee_due.clone(),
                        reduction: r.reduction.clone(),
                        staff: r.average_headcount.clone(),
                        required: r.required.clone(),
                        counted: r.disabled_counted.clone(),
                        steps: r
                            .explanation
                            .iter()
                            .map(|s| StepLine {
                                text: s.text().to_owned(),
                                citation: s.citation().to_owned(),
                            })
                            .collect(),
                    })
                }
                None => None,
            };
            let statement = statement_under(c, st.book.as_ref(), &emp, levy_year, today, trigger)?;
            let demands = crate::db::demands::of_employer(c, emp.id, levy_year)?;
            let rows = crate::db::positions::of_employer(c, emp.id)?;
            // "Open" as the violator list reads it: published and open today.
            let open_position =
                crate::registry::positions::with_open_position(c, &[emp.id], today)?
                    .contains(&emp.id);
            let positions = rows
                .iter()
                .map(|p| PositionLine {
                    title: p.title.clone(),
                    status: position_status(
                        lang,
                        &crate::registry::positions::shown_status(p, today),
                    ),
                    from: p.open_from.to_string(),
                    to: p.open_to.to_string(),
                })
                .collect();
            Ok(Loaded {
                positions,
                open_position,
                declaration: decl.map(|d| (d.version, d.status)),
                versions,
                assessment,
                statement,
                demands,
            })
        })
        .await
}

fn may_record(s: &SignedIn) -> bool {
    s.who().has_any(&[Role::Tax])
}

async fn render_page(
    state: &AppState,
    s: &SignedIn,
    employer: Employer,
    levy_year: i32,
    form: Option<PaymentForm>,
    recorded: bool,
) -> Result<String, PageRefusal> {
    let lang = s.lang;
    let l = load(state, &employer, levy_year, lang).await?;
    let kind = match employer.kind.parse::<EmployerKind>() {
        Ok(k) => lang.pick(k.name_zh(), k.as_str()).to_owned(),
        Err(_) => employer.kind.clone(),
    };
    let form = if may_record(s) {
        Some(form.unwrap_or_else(|| PaymentForm {
            // Made now, once per rendering: the same form sent twice is one payment.
            key: format!("page-{}", uuid::Uuid::new_v4().simple()),
            paid_on: state.clock.today().to_string(),
            ..PaymentForm::default()
        }))
        .map(|mut f| {
            f.action = s.link(&format!(
                "/officer/employers/{}/payments?levy_year={levy_year}",
                employer.uscc
            ));
            f
        })
    } else {
        None
    };
    let back = s
        .who()
        .has_any(&[Role::Tax])
        .then(|| s.link(&format!("/tax/roll?levy_year={levy_year}")));
    Ok(render(&EmployerView {
        layout: Layout::new(lang),
        kind,
        levy_year,
        year_action: format!("/officer/employers/{}", employer.uscc),
        declaration: l.declaration.map(|(v, st)| (v, decl_status(lang, &st))),
        versions: l
            .versions
            .into_iter()
            .map(|v| VersionLine {
                version: v.version,
                status: decl_status(lang, &v.status),
                at: v.created_at.format("%Y-%m-%d %H:%M").to_string(),
                by: v.created_by,
            })
            .collect(),
        assessment: l.assessment,
        statement: l.statement,
        demands: l
            .demands
            .iter()
            .map(|d| demand_line(d, s.link(&format!("/tax/demands?ids={}", d.id))))
            .collect(),
        positions: l.positions,
        open_position: l.open_position,
        form,
        csrf: s.csrf().to_owned(),
        recorded,
        back,
        employer,
    })?)
}

fn year_of(asked: Option<&str>, state: &AppState) -> Result<i32, AppError> {
    use chrono::Datelike;
    match asked.map(str::trim).filter(|s| !s.is_empty()) {
        Some(y) => crate::http::context::query_levy_year(y).map(LevyYear::get),
        None => Ok(state
            .clock
            .today()
            .year()
            .clamp(LevyYear::FIRST, LevyYear::LAST)),
    }
}

/// The page.
#[get("/officer/employers/{uscc}")]
pub async fn show(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = s.require(OFFICERS)?.clone();
    let employer = visible_employer(&state, &who, &path)
        .await
        .map_err(|_| s.not_found())?;
    let levy_year = year_of(q.levy_year.as_deref(), &state)?;
    let html = render_page(&state, &s, employer, levy_year, None, q.recorded.is_some()).await?;
    Ok(page(StatusCode::OK, html, &[]))
}

/// The payment form as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PaymentPost {
    csrf_token: Option<String>,
    idempotency_key: Option<String>,
    amount: Option<String>,
    paid_on: Option<String>,
    reference: Option<String>,
}

/// Records the form's payment once per idempotency key.
#[post("/officer/employers/{uscc}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
    form: web::Form<PaymentPost>,
) -> Result<HttpResponse, PageRefusal> {
    let who = s.require(&[Role::Tax])?.clone();
    let employer = visible_employer(&state, &who, &path)
        .await
        .map_err(|_| s.not_found())?;
    let levy_year = year_of(q.levy_year.as_deref(), &state)?;
    let back = s.link(&format!(
        "/officer/employers/{}?levy_year={levy_year}",
        employer.uscc
    ));
    if !s.form_ok(form.csrf_token.as_deref()) {
        return Ok(forged(s.lang, back)?);
    }
    let f = form.into_inner();
    let key = f
        .idempotency_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_owned);
    let body = json!({
        "amount": f.amount.as_deref().map(str::trim).unwrap_or(""),
        "paid_on": f.paid_on.as_deref().map(str::trim).unwrap_or(""),
        "reference": f.reference.as_deref().map(str::trim).unwrap_or(""),
    });
    let refill = |faults: Vec<(String, String)>, key: String| PaymentForm {
        key,
        amount: f.amount.clone().unwrap_or_default(),
        paid_on: f.paid_on.clone().unwrap_or_default(),
        reference: f.reference.clone().unwrap_or_default(),
        faults,
        ..PaymentForm::default()
    };
    let parsed = crate::http::payments::parse_payment(&body, state.clock.today(), s.lang);
    let (payment, key) = match (parsed, key) {
        (Ok(p), Some(k)) => (p, k),
        (Err(AppError::Validation(errors)), key) => {
            let faults = errors
                .into_iter()
                .map(|e| (e.pointer.trim_start_matches('/').to_owned(), e.detail))
                .collect();
            let key = key.unwrap_or_else(|| format!("page-{}", uuid::Uuid::new_v4().simple()));
            let html = render_page(
                &state,
                &s,
                employer,
                levy_year,
                Some(refill(faults, key)),
                false,
            )
            .await?;
            return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, html, &[]));
        }
        (Err(e), _) => return Err(e.into()),
        (Ok(_), None) => return Ok(forged(s.lang, back)?),
    };
    let (audit, emp) = (s.audit(), employer.clone());
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
        Recorded::New(_) | Recorded::Replayed(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{sep}recorded=1"), &[]))
        }
        Recorded::KeyReused => Ok(message(
            s.lang,
            StatusCode::CONFLICT,
            ("未记录", "Not recorded"),
            s.lang
                .pick(
                    "该表单已用于另一笔不同的缴款，未作任何记录。请重新打开页面后再填写。",
                    "This form was already used for a different payment; nothing was recorded. Open the page again and fill it in anew.",
                )
                .to_owned(),
            Some((back, s.lang.pick("重新打开", "Open it again").to_owned())),
        )?),
    }
}
