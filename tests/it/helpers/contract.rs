//! The API contract, checked on every answer the tests receive: the OpenAPI document
//! (`src/http/openapi.json`) must document the path, the method and the status code of
//! each answer, and the body must validate against the schema given for it.
//!
//! The check is strict where the document is silent on purpose: an object schema that
//! lists `properties` and says nothing of `additionalProperties` is closed, so a field
//! the service sends but the document does not name is drift, and fails the test that
//! received it. The validator covers the subset of JSON Schema 2020-12 the document uses
//! (`type`, `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`,
//! `oneOf`, `anyOf`, `allOf`, `$ref`, `minimum`, `maximum`, `minItems`, `maxItems`,
//! `format: date`); a keyword outside it fails loudly rather than passing unchecked.

use quota_levy::http::middleware::{Exchange, Observer};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Keywords that describe and do not constrain.
const ANNOTATIONS: &[&str] = &[
    "description",
    "examples",
    "example",
    "title",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$comment",
    "pattern",
    "minLength",
    "maxLength",
];

/// The documented path template that `path` (no query) matches, preferring literal
/// segments over parameters (`/notices/preview` before `/notices/{id}`).
pub fn path_template<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let paths = doc.get("paths")?.as_object()?;
    let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(&str, usize)> = None;
    for template in paths.keys() {
        let have: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        if have.len() != want.len() {
            continue;
        }
        let mut params = 0;
        let fits = have.iter().zip(&want).all(|(h, w)| {
            if h.starts_with('{') && h.ends_with('}') {
                params += 1;
                !w.is_empty()
            } else {
                h == w
            }
        });
        if fits && best.is_none_or(|(_, p)| params < p) {
            best = Some((template.as_str(), params));
        }
    }
    best.map(|(t, _)| t)
}

/// Checks one answer against the document. `path` is the request path without query.
pub fn check_answer(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let template = path_template(doc, path)
        .ok_or_else(|| format!("{method} {path}: no documented path matches"))?;
    let op = &doc["paths"][template][method.to_ascii_lowercase()];
    if op.is_null() {
        return Err(format!("{method} {template}: method not documented"));
    }
    let code = status.to_string();
    let response = op["responses"]
        .get(&code)
        .or_else(|| op["responses"].get(format!("{}XX", status / 100)))
        .or_else(|| op["responses"].get("default"))
        .ok_or_else(|| format!("{method} {template}: status {status} not documented"))?;
    let response = resolve(doc, response)?;
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Ok(());
    };
    let schema = match content.get(&media) {
        Some(m) => m.get("schema"),
        None if media.is_empty() || body.is_empty() => return Ok(()),
        None => {
            return Err(format!(
                "{method} {template} {status}: media type {media} not documented (documented: {})",
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    let Some(schema) = schema else {
        return Ok(());
    };
    if !media.ends_with("json") {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{method} {template} {status}: body is not JSON: {e}"))?;
    let mut errors = Vec::new();
    validate(doc, schema, &value, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {template} {status}: the body does not match the documented schema:\n  {}",
            errors.join("\n  ")
        ))
    }
}

fn resolve<'a>(doc: &'a Value, node: &'a Value) -> Result<&'a Value, String> {
    let mut node = node;
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .ok_or_else(|| format!("external $ref {r} not supported"))?;
                node = doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("$ref {r} names nothing"))?;
            }
            None => return Ok(node),
        }
    }
    Err("$ref chain too long".into())
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => false,
    }
}

/// Validates `v` at JSON pointer `at` against `schema`, appending every fault.
pub fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    validate_in(doc, schema, v, at, errors, true)
}

/// The property names a schema declares, through `$ref` and `allOf`.
fn declared(doc: &Value, schema: &Value, into: &mut Vec<String>) {
    let Ok(schema) = resolve(doc, schema) else {
        return;
    };
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        into.extend(p.keys().cloned());
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            declared(doc, s, into);
        }
    }
}

/// `closed`: whether a field the schema does not declare is a fault here; off for the
/// parts of an `allOf`, which declare the fields between them.
fn validate_in(
    doc: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    errors: &mut Vec<String>,
    closed: bool,
) {
    let schema = match resolve(doc, schema) {
        Ok(s) => s,
        Err(e) => return errors.push(format!("{at}: {e}")),
    };
    let Some(obj) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: no value allowed here"));
        }
        return;
    };
    for key in obj.keys() {
        let known = matches!(
            key.as_str(),
            "type"
                | "properties"
                | "required"
                | "additionalProperties"
                | "items"
                | "enum"
                | "const"
                | "oneOf"
                | "anyOf"
                | "allOf"
                | "$ref"
                | "minimum"
                | "maximum"
                | "minItems"
                | "maxItems"
                | "format"
        ) || ANNOTATIONS.contains(&key.as_str());
        if !known {
            errors.push(format!(
                "{at}: schema keyword {key} is not checked by the tests' validator"
            ));
        }
    }
    if let Some(t) = obj.get("type") {
        let ok = match t {
            Value::String(name) => type_matches(name, v),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .any(|n| type_matches(n, v)),
            _ => false,
        };
        if !ok {
            errors.push(format!("{at}: expected type {t}, got {}", short(v)));
            return;
        }
    }
    if let Some(allowed) = obj.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            errors.push(format!(
                "{at}: {} is not one of {}",
                short(v),
                Value::Array(allowed.clone())
            ));
        }
    }
    if let Some(c) = obj.get("const") {
        if c != v {
            errors.push(format!("{at}: expected {c}, got {}", short(v)));
        }
    }
    if obj.get("format").and_then(Value::as_str) == Some("date") {
        if let Some(s) = v.as_str() {
            if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() {
                errors.push(format!("{at}: {s:?} is not a date (YYYY-MM-DD)"));
            }
        }
    }
    if let (Some(min), Some(n)) = (obj.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} is below the minimum {min}"));
        }
    }
    if let (Some(max), Some(n)) = (obj.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            errors.push(format!("{at}: {n} is above the maximum {max}"));
        }
    }
    if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate_in(doc, s, v, at, errors, false);
        }
        if let (true, Some(fields)) = (closed, v.as_object()) {
            let mut names = Vec::new();
            declared(doc, schema, &mut names);
            for name in fields.keys() {
                if !names.contains(name) {
                    errors.push(format!("{at}/{name}: field not documented"));
                }
            }
        }
    }
    for (kw, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = obj.get(kw).and_then(Value::as_array) {
            let mut first_faults = Vec::new();
            let fits = options
                .iter()
                .filter(|s| {
                    let mut e = Vec::new();
                    validate(doc, s, v, at, &mut e);
                    let ok = e.is_empty();
                    if !ok && first_faults.is_empty() {
                        first_faults = e;
                    }
                    ok
                })
                .count();
            if fits == 0 {
                errors.push(format!(
                    "{at}: matches none of {kw} (first option: {})",
                    first_faults.join("; ")
                ));
            } else if exactly_one && fits > 1 {
                errors.push(format!("{at}: matches {fits} options of oneOf"));
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                errors.push(format!(
                    "{at}: {} items, at least {min} expected",
                    items.len()
                ));
            }
        }
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64) {
            if (items.len() as u64) > max {
                errors.push(format!(
                    "{at}: {} items, at most {max} expected",
                    items.len()
                ));
            }
        }
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(doc, item_schema, item, &format!("{at}/{i}"), errors);
            }
        }
    }
    if let Some(fields) = v.as_object() {
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    errors.push(format!("{at}: required field {name} is missing"));
                }
            }
        }
        let props = obj.get("properties").and_then(Value::as_object);
        let extra = obj.get("additionalProperties");
        for (name, value) in fields {
            let here = format!("{at}/{name}");
            match props.and_then(|p| p.get(name)) {
                Some(s) => validate(doc, s, value, &here, errors),
                None => match extra {
                    Some(Value::Bool(true)) => {}
                    // Within an `allOf` the parts declare the fields between them (the
                    // document uses `allOf` as composition, as `unevaluatedProperties`
                    // would): the union is checked by the `allOf` itself.
                    Some(Value::Bool(false)) if closed => {
                        errors.push(format!("{here}: field not documented"))
                    }
                    Some(Value::Bool(false)) => {}
                    Some(s) => validate(doc, s, value, &here, errors),
                    // Closed by default when the schema lists properties: see the
                    // module comment.
                    None if closed && props.is_some() => {
                        errors.push(format!("{here}: field not documented"))
                    }
                    None => {}
                },
            }
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Statuses any operation may answer with a problem document (authentication, walls,
/// limits, overload): the document says so once, in `info.description`, instead of on
/// every operation. Their bodies are still checked against the `Problem` schema.
const ANY_OPERATION: &[u16] = &[400, 401, 403, 404, 405, 406, 413, 415, 422, 429, 503];

/// The faults found in one app's answers; the app's owner fails the test on drop.
#[derive(Clone, Default)]
pub struct Contract {
    faults: Arc<Mutex<Vec<String>>>,
}

impl Contract {
    /// The observer to build the app with.
    pub fn observer(&self) -> Observer {
        let faults = self.faults.clone();
        let record = std::env::var_os(RECORD_ENV);
        Arc::new(move |x: &Exchange<'_>| {
            if let Some(path) = &record {
                record_exchange(path, x);
            }
            if let Err(fault) = check_exchange(x) {
                if let Ok(mut f) = faults.lock() {
                    f.push(fault);
                }
            }
        })
    }

    /// Every fault seen so far (each once).
    pub fn faults(&self) -> Vec<String> {
        let mut v = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }
}

/// When set, every answer is also appended to the file it names (one JSON object a
/// line: method, path, status, content type, body), to see what the service sends when
/// describing an operation.
pub const RECORD_ENV: &str = "QUOTA_LEVY_CONTRACT_RECORD";

fn record_exchange(path: &std::ffi::OsStr, x: &Exchange<'_>) {
    use std::io::Write;
    let body = x
        .body
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .unwrap_or(Value::Null);
    let line = serde_json::json!({
        "method": x.method, "path": x.path, "status": x.status,
        "content_type": x.content_type, "body": body,
    });
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

fn document() -> &'static Value {
    quota_levy::http::docs::openapi()
}

fn check_exchange(x: &Exchange<'_>) -> Result<(), String> {
    let doc = document();
    let body = x.body.unwrap_or(&[]);
    // The vendored Swagger UI and the stylesheet are files, not operations.
    if x.path.starts_with("/api/docs") || x.path.starts_with("/static/") {
        return Ok(());
    }
    // HEAD is GET without a body; 304 answers a conditional GET with nothing.
    let method = if x.method == "HEAD" { "GET" } else { x.method };
    let x = &Exchange { method, ..*x };
    if x.status == 304 {
        return Ok(());
    }
    // The HTML pages and their form posts (answered by pages or redirects) are checked
    // by the page tests; this document describes the JSON API.
    if !x.path.starts_with("/api/") && !x.content_type.contains("json") {
        let documented = path_template(doc, x.path).is_some();
        if !documented {
            return Ok(());
        }
    }
    let documented = path_template(doc, x.path)
        .map(|t| !doc["paths"][t][x.method.to_ascii_lowercase()].is_null())
        .unwrap_or(false);
    let generic = ANY_OPERATION.contains(&x.status);
    if !documented && generic {
        // Not a documented operation (a path made up by the fuzz tests, a method the
        // path does not take): the answer must still be a problem document.
        return check_problem(doc, x, body);
    }
    match check_answer(doc, x.method, x.path, x.status, x.content_type, body) {
        Err(e) if generic && e.contains("not documented") && !e.contains("field") => {
            check_problem(doc, x, body)
        }
        other => other,
    }
}

fn check_problem(doc: &Value, x: &Exchange<'_>, body: &[u8]) -> Result<(), String> {
    if !x.content_type.starts_with("application/problem+json") {
        // Static files and pages answer their own 404s in HTML.
        return if x.content_type.starts_with("text/html") || x.path.starts_with("/static/") {
            Ok(())
        } else {
            Err(format!(
                "{} {} {}: an error answered {} instead of application/problem+json",
                x.method, x.path, x.status, x.content_type
            ))
        };
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "{} {} {}: problem is not JSON: {e}",
            x.method, x.path, x.status
        )
    })?;
    let mut errors = Vec::new();
    validate(
        doc,
        &serde_json::json!({"$ref": "#/components/schemas/Problem"}),
        &value,
        "",
        &mut errors,
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {} {}: the problem does not match the Problem schema:\n  {}",
            x.method,
            x.path,
            x.status,
            errors.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod checks {
    use super::*;
    use serde_json::json;

    /// The check fails on what drift looks like: a field the document does not name, a
    /// wrong type, an undocumented status; and passes the answer as documented.
    #[test]
    fn the_contract_check_finds_drift() {
        let doc = document();
        let ok = json!({"status": "ok"});
        let body = serde_json::to_vec(&ok).unwrap_or_default();
        assert_eq!(
            check_answer(doc, "GET", "/healthz", 200, "application/json", &body),
            Ok(())
        );
        let extra = serde_json::to_vec(&json!({"status": "ok", "secret": 1})).unwrap_or_default();
        let e = check_answer(doc, "GET", "/healthz", 200, "application/json", &extra);
        assert!(e.is_err_and(|e| e.contains("/secret: field not documented")));
        let wrong = serde_json::to_vec(&json!({"status": 7})).unwrap_or_default();
        let e = check_answer(doc, "GET", "/healthz", 200, "application/json", &wrong);
        assert!(e.is_err_and(|e| e.contains("expected type")));
        let e = check_answer(doc, "GET", "/healthz", 418, "application/json", &body);
        assert!(e.is_err_and(|e| e.contains("status 418 not documented")));
        // A request documented as allOf of two parts takes the fields of both, and no
        // other.
        let schema = json!({"$ref": "#/components/schemas/CalcRequest"});
        let mut faults = Vec::new();
        validate(
            doc,
            &schema,
            &json!({"region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
                    "staff": {"average_headcount": "10"}, "average_wage": "1", "nope": 1}),
            "",
            &mut faults,
        );
        assert_eq!(faults, vec!["/nope: field not documented".to_owned()]);
    }
}
