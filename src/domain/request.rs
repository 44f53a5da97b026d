//! The calculation contract of issue 3: the request and response of
//! `POST /api/v1/levy/calculate` and `quota-levy calc`, and [`calculate_request`], the
//! single entry point both call.
//!
//! The request is walked field by field from a `serde_json::Value`, so that *every* field
//! at fault is reported at once, each with its JSON pointer. Decimals are accepted as
//! JSON strings or numbers; with serde_json's `arbitrary_precision` a number keeps its
//! text, so nothing goes through `f64`.
//!
//! Language: texts (explanation, warnings, error messages) are Chinese unless the request
//! has `"language": "en"`; the `default_lang` argument (e.g. from `Accept-Language` or a
//! CLI flag) applies when the request does not say.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::ids::{DisabilityCertificate, IdError, VeteranCertificate};
use super::lang::Language;
use super::levy::{
    self, calculate, duplicate_certificates, surcharge, Certificate, Disabled, DisabledEmployee,
    Employment, ExplainMode, Explanation, LevyError, LevyInput, LevyResult, MonthSet, Overrides,
    Payment, Staff, SurchargeError, Twelfths, VeteranGrade, Wages,
};
use super::money::{format_count, format_money};
use super::policy::{
    Cited, ExemptionRule, PolicyLookupError, PolicyProvider, ResolvedPolicy, RewardPersons,
    RewardRule,
};
use super::region::{EmployerKind, RegionCode};

/// One field at fault, for the 422 problem document and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer to the field, e.g. `/disabled_employees/2/certificate_no` (`""` for
    /// the whole document).
    pub pointer: String,
    /// Stable machine code, e.g. `required`, `check_character`, `duplicate_certificate`.
    pub code: &'static str,
    /// Human message in the request's language: the field's expected form, never the
    /// value given (it may be an ID or certificate number sent in the wrong place).
    pub message: String,
}

// ---------------------------------------------------------------------------------------
// Limits (keep every intermediate figure well inside exact 128-bit arithmetic).
// Choice: money inputs have at most 2 decimals (the fen), counts (average headcount,
// certified disabled count) at most 4, quota ratios at most 6.
// ---------------------------------------------------------------------------------------

/// Largest monthly headcount or average headcount accepted.
const MAX_STAFF: i64 = 10_000_000;
/// Largest money amount accepted (yuan).
const MAX_MONEY: Decimal = Decimal::from_parts(0x107A_4000, 0x5AF3, 0, false, 0); // 1e14
/// Largest roster accepted.
const MAX_ROSTER: usize = 100_000;
/// Earliest as-of date modelled (levy-rules §1: 财税〔2015〕72号).
fn earliest_as_of() -> NaiveDate {
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

/// The request of issue 3, typed. [`calculate_request`] takes the JSON value (so that it
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
// Response
// ---------------------------------------------------------------------------------------

/// The response of issue 3. Money: strings with exactly 2 decimals; counts: strings
/// half-up to 4 decimals; `employment_ratio` to 6.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalcResponse {
    /// The levy year.
    pub levy_year: i32,
    /// levy_year − 1.
    pub data_year: i32,
    /// The region asked for.
    pub region: String,
    /// The as-of date used ("YYYY-MM-DD").
    pub as_of: String,
    /// The declared employer kind.
    pub employer_kind: &'static str,
    /// N.
    pub average_headcount: String,
    /// N × q.
    pub required: String,
    /// D (weighted).
    pub disabled_counted: String,
    /// max(0, required − D).
    pub shortfall: String,
    /// D / N to 6 decimals; null when staff is 0.
    pub employment_ratio: Option<String>,
    /// W; null when staff is 0.
    pub average_wage: Option<String>,
    /// W_used; null when staff is 0.
    pub wage_used: Option<String>,
    /// round2(shortfall × W_used).
    pub fee_due: String,
    /// The tier reduction.
    pub reduction: String,
    /// What is payable.
    pub levy_payable: String,
    /// max(0, D − required).
    pub over_quota: String,
    /// The over-quota reward.
    pub reward: String,
    /// The exemption applied, or null.
    pub exemption: Option<ExemptionOut>,
    /// Every parameter with its value, citation and provisional flag.
    pub parameters: Parameters,
    /// Per-employee counting (certificates masked).
    pub employees: Vec<EmployeeOut>,
    /// The ordered steps.
    pub explanation: Explanation,
    /// True when any value used is provisional.
    pub provisional: bool,
    /// What "provisional" means here, for a person, in the response's language; absent
    /// when nothing used is provisional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<String>,
    /// True when overrides were given.
    pub what_if: bool,
    /// Warnings, as sentences.
    pub warnings: Vec<String>,
    /// The language of the texts.
    pub language: Language,
}

/// The exemption applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExemptionOut {
    /// Stable id: `small_enterprise`.
    pub rule: &'static str,
    /// The staff ceiling (inclusive).
    pub max_staff: u32,
    /// The start-up window in years, when one applies.
    pub max_years_since_registration: Option<u32>,
    /// The rule's legal source.
    pub citation: String,
    /// True when provisional.
    pub provisional: bool,
}

/// A parameter as used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamOut {
    /// The value (strings for decimals and dates, objects for rules).
    pub value: Value,
    /// The legal source, or `overrides.<name> (what-if)`.
    pub citation: String,
    /// True when provisional.
    pub provisional: bool,
    /// The region whose pack supplied it (the request's region for an override).
    pub region: String,
    /// True when the request overrode it.
    pub overridden: bool,
}

/// The parameters of the result (null where not in force or not known).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameters {
    /// q.
    pub quota_ratio: ParamOut,
    /// k.
    pub wage_cap_multiple: Option<ParamOut>,
    /// S of the data year.
    pub social_average_wage: Option<ParamOut>,
    /// The monthly minimum wage on the last day of the data year (or the override).
    pub minimum_wage_monthly: Option<ParamOut>,
    /// The reduction tiers.
    pub reduction_tiers: Option<ParamOut>,
    /// The small-employer exemption rule.
    pub exemption_rule: ParamOut,
    /// The fresh-graduate full-year rule.
    pub fresh_graduate_full_year: ParamOut,
    /// The over-quota reward rule.
    pub reward_rule: ParamOut,
    /// The late-payment surcharge rule.
    pub surcharge: ParamOut,
    /// The filing deadline of the levy year.
    pub filing_deadline: ParamOut,
    /// The payment due date of the levy year.
    pub payment_due: ParamOut,
}

/// How one disabled employee was counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployeeOut {
    /// Roster index (0-based, as in the JSON pointer).
    pub index: usize,
    /// The masked certificate number.
    pub certificate: String,
    /// `disability` or `veteran`.
    pub certificate_kind: &'static str,
    /// The grade that counts.
    pub grade: u8,
    /// 1 or 2.
    pub weight: u8,
    /// Months employed on their last day.
    pub employed_months: Vec<u8>,
    /// Months counted (after conditions; 12 under the fresh-graduate rule).
    pub counted_months: u8,
    /// weight × counted_months.
    pub weighted_months: u32,
    /// Failed conditions' codes joined by commas (`short_contract`,
    /// `below_minimum_wage`, `no_social_insurance`), or null.
    pub excluded_reason: Option<String>,
    /// The same in words, or null.
    pub excluded_detail: Option<String>,
    /// Months employed but not counted.
    pub excluded_months: Vec<u8>,
    /// True when the fresh-graduate full-year rule applied.
    pub fresh_graduate_applied: bool,
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
    /// The law in force.
    pub policy: ResolvedPolicy,
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
    let result = calculate(
        &parsed.policy,
        &parsed.input,
        ExplainMode::Full(parsed.lang),
    )
    .map_err(|e| vec![levy_field_error(&e, parsed.lang)])?;
    Ok(build_response(&parsed, &result))
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
    let mut v = Validator {
        lang,
        errors: Vec::new(),
    };
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
            message: (*reason).to_owned(),
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

fn missing_parameter_message(
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

fn wages_required_message(lang: Language) -> String {
    lang.pick(
        "在职职工人数不为 0 时须提供 total_wages 或 average_wage 之一",
        "total_wages or average_wage is required when staff is not 0",
    )
    .to_owned()
}

fn duplicate_message(first: usize, lang: Language) -> String {
    match lang {
        Language::Zh => format!("与 /disabled_employees/{first} 为同一证件（同一持证人），同一名单中不得重复"),
        Language::En => format!("the same certificate (holder) as /disabled_employees/{first}; a roster may not list it twice"),
    }
}

// ---------------------------------------------------------------------------------------
// Validation: walks the JSON value, collecting every error
// ---------------------------------------------------------------------------------------

struct Validator {
    lang: Language,
    errors: Vec<FieldError>,
}

/// Escapes a key for a JSON pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// True when an unexpected key reads like a mistyped field name, and may therefore be
/// repeated in a pointer. A key with a long run of digits, an `@`, or anything beyond
/// ASCII letters, digits, `_` and `-` may be an ID number, an address or a name sent in
/// the wrong place: answers and logs never repeat it.
pub fn key_is_nameable(key: &str) -> bool {
    let mut run = 0usize;
    let mut longest = 0usize;
    for b in key.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    !key.is_empty()
        && key.len() <= 64
        && longest < 6
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The pointer for an unexpected key of the object at `base`: the key itself when it
/// reads like a field name, else the object (see [`key_is_nameable`]).
pub fn unknown_key_pointer(base: &str, key: &str) -> String {
    if key_is_nameable(key) {
        format!("{base}/{}", escape(key))
    } else {
        base.to_owned()
    }
}

/// Parses decimal text: digits with an optional sign, point and exponent; no blanks,
/// underscores, `NaN` or infinities.
fn parse_decimal_text(s: &str) -> Option<Decimal> {
    let s = s.trim();
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == frac {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let rest = &s[i + 1..];
        let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if rest.is_empty() || !rest.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return Decimal::from_scientific(s).ok();
    }
    if i != b.len() {
        return None;
    }
    Decimal::from_str_exact(s).ok()
}

/// Bounds for a decimal field.
struct DecRule {
    max_dp: u32,
    min: Decimal,
    min_exclusive: bool,
    max: Decimal,
}

const COUNT_RULE: DecRule = DecRule {
    max_dp: 4,
    min: Decimal::ZERO,
    min_exclusive: false,
    max: Decimal::from_parts(10_000_000, 0, 0, false, 0),
};
const MONEY_RULE: DecRule = DecRule {
    max_dp: 2,
    min: Decimal::ZERO,
    min_exclusive: false,
    max: MAX_MONEY,
};
const POSITIVE_MONEY_RULE: DecRule = DecRule {
    max_dp: 2,
    min: Decimal::ZERO,
    min_exclusive: true,
    max: MAX_MONEY,
};
const RATIO_RULE: DecRule = DecRule {
    max_dp: 6,
    min: Decimal::ZERO,
    min_exclusive: true,
    max: Decimal::ONE,
};

impl Validator {
    fn err(
        &mut self,
        pointer: &str,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) {
        let message = match self.lang {
            Language::Zh => zh.into(),
            Language::En => en.into(),
        };
        self.errors.push(FieldError {
            pointer: pointer.to_owned(),
            code,
            message,
        });
    }

    fn id_err(&mut self, pointer: &str, e: IdError) {
        let code = match e {
            IdError::Length { .. } => "length",
            IdError::BadCharacter { .. } => "bad_character",
            IdError::BadRegion => "bad_region",
            IdError::BadBirthDate => "bad_birth_date",
            IdError::CheckCharacter => "check_character",
            IdError::BadCategory => "bad_category",
            IdError::BadGrade => "bad_grade",
            IdError::BadSuffix => "bad_suffix",
            IdError::BadVeteranNumber => "bad_veteran_number",
        };
        let message = e.message(self.lang);
        self.errors.push(FieldError {
            pointer: pointer.to_owned(),
            code,
            message,
        });
    }

    fn required(&mut self, pointer: &str) {
        self.err(pointer, "required", "必填", "required");
    }

    /// An object with only the `allowed` keys (each unknown key is an error).
    fn object<'v>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(m) = v else {
            self.err(ptr, "type", "应为 JSON 对象", "must be a JSON object");
            return None;
        };
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                let p = unknown_key_pointer(ptr, k);
                self.err(
                    &p,
                    "unknown_field",
                    format!("未知字段；允许的字段：{}", allowed.join(", ")),
                    format!("unknown field; allowed: {}", allowed.join(", ")),
                );
            }
        }
        Some(m)
    }

    fn string<'v>(&mut self, v: &'v Value, ptr: &str) -> Option<&'v str> {
        match v {
            Value::String(s) => Some(s),
            _ => {
                self.err(ptr, "type", "应为字符串", "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, ptr: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.err(ptr, "type", "应为 true 或 false", "must be true or false");
                None
            }
        }
    }

    /// A whole number (JSON number or digit string) within `min..=max`.
    fn integer(&mut self, v: &Value, ptr: &str, min: i64, max: i64) -> Option<i64> {
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.to_string().parse::<i64>().ok()),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.err(
                    ptr,
                    "out_of_range",
                    format!("应在 {min} 到 {max} 之间"),
                    format!("must be between {min} and {max}"),
                );
                None
            }
            None => {
                self.err(ptr, "type", "应为整数", "must be a whole number");
                None
            }
        }
    }

    fn decimal(&mut self, v: &Value, ptr: &str, rule: &DecRule) -> Option<Decimal> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.err(
                    ptr,
                    "type",
                    "应为十进制数（字符串或数字）",
                    "must be a decimal (string or number)",
                );
                return None;
            }
        };
        let Some(d) = parse_decimal_text(&text) else {
            self.err(
                ptr,
                "type",
                "不是有效的十进制数",
                "not a valid decimal number",
            );
            return None;
        };
        let below = if rule.min_exclusive {
            d <= rule.min
        } else {
            d < rule.min
        };
        if below {
            let (zh, en) = if rule.min_exclusive {
                (
                    format!("应大于 {}", rule.min),
                    format!("must be greater than {}", rule.min),
                )
            } else {
                (
                    format!("不得小于 {}", rule.min),
                    format!("must not be less than {}", rule.min),
                )
            };
            self.err(
                ptr,
                if d.is_sign_negative() {
                    "negative"
                } else {
                    "out_of_range"
                },
                zh,
                en,
            );
            return None;
        }
        if d > rule.max {
            self.err(
                ptr,
                "out_of_range",
                format!("不得大于 {}", rule.max),
                format!("must not be greater than {}", rule.max),
            );
            return None;
        }
        let d = d.normalize();
        if d.scale() > rule.max_dp {
            self.err(
                ptr,
                "too_many_decimals",
                format!("最多 {} 位小数", rule.max_dp),
                format!("at most {} decimal places", rule.max_dp),
            );
            return None;
        }
        Some(d)
    }

    fn date(&mut self, v: &Value, ptr: &str) -> Option<NaiveDate> {
        let s = self.string(v, ptr)?;
        let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if ok => Some(d),
            _ => {
                self.err(
                    ptr,
                    "date",
                    "应为有效日期 YYYY-MM-DD",
                    "must be a valid date YYYY-MM-DD",
                );
                None
            }
        }
    }

    fn request(&mut self, provider: &dyn PolicyProvider, body: &Value) -> Option<ParsedRequest> {
        const TOP: &[&str] = &[
            "region",
            "levy_year",
            "as_of",
            "employer",
            "staff",
            "total_wages",
            "average_wage",
            "disabled_employees",
            "disabled_count",
            "overrides",
            "language",
        ];
        let m = self.object(body, "", TOP)?;
        let get = |k: &str| m.get(k).filter(|v| !v.is_null());

        if let Some(l) = get("language") {
            if let Some(s) = self.string(l, "/language") {
                if s != "zh" && s != "en" {
                    self.err(
                        "/language",
                        "invalid",
                        "应为 \"zh\" 或 \"en\"",
                        "must be \"zh\" or \"en\"",
                    );
                }
            }
        }

        let region = match get("region") {
            None => {
                self.required("/region");
                None
            }
            Some(v) => self
                .string(v, "/region")
                .and_then(|s| match s.parse::<RegionCode>() {
                    Ok(r) if !r.is_national() => Some(r),
                    _ => {
                        self.err(
                            "/region",
                            "invalid",
                            "地区代码应为六位数字（GB/T 2260），如 411200",
                            "a region code is six digits (GB/T 2260), e.g. 411200",
                        );
                        None
                    }
                }),
        };
        let levy_year = match get("levy_year") {
            None => {
                self.required("/levy_year");
                None
            }
            Some(v) => self
                .integer(v, "/levy_year", 2015, 2100)
                .and_then(|y| i32::try_from(y).ok()),
        };
        let as_of = get("as_of").and_then(|v| self.date(v, "/as_of"));
        if let Some(d) = as_of {
            if d < earliest_as_of() {
                self.err(
                    "/as_of",
                    "as_of_too_early",
                    "申报日早于 2015-10-01：此前的各省规定未建模",
                    "as-of date before 2015-10-01: earlier provincial regimes are not modelled",
                );
            } else if let Some(y) = levy_year {
                // Choice: the data year must be over on the as-of date.
                if d.year() < y {
                    self.err(
                        "/as_of",
                        "as_of_before_levy_year",
                        "申报日不得早于征收年度的 1 月 1 日（数据年度尚未结束）",
                        "the as-of date may not be before 1 January of the levy year (the data year is not over)",
                    );
                }
            }
        }

        // employer
        let mut kind = None;
        let mut registered_on = None;
        match get("employer") {
            None => self.required("/employer"),
            Some(v) => {
                if let Some(e) = self.object(v, "/employer", &["kind", "registered_on"]) {
                    match e.get("kind").filter(|v| !v.is_null()) {
                        None => self.required("/employer/kind"),
                        Some(k) => {
                            if let Some(s) = self.string(k, "/employer/kind") {
                                match s.parse::<EmployerKind>() {
                                    Ok(k) => kind = Some(k),
                                    Err(_) => self.err(
                                        "/employer/kind",
                                        "invalid",
                                        "应为 企业 (enterprise)、机关 (government_agency)、事业单位 (public_institution)、社会团体 (social_organization) 或 民办非企业单位 (private_non_enterprise)",
                                        "must be enterprise (企业), government_agency (机关), public_institution (事业单位), social_organization (社会团体) or private_non_enterprise (民办非企业单位)",
                                    ),
                                }
                            }
                        }
                    }
                    registered_on = e
                        .get("registered_on")
                        .filter(|v| !v.is_null())
                        .and_then(|v| self.date(v, "/employer/registered_on"));
                }
            }
        }

        // staff
        let staff = match get("staff") {
            None => {
                self.required("/staff");
                None
            }
            Some(v) => self.staff(v),
        };
        let staff_zero = staff.as_ref().map(|s| match s {
            Staff::Monthly(h) => h.iter().all(|&x| x == 0),
            Staff::Average(a) => a.is_zero(),
        });

        // wages
        let total = get("total_wages").and_then(|v| self.decimal(v, "/total_wages", &MONEY_RULE));
        let average =
            get("average_wage").and_then(|v| self.decimal(v, "/average_wage", &MONEY_RULE));
        let wages = match (get("total_wages"), get("average_wage")) {
            (Some(_), Some(_)) => {
                self.err(
                    "/average_wage",
                    "conflict",
                    "total_wages 与 average_wage 只能提供一个",
                    "give total_wages or average_wage, not both",
                );
                None
            }
            (None, None) => {
                if staff_zero == Some(false) {
                    self.errors.push(FieldError {
                        pointer: "/total_wages".into(),
                        code: "required",
                        message: wages_required_message(self.lang),
                    });
                }
                None
            }
            _ => total.map(Wages::Total).or(average.map(Wages::Average)),
        };

        // disabled employees
        let disabled = match (get("disabled_employees"), get("disabled_count")) {
            (Some(_), Some(_)) => {
                self.err(
                    "/disabled_count",
                    "conflict",
                    "disabled_employees 与 disabled_count 只能提供一个",
                    "give disabled_employees or disabled_count, not both",
                );
                None
            }
            (Some(v), None) => self.roster(v).map(Disabled::Roster),
            (None, Some(v)) => self
                .decimal(v, "/disabled_count", &COUNT_RULE)
                .map(Disabled::Certified),
            (None, None) => Some(Disabled::Roster(Vec::new())),
        };

        // overrides
        let overrides = match get("overrides") {
            None => Some(Overrides::default()),
            Some(v) => self.overrides(v),
        };

        // Resolve the policy (reports an unknown region or a gap even alongside other errors).
        let policy = match (region, levy_year) {
            (Some(region), Some(levy_year)) if as_of.is_none_or(|d| d >= earliest_as_of()) => {
                let as_of = match as_of {
                    Some(d) => Some(d),
                    None => match provider.default_as_of(region, levy_year) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            self.lookup_err(&e);
                            None
                        }
                    },
                };
                as_of.and_then(|d| match provider.resolve(region, d, levy_year - 1) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.lookup_err(&e);
                        None
                    }
                })
            }
            _ => None,
        };

        // Checks that need the policy, so that they are reported with the rest.
        if let (Some(p), Some(false)) = (&policy, staff_zero) {
            let over = overrides.as_ref().and_then(|o| o.social_average_wage);
            if p.wage_cap_multiple.is_some() && p.social_average_wage.is_none() && over.is_none() {
                self.errors.push(FieldError {
                    pointer: "/overrides/social_average_wage".into(),
                    code: "missing_parameter",
                    message: missing_parameter_message(
                        p.region,
                        p.data_year,
                        "social_average_wage",
                        self.lang,
                    ),
                });
            }
        }
        if let (Some(p), Some(EmployerKind::Enterprise), Some(s), None) =
            (&policy, kind, &staff, registered_on)
        {
            if let ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration: Some(years),
            } = p.exemption.value
            {
                let n12 = match s {
                    Staff::Monthly(h) => {
                        Decimal::from(h.iter().map(|&x| u64::from(x)).sum::<u64>())
                    }
                    Staff::Average(a) => *a * Decimal::from(12),
                };
                // Only when absent: a malformed date has its own error already.
                let absent = get("employer")
                    .and_then(|e| e.get("registered_on"))
                    .is_none_or(Value::is_null);
                if n12 <= Decimal::from(max_staff) * Decimal::from(12) && absent {
                    self.errors.push(levy_field_error(
                        &LevyError::MissingRegistrationDate { years },
                        self.lang,
                    ));
                }
            }
        }

        Some(ParsedRequest {
            levy_year: levy_year?,
            lang: self.lang,
            policy: policy?,
            input: LevyInput {
                employer_kind: kind?,
                registered_on,
                staff: staff?,
                wages,
                disabled: disabled?,
                overrides: overrides?,
            },
        })
    }

    fn lookup_err(&mut self, e: &PolicyLookupError) {
        match e {
            PolicyLookupError::UnknownRegion(_) => self.err(
                "/region",
                "unknown_region",
                "未知地区：没有覆盖该地区或其所在省份的政策包",
                "unknown region: no policy pack covers it or its province",
            ),
            PolicyLookupError::AsOfTooEarly(_) => self.err(
                "/as_of",
                "as_of_too_early",
                "申报日早于 2015-10-01：此前的各省规定未建模",
                "the as-of date is before 2015-10-01: earlier provincial regimes are not modelled",
            ),
            PolicyLookupError::Missing(msg) => self.err(
                "/as_of",
                "policy_gap",
                format!("政策包未规定该日期适用的规则：{msg}"),
                format!("the policy packs do not cover this date: {msg}"),
            ),
        }
    }

    fn staff(&mut self, v: &Value) -> Option<Staff> {
        let m = self.object(v, "/staff", &["monthly_headcount", "average_headcount"])?;
        let monthly = m.get("monthly_headcount").filter(|v| !v.is_null());
        let average = m.get("average_headcount").filter(|v| !v.is_null());
        match (monthly, average) {
            (Some(_), Some(_)) => {
                self.err(
                    "/staff",
                    "conflict",
                    "monthly_headcount 与 average_headcount 只能提供一个",
                    "give monthly_headcount or average_headcount, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    "/staff",
                    "required",
                    "须提供 monthly_headcount（12 个月末人数）或 average_headcount",
                    "give monthly_headcount (12 month-end headcounts) or average_headcount",
                );
                None
            }
            (Some(Value::Array(a)), None) => {
                if a.len() != 12 {
                    self.err(
                        "/staff/monthly_headcount",
                        "length",
                        format!("应有 12 个月末人数，实际 {} 个", a.len()),
                        format!("12 monthly headcounts are needed, got {}", a.len()),
                    );
                }
                let mut h = [0u32; 12];
                let mut ok = a.len() == 12;
                for (i, x) in a.iter().enumerate() {
                    match self.integer(x, &format!("/staff/monthly_headcount/{i}"), 0, MAX_STAFF) {
                        Some(n) if i < 12 => h[i] = u32::try_from(n).unwrap_or(0),
                        Some(_) => {}
                        None => ok = false,
                    }
                }
                ok.then_some(Staff::Monthly(h))
            }
            (Some(_), None) => {
                self.err(
                    "/staff/monthly_headcount",
                    "type",
                    "应为 12 个整数的数组",
                    "must be an array of 12 whole numbers",
                );
                None
            }
            (None, Some(a)) => self
                .decimal(a, "/staff/average_headcount", &COUNT_RULE)
                .map(Staff::Average),
        }
    }

    fn overrides(&mut self, v: &Value) -> Option<Overrides> {
        let m = self.object(
            v,
            "/overrides",
            &["quota_ratio", "social_average_wage", "minimum_wage_monthly"],
        )?;
        let mut ok = true;
        let mut field =
            |me: &mut Self, k: &str, rule: &DecRule| match m.get(k).filter(|v| !v.is_null()) {
                None => None,
                Some(x) => {
                    let d = me.decimal(x, &format!("/overrides/{k}"), rule);
                    ok &= d.is_some();
                    d
                }
            };
        let quota_ratio = field(self, "quota_ratio", &RATIO_RULE);
        let social_average_wage = field(self, "social_average_wage", &POSITIVE_MONEY_RULE);
        let minimum_wage_monthly = field(self, "minimum_wage_monthly", &POSITIVE_MONEY_RULE);
        ok.then_some(Overrides {
            quota_ratio,
            social_average_wage,
            minimum_wage_monthly,
        })
    }

    fn roster(&mut self, v: &Value) -> Option<Vec<DisabledEmployee>> {
        let Value::Array(a) = v else {
            self.err(
                "/disabled_employees",
                "type",
                "应为数组",
                "must be an array",
            );
            return None;
        };
        if a.len() > MAX_ROSTER {
            self.err(
                "/disabled_employees",
                "too_many",
                format!("最多 {MAX_ROSTER} 人"),
                format!("at most {MAX_ROSTER} employees"),
            );
            return None;
        }
        let mut out = Vec::with_capacity(a.len());
        let mut ok = true;
        for (i, e) in a.iter().enumerate() {
            match self.employee(e, i) {
                Some(e) => out.push(e),
                None => ok = false,
            }
        }
        // Duplicates among the employees that parsed (indices are only right when all did;
        // otherwise they are checked on the parsed ones by original position below).
        if ok {
            for (index, first) in duplicate_certificates(&out) {
                self.errors.push(FieldError {
                    pointer: format!("/disabled_employees/{index}/certificate_no"),
                    code: "duplicate_certificate",
                    message: duplicate_message(first, self.lang),
                });
            }
        } else {
            self.duplicates_by_text(a);
        }
        ok.then_some(out)
    }

    /// Duplicate check when some employees failed to parse: on the certificates that did.
    fn duplicates_by_text(&mut self, a: &[Value]) {
        let mut seen: Vec<(usize, String)> = Vec::new();
        for (i, e) in a.iter().enumerate() {
            let Some(no) = e.get("certificate_no").and_then(Value::as_str) else {
                continue;
            };
            let kind = e
                .get("certificate_kind")
                .and_then(Value::as_str)
                .unwrap_or("disability");
            let key = if kind == "veteran" {
                VeteranCertificate::parse(no)
                    .ok()
                    .map(|v| format!("v{}", v.expose()))
            } else {
                DisabilityCertificate::parse(no)
                    .ok()
                    .map(|c| format!("d{}", c.holder().expose()))
            };
            let Some(key) = key else { continue };
            if let Some((first, _)) = seen.iter().find(|(_, k)| *k == key) {
                let first = *first;
                self.errors.push(FieldError {
                    pointer: format!("/disabled_employees/{i}/certificate_no"),
                    code: "duplicate_certificate",
                    message: duplicate_message(first, self.lang),
                });
            } else {
                seen.push((i, key));
            }
        }
    }

    fn employee(&mut self, v: &Value, i: usize) -> Option<DisabledEmployee> {
        const FIELDS: &[&str] = &[
            "certificate_no",
            "certificate_kind",
            "grade",
            "months",
            "employed_from",
            "employed_to",
            "on_establishment",
            "contract_months",
            "social_insurance_paid",
            "monthly_wage",
            "fresh_graduate",
            "disputed_months",
            "counted_elsewhere_months",
        ];
        let base = format!("/disabled_employees/{i}");
        let before = self.errors.len();
        let m = self.object(v, &base, FIELDS)?;
        let get = |k: &str| m.get(k).filter(|v| !v.is_null());
        let p = |k: &str| format!("{base}/{k}");

        let kind = match get("certificate_kind") {
            None => Some("disability"),
            Some(k) => match self.string(k, &p("certificate_kind")) {
                Some(s @ ("disability" | "veteran")) => Some(s),
                Some(_) => {
                    self.err(
                        &p("certificate_kind"),
                        "invalid",
                        "应为 \"disability\"（残疾人证）或 \"veteran\"（残疾军人证）",
                        "must be \"disability\" or \"veteran\"",
                    );
                    None
                }
                None => None,
            },
        };
        let grade = get("grade").and_then(|g| self.integer(g, &p("grade"), 1, 8));
        let number = match get("certificate_no") {
            None => {
                self.required(&p("certificate_no"));
                None
            }
            Some(c) => self.string(c, &p("certificate_no")),
        };
        let certificate = match (kind, number) {
            (Some("veteran"), Some(no)) => {
                let number = VeteranCertificate::parse(no)
                    .map_err(|e| self.id_err(&p("certificate_no"), e))
                    .ok();
                let grade = match get("grade") {
                    None => {
                        self.err(
                            &p("grade"),
                            "required",
                            "残疾军人证须提供等级 1–8",
                            "a disabled veteran's certificate needs its grade, 1 to 8",
                        );
                        None
                    }
                    Some(_) => grade
                        .and_then(|g| u8::try_from(g).ok())
                        .and_then(VeteranGrade::new),
                };
                match (number, grade) {
                    (Some(number), Some(grade)) => Some(Certificate::Veteran { number, grade }),
                    _ => None,
                }
            }
            (Some(_), Some(no)) => match DisabilityCertificate::parse(no) {
                Ok(c) => {
                    // Levy-rules §9: the grade in the number is the grade that counts.
                    // Choice: a declared grade that differs is an error, not silently ignored.
                    if let Some(g) = grade {
                        if g != i64::from(c.grade()) {
                            self.err(
                                &p("grade"),
                                "grade_mismatch",
                                "与残疾人证号第 20 位的等级不符，以证号为准；请删除 grade 或改为一致",
                                "differs from the grade in the certificate number (character 20), which is the grade that counts; remove grade or make it match",
                            );
                        }
                    }
                    Some(Certificate::Disability(c))
                }
                Err(e) => {
                    self.id_err(&p("certificate_no"), e);
                    None
                }
            },
            _ => None,
        };

        // Months employed: a month list or a period, exactly one. Choice: neither is an
        // error rather than "all year"; a month listed twice is an error too.
        let employment = match (get("months"), get("employed_from")) {
            (Some(_), Some(_)) => {
                self.err(
                    &base,
                    "conflict",
                    "months 与 employed_from 只能提供一个",
                    "give months or employed_from, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    &p("months"),
                    "required",
                    "须提供 months（1–12 月份列表）或 employed_from",
                    "give months (a list of months 1-12) or employed_from",
                );
                None
            }
            (Some(Value::Array(a)), None) => {
                let mut set = MonthSet::EMPTY;
                let mut ok = true;
                for (j, x) in a.iter().enumerate() {
                    let ptr = format!("{base}/months/{j}");
                    match self.integer(x, &ptr, 1, 12) {
                        Some(mo) => {
                            let mo = mo as u8;
                            if set.contains(mo) {
                                self.err(
                                    &ptr,
                                    "duplicate_month",
                                    "月份重复",
                                    "this month is already listed",
                                );
                                ok = false;
                            }
                            set.insert(mo);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Employment::Months(set))
            }
            (Some(_), None) => {
                self.err(
                    &p("months"),
                    "type",
                    "应为 1–12 的整数数组",
                    "must be an array of months 1-12",
                );
                None
            }
            (None, Some(f)) => {
                let from = self.date(f, &p("employed_from"));
                let to = get("employed_to").and_then(|t| self.date(t, &p("employed_to")));
                if let (Some(f), Some(t)) = (from, to) {
                    if t < f {
                        self.err(
                            &p("employed_to"),
                            "before_start",
                            "employed_to 不得早于 employed_from",
                            "employed_to may not be before employed_from",
                        );
                    }
                }
                from.map(|from| Employment::Period { from, to })
            }
        };
        if get("employed_to").is_some() && get("employed_from").is_none() {
            self.err(
                &p("employed_to"),
                "conflict",
                "employed_to 须与 employed_from 一起提供",
                "employed_to needs employed_from",
            );
        }

        let on_establishment =
            get("on_establishment").and_then(|b| self.boolean(b, &p("on_establishment")));
        let contract_months =
            get("contract_months").and_then(|c| self.integer(c, &p("contract_months"), 0, 1200));
        let social_insurance_paid =
            get("social_insurance_paid").and_then(|b| self.boolean(b, &p("social_insurance_paid")));
        let monthly_wage =
            get("monthly_wage").and_then(|w| self.decimal(w, &p("monthly_wage"), &MONEY_RULE));
        let fresh_graduate =
            get("fresh_graduate").and_then(|b| self.boolean(b, &p("fresh_graduate")));
        // Set by the registry when another employer declares the same certificate:
        // pending (counted by neither) or decided for the other employer.
        let mut months = |key: &str| {
            let mut set = MonthSet::EMPTY;
            match get(key) {
                None => {}
                Some(Value::Array(a)) => {
                    for (j, x) in a.iter().enumerate() {
                        if let Some(mo) = self.integer(x, &format!("{base}/{key}/{j}"), 1, 12) {
                            set.insert(mo as u8);
                        }
                    }
                }
                Some(_) => self.err(
                    &p(key),
                    "type",
                    "应为 1–12 的整数数组",
                    "must be an array of months 1-12",
                ),
            }
            set
        };
        let disputed = months("disputed_months");
        let counted_elsewhere = months("counted_elsewhere_months");

        if self.errors.len() != before {
            return None;
        }
        Some(DisabledEmployee {
            certificate: certificate?,
            employment: employment?,
            on_establishment: on_establishment.unwrap_or(false),
            contract_months: contract_months.and_then(|c| u32::try_from(c).ok()),
            // Contract: social insurance paid defaults to true.
            social_insurance_paid: social_insurance_paid.unwrap_or(true),
            monthly_wage,
            fresh_graduate: fresh_graduate.unwrap_or(false),
            disputed,
            counted_elsewhere,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Building the response
// ---------------------------------------------------------------------------------------

fn count4(t: Twelfths) -> String {
    format_count(t.round(4), 4)
}

fn dec_str(d: Decimal) -> String {
    d.normalize().to_string()
}

fn param(c: &Cited<impl Clone>, value: Value) -> ParamOut {
    ParamOut {
        value,
        citation: c.citation.clone(),
        provisional: c.provisional,
        region: c.region.to_string(),
        overridden: false,
    }
}

fn overridden(name: &str, value: Value, region: RegionCode) -> ParamOut {
    ParamOut {
        value,
        citation: format!("overrides.{name} (what-if)"),
        provisional: false,
        region: region.to_string(),
        overridden: true,
    }
}

fn reward_value(r: &RewardRule) -> Value {
    let persons = |p: RewardPersons| match p {
        RewardPersons::Fractional => "fractional",
        RewardPersons::Whole => "whole",
    };
    let kinds = |k: &[EmployerKind]| k.iter().map(|k| k.as_str()).collect::<Vec<_>>();
    match r {
        RewardRule::None { note } => json!({ "kind": "none", "note": note }),
        RewardRule::MinimumWageMultiple {
            multiple,
            persons: p,
            severe_counted_once,
            min_excess,
            max_years,
            eligible_kinds,
        } => json!({
            "kind": "minimum_wage_multiple",
            "multiple": dec_str(*multiple),
            "persons": persons(*p),
            "severe_counted_once": severe_counted_once,
            "min_excess": min_excess.map(dec_str),
            "max_years": max_years,
            "eligible_kinds": kinds(eligible_kinds),
        }),
        RewardRule::FixedPerPerson {
            amount,
            cap,
            persons: p,
            eligible_kinds,
        } => json!({
            "kind": "fixed_per_person",
            "amount": format_money(*amount),
            "cap": cap.map(format_money),
            "persons": persons(*p),
            "eligible_kinds": kinds(eligible_kinds),
        }),
    }
}

fn exemption_value(e: &ExemptionRule) -> Value {
    match e {
        ExemptionRule::None => json!({ "kind": "none" }),
        ExemptionRule::SmallEnterprise {
            max_staff,
            max_years_since_registration,
        } => json!({
            "kind": "small_enterprise",
            "max_staff": max_staff,
            "max_years_since_registration": max_years_since_registration,
        }),
    }
}

fn parameters(p: &ResolvedPolicy, o: &Overrides) -> Parameters {
    let r = p.region;
    Parameters {
        quota_ratio: match o.quota_ratio {
            Some(q) => overridden("quota_ratio", json!(dec_str(q)), r),
            None => param(&p.quota_ratio, json!(dec_str(p.quota_ratio.value))),
        },
        wage_cap_multiple: p
            .wage_cap_multiple
            .as_ref()
            .map(|k| param(k, json!(dec_str(k.value)))),
        social_average_wage: match o.social_average_wage {
            Some(s) => Some(overridden("social_average_wage", json!(format_money(s)), r)),
            None => p
                .social_average_wage
                .as_ref()
                .map(|s| param(s, json!(format_money(s.value)))),
        },
        minimum_wage_monthly: match o.minimum_wage_monthly {
            Some(w) => Some(overridden(
                "minimum_wage_monthly",
                json!(format_money(w)),
                r,
            )),
            None => p
                .minimum_wage_year_end()
                .map(|w| param(w, json!(format_money(w.value)))),
        },
        reduction_tiers: p.reduction_tiers.as_ref().map(|t| {
            param(
                t,
                json!({
                    "threshold": dec_str(t.value.threshold),
                    "share_at_or_above": dec_str(t.value.share_at_or_above),
                    "share_below": dec_str(t.value.share_below),
                }),
            )
        }),
        exemption_rule: param(&p.exemption, exemption_value(&p.exemption.value)),
        fresh_graduate_full_year: param(
            &p.fresh_graduate_full_year,
            json!(p.fresh_graduate_full_year.value),
        ),
        reward_rule: param(&p.reward, reward_value(&p.reward.value)),
        surcharge: param(
            &p.surcharge,
            json!({
                "daily_rate": dec_str(p.surcharge.value.daily_rate),
                "capped_at_principal": p.surcharge.value.capped_at_principal,
            }),
        ),
        filing_deadline: param(
            &p.filing_deadline,
            json!(p.filing_deadline.value.to_string()),
        ),
        payment_due: param(&p.payment_due, json!(p.payment_due.value.to_string())),
    }
}

/// Builds the response of a calculation (money to 2 decimals, counts to 4, ratio to 6).
pub fn build_response(req: &ParsedRequest, r: &LevyResult) -> CalcResponse {
    let p = &req.policy;
    let lang = req.lang;
    let roster: &[DisabledEmployee] = match &req.input.disabled {
        Disabled::Roster(v) => v,
        Disabled::Certified(_) => &[],
    };
    let employees = r
        .employees
        .iter()
        .zip(roster)
        .map(|(o, e)| EmployeeOut {
            index: o.index,
            certificate: e.certificate.masked(),
            certificate_kind: e.certificate.kind_str(),
            grade: o.grade,
            weight: o.weight,
            employed_months: o.employed.iter().collect(),
            counted_months: o.counted_months,
            weighted_months: o.weighted_months(),
            excluded_reason: o.excluded_reason(),
            excluded_detail: levy::exclusion_detail(
                o,
                e,
                p,
                req.input.overrides.minimum_wage_monthly,
                lang,
            ),
            excluded_months: o.excluded.iter().collect(),
            fresh_graduate_applied: o.fresh_graduate_applied,
        })
        .collect();
    let exemption = match (r.exempt, &p.exemption.value) {
        (
            true,
            ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration,
            },
        ) => Some(ExemptionOut {
            rule: "small_enterprise",
            max_staff: *max_staff,
            max_years_since_registration: *max_years_since_registration,
            citation: p.exemption.citation.clone(),
            provisional: p.exemption.provisional,
        }),
        _ => None,
    };
    CalcResponse {
        levy_year: req.levy_year,
        data_year: p.data_year,
        region: p.region.to_string(),
        as_of: p.as_of.to_string(),
        employer_kind: req.input.employer_kind.as_str(),
        average_headcount: count4(r.staff),
        required: count4(r.required),
        disabled_counted: count4(r.disabled),
        shortfall: count4(r.shortfall),
        employment_ratio: r.employment_ratio(6).map(|x| format_count(x, 6)),
        average_wage: r.average_wage.map(format_money),
        wage_used: r.wage_used.map(format_money),
        fee_due: format_money(r.fee_due),
        reduction: format_money(r.reduction),
        levy_payable: format_money(r.payable),
        over_quota: count4(r.over_quota),
        reward: format_money(r.reward),
        exemption,
        parameters: parameters(p, &req.input.overrides),
        employees,
        explanation: r.explanation.clone(),
        provisional: r.provisional,
        provisional_note: r.provisional.then(|| provisional_note(lang).to_owned()),
        what_if: r.what_if,
        warnings: r.warnings.iter().map(|w| w.message(p, lang)).collect(),
        language: lang,
    }
}

/// The sentence that explains "provisional" wherever a result rests on a provisional
/// value: the parameters marked `provisional` were taken from a secondary source or
/// chosen where no official text was found.
pub fn provisional_note(lang: Language) -> &'static str {
    lang.pick(
        "本结果使用了暂定参数（标为暂定的数值）：这些数值来自非官方转载，或在未找到正式文件时选定，待正式文件公布后可能调整，以税务机关核定为准。",
        "This result uses provisional values (those marked provisional): they come from a secondary source or were chosen where no official text was found, and may change once the official document is found; the tax bureau's assessment decides.",
    )
}

// ---------------------------------------------------------------------------------------
// Surcharge request (levy-rules §6)
// ---------------------------------------------------------------------------------------

/// The response of a surcharge calculation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurchargeResponse {
    /// The region.
    pub region: String,
    /// The levy year.
    pub levy_year: i32,
    /// The principal due.
    pub principal: String,
    /// The due date used.
    pub due_date: String,
    /// The as-of date.
    pub as_of: String,
    /// Per calendar day.
    pub daily_rate: String,
    /// Whether the surcharge is capped at the principal.
    pub capped_at_principal: bool,
    /// The rule's citation.
    pub citation: String,
    /// True when the rule is provisional.
    pub provisional: bool,
    /// What "provisional" means here, in the response's language; absent when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<String>,
    /// Surcharge accrued up to and including the as-of date.
    pub surcharge: String,
    /// True when the cap cut the surcharge.
    pub capped: bool,
    /// Payments applied to principal.
    pub principal_paid: String,
    /// Payments applied to the surcharge.
    pub surcharge_paid: String,
    /// Principal still owed.
    pub outstanding_principal: String,
    /// Surcharge still owed.
    pub outstanding_surcharge: String,
    /// Overpayment to refund.
    pub refund_due: String,
    /// Per run of days.
    pub segments: Vec<SegmentOut>,
}

/// One run of surcharged days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentOut {
    /// First day.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// Days.
    pub days: i64,
    /// Outstanding principal.
    pub principal: String,
    /// Surcharge of the run.
    pub amount: String,
}

/// Computes the late-payment surcharge of levy-rules §6 from a JSON request:
/// `{ region, levy_year, principal, due_date? (default: the policy's payment due date),
/// payments: [{ date, amount }], as_of }`. Collects every field error like
/// [`calculate_request`].
pub fn surcharge_request(
    provider: &dyn PolicyProvider,
    body: &Value,
    default_lang: Language,
) -> Result<SurchargeResponse, Vec<FieldError>> {
    let mut v = Validator {
        lang: default_lang,
        errors: Vec::new(),
    };
    let Some(m) = v.object(
        body,
        "",
        &[
            "region",
            "levy_year",
            "principal",
            "due_date",
            "payments",
            "as_of",
        ],
    ) else {
        return Err(v.errors);
    };
    let get = |k: &str| m.get(k).filter(|x| !x.is_null());
    let region = match get("region") {
        None => {
            v.required("/region");
            None
        }
        Some(x) => v
            .string(x, "/region")
            .and_then(|s| match s.parse::<RegionCode>() {
                Ok(r) => Some(r),
                Err(_) => {
                    v.err(
                        "/region",
                        "invalid",
                        "地区代码应为六位数字",
                        "a region code is six digits",
                    );
                    None
                }
            }),
    };
    let levy_year = match get("levy_year") {
        None => {
            v.required("/levy_year");
            None
        }
        Some(x) => v
            .integer(x, "/levy_year", 2015, 2100)
            .and_then(|y| i32::try_from(y).ok()),
    };
    let principal = match get("principal") {
        None => {
            v.required("/principal");
            None
        }
        Some(x) => v.decimal(x, "/principal", &MONEY_RULE),
    };
    let due = get("due_date").and_then(|x| v.date(x, "/due_date"));
    let as_of = match get("as_of") {
        None => {
            v.required("/as_of");
            None
        }
        Some(x) => v.date(x, "/as_of"),
    };
    let mut payments = Vec::new();
    match get("payments") {
        None => {}
        Some(Value::Array(a)) => {
            for (i, p) in a.iter().enumerate() {
                let base = format!("/payments/{i}");
                if let Some(pm) = v.object(p, &base, &["date", "amount"]) {
                    let date = match pm.get("date") {
                        None => {
                            v.required(&format!("{base}/date"));
                            None
                        }
                        Some(x) => v.date(x, &format!("{base}/date")),
                    };
                    let amount = match pm.get("amount") {
                        None => {
                            v.required(&format!("{base}/amount"));
                            None
                        }
                        Some(x) => v.decimal(x, &format!("{base}/amount"), &POSITIVE_MONEY_RULE),
                    };
                    if let (Some(date), Some(amount)) = (date, amount) {
                        if as_of.is_some_and(|d| date > d) {
                            v.err(
                                &format!("{base}/date"),
                                "after_as_of",
                                "付款日期晚于 as_of",
                                "payment dated after as_of",
                            );
                        }
                        payments.push(Payment { date, amount });
                    }
                }
            }
        }
        Some(_) => v.err("/payments", "type", "应为数组", "must be an array"),
    }
    let policy = match (region, levy_year, as_of) {
        (Some(r), Some(y), Some(d)) => match provider.resolve(r, d, y - 1) {
            Ok(p) => Some(p),
            Err(e) => {
                v.lookup_err(&e);
                None
            }
        },
        _ => None,
    };
    let (Some(policy), Some(principal), Some(as_of), Some(levy_year), true) =
        (policy, principal, as_of, levy_year, v.errors.is_empty())
    else {
        return Err(v.errors);
    };
    let due = due.unwrap_or(policy.payment_due.value);
    let rule = &policy.surcharge;
    let s = surcharge(&rule.value, principal, due, &payments, as_of).map_err(|e| {
        let (pointer, code) = match e {
            SurchargeError::NegativePrincipal => ("/principal".to_owned(), "negative"),
            SurchargeError::NonPositivePayment { index } => {
                (format!("/payments/{index}/amount"), "out_of_range")
            }
            SurchargeError::PaymentAfterAsOf { index } => {
                (format!("/payments/{index}/date"), "after_as_of")
            }
        };
        vec![FieldError {
            pointer,
            code,
            message: e.to_string(),
        }]
    })?;
    Ok(SurchargeResponse {
        region: policy.region.to_string(),
        levy_year,
        principal: format_money(principal),
        due_date: due.to_string(),
        as_of: as_of.to_string(),
        daily_rate: dec_str(rule.value.daily_rate),
        capped_at_principal: rule.value.capped_at_principal,
        citation: rule.citation.clone(),
        provisional: rule.provisional,
        provisional_note: rule
            .provisional
            .then(|| provisional_note(v.lang).to_owned()),
        surcharge: format_money(s.accrued),
        capped: s.capped,
        principal_paid: format_money(s.principal_paid),
        surcharge_paid: format_money(s.surcharge_paid),
        outstanding_principal: format_money(s.outstanding_principal),
        outstanding_surcharge: format_money(s.outstanding_surcharge),
        refund_due: format_money(s.refund_due),
        segments: s
            .segments
            .iter()
            .map(|g| SegmentOut {
                from: g.from.to_string(),
                to: g.to.to_string(),
                days: g.days,
                principal: format_money(g.principal),
                amount: format_money(g.amount),
            })
            .collect(),
    })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "request_fuzz.rs"]
mod fuzz;
