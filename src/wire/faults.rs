//! The faults a request can have that are not particular to one field of one request:
//! each with its stable code (docs/api.md, "Error codes") and its message in Chinese
//! and English. A message says what form a field expects and never repeats what was
//! sent: a value in the wrong field may be an ID or certificate number.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::ids::IdError;
use crate::domain::text::TextFault;
use crate::domain::Language;

/// One kind of fault, with what its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The field is missing or null.
    Required,
    /// The field is a blank string.
    Empty,
    /// Not a JSON object.
    NotObject,
    /// Not a string.
    NotString,
    /// Not `true` or `false`.
    NotBool,
    /// Not a whole number.
    NotInteger,
    /// Not an array.
    NotArray,
    /// Neither a string nor a number where a decimal is expected.
    NotDecimal,
    /// A string that is not a decimal number.
    BadDecimal,
    /// A whole number outside `min..=max`.
    OutOfRange {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A decimal below its minimum (`negative` when the value is below zero).
    BelowMin {
        /// The bound.
        min: Decimal,
        /// The bound itself is not allowed.
        exclusive: bool,
        /// The value is negative.
        negative: bool,
    },
    /// A decimal above its maximum.
    AboveMax {
        /// The bound.
        max: Decimal,
    },
    /// More decimal places than allowed.
    TooManyDecimals {
        /// Allowed places.
        max_dp: u32,
    },
    /// Not a date `YYYY-MM-DD`.
    Date,
    /// A date after today.
    InFuture,
    /// A date before the earliest accepted.
    DateTooEarly {
        /// The earliest date accepted.
        earliest: NaiveDate,
    },
    /// A key the object does not have.
    UnknownField {
        /// The keys it has, joined by ", ".
        allowed: String,
    },
    /// A key a declaration body does not have (region, kind and registration date come
    /// from the employer record).
    UnknownDeclarationField {
        /// The keys it has, joined by ", ".
        allowed: String,
    },
    /// A text with a control or bidirectional character.
    Text(TextFault),
    /// An identifier (USCC, ID or certificate number) that is not well formed.
    Id(IdError),
    /// A text longer than allowed.
    TooLong {
        /// Characters allowed.
        max: usize,
    },
    /// An amount larger than allowed.
    TooLarge {
        /// The largest amount, as printed.
        max: &'static str,
    },
    /// Not a positive amount of yuan.
    NotPositiveMoney,
    /// Not an e-mail address.
    Email,
    /// Not one of the employer kinds.
    EmployerKind,
    /// Not a six-digit region code.
    Region,
    /// A region no policy pack covers.
    UnknownRegion,
    /// A region outside the caller's scope.
    OutOfScope,
    /// `replaces` without a `correction_reason`.
    CorrectionReasonRequired,
    /// A `correction_reason` without `replaces`.
    ReasonWithoutCorrection,
}

impl Fault {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::Required | Fault::Empty | Fault::CorrectionReasonRequired => "required",
            Fault::NotObject
            | Fault::NotString
            | Fault::NotBool
            | Fault::NotInteger
            | Fault::NotArray
            | Fault::NotDecimal
            | Fault::BadDecimal => "type",
            Fault::OutOfRange { .. } | Fault::AboveMax { .. } | Fault::DateTooEarly { .. } => {
                "out_of_range"
            }
            Fault::BelowMin { negative: true, .. } => "negative",
            Fault::BelowMin { .. } => "out_of_range",
            Fault::TooManyDecimals { .. } => "too_many_decimals",
            Fault::Date => "date",
            Fault::InFuture => "in_future",
            Fault::UnknownField { .. } | Fault::UnknownDeclarationField { .. } => "unknown_field",
            Fault::Text(t) => t.code(),
            Fault::Id(e) => id_code(e),
            Fault::TooLong { .. } => "too_long",
            Fault::TooLarge { .. } => "too_large",
            Fault::NotPositiveMoney
            | Fault::Email
            | Fault::EmployerKind
            | Fault::Region
            | Fault::ReasonWithoutCorrection => "invalid",
            Fault::UnknownRegion => "unknown_region",
            Fault::OutOfScope => "out_of_scope",
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Language) -> String {
        let (zh, en): (String, String) = match self {
            Fault::Required => ("必填".into(), "required".into()),
            Fault::Empty => ("不得为空".into(), "must not be empty".into()),
            Fault::NotObject => ("应为 JSON 对象".into(), "must be a JSON object".into()),
            Fault::NotString => ("应为字符串".into(), "must be a string".into()),
            Fault::NotBool => ("应为 true 或 false".into(), "must be true or false".into()),
            Fault::NotInteger => ("应为整数".into(), "must be a whole number".into()),
            Fault::NotArray => ("应为数组".into(), "must be an array".into()),
            Fault::NotDecimal => (
                "应为十进制数（字符串或数字）".into(),
                "must be a decimal (string or number)".into(),
            ),
            Fault::BadDecimal => (
                "不是有效的十进制数".into(),
                "not a valid decimal number".into(),
            ),
            Fault::OutOfRange { min, max } => (
                format!("应在 {min} 到 {max} 之间"),
                format!("must be between {min} and {max}"),
            ),
            Fault::BelowMin {
                min,
                exclusive: true,
                ..
            } => (
                format!("应大于 {min}"),
                format!("must be greater than {min}"),
            ),
            Fault::BelowMin { min, .. } => (
                format!("不得小于 {min}"),
                format!("must not be less than {min}"),
            ),
            Fault::AboveMax { max } => (
                format!("不得大于 {max}"),
                format!("must not be greater than {max}"),
            ),
            Fault::TooManyDecimals { max_dp } => (
                format!("最多 {max_dp} 位小数"),
                format!("at most {max_dp} decimal places"),
            ),
            Fault::Date => (
                "应为有效日期 YYYY-MM-DD".into(),
                "must be a valid date YYYY-MM-DD".into(),
            ),
            Fault::InFuture => ("不得晚于今天".into(), "must not be in the future".into()),
            Fault::DateTooEarly { earliest } => (
                format!("不得早于 {earliest}"),
                format!("must be {earliest} or later"),
            ),
            Fault::UnknownField { allowed } => (
                format!("未知字段；允许的字段：{allowed}"),
                format!("unknown field; allowed: {allowed}"),
            ),
            Fault::UnknownDeclarationField { allowed } => (
                format!("未知字段；申报包含：{allowed}（地区、单位类型和注册日期取自单位登记信息）"),
                format!("unknown field; a declaration has: {allowed} (region, kind and registration date come from the employer record)"),
            ),
            Fault::Text(TextFault::Control) => (
                "不得包含控制字符（如 NUL）".into(),
                "must not contain control characters such as NUL".into(),
            ),
            Fault::Text(TextFault::Bidi) => (
                "不得包含双向文本控制字符（U+202A–U+202E、U+2066–U+2069 及方向标记）".into(),
                "must not contain bidirectional override, isolate or mark characters (U+202A–U+202E, U+2066–U+2069)".into(),
            ),
            Fault::Id(e) => return e.message(lang),
            Fault::TooLong { max } => (
                format!("最多 {max} 个字符"),
                format!("must be at most {max} characters"),
            ),
            Fault::TooLarge { max } => (
                format!("单笔不得超过 {max} 元"),
                format!("must be at most {max} yuan for one payment"),
            ),
            Fault::NotPositiveMoney => (
                "应为大于 0 的金额（元），如 \"10000.00\"".into(),
                "must be a positive amount of yuan, e.g. \"10000.00\"".into(),
            ),
            Fault::Email => (
                "应为电子邮件地址，如 hr@example.cn".into(),
                "must be an e-mail address such as hr@example.cn".into(),
            ),
            Fault::EmployerKind => (
                "应为 企业 (enterprise)、机关 (government_agency)、事业单位 (public_institution)、社会团体 (social_organization) 或 民办非企业单位 (private_non_enterprise)".into(),
                "must be enterprise (企业), government_agency (机关), public_institution (事业单位), social_organization (社会团体) or private_non_enterprise (民办非企业单位)".into(),
            ),
            Fault::Region => (
                "地区代码应为六位数字（GB/T 2260），如 411200".into(),
                "a region code is six digits (GB/T 2260), e.g. 411200".into(),
            ),
            Fault::UnknownRegion => (
                "未知地区：没有覆盖该地区或其所在省份的政策包".into(),
                "unknown region: no policy pack covers it or its province".into(),
            ),
            Fault::OutOfScope => (
                "该地区不在您的管辖范围内".into(),
                "the region is outside your scope".into(),
            ),
            Fault::CorrectionReasonRequired => (
                "更正公告时必填：请说明原公告哪里有误".into(),
                "is required when a notice is corrected: say what was wrong".into(),
            ),
            Fault::ReasonWithoutCorrection => (
                "只有更正公告（提供 replaces）才需要更正原因".into(),
                "only a correction (with `replaces`) has a reason".into(),
            ),
        };
        match lang {
            Language::Zh => zh,
            Language::En => en,
        }
    }

    /// One instance of every kind (for the test that reads every message).
    #[cfg(test)]
    pub(crate) fn samples() -> Vec<Fault> {
        let d = Decimal::new(5, 1);
        let mut v = vec![
            Fault::Required,
            Fault::Empty,
            Fault::NotObject,
            Fault::NotString,
            Fault::NotBool,
            Fault::NotInteger,
            Fault::NotArray,
            Fault::NotDecimal,
            Fault::BadDecimal,
            Fault::OutOfRange { min: 1, max: 12 },
            Fault::BelowMin {
                min: d,
                exclusive: true,
                negative: false,
            },
            Fault::BelowMin {
                min: Decimal::ZERO,
                exclusive: false,
                negative: true,
            },
            Fault::AboveMax { max: d },
            Fault::TooManyDecimals { max_dp: 2 },
            Fault::Date,
            Fault::InFuture,
            Fault::DateTooEarly {
                earliest: NaiveDate::MIN,
            },
            Fault::UnknownField {
                allowed: "a, b".into(),
            },
            Fault::UnknownDeclarationField {
                allowed: "a, b".into(),
            },
            Fault::Text(TextFault::Control),
            Fault::Text(TextFault::Bidi),
            Fault::TooLong { max: 100 },
            Fault::TooLarge {
                max: "10000000000.00",
            },
            Fault::NotPositiveMoney,
            Fault::Email,
            Fault::EmployerKind,
            Fault::Region,
            Fault::UnknownRegion,
            Fault::OutOfScope,
            Fault::CorrectionReasonRequired,
            Fault::ReasonWithoutCorrection,
        ];
        v.extend(id_samples().into_iter().map(Fault::Id));
        // A new kind must be added above: this match fails to compile until it is.
        for f in &v {
            match f {
                Fault::Required
                | Fault::Empty
                | Fault::NotObject
                | Fault::NotString
                | Fault::NotBool
                | Fault::NotInteger
                | Fault::NotArray
                | Fault::NotDecimal
                | Fault::BadDecimal
                | Fault::OutOfRange { .. }
                | Fault::BelowMin { .. }
                | Fault::AboveMax { .. }
                | Fault::TooManyDecimals { .. }
                | Fault::Date
                | Fault::InFuture
                | Fault::DateTooEarly { .. }
                | Fault::UnknownField { .. }
                | Fault::UnknownDeclarationField { .. }
                | Fault::Text(_)
                | Fault::Id(_)
                | Fault::TooLong { .. }
                | Fault::TooLarge { .. }
                | Fault::NotPositiveMoney
                | Fault::Email
                | Fault::EmployerKind
                | Fault::Region
                | Fault::UnknownRegion
                | Fault::OutOfScope
                | Fault::CorrectionReasonRequired
                | Fault::ReasonWithoutCorrection => {}
            }
        }
        v
    }
}

/// The stable code of an identifier fault.
pub fn id_code(e: &IdError) -> &'static str {
    match e {
        IdError::Length { .. } => "length",
        IdError::BadCharacter { .. } => "bad_character",
        IdError::BadRegion => "bad_region",
        IdError::BadBirthDate => "bad_birth_date",
        IdError::CheckCharacter => "check_character",
        IdError::BadCategory => "bad_category",
        IdError::BadGrade => "bad_grade",
        IdError::BadSuffix => "bad_suffix",
        IdError::BadVeteranNumber => "bad_veteran_number",
    }
}

/// Every identifier fault, with each length the parsers report.
#[cfg(test)]
fn id_samples() -> Vec<IdError> {
    use crate::domain::ids::{
        DisabilityCertificate, ResidentId, UnifiedSocialCreditCode, VeteranCertificate,
    };
    let mut v = vec![
        IdError::BadCharacter { position: 3 },
        IdError::BadRegion,
        IdError::BadBirthDate,
        IdError::CheckCharacter,
        IdError::BadCategory,
        IdError::BadGrade,
        IdError::BadSuffix,
        IdError::BadVeteranNumber,
    ];
    // The length faults as the parsers give them (their `expected` texts are theirs).
    for e in [
        DisabilityCertificate::parse("123").err(),
        ResidentId::parse("123").err(),
        UnifiedSocialCreditCode::parse("123").err(),
        VeteranCertificate::parse("").err(),
    ]
    .into_iter()
    .flatten()
    {
        v.push(e);
    }
    // A new identifier fault must be added above.
    for e in &v {
        let _ = id_code(e);
    }
    v
}
