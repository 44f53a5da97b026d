//! `/calculator`: the public self-check. The form becomes the JSON request of
//! `POST /api/v1/levy/calculate` and goes through the very function that API calls, so
//! the page's figures are the API's; field faults come back at the API's JSON pointers
//! and are shown beside their fields. `GET /calculator?request=<JSON>` opens a request
//! (the link a result offers to keep or send) with its result.
//!
//! What would change the result is worked out, not guessed: the same request is
//! calculated again with one more disabled employee from a given month.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

use super::form::{self, Action, CalcForm};
use super::{query_value, region_groups, switch_links, RegionGroup, DEFAULT_REGION};
use crate::domain::ids::DisabilityCertificate;
use crate::domain::levy::{
    calculate, Certificate, Disabled, DisabledEmployee, Employment, ExplainMode, LevyInput,
    MonthSet,
};
use crate::domain::money::format_money;
use crate::domain::{EmployerKind, Language, PolicyProvider, RegionCode};
use crate::http::pages::{page_lang, render, Layout, HTML};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::wire::{calculate_request, parse_request, CalcResponse, FieldError, ParamOut};

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

#[derive(Template)]
#[template(path = "pages/calculator.html")]
struct CalculatorPage {
    layout: Layout,
    switch_zh: String,
    switch_en: String,
    lang_field: Option<&'static str>,
    regions: Vec<RegionGroup>,
    region_errors: Vec<String>,
    levy_year: Field,
    kinds: Vec<Choice>,
    kind_errors: Vec<String>,
    details: Vec<Field>,
    details_open: bool,
    months: Vec<Field>,
    months_errors: Vec<String>,
    average_headcount: Field,
    staff_errors: Vec<String>,
    wages: Vec<Field>,
    rows: Vec<RowView>,
    roster_errors: Vec<String>,
    rows_full: bool,
    disabled_count: Field,
    overrides: Vec<Field>,
    overrides_open: bool,
    faults: Vec<Fault>,
    result: Option<ResultView>,
    /// The `?request=` link of what was calculated.
    link: Option<String>,
    /// The same, as the page shows it (with the public address).
    link_text: Option<String>,
    /// The request as JSON, for the API.
    request_json: Option<String>,
}

/// Faults by form field, and all of them in the API's order (the summary).
#[derive(Default)]
struct Faults {
    by_field: BTreeMap<String, Vec<String>>,
    order: Vec<(Option<String>, String)>,
}

impl Faults {
    fn from_errors(errors: &[FieldError], rows: &[usize]) -> Faults {
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

    fn take(&mut self, field: &str) -> Vec<String> {
        self.by_field.remove(field).unwrap_or_default()
    }
}

/// What a calculation gave.
enum Outcome {
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
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
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
    match calculate_request(policy, value, lang) {
        Ok(resp) => {
            let what_ifs = what_ifs(policy, value, &resp, lang);
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
            });
        }
    }
    input
}

/// The levy with one more employee from each quarter: the request as the API read it,
/// the engine run again on it with the employee added (figures only).
fn what_ifs(
    policy: &dyn PolicyProvider,
    value: &Value,
    resp: &CalcResponse,
    lang: Language,
) -> Vec<WhatIf> {
    let Ok(levy) = Decimal::from_str(&resp.levy_payable) else {
        return Vec::new();
    };
    if levy.is_zero() {
        return Vec::new();
    }
    let spare = spare_certificate(value).and_then(|c| DisabilityCertificate::parse(&c).ok());
    let (Some(spare), Ok(parsed)) = (spare, parse_request(policy, value, lang)) else {
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

fn kind_name(k: EmployerKind, lang: Language) -> &'static str {
    match lang {
        Language::Zh => k.name_zh(),
        Language::En => match k {
            EmployerKind::Enterprise => "Enterprise",
            EmployerKind::GovernmentAgency => "Government agency",
            EmployerKind::PublicInstitution => "Public institution",
            EmployerKind::SocialOrganization => "Social organization",
            EmployerKind::PrivateNonEnterprise => "Private non-enterprise unit",
        },
    }
}

/// A decimal fraction as a percentage (`0.016` → `1.6%`).
fn percent(v: &Value) -> Option<String> {
    let d = Decimal::from_str(v.as_str()?).ok()?;
    Some(format!("{}%", (d * Decimal::ONE_HUNDRED).normalize()))
}

/// A parameter's value in words, for the parameters the response names.
fn param_text(key: &str, v: &Value, lang: Language) -> String {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let zh = lang == Language::Zh;
    match key {
        "quota_ratio" => percent(v).unwrap_or_else(|| v.to_string()),
        "wage_cap_multiple" => {
            let m = v.as_str().unwrap_or_default();
            if zh {
                format!("社会平均工资的 {m} 倍")
            } else {
                format!("{m} × the social average wage")
            }
        }
        "social_average_wage" => format!(
            "{} {}",
            v.as_str().unwrap_or_default(),
            lang.pick("元/年", "yuan a year")
        ),
        "minimum_wage_monthly" => format!(
            "{} {}",
            v.as_str().unwrap_or_default(),
            lang.pick("元/月", "yuan a month")
        ),
        "reduction_tiers" => {
            let pct = |k: &str| percent(&json!(s(k))).unwrap_or_default();
            if zh {
                format!(
                    "安排比例达到 {} 的按应缴额的 {} 缴纳，不足 {} 的按 {} 缴纳",
                    pct("threshold"),
                    pct("share_at_or_above"),
                    pct("threshold"),
                    pct("share_below")
                )
            } else {
                format!(
                    "{} of the fee at a proportion of {} or more, {} below",
                    pct("share_at_or_above"),
                    pct("threshold"),
                    pct("share_below")
                )
            }
        }
        "exemption_rule" => match (s("kind"), v.get("max_staff")) {
            ("small_enterprise", Some(n)) => {
                let years = v
                    .get("max_years_since_registration")
                    .and_then(Value::as_u64);
                match (zh, years) {
                    (true, None) => format!("在职职工 {n} 人（含）以下的企业免征"),
                    (true, Some(y)) => {
                        format!("在职职工 {n} 人（含）以下、自工商登记注册之日起 {y} 年内的企业免征")
                    }
                    (false, None) => format!("enterprises with {n} staff or fewer are exempt"),
                    (false, Some(y)) => format!(
                        "enterprises with {n} staff or fewer, within {y} years of registration, are exempt"
                    ),
                }
            }
            ("none", _) => lang.pick("无", "none").to_owned(),
            _ => generic(v),
        },
        "fresh_graduate_full_year" => match v.as_bool() {
            Some(true) => lang
                .pick(
                    "当年新招用的高校毕业生计入超过 6 个月的，按全年计",
                    "a fresh graduate counted more than 6 months counts the whole year",
                )
                .to_owned(),
            Some(false) => lang.pick("不适用", "does not apply").to_owned(),
            None => generic(v),
        },
        "reward_rule" => match s("kind") {
            "none" => {
                let note = s("note");
                if note.is_empty() {
                    lang.pick("无", "none").to_owned()
                } else {
                    format!("{}（{note}）", lang.pick("无", "none"))
                }
            }
            _ => generic(v),
        },
        "surcharge" => {
            let rate = Decimal::from_str(s("daily_rate"))
                .map(|d| (d * Decimal::ONE_THOUSAND).normalize().to_string())
                .unwrap_or_default();
            let capped = v.get("capped_at_principal").and_then(Value::as_bool) == Some(true);
            match (zh, capped) {
                (true, true) => format!("每日 {rate}‰，不超过欠缴金额"),
                (true, false) => format!("每日 {rate}‰"),
                (false, true) => format!("{rate}‰ a day, at most the amount unpaid"),
                (false, false) => format!("{rate}‰ a day"),
            }
        }
        "filing_deadline" | "payment_due" => v
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map_or_else(|| generic(v), |d| super::date_text(d, lang)),
        _ => generic(v),
    }
}

/// Any other value: its parts as `key: value`.
fn generic(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", generic(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Array(a) => a.iter().map(generic).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn result_view(
    state: &AppState,
    r: &CalcResponse,
    rows: &[usize],
    what_ifs: Vec<WhatIf>,
    lang: Language,
) -> ResultView {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let yuan = l("元", "yuan");
    let persons = l("人", "persons");
    let fig = |label, value: &str, unit| Figure {
        label,
        value: value.to_owned(),
        unit,
        main: false,
    };
    let mut figures = vec![
        fig(
            l("在职职工年平均人数 N", "Average staff N"),
            &r.average_headcount,
            persons,
        ),
        Figure {
            label: l("安排比例 q", "Quota ratio q"),
            value: percent(&r.parameters.quota_ratio.value).unwrap_or_default(),
            unit: "",
            main: false,
        },
        fig(
            l("应安排残疾人数 N × q", "Required N × q"),
            &r.required,
            persons,
        ),
        fig(
            l(
                "已安排残疾人数（加权）D",
                "Disabled employees counted D (weighted)",
            ),
            &r.disabled_counted,
            persons,
        ),
        fig(l("未按比例安排人数", "Shortfall"), &r.shortfall, persons),
    ];
    if let Some(ratio) = &r.employment_ratio {
        figures.push(Figure {
            label: l("实际安排比例 D ÷ N", "Proportion employed D ÷ N"),
            value: percent(&json!(ratio)).unwrap_or_else(|| ratio.clone()),
            unit: "",
            main: false,
        });
    }
    if let Some(w) = &r.average_wage {
        figures.push(fig(l("职工年平均工资 W", "Average annual wage W"), w, yuan));
    }
    if let Some(w) = &r.wage_used {
        figures.push(fig(
            l("计征工资（封顶后）", "Wage used (after the cap)"),
            w,
            yuan,
        ));
    }
    figures.push(fig(
        l("应缴额（减缴前）", "Fee before reduction"),
        &r.fee_due,
        yuan,
    ));
    figures.push(fig(l("减缴", "Reduction"), &r.reduction, yuan));
    figures.push(Figure {
        label: l("应缴保障金", "Levy payable"),
        value: r.levy_payable.clone(),
        unit: yuan,
        main: true,
    });
    if r.over_quota != "0.0000" {
        figures.push(fig(
            l("超比例人数", "Over the quota"),
            &r.over_quota,
            persons,
        ));
        figures.push(fig(l("超比例奖励", "Over-quota reward"), &r.reward, yuan));
    }
    let exemption = r.exemption.as_ref().map(|e| {
        let rule = param_text(
            "exemption_rule",
            &json!({"kind": e.rule, "max_staff": e.max_staff,
                    "max_years_since_registration": e.max_years_since_registration}),
            lang,
        );
        format!("{rule}（{}）", e.citation)
    });
    let p = &r.parameters;
    let mut params = Vec::new();
    let mut add = |label: &'static str, key: &str, o: Option<&ParamOut>| {
        if let Some(o) = o {
            params.push(ParamRow {
                label,
                value: param_text(key, &o.value, lang),
                citation: o.citation.clone(),
                provisional: o.provisional,
                overridden: o.overridden,
            });
        }
    };
    add(
        l("安排比例", "Quota ratio"),
        "quota_ratio",
        Some(&p.quota_ratio),
    );
    add(
        l("工资封顶倍数", "Wage cap"),
        "wage_cap_multiple",
        p.wage_cap_multiple.as_ref(),
    );
    add(
        l("社会平均工资", "Social average wage"),
        "social_average_wage",
        p.social_average_wage.as_ref(),
    );
    add(
        l("月最低工资标准", "Monthly minimum wage"),
        "minimum_wage_monthly",
        p.minimum_wage_monthly.as_ref(),
    );
    add(
        l("分档减缴", "Reduction tiers"),
        "reduction_tiers",
        p.reduction_tiers.as_ref(),
    );
    add(
        l("小微企业免征", "Small-employer exemption"),
        "exemption_rule",
        Some(&p.exemption_rule),
    );
    add(
        l("高校毕业生按全年计", "Fresh graduates count a full year"),
        "fresh_graduate_full_year",
        Some(&p.fresh_graduate_full_year),
    );
    add(
        l("超比例奖励", "Over-quota reward"),
        "reward_rule",
        Some(&p.reward_rule),
    );
    add(
        l("滞纳金", "Late-payment surcharge"),
        "surcharge",
        Some(&p.surcharge),
    );
    add(
        l("申报截止", "Declaration deadline"),
        "filing_deadline",
        Some(&p.filing_deadline),
    );
    add(
        l("缴纳截止", "Payment due"),
        "payment_due",
        Some(&p.payment_due),
    );

    let employees = r
        .employees
        .iter()
        .map(|e| EmployeeRow {
            number: rows.get(e.index).copied().unwrap_or(e.index) + 1,
            certificate: e.certificate.clone(),
            grade: match lang {
                Language::Zh => format!("{} 级，按 {} 人计", e.grade, e.weight),
                Language::En => format!("grade {}, weight {}", e.grade, e.weight),
            },
            months: match lang {
                Language::Zh => format!(
                    "在职 {} 个月，计入 {} 个月",
                    e.employed_months.len(),
                    e.counted_months
                ),
                Language::En => format!(
                    "{} of {} months employed",
                    e.counted_months,
                    e.employed_months.len()
                ),
            },
            excluded: e.excluded_detail.clone().unwrap_or_default(),
        })
        .collect();
    let region_name = r
        .region
        .parse::<RegionCode>()
        .map(|c| {
            let (zh, en) = state.book.region_names(c);
            lang.pick(&zh, &en).to_owned()
        })
        .unwrap_or_else(|_| r.region.clone());
    ResultView {
        levy_payable: r.levy_payable.clone(),
        levy_year: r.levy_year,
        data_year: r.data_year,
        region_name,
        as_of: NaiveDate::parse_from_str(&r.as_of, "%Y-%m-%d")
            .map_or_else(|_| r.as_of.clone(), |d| super::date_text(d, lang)),
        figures,
        exemption,
        steps: r.explanation.iter().map(|s| s.text().to_owned()).collect(),
        params,
        employees,
        warnings: r.warnings.clone(),
        provisional_note: r.provisional_note.clone(),
        what_if: r.what_if,
        what_ifs,
    }
}

#[allow(clippy::too_many_arguments)]
fn field(
    faults: &mut Faults,
    name: &str,
    label: String,
    value: &str,
    kind: &'static str,
    inputmode: &'static str,
    hint: Option<String>,
    class: &'static str,
) -> Field {
    Field {
        name: name.to_owned(),
        label,
        value: value.to_owned(),
        kind,
        inputmode,
        hint,
        errors: faults.take(name),
        class,
    }
}

fn respond(
    state: &AppState,
    lang: Language,
    chosen: Option<&'static str>,
    f: &CalcForm,
    rows: &[usize],
    request: Option<&Value>,
    outcome: Outcome,
) -> Result<HttpResponse, AppError> {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    // Faults are answered 200 with the form and them beside their fields: the request
    // middleware turns any HTML 4xx into a problem document, and a person needs the form.
    let (mut faults, result) = match outcome {
        Outcome::Blank => (Faults::default(), None),
        Outcome::Failed(errors) => (Faults::from_errors(&errors, rows), None),
        Outcome::Done(resp, what_ifs) => (
            Faults::default(),
            Some(result_view(state, &resp, rows, what_ifs, lang)),
        ),
    };
    let summary: Vec<Fault> = faults
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

    let region_errors = faults.take("region");
    let levy_year = field(
        &mut faults,
        "levy_year",
        l("征收年度", "Levy year"),
        &f.levy_year,
        "text",
        "numeric",
        Some(l(
            "按上一年度的职工人数、工资和残疾职工计算",
            "calculated on the staff, wages and disabled employees of the year before",
        )),
        "short",
    );
    let kinds = EmployerKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: kind_name(*k, lang),
            selected: f.kind == k.as_str(),
        })
        .collect();
    let kind_errors = faults.take("kind");
    let details = vec![
        field(
            &mut faults,
            "as_of",
            l("计算日期（可选）", "As-of date (optional)"),
            &f.as_of,
            "date",
            "",
            Some(l(
                "按该日有效的规定计算；不填则为当地申报截止日",
                "the rules in force on this day; by default the region's declaration deadline",
            )),
            "",
        ),
        field(
            &mut faults,
            "registered_on",
            l(
                "工商登记注册日期（可选）",
                "Business registration date (optional)",
            ),
            &f.registered_on,
            "date",
            "",
            None,
            "",
        ),
    ];
    let month_names_en = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let months: Vec<Field> = (0..12)
        .map(|i| {
            let label = match lang {
                Language::Zh => format!("{}月", i + 1),
                Language::En => month_names_en[i].to_owned(),
            };
            field(
                &mut faults,
                &format!("m{}", i + 1),
                label,
                &f.months[i],
                "text",
                "numeric",
                None,
                "month",
            )
        })
        .collect();
    let months_errors = faults.take("months");
    let average_headcount = field(
        &mut faults,
        "average_headcount",
        l(
            "或：全年平均在职职工人数",
            "Or: average staff over the year",
        ),
        &f.average_headcount,
        "text",
        "decimal",
        Some(l("最多 4 位小数", "at most 4 decimals")),
        "short",
    );
    let staff_errors = faults.take("staff");
    let wages = vec![
        field(
            &mut faults,
            "total_wages",
            l("职工工资总额（元）", "Total wages (yuan)"),
            &f.total_wages,
            "text",
            "decimal",
            None,
            "money",
        ),
        field(
            &mut faults,
            "average_wage",
            l("或：职工年平均工资（元）", "Or: average annual wage (yuan)"),
            &f.average_wage,
            "text",
            "decimal",
            None,
            "money",
        ),
    ];
    let mut row_views = Vec::new();
    for (i, r) in f.rows.iter().enumerate() {
        let p = |s: &str| format!("e{i}_{s}");
        let cert = field(
            &mut faults,
            &p("cert"),
            l("证号", "Certificate number"),
            &r.cert,
            "text",
            "",
            Some(l(
                "残疾人证 20 或 22 位",
                "a disability certificate has 20 or 22 characters",
            )),
            "cert",
        );
        let kind_errors = faults.take(&p("kind"));
        let kinds = vec![
            Choice {
                value: "disability",
                label: lang.pick("残疾人证", "Disability certificate"),
                selected: r.kind != "veteran",
            },
            Choice {
                value: "veteran",
                label: lang.pick("残疾军人证", "Disabled veteran's certificate"),
                selected: r.kind == "veteran",
            },
        ];
        let fields = vec![
            field(
                &mut faults,
                &p("grade"),
                l("等级（残疾军人证填写）", "Grade (veteran's certificate)"),
                &r.grade,
                "text",
                "numeric",
                None,
                "short",
            ),
            field(
                &mut faults,
                &p("months"),
                l("在职月份", "Months employed"),
                &r.months,
                "text",
                "",
                Some(l("如 1-12 或 3,4,9-12", "e.g. 1-12 or 3,4,9-12")),
                "short",
            ),
            field(
                &mut faults,
                &p("from"),
                l("或：入职日期", "Or: employed from"),
                &r.from,
                "date",
                "",
                None,
                "",
            ),
            field(
                &mut faults,
                &p("to"),
                l("离职日期", "Employed until"),
                &r.to,
                "date",
                "",
                None,
                "",
            ),
            field(
                &mut faults,
                &p("contract"),
                l("合同或服务协议期限（月）", "Contract or agreement (months)"),
                &r.contract,
                "text",
                "numeric",
                None,
                "short",
            ),
            field(
                &mut faults,
                &p("wage"),
                l("月工资（元）", "Monthly wage (yuan)"),
                &r.wage,
                "text",
                "decimal",
                None,
                "short",
            ),
        ];
        let checks = vec![
            Check {
                name: p("establishment"),
                label: l("在编", "On the establishment"),
                checked: r.establishment,
                errors: faults.take(&p("establishment")),
            },
            Check {
                name: p("insurance"),
                label: l("足额缴纳社会保险", "Social insurance paid in full"),
                checked: r.insurance,
                errors: faults.take(&p("insurance")),
            },
            Check {
                name: p("graduate"),
                label: l(
                    "上年新招用的高校毕业生",
                    "Fresh college graduate hired that year",
                ),
                checked: r.graduate,
                errors: faults.take(&p("graduate")),
            },
        ];
        row_views.push(RowView {
            legend: match lang {
                Language::Zh => format!("残疾职工第 {} 人", i + 1),
                Language::En => format!("Disabled employee {}", i + 1),
            },
            prefix: format!("e{i}"),
            cert,
            kinds,
            kind_errors,
            fields,
            checks,
            errors: faults.take(&format!("e{i}")),
        });
    }
    let roster_errors = faults.take("roster");
    let disabled_count = field(
        &mut faults,
        "disabled_count",
        l(
            "或：残联审核认定的安排人数（不填名单时）",
            "Or: the count certified by the federation (instead of a roster)",
        ),
        &f.disabled_count,
        "text",
        "decimal",
        Some(l("最多 4 位小数", "at most 4 decimals")),
        "short",
    );
    let overrides = vec![
        field(
            &mut faults,
            "quota_ratio",
            l("安排比例（如 0.015）", "Quota ratio (e.g. 0.015)"),
            &f.quota_ratio,
            "text",
            "decimal",
            None,
            "short",
        ),
        field(
            &mut faults,
            "social_average_wage",
            l("社会平均工资（元/年）", "Social average wage (yuan a year)"),
            &f.social_average_wage,
            "text",
            "decimal",
            None,
            "money",
        ),
        field(
            &mut faults,
            "minimum_wage_monthly",
            l("月最低工资标准（元）", "Monthly minimum wage (yuan)"),
            &f.minimum_wage_monthly,
            "text",
            "decimal",
            None,
            "money",
        ),
    ];
    let overrides_open = f.has_overrides() || overrides.iter().any(|o| !o.errors.is_empty());
    let details_open = f.has_details() || details.iter().any(|o| !o.errors.is_empty());
    let (link, link_text, request_json, rest) = match request {
        Some(v) => {
            let json = serde_json::to_string(v).unwrap_or_default();
            let rest = format!("request={}", query_value(&json));
            let link_lang = chosen.map(|l| format!("&lang={l}")).unwrap_or_default();
            let link = format!("/calculator?{rest}{link_lang}");
            let text = format!("{}{link}", state.settings.server.public_base_url);
            let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
            (Some(link), Some(text), Some(pretty), rest)
        }
        None => (None, None, None, String::new()),
    };
    let (switch_zh, switch_en) = switch_links("/calculator", &rest);
    let page = CalculatorPage {
        layout: Layout::new(lang),
        switch_zh,
        switch_en,
        lang_field: chosen,
        regions: region_groups(&state.book, lang, f.region.trim()),
        region_errors,
        levy_year,
        kinds,
        kind_errors,
        details,
        details_open,
        months,
        months_errors,
        average_headcount,
        staff_errors,
        wages,
        rows_full: f.rows.len() >= form::MAX_ROWS,
        rows: row_views,
        roster_errors,
        disabled_count,
        overrides,
        overrides_open,
        faults: summary,
        result,
        link,
        link_text,
        request_json,
    };
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, HTML))
        .body(render(&page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spare_certificate_is_valid_and_not_on_the_roster() {
        let first = spare_certificate(&json!({})).unwrap_or_default();
        assert!(DisabilityCertificate::parse(&first).is_ok(), "{first}");
        let second = spare_certificate(&json!({
            "disabled_employees": [{"certificate_no": first.to_ascii_lowercase()}]
        }))
        .unwrap_or_default();
        assert!(DisabilityCertificate::parse(&second).is_ok(), "{second}");
        assert_ne!(first.get(..18), second.get(..18));
    }

    #[test]
    fn one_more_employee_is_a_roster_row_or_a_share_of_the_count() {
        let book = crate::policy::PolicyBook::load_embedded().unwrap_or_else(|e| panic!("{e}"));
        let req = json!({"region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
                         "staff": {"average_headcount": "100"}, "average_wage": "60000",
                         "disabled_count": "1.5"});
        let parsed = parse_request(&book, &req, Language::Zh).unwrap_or_else(|e| panic!("{e:?}"));
        let spare = spare_certificate(&req).unwrap_or_default();
        let cert = Certificate::Disability(
            DisabilityCertificate::parse(&spare).unwrap_or_else(|e| panic!("{e}")),
        );
        let more = with_one_more(&parsed.input, 10, &cert);
        assert!(matches!(more.disabled, Disabled::Certified(d) if d == Decimal::new(175, 2)));
        let mut roster = req.clone();
        roster["disabled_count"] = Value::Null;
        let parsed =
            parse_request(&book, &roster, Language::Zh).unwrap_or_else(|e| panic!("{e:?}"));
        let more = with_one_more(&parsed.input, 7, &cert);
        let Disabled::Roster(r) = &more.disabled else {
            panic!("a roster")
        };
        assert_eq!(r.len(), 1);
        assert!(matches!(&r[0].employment, Employment::Months(m) if *m == {
            let mut s = MonthSet::EMPTY;
            (7..=12).for_each(|m| s.insert(m));
            s
        }));
    }

    #[test]
    fn parameters_read_as_words() {
        assert_eq!(
            param_text("quota_ratio", &json!("0.016"), Language::Zh),
            "1.6%"
        );
        assert_eq!(
            param_text(
                "reduction_tiers",
                &json!({"threshold": "0.01", "share_at_or_above": "0.5", "share_below": "0.9"}),
                Language::En
            ),
            "50% of the fee at a proportion of 1% or more, 90% below"
        );
        assert_eq!(
            param_text(
                "surcharge",
                &json!({"daily_rate": "0.005", "capped_at_principal": true}),
                Language::Zh
            ),
            "每日 5‰，不超过欠缴金额"
        );
        assert_eq!(
            generic(&json!({"a": "1", "b": null, "c": [1, 2]})),
            "a: 1; c: 1, 2"
        );
    }
}
