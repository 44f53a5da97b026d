//! The calculation contract: the request and response of `POST /api/v1/levy/calculate`
//! and `quota-levy calc`, and [`calculate_request`], the single entry point both call.
//!
//! The request is walked field by field from a `serde_json::Value` (see
//! [`super::fields::Walker`]), so that *every* field at fault is reported at once, each
//! with its JSON pointer. Decimals are accepted as JSON strings or numbers; with
//! serde_json's `arbitrary_precision` a number keeps its text, so nothing goes through
//! `f64`.
//!
//! Language: texts (explanation, warnings, error messages) are Chinese unless the request
//! has `"language": "en"`; the `default_lang` argument (e.g. from `Accept-Language` or a
//! CLI flag) applies when the request does not say.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{FieldError, Walker};
use super::response::{build_response, CalcResponse};
use crate::domain::levy::{
    calculate, Certificate, Disabled, DisabledEmployee, Employment, ExplainMode, LevyError,
    LevyInput, MonthSet, Staff, Wages,
};
use crate::domain::{EmployerKind, Language, PolicyProvider, RegionCode, ResolvedPolicy};

// ---------------------------------------------------------------------------------------
// Limits (keep every intermediate figure well inside exact 128-bit arithmetic).
// Choice: money inputs have at most 2 decimals (the fen), counts (average headcount,
// certified disabled count) at most 4, quota ratios at most 6.
// ---------------------------------------------------------------------------------------

/// Largest monthly headcount or average headcount accepted.
pub(super) const MAX_STAFF: i64 = 10_000_000;
/// Largest money amount accepted (yuan).
pub(super) const MAX_MONEY: Decimal = Decimal::from_parts(0x107A_4000, 0x5AF3, 0, false, 0); // 1e14
/// Largest roster accepted.
pub(super) const MAX_ROSTER: usize = 100_000;
/// Earliest as-of date modelled (docs/rules.md §1: 财税〔2015〕72号).
pub(super) fn earliest_as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 10, 1).unwrap_or(NaiveDate::MIN)
}

// ---------------------------------------------------------------------------------------
// Typed request (serde), for callers that build requests in Rust
// ---------------------------------------------------------------------------------------

/// A decimal given as a JSON string or number, kept as text until validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl Serialize for DecimalText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(DecimalText(s)),
            Value::Number(n) => Ok(DecimalText(n.to_string())),
            _ => Err(serde::de::Error::custom(
                "expected a decimal as a string or number",
            )),
        }
    }
}

/// The calculation request, typed. [`calculate_request`] takes the JSON value (so that it
/// can report every error); serialize this with `serde_json::to_value` to call it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalcRequest {
    /// GB/T 2260 code, e.g. "411200".
    pub region: String,
    /// The levy year; data year = levy_year − 1.
    pub levy_year: i32,
    /// "YYYY-MM-DD"; default: the region's filing deadline of the levy year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// The employer.
    pub employer: EmployerRequest,
    /// Staff: 12 monthly headcounts or an average.
    pub staff: StaffRequest,
    /// Total wages of the data year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_wages: Option<DecimalText>,
    /// Or the average annual wage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_wage: Option<DecimalText>,
    /// The roster of disabled employees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_employees: Option<Vec<EmployeeRequest>>,
    /// Or the certified weighted average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_count: Option<DecimalText>,
    /// What-if overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverridesRequest>,
    /// "zh" (default) or "en".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// `employer` of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployerRequest {
    /// enterprise | government_agency | public_institution | social_organization |
    /// private_non_enterprise
    pub kind: EmployerKind,
    /// "YYYY-MM-DD", for the 2015–2017 start-up window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<String>,
}

/// `staff` of the request: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffRequest {
    /// Twelve month-end headcounts, January first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_headcount: Option<Vec<u32>>,
    /// The annual average, at most 4 decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_headcount: Option<DecimalText>,
}

/// One disabled employee of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeRequest {
    /// Certificate number (20 or 22 characters for a 残疾人证).
    pub certificate_no: String,
    /// "disability" (default) or "veteran".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_kind: Option<String>,
    /// Required for a veteran (1–8); for a 残疾人证 it must match the number if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<u8>,
    /// Months (1–12) employed on the month's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Vec<u8>>,
    /// Or the employment period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employed_from: Option<String>,
    /// Last day employed (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employed_to: Option<String>,
    /// On the establishment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_establishment: Option<bool>,
    /// Contract or service agreement length in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_months: Option<u32>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_insurance_paid: Option<bool>,
    /// Monthly wage in yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_wage: Option<DecimalText>,
    /// A fresh college graduate hired in the data year (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_graduate: Option<bool>,
    /// Months the same certificate is also declared by another employer (set by the
    /// registry; counted by neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disputed_months: Option<Vec<u8>>,
    /// Months of a resolved dispute decided for another employer (set by the registry;
    /// not counted here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_elsewhere_months: Option<Vec<u8>>,
    /// A woman's retirement track, "worker" or "cadre" (docs/rules.md §4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retirement_track: Option<String>,
    /// A dispatched worker's agreement (docs/rules.md §4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<DispatchRequest>,
}

/// `dispatch` of a roster line (docs/rules.md §4.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    /// "host" or "agency": the declaring employer's side.
    pub role: String,
    /// "host" or "agency": the side the agreement names to count the person.
    pub counted_by: String,
    /// The other employer's USCC.
    pub partner_uscc: String,
}

/// `overrides` of the request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesRequest {
    /// A fraction, e.g. "0.016".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_ratio: Option<DecimalText>,
    /// Yuan per year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_average_wage: Option<DecimalText>,
    /// Yuan per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_wage_monthly: Option<DecimalText>,
}

// ---------------------------------------------------------------------------------------
// The entry points
// ---------------------------------------------------------------------------------------

/// A validated request: the resolved policy and the domain input.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The levy year.
    pub levy_year: i32,
    /// The language of texts.
    pub lang: Language,
    /// The law in force (shared with the provider's other callers; never changed).
    pub policy: std::sync::Arc<ResolvedPolicy>,
    /// The declaration.
    pub input: LevyInput,
}

/// THE calculation: validates `body` (collecting every field error), resolves the policy,
/// calculates with the full explanation and builds the response. `default_lang` applies
/// when the body has no `language`.
pub fn calculate_request(
    provider: &dyn PolicyProvider,
    body: &Value,
    default_lang: Language,
) -> Result<CalcResponse, Vec<FieldError>> {
    let parsed = parse_request(provider, body, default_lang)?;
    calculate_parsed(&parsed)
}

/// The calculation of a request already validated by [`parse_request`], with the full
/// explanation: what [`calculate_request`] does after parsing, for callers that need
/// the parsed request too (the calculator page's what-ifs), so it is parsed once.
pub fn calculate_parsed(parsed: &ParsedRequest) -> Result<CalcResponse, Vec<FieldError>> {
    let mut result = calculate(
        &parsed.policy,
        &parsed.input,
        ExplainMode::Full(parsed.lang),
    )
    .map_err(|e| vec![levy_field_error(&e, parsed.lang)])?;
    // The explanation moves into the answer rather than being copied (it is most of
    // the answer's text).
    let explanation = std::mem::take(&mut result.explanation);
    let mut response = build_response(parsed, &result);
    response.explanation = explanation;
    Ok(response)
}

/// [`calculate_request`] from JSON text (CLI, raw HTTP body). A syntax error is a field
/// error at pointer `""`.
pub fn calculate_request_json(
    provider: &dyn PolicyProvider,
    text: &str,
    default_lang: Language,
) -> Result<CalcResponse, Vec<FieldError>> {
    let body: Value = serde_json::from_str(text).map_err(|e| {
        vec![FieldError {
            pointer: String::new(),
            code: "invalid_json",
            message: match default_lang {
                Language::Zh => format!("不是有效的 JSON：第 {} 行第 {} 列", e.line(), e.column()),
                Language::En => format!("not valid JSON: {e}"),
            },
        }]
    })?;
    calculate_request(provider, &body, default_lang)
}

/// Validates a request and resolves its policy, without calculating (for batch runs that
/// call [`levy::calculate`] with `ExplainMode::FiguresOnly`).
pub fn parse_request(
    provider: &dyn PolicyProvider,
    body: &Value,
    default_lang: Language,
) -> Result<ParsedRequest, Vec<FieldError>> {
    let lang = match body.get("language") {
        Some(Value::String(s)) => match s.as_str() {
            "zh" => Language::Zh,
            "en" => Language::En,
            _ => default_lang,
        },
        _ => default_lang,
    };
    let mut v = Walker::new(lang);
    let parsed = v.request(provider, body);
    match parsed {
        Some(p) if v.errors.is_empty() => Ok(p),
        _ => {
            if v.errors.is_empty() {
                v.err("", "invalid", "请求无效", "invalid request");
            }
            Err(v.errors)
        }
    }
}

/// Turns a calculation error into the field error at fault.
pub fn levy_field_error(e: &LevyError, lang: Language) -> FieldError {
    let zh = lang == Language::Zh;
    match e {
        LevyError::MissingParameter {
            region,
            data_year,
            parameter,
        } => FieldError {
            pointer: format!("/overrides/{parameter}"),
            code: "missing_parameter",
            message: missing_parameter_message(*region, *data_year, parameter, lang),
        },
        LevyError::MissingRegistrationDate { years } => FieldError {
            pointer: "/employer/registered_on".into(),
            code: "required",
            message: if zh {
                format!("需要工商登记注册日期：此时的小微企业免征以自注册之日起 {years} 年内为条件")
            } else {
                format!("the business registration date is needed: the exemption in force requires registration within {years} years")
            },
        },
        LevyError::MissingWages => FieldError {
            pointer: "/total_wages".into(),
            code: "required",
            message: wages_required_message(lang),
        },
        LevyError::DuplicateCertificate { index, first } => FieldError {
            pointer: format!("/disabled_employees/{index}/certificate_no"),
            code: "duplicate_certificate",
            message: duplicate_message(*first, lang),
        },
        LevyError::InvalidInput { field, reason } => FieldError {
            pointer: format!("/{}", field.replace('.', "/")),
            code: "invalid",
            message: match lang {
                Language::Zh => {
                    "取值超出计算允许的范围（不得为负数，小数位数不得超过规定）".to_owned()
                }
                Language::En => (*reason).to_owned(),
            },
        },
        LevyError::Overflow => FieldError {
            pointer: String::new(),
            code: "too_large",
            message: lang
                .pick(
                    "数值过大，无法精确计算",
                    "figures too large to compute exactly",
                )
                .to_owned(),
        },
    }
}

pub(super) fn missing_parameter_message(
    region: RegionCode,
    data_year: i32,
    parameter: &str,
    lang: Language,
) -> String {
    match (lang, parameter) {
        (Language::Zh, "social_average_wage") => format!(
            "地区 {region} 数据年度 {data_year} 的社会平均工资（social_average_wage）未配置，而此时有工资封顶规定；请在 overrides.social_average_wage 中提供"
        ),
        (Language::Zh, _) => format!(
            "地区 {region} 数据年度 {data_year} 的 {parameter} 未配置，而计算需要它；请在 overrides.{parameter} 中提供"
        ),
        (Language::En, _) => format!(
            "no {parameter} is configured for region {region}, data year {data_year}, and the calculation needs it; give overrides.{parameter}"
        ),
    }
}

pub(super) fn wages_required_message(lang: Language) -> String {
    lang.pick(
        "在职职工人数不为 0 时须提供 total_wages 或 average_wage 之一",
        "total_wages or average_wage is required when staff is not 0",
    )
    .to_owned()
}

pub(super) fn duplicate_message(first: usize, lang: Language) -> String {
    match lang {
        Language::Zh => format!("与 /disabled_employees/{first} 为同一证件（同一持证人），同一名单中不得重复"),
        Language::En => format!("the same certificate (holder) as /disabled_employees/{first}; a roster may not list it twice"),
    }
}

/// The request that states `input` exactly: the inverse of [`parse_request`], so that
/// `parse_request(request_of(..))` gives `input` back. The registry stores it as an
/// assessment's inputs (what the public calculator reproduces); `as_of` is left to the
/// region's filing deadline, as a declaration leaves it.
pub fn request_of(region: RegionCode, levy_year: i32, input: &LevyInput) -> CalcRequest {
    let dec = |d: Decimal| DecimalText(d.normalize().to_string());
    let months = |m: MonthSet| (!m.is_empty()).then(|| m.iter().collect::<Vec<u8>>());
    let (staff_monthly, staff_average) = match &input.staff {
        Staff::Monthly(h) => (Some(h.to_vec()), None),
        Staff::Average(a) => (None, Some(dec(*a))),
    };
    let (total_wages, average_wage) = match input.wages {
        Some(Wages::Total(t)) => (Some(dec(t)), None),
        Some(Wages::Average(a)) => (None, Some(dec(a))),
        None => (None, None),
    };
    let (disabled_employees, disabled_count) = match &input.disabled {
        Disabled::Roster(list) => (
            (!list.is_empty()).then(|| list.iter().map(|e| employee_of(e, &months)).collect()),
            None,
        ),
        Disabled::Certified(d) => (None, Some(dec(*d))),
    };
    let o = &input.overrides;
    CalcRequest {
        region: region.to_string(),
        levy_year,
        as_of: None,
        employer: EmployerRequest {
            kind: input.employer_kind,
            registered_on: input
                .registered_on
                .map(|d| d.format("%Y-%m-%d").to_string()),
        },
        staff: StaffRequest {
            monthly_headcount: staff_monthly,
            average_headcount: staff_average,
        },
        total_wages,
        average_wage,
        disabled_employees,
        disabled_count,
        overrides: o.any().then(|| OverridesRequest {
            quota_ratio: o.quota_ratio.map(dec),
            social_average_wage: o.social_average_wage.map(dec),
            minimum_wage_monthly: o.minimum_wage_monthly.map(dec),
        }),
        language: None,
    }
}

fn employee_of(
    e: &DisabledEmployee,
    months: &dyn Fn(MonthSet) -> Option<Vec<u8>>,
) -> EmployeeRequest {
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let (certificate_no, kind, grade) = match &e.certificate {
        Certificate::Disability(c) => (c.expose().to_owned(), "disability", None),
        Certificate::Veteran { number, grade } => {
            (number.expose().to_owned(), "veteran", Some(grade.get()))
        }
    };
    let (listed, employed_from, employed_to) = match e.employment {
        Employment::Months(m) => (Some(m.iter().collect()), None, None),
        Employment::Period { from, to } => (None, Some(date(from)), to.map(date)),
    };
    EmployeeRequest {
        certificate_no,
        certificate_kind: Some(kind.to_owned()),
        grade,
        months: listed,
        employed_from,
        employed_to,
        on_establishment: Some(e.on_establishment),
        contract_months: e.contract_months,
        social_insurance_paid: Some(e.social_insurance_paid),
        monthly_wage: e
            .monthly_wage
            .map(|w| DecimalText(w.normalize().to_string())),
        fresh_graduate: Some(e.fresh_graduate),
        disputed_months: months(e.disputed),
        counted_elsewhere_months: months(e.counted_elsewhere),
        retirement_track: e.retirement_track.map(|t| t.as_str().to_owned()),
        dispatch: e.dispatch.map(|d| DispatchRequest {
            role: d.role.as_str().to_owned(),
            counted_by: d.counted_by.as_str().to_owned(),
            partner_uscc: d.partner.expose().to_owned(),
        }),
    }
}
