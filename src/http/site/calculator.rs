//! `/calculator`: the public self-check. The form becomes the JSON request of
//! `POST /api/v1/levy/calculate` and goes through the very function that API calls, so
//! the page's figures are the API's; field faults come back at the API's JSON pointers
//! and are shown beside their fields. `GET /calculator?request=<JSON>` opens a request
//! (the link a result offers to keep or send) with its result.
//!
//! What would change the result is worked out, not guessed: the same request is
//! calculated again with one more disabled employee from a given month.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::form::{self, Action, CalcForm};
use super::page::respond;
use super::DEFAULT_REGION;
use crate::domain::ids::DisabilityCertificate;
use crate::domain::levy::{
    calculate, Certificate, Disabled, DisabledEmployee, Employment, ExplainMode, LevyInput,
    MonthSet,
};
use crate::domain::money::format_money;
use crate::domain::{Language, PolicyProvider, RegionCode};
use crate::http::pages::page_lang;
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::wire::{calculate_parsed, parse_request, CalcResponse, FieldError, ParsedRequest};

/// The largest form body read (a roster of [`form::MAX_ROWS`] rows fits well within it).
const FORM_LIMIT: usize = 256 * 1024;

/// Months from which the page works out one more employee: the quarters, whose share
/// of a year (12, 9, 6, 3 twelfths) is exact in four decimals, as a certified count is.
const WHAT_IF_MONTHS: [u32; 4] = [1, 4, 7, 10];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcQuery {
    lang: Option<String>,
    request: Option<String>,
    region: Option<String>,
}

/// An input of the form with its label, value and the faults shown beside it.
pub struct Field {
    /// Its `name`; its id is `f-` and the name.
    pub name: String,
    /// Its label.
    pub label: String,
    /// What it holds.
    pub value: String,
    /// `text` or `date` (numbers are text with a numeric keyboard, so that what was
    /// typed is kept and the API names what is wrong with it).
    pub kind: &'static str,
    /// `numeric`, `decimal` or empty: the keyboard a phone shows.
    pub inputmode: &'static str,
    /// A hint under the label.
    pub hint: Option<String>,
    /// Faults at this field.
    pub errors: Vec<String>,
    /// A CSS class for its width.
    pub class: &'static str,
}

impl Field {
    /// The ids the input is described by (hint and faults).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("f-{}-hint", self.name));
        }
        if !self.errors.is_empty() {
            ids.push(format!("f-{}-err", self.name));
        }
        ids.join(" ")
    }
}

/// A checkbox.
pub struct Check {
    /// Its `name`.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Whether it is ticked.
    pub checked: bool,
    /// Faults at it.
    pub errors: Vec<String>,
}

/// One option of a select.
pub struct Choice {
    /// The value sent.
    pub value: &'static str,
    /// What it reads.
    pub label: &'static str,
    /// Whether chosen.
    pub selected: bool,
}

/// One roster row.
pub struct RowView {
    /// Its legend.
    pub legend: String,
    /// Its `eN` prefix.
    pub prefix: String,
    /// The certificate number.
    pub cert: Field,
    /// The certificate kind.
    pub kinds: Vec<Choice>,
    /// Faults at the kind.
    pub kind_errors: Vec<String>,
    /// The other inputs.
    pub fields: Vec<Field>,
    /// The checkboxes.
    pub checks: Vec<Check>,
    /// Faults of the row as a whole.
    pub errors: Vec<String>,
}

/// One fault of the summary at the top of the form.
pub struct Fault {
    /// The field's id, when it has one on the form.
    pub target: Option<String>,
    /// The message.
    pub message: String,
}

/// A figure of the result.
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// The figure as the API gives it.
    pub value: String,
    /// Its unit.
    pub unit: &'static str,
    /// Whether it is the levy payable (shown strong).
    pub main: bool,
}

/// A parameter the result used.
pub struct ParamRow {
    /// What it is.
    pub label: &'static str,
    /// Its value in words.
    pub value: String,
    /// Its legal source.
    pub citation: String,
    /// Unconfirmed.
    pub provisional: bool,
    /// Overridden by the request.
    pub overridden: bool,
}

/// How one employee was counted.
pub struct EmployeeRow {
    /// Form row number (1-based) or roster position.
    pub number: usize,
    /// Masked certificate.
    pub certificate: String,
    /// Grade and weight.
    pub grade: String,
    /// Months counted of months employed.
    pub months: String,
    /// Why not all months count.
    pub excluded: String,
}

/// The levy with one more employee from a month.
pub struct WhatIf {
    /// The first month.
    pub month: u32,
    /// By how much the levy falls.
    pub lowered_by: String,
    /// The levy then.
    pub levy: String,
}

/// The result shown.
pub struct ResultView {
    /// The levy payable.
    pub levy_payable: String,
    /// Levy and data year.
    pub levy_year: i32,
    /// The data year.
    pub data_year: i32,
    /// Region name.
    pub region_name: String,
    /// The as-of date.
    pub as_of: String,
    /// Figures in order.
    pub figures: Vec<Figure>,
    /// The exemption applied, in words.
    pub exemption: Option<String>,
    /// The explanation steps' texts.
    pub steps: Vec<String>,
    /// Parameters with their sources.
    pub params: Vec<ParamRow>,
    /// The employees.
    pub employees: Vec<EmployeeRow>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// What provisional means here, when something is.
    pub provisional_note: Option<String>,
    /// Whether overrides were used.
    pub what_if: bool,
    /// One more employee from each quarter.
    pub what_ifs: Vec<WhatIf>,
}

/// Faults by form field, and all of them in the API's order (the summary).
#[derive(Default)]
pub(crate) struct Faults {
    by_field: BTreeMap<String, Vec<String>>,
    pub(crate) order: Vec<(Option<String>, String)>,
}

impl Faults {
    pub(crate) fn from_errors(errors: &[FieldError], rows: &[usize]) -> Faults {
        let mut f = Faults::default();
        for e in errors {
            match form::field_of(&e.pointer, rows) {
                Some(field) => {
                    f.by_field
                        .entry(field.clone())
                        .or_default()
                        .push(e.message.clone());
                    f.order.push((Some(field), e.message.clone()));
                }
                None => f.order.push((None, e.message.clone())),
            }
        }
        f
    }

    pub(crate) fn take(&mut self, field: &str) -> Vec<String> {
        self.by_field.remove(field).unwrap_or_default()
    }
}

/// What a calculation gave.
pub(super) enum Outcome {
    /// The form only.
    Blank,
    /// A result.
    Done(Box<CalcResponse>, Vec<WhatIf>),
    /// Faults.
    Failed(Vec<FieldError>),
}

/// The levy years the form offers by default: the latest one whose wage figures the
/// packs have for the region (the wage cap needs them), else the current year.
fn default_levy_year(policy: &dyn PolicyProvider, region: &str, today: NaiveDate) -> i32 {
    let Ok(code) = region.parse::<RegionCode>() else {
        return today.year();
    };
    (today.year() - 4..=today.year())
        .rev()
        .find(|&y| {
            policy
                .default_as_of(code, y)
                .and_then(|as_of| policy.resolve(code, as_of, y - 1))
                .is_ok_and(|p| p.social_average_wage.is_some() || p.wage_cap_multiple.is_none())
        })
        .unwrap_or(today.year())
}

/// The empty form, or a request's, or a submitted one.
#[get("/calculator")]
pub async fn calculator_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<CalcQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let lang = page_lang(&req, q.lang.as_deref())?;
    let chosen = q.lang.as_deref().map(|_| lang.as_str());
    match q.request {
        None => {
            let region = q.region.as_deref().unwrap_or(DEFAULT_REGION);
            let year = default_levy_year(state.policy.as_ref(), region, state.clock.today());
            let f = CalcForm::new(region, year);
            respond(&state, lang, chosen, &f, &[], None, Outcome::Blank)
        }
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Err(e) => {
                let f = CalcForm::new(DEFAULT_REGION, state.clock.today().year());
                let fault = FieldError {
                    pointer: String::new(),
                    code: "invalid_json",
                    message: match lang {
                        Language::Zh => format!(
                            "链接中的 request 不是有效的 JSON：第 {} 行第 {} 列",
                            e.line(),
                            e.column()
                        ),
                        Language::En => format!(
                            "the link's request is not valid JSON (line {}, column {})",
                            e.line(),
                            e.column()
                        ),
                    },
                };
                respond(
                    &state,
                    lang,
                    chosen,
                    &f,
                    &[],
                    None,
                    Outcome::Failed(vec![fault]),
                )
            }
            Ok(value) => {
                let f = form::from_request(&value);
                let rows: Vec<usize> = (0..f.rows.len()).collect();
                let outcome = run(state.policy.as_ref(), &value, lang);
                respond(&state, lang, chosen, &f, &rows, Some(&value), outcome)
            }
        },
    }
}

/// A submitted form: calculated, or shown again with one more roster row.
#[post("/calculator")]
pub async fn calculator_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if body.len() > FORM_LIMIT {
        return Err(AppError::PayloadTooLarge(crate::domain::Said::new(
            format!("表单超过 {FORM_LIMIT} 字节；人数较多的名单请通过接口提交"),
            format!("the form is larger than {FORM_LIMIT} bytes; send large rosters to the API"),
        )));
    }
    let pairs: Vec<(String, String)> = form_pairs(&body);
    let lang_param = pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.as_str());
    let lang = page_lang(&req, lang_param)?;
    let chosen = lang_param.map(|_| lang.as_str());
    let (f, action) = form::from_pairs(&pairs);
    match action {
        Action::AddRow => respond(&state, lang, chosen, &f, &[], None, Outcome::Blank),
        Action::Calculate => {
            let (value, rows) = form::to_request(&f);
            let outcome = run(state.policy.as_ref(), &value, lang);
            respond(&state, lang, chosen, &f, &rows, Some(&value), outcome)
        }
    }
}

/// The pairs of a form body. Invalid percent-encoding is read as the bytes it stands
/// for, lossily, as browsers never send it.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// The calculation: the API's own function, then the same request with one more
/// employee from each quarter.
fn run(policy: &dyn PolicyProvider, value: &Value, lang: Language) -> Outcome {
    // Parsed once (the policy resolved once) for the calculation and its what-ifs.
    let calculated = parse_request(policy, value, lang)
        .and_then(|parsed| calculate_parsed(&parsed).map(|resp| (parsed, resp)));
    match calculated {
        Ok((parsed, resp)) => {
            let what_ifs = what_ifs(&parsed, value, &resp);
            Outcome::Done(Box::new(resp), what_ifs)
        }
        Err(errors) => Outcome::Failed(errors),
    }
}

/// A disability certificate number no roster entry has (the holder's ID differs):
/// a made-up resident ID with its check character, category 1, grade 3 (weight 1).
fn spare_certificate(value: &Value) -> Option<String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let taken: Vec<String> = value
        .get("disabled_employees")
        .and_then(Value::as_array)
        .map(|es| {
            es.iter()
                .filter_map(|e| e.get("certificate_no").and_then(Value::as_str))
                .map(|c| c.trim().to_ascii_uppercase().chars().take(18).collect())
                .collect()
        })
        .unwrap_or_default();
    (1..1000u32).find_map(|seq| {
        let body = format!("11010119900101{seq:03}");
        let sum: u32 = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        let check = char::from(CHECK[(sum % 11) as usize]);
        let id = format!("{body}{check}");
        (!taken.contains(&id)).then(|| format!("{id}13"))
    })
}

/// The declaration with one more full-time disabled employee from `month` of the data
/// year: a roster row (on a contract of a year, insured), or the certified count raised
/// by the employee's share of the year. Staff and wages stay as they are.
fn with_one_more(input: &LevyInput, month: u32, certificate: &Certificate) -> LevyInput {
    let mut input = input.clone();
    match &mut input.disabled {
        Disabled::Certified(count) => {
            *count += Decimal::from(13 - month) / Decimal::from(12);
        }
        Disabled::Roster(roster) => {
            let mut months = MonthSet::EMPTY;
            for m in month..=12 {
                months.insert(m as u8);
            }
            roster.push(DisabledEmployee {
                certificate: certificate.clone(),
                employment: Employment::Months(months),
                on_establishment: false,
                contract_months: Some(12),
                social_insurance_paid: true,
                monthly_wage: None,
                fresh_graduate: false,
                disputed: MonthSet::EMPTY,
                counted_elsewhere: MonthSet::EMPTY,
                retirement_track: None,
                dispatch: None,
            });
        }
    }
    input
}

/// The levy with one more employee from each quarter: the request as the API read it,
/// the engine run again on it with the employee added (figures only).
fn what_ifs(parsed: &ParsedRequest, value: &Value, resp: &CalcResponse) -> Vec<WhatIf> {
    let Ok(levy) = Decimal::from_str(&resp.levy_payable) else {
        return Vec::new();
    };
    if levy.is_zero() {
        return Vec::new();
    }
    let spare = spare_certificate(value).and_then(|c| DisabilityCertificate::parse(&c).ok());
    let Some(spare) = spare else {
        return Vec::new();
    };
    let certificate = Certificate::Disability(spare);
    WHAT_IF_MONTHS
        .iter()
        .filter_map(|&month| {
            let input = with_one_more(&parsed.input, month, &certificate);
            let r = calculate(&parsed.policy, &input, ExplainMode::FiguresOnly).ok()?;
            Some(WhatIf {
                month,
                lowered_by: format_money(levy - r.payable),
                levy: format_money(r.payable),
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "calculator_tests.rs"]
mod tests;
