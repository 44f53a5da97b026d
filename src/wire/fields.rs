//! The one JSON field walker: reads a `serde_json::Value` field by field, collecting
//! every fault with its JSON pointer, so that one answer lists all that is wrong and
//! nothing is written. The calculation request, every registry body (employers,
//! declarations, payments, disputes, notices) and import rows go through it, so a fault
//! has the same code and wording wherever it is made (docs/api.md, "Error codes").

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use super::faults::{id_code, Fault};
use crate::domain::ids::IdError;
use crate::domain::Language;

/// One field at fault, for the 422 problem document, the CLI and import reports.
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

impl FieldError {
    /// The error of `fault` at `pointer`, worded in `lang`.
    pub fn new(pointer: impl Into<String>, fault: &Fault, lang: Language) -> Self {
        FieldError {
            pointer: pointer.into(),
            code: fault.code(),
            message: fault.message(lang),
        }
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
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
pub fn parse_decimal_text(s: &str) -> Option<Decimal> {
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
#[derive(Debug, Clone, Copy)]
pub struct DecRule {
    /// Decimal places allowed.
    pub max_dp: u32,
    /// The lower bound.
    pub min: Decimal,
    /// The lower bound itself is refused.
    pub min_exclusive: bool,
    /// The upper bound (inclusive).
    pub max: Decimal,
}

/// The walker: the language of its messages and every fault found so far.
#[derive(Debug, Clone)]
pub struct Walker {
    /// The language of the messages.
    pub lang: Language,
    /// Faults found so far.
    pub errors: Vec<FieldError>,
}

impl Walker {
    /// A walker with messages in `lang`.
    pub fn new(lang: Language) -> Self {
        Walker {
            lang,
            errors: Vec::new(),
        }
    }

    /// Records `fault` at `pointer`.
    pub fn fault(&mut self, pointer: &str, fault: Fault) {
        self.errors
            .push(FieldError::new(pointer, &fault, self.lang));
    }

    /// Records a fault particular to one field, with its own wording.
    pub fn err(
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

    /// Records a malformed identifier.
    pub fn id_err(&mut self, pointer: &str, e: IdError) {
        self.errors.push(FieldError {
            pointer: pointer.to_owned(),
            code: id_code(&e),
            message: e.message(self.lang),
        });
    }

    /// Records a missing field.
    pub fn required(&mut self, pointer: &str) {
        self.fault(pointer, Fault::Required);
    }

    /// An object with only the `allowed` keys (each unknown key is an error).
    pub fn object<'v>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(m) = v else {
            self.fault(ptr, Fault::NotObject);
            return None;
        };
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                let p = unknown_key_pointer(ptr, k);
                self.fault(
                    &p,
                    Fault::UnknownField {
                        allowed: allowed.join(", "),
                    },
                );
            }
        }
        Some(m)
    }

    /// A string.
    pub fn string<'v>(&mut self, v: &'v Value, ptr: &str) -> Option<&'v str> {
        match v {
            Value::String(s) => Some(s),
            _ => {
                self.fault(ptr, Fault::NotString);
                None
            }
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, v: &Value, ptr: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.fault(ptr, Fault::NotBool);
                None
            }
        }
    }

    /// A whole number (JSON number or digit string) within `min..=max`.
    pub fn integer(&mut self, v: &Value, ptr: &str, min: i64, max: i64) -> Option<i64> {
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.to_string().parse::<i64>().ok()),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.fault(ptr, Fault::OutOfRange { min, max });
                None
            }
            None => {
                self.fault(ptr, Fault::NotInteger);
                None
            }
        }
    }

    /// A decimal (JSON string or number, never through `f64`) within `rule`.
    pub fn decimal(&mut self, v: &Value, ptr: &str, rule: &DecRule) -> Option<Decimal> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.fault(ptr, Fault::NotDecimal);
                return None;
            }
        };
        let Some(d) = parse_decimal_text(&text) else {
            self.fault(ptr, Fault::BadDecimal);
            return None;
        };
        let below = if rule.min_exclusive {
            d <= rule.min
        } else {
            d < rule.min
        };
        if below {
            self.fault(
                ptr,
                Fault::BelowMin {
                    min: rule.min,
                    exclusive: rule.min_exclusive,
                    negative: d.is_sign_negative(),
                },
            );
            return None;
        }
        if d > rule.max {
            self.fault(ptr, Fault::AboveMax { max: rule.max });
            return None;
        }
        let d = d.normalize();
        if d.scale() > rule.max_dp {
            self.fault(
                ptr,
                Fault::TooManyDecimals {
                    max_dp: rule.max_dp,
                },
            );
            return None;
        }
        Some(d)
    }

    /// A date `YYYY-MM-DD` given as a JSON string.
    pub fn date(&mut self, v: &Value, ptr: &str) -> Option<NaiveDate> {
        let s = self.string(v, ptr)?;
        self.date_text(s, ptr)
    }

    /// A date `YYYY-MM-DD` (exactly that form: ten characters).
    pub fn date_text(&mut self, s: &str, ptr: &str) -> Option<NaiveDate> {
        let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if ok => Some(d),
            _ => {
                self.fault(ptr, Fault::Date);
                None
            }
        }
    }

    /// Ends the walk: every fault found, if any.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// The walker on one JSON object, read by key (the registry's bodies and import rows).
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    base: String,
    walker: Walker,
}

impl<'a> Fields<'a> {
    /// Starts on `body`, which must be an object; `allowed` lists the known keys, and
    /// any other key is an error (a typo must not be silently ignored).
    pub fn new(
        body: &'a Value,
        allowed: &[&str],
        lang: Language,
    ) -> Result<Fields<'a>, Vec<FieldError>> {
        let mut walker = Walker::new(lang);
        let Some(obj) = walker.object(body, "", allowed) else {
            return Err(walker.errors);
        };
        Ok(Fields {
            obj,
            base: String::new(),
            walker,
        })
    }

    /// The language of the messages.
    pub fn lang(&self) -> Language {
        self.walker.lang
    }

    /// Every fault found so far.
    pub fn errors(&self) -> &[FieldError] {
        &self.walker.errors
    }

    fn pointer(&self, key: &str) -> String {
        format!("{}/{}", self.base, escape(key))
    }

    /// Records `fault` at `key`.
    pub fn fail(&mut self, key: &str, fault: Fault) {
        let p = self.pointer(key);
        self.walker.fault(&p, fault);
    }

    /// True when the key is present (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    /// The value at `key`, unless absent or null.
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// A one-line string, trimmed; `None` when absent or null (and an error when
    /// `required`). Control and bidirectional characters are refused
    /// ([`crate::domain::text`]).
    pub fn string(&mut self, key: &str, required: bool) -> Option<String> {
        self.checked_string(key, required, crate::domain::text::check_line)
    }

    /// A free text (a note, a reason): as [`Fields::string`], but line breaks and tabs
    /// are allowed.
    pub fn text(&mut self, key: &str, required: bool) -> Option<String> {
        self.checked_string(key, required, crate::domain::text::check_text)
    }

    fn checked_string(
        &mut self,
        key: &str,
        required: bool,
        check: fn(&str) -> Result<(), crate::domain::text::TextFault>,
    ) -> Option<String> {
        let Some(v) = self.value(key) else {
            if required {
                self.fail(key, Fault::Required);
            }
            return None;
        };
        let p = self.pointer(key);
        let s = self.walker.string(v, &p)?;
        if let Err(fault) = check(s) {
            self.fail(key, Fault::Text(fault));
            return None;
        }
        if s.trim().is_empty() && required {
            self.fail(key, Fault::Empty);
            return None;
        }
        Some(s.trim().to_owned())
    }

    /// A string parsed by `parse`, whose fault is reported at `key`.
    pub fn parsed<T>(
        &mut self,
        key: &str,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, Fault>,
    ) -> Option<T> {
        let s = self.string(key, required)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(f) => {
                self.fail(key, f);
                None
            }
        }
    }

    /// A date `YYYY-MM-DD`.
    pub fn date(&mut self, key: &str, required: bool) -> Option<NaiveDate> {
        let s = self.string(key, required)?;
        let p = self.pointer(key);
        self.walker.date_text(&s, &p)
    }

    /// A whole number within `min..=max`.
    pub fn int(&mut self, key: &str, required: bool, min: i64, max: i64) -> Option<i64> {
        let Some(v) = self.value(key) else {
            if required {
                self.fail(key, Fault::Required);
            }
            return None;
        };
        let p = self.pointer(key);
        self.walker.integer(v, &p, min, max)
    }

    /// A boolean.
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.value(key)?;
        let p = self.pointer(key);
        self.walker.boolean(v, &p)
    }

    /// Ends validation: every problem found, if any.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        self.walker.finish()
    }
}

/// A light check of an e-mail address: one `@`, something on both sides, a dot in the
/// domain, no spaces. Deliverability is the mail server's business.
pub fn check_email(s: &str) -> Result<String, Fault> {
    let s = s.trim();
    let ok = s.len() <= 254
        && !s.contains(char::is_whitespace)
        && s.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !d.contains('@')
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Fault::Email)
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
