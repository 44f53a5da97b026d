//! Reading a JSON object field by field, collecting every fault with its JSON pointer,
//! so that one answer lists all that is wrong and nothing is written. Messages say what
//! form a field expects and never repeat what was sent: a value in the wrong field may
//! be an ID or certificate number.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::domain::request::{unknown_key_pointer, FieldError};

/// A JSON object being validated.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    base: String,
    /// Problems found so far.
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Starts on `body`, which must be an object; `allowed` lists the known keys, and
    /// any other key is an error (a typo must not be silently ignored).
    pub fn new(body: &'a Value, allowed: &[&str]) -> Result<Fields<'a>, Vec<FieldError>> {
        let obj = body.as_object().ok_or_else(|| {
            vec![FieldError {
                pointer: String::new(),
                code: "invalid_type",
                message: "the body must be a JSON object".into(),
            }]
        })?;
        let mut f = Fields {
            obj,
            base: String::new(),
            errors: Vec::new(),
        };
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                f.errors.push(FieldError {
                    pointer: unknown_key_pointer(&f.base, k),
                    code: "unknown_field",
                    message: format!("unknown field; expected one of: {}", allowed.join(", ")),
                });
            }
        }
        Ok(f)
    }

    /// Records a problem at `key` with the generic code `invalid`.
    pub fn fail(&mut self, key: &str, detail: impl Into<String>) {
        self.fail_code(key, "invalid", detail);
    }

    /// Records a problem at `key` with a stable code.
    pub fn fail_code(&mut self, key: &str, code: &'static str, detail: impl Into<String>) {
        self.errors.push(FieldError {
            pointer: format!(
                "{}/{}",
                self.base,
                key.replace('~', "~0").replace('/', "~1")
            ),
            code,
            message: detail.into(),
        });
    }

    /// True when the key is present (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    /// A one-line string; `None` when absent or null (and an error when `required`).
    /// Control and bidirectional characters are refused ([`crate::domain::text`]).
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
        if let Some(Value::String(s)) = self.obj.get(key) {
            if let Err(fault) = check(s) {
                self.fail_code(key, fault.code(), fault.message());
                return None;
            }
        }
        match self.obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail_code(key, "required", "is required");
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.fail_code(key, "required", "must not be empty");
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => {
                self.fail(key, "must be a string");
                None
            }
        }
    }

    /// A string parsed by `parse`, whose error message is reported (so it must not
    /// repeat the string).
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        key: &str,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let s = self.string(key, required)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(key, e.to_string());
                None
            }
        }
    }

    /// A date `YYYY-MM-DD`.
    pub fn date(&mut self, key: &str, required: bool) -> Option<NaiveDate> {
        self.parsed(key, required, |s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD")
        })
    }

    /// A whole number within `min..=max`.
    pub fn int(&mut self, key: &str, required: bool, min: i64, max: i64) -> Option<i64> {
        let v = match self.obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail_code(key, "required", "is required");
                }
                return None;
            }
            Some(v) => v,
        };
        let n = v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.fail(key, format!("must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// A boolean.
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(key, "must be true or false");
                None
            }
        }
    }

    /// Ends validation: every problem found, if any.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// A light check of an e-mail address: one `@`, something on both sides, a dot in the
/// domain, no spaces. Deliverability is the mail server's business.
pub fn check_email(s: &str) -> Result<String, &'static str> {
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
        Err("must be an e-mail address such as hr@example.cn")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_problem_with_pointers() {
        let body = json!({"name": 3, "size": -1, "extra": true, "day": "2025-13-01"});
        let mut f = Fields::new(&body, &["name", "size", "day", "email"]).unwrap();
        f.string("name", true);
        f.int("size", false, 0, 10);
        f.date("day", true);
        f.string("email", true);
        let e = f.finish().expect_err("expected validation errors");
        let ptrs: Vec<&str> = e.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/extra", "/name", "/size", "/day", "/email"]);
    }

    #[test]
    fn an_unknown_key_is_named_only_when_it_reads_like_a_field_name() {
        let body = json!({"nmae": "x", "41120219800101901913": 1, "hr@example.cn": 1, "张三": 1});
        let f = Fields::new(&body, &["name"]).unwrap();
        let mut ptrs: Vec<String> = f.errors.iter().map(|p| p.pointer.clone()).collect();
        ptrs.sort();
        assert_eq!(ptrs, ["", "", "", "/nmae"]);
        for e in &f.errors {
            assert!(!e.message.contains("4112") && !e.message.contains("张三"));
        }
    }

    #[test]
    fn emails() {
        assert!(check_email("hr@example.cn").is_ok());
        assert!(check_email("hr@localhost").is_err());
        assert!(check_email("a b@x.cn").is_err());
        assert!(check_email("@x.cn").is_err());
    }
}
