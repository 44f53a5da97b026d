//! The calculator's HTML form and the JSON request of `POST /api/v1/levy/calculate`,
//! both ways: a submitted form becomes the request the API takes (nothing is checked
//! here, so that every fault is the API's, reported at its JSON pointer), a request (the
//! `?request=` link) fills the form again, and each pointer of the API's field errors is
//! placed beside the form field it names.
//!
//! Text that cannot be what a field needs (a word where a number goes) is passed on as
//! a JSON string, so that the API answers with its own message for that field.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The most roster rows a form carries. Larger rosters go through the API or the bulk
/// import; a request link with more employees still calculates, only its form is cut.
pub const MAX_ROWS: usize = 300;

/// Empty rows a new form shows.
pub const EMPTY_ROWS: usize = 3;

/// One disabled employee as the form holds it (every value as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowForm {
    /// Certificate number.
    pub cert: String,
    /// `disability` or `veteran`.
    pub kind: String,
    /// Grade (needed for a veteran's certificate).
    pub grade: String,
    /// Months employed, as `1-12` or `1,2,7-12`.
    pub months: String,
    /// First day employed (instead of months).
    pub from: String,
    /// Last day employed.
    pub to: String,
    /// Contract length in months.
    pub contract: String,
    /// On the establishment.
    pub establishment: bool,
    /// Social insurance paid.
    pub insurance: bool,
    /// Monthly wage.
    pub wage: String,
    /// Fresh graduate hired in the data year.
    pub graduate: bool,
}

impl Default for RowForm {
    fn default() -> Self {
        RowForm {
            cert: String::new(),
            kind: "disability".into(),
            grade: String::new(),
            months: String::new(),
            from: String::new(),
            to: String::new(),
            contract: String::new(),
            establishment: false,
            insurance: true,
            wage: String::new(),
            graduate: false,
        }
    }
}

impl RowForm {
    /// A row with nothing typed in it is not an employee.
    pub fn is_empty(&self) -> bool {
        [
            &self.cert,
            &self.grade,
            &self.months,
            &self.from,
            &self.to,
            &self.contract,
            &self.wage,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// The calculator form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalcForm {
    /// Region code.
    pub region: String,
    /// Levy year.
    pub levy_year: String,
    /// As-of date (optional).
    pub as_of: String,
    /// Employer kind (API spelling).
    pub kind: String,
    /// Business registration date (optional).
    pub registered_on: String,
    /// Month-end headcounts, January first.
    pub months: [String; 12],
    /// Or the average headcount.
    pub average_headcount: String,
    /// Total wages of the data year.
    pub total_wages: String,
    /// Or the average annual wage.
    pub average_wage: String,
    /// Or the certified count of disabled employees.
    pub disabled_count: String,
    /// The roster.
    pub rows: Vec<RowForm>,
    /// What-if: quota ratio.
    pub quota_ratio: String,
    /// What-if: social average wage.
    pub social_average_wage: String,
    /// What-if: monthly minimum wage.
    pub minimum_wage_monthly: String,
}

impl CalcForm {
    /// An empty form for `region` and `levy_year`.
    pub fn new(region: &str, levy_year: i32) -> CalcForm {
        CalcForm {
            region: region.to_owned(),
            levy_year: levy_year.to_string(),
            as_of: String::new(),
            kind: "enterprise".into(),
            registered_on: String::new(),
            months: Default::default(),
            average_headcount: String::new(),
            total_wages: String::new(),
            average_wage: String::new(),
            disabled_count: String::new(),
            rows: vec![RowForm::default(); EMPTY_ROWS],
            quota_ratio: String::new(),
            social_average_wage: String::new(),
            minimum_wage_monthly: String::new(),
        }
    }

    /// Whether any what-if value is filled in (its section then opens).
    pub fn has_overrides(&self) -> bool {
        !(self.quota_ratio.trim().is_empty()
            && self.social_average_wage.trim().is_empty()
            && self.minimum_wage_monthly.trim().is_empty())
    }

    /// Whether an optional employer detail is filled in.
    pub fn has_details(&self) -> bool {
        !(self.as_of.trim().is_empty() && self.registered_on.trim().is_empty())
    }
}

/// What a submitted form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Calculate.
    Calculate,
    /// Show the form again with one more roster row.
    AddRow,
}

/// Reads a submitted form (`application/x-www-form-urlencoded` pairs). Unknown names are
/// ignored: they come from no field of this form.
pub fn from_pairs(pairs: &[(String, String)]) -> (CalcForm, Action) {
    let mut f = CalcForm::new("", 0);
    f.levy_year.clear();
    f.kind.clear();
    let mut action = Action::Calculate;
    let mut rows: BTreeMap<usize, RowForm> = BTreeMap::new();
    // Unchecked boxes are not sent: every row carries an `eN_shown` marker, so a row
    // that was on the form exists here, and its insurance box counts as unchecked
    // unless it was sent.
    for (name, value) in pairs {
        let v = value.clone();
        match name.as_str() {
            "region" => f.region = v,
            "levy_year" => f.levy_year = v,
            "as_of" => f.as_of = v,
            "kind" => f.kind = v,
            "registered_on" => f.registered_on = v,
            "average_headcount" => f.average_headcount = v,
            "total_wages" => f.total_wages = v,
            "average_wage" => f.average_wage = v,
            "disabled_count" => f.disabled_count = v,
            "quota_ratio" => f.quota_ratio = v,
            "social_average_wage" => f.social_average_wage = v,
            "minimum_wage_monthly" => f.minimum_wage_monthly = v,
            "action" if value == "add_row" => action = Action::AddRow,
            _ => {
                if let Some(m) = name
                    .strip_prefix('m')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|m| (1..=12).contains(m))
                {
                    f.months[m - 1] = v;
                } else if let Some((i, field)) = row_field(name) {
                    let row = rows.entry(i).or_insert_with(|| RowForm {
                        insurance: false,
                        ..RowForm::default()
                    });
                    match field {
                        "cert" => row.cert = v,
                        "kind" => row.kind = v,
                        "grade" => row.grade = v,
                        "months" => row.months = v,
                        "from" => row.from = v,
                        "to" => row.to = v,
                        "contract" => row.contract = v,
                        "wage" => row.wage = v,
                        "establishment" => row.establishment = true,
                        "insurance" => row.insurance = true,
                        "graduate" => row.graduate = true,
                        _ => {}
                    }
                }
            }
        }
    }
    f.rows = rows.into_values().take(MAX_ROWS).collect();
    if action == Action::AddRow && f.rows.len() < MAX_ROWS {
        f.rows.push(RowForm::default());
    }
    (f, action)
}

/// `e3_cert` → (3, "cert").
fn row_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix('e')?;
    let (i, field) = rest.split_once('_')?;
    let i: usize = i.parse().ok()?;
    (i < MAX_ROWS).then_some((i, field))
}

fn text(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// A whole number as a JSON number; anything else as the string typed, for the API to
/// name.
fn integer(s: &str) -> Value {
    match s.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(s),
    }
}

/// `1-6, 9、11` → [1,2,3,4,5,6,9,11]; `None` when the text is not a list of months.
pub fn parse_months(s: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for part in s
        .split([',', '，', '、', ';', '；', ' '])
        .filter(|p| !p.trim().is_empty())
    {
        let part = part.trim();
        let range = part
            .split_once(['-', '–', '~', '～', '至'])
            .map(|(a, b)| (a.trim(), b.trim()));
        match range {
            Some((a, b)) => {
                let a: i64 = a.parse().ok()?;
                let b: i64 = b.parse().ok()?;
                if a > b || b - a > 11 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Months as the form writes them: runs as ranges (`1-6,9`).
pub fn months_text(months: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < months.len() {
        let start = months[i];
        let mut end = start;
        while i + 1 < months.len() && months[i + 1] == end + 1 {
            i += 1;
            end = months[i];
        }
        parts.push(if end > start {
            format!("{start}-{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    parts.join(",")
}

/// The JSON request of the form, and for each employee of it the form row it came from
/// (empty rows are left out, so the two indexes differ).
pub fn to_request(f: &CalcForm) -> (Value, Vec<usize>) {
    let mut req = Map::new();
    if let Some(r) = text(&f.region) {
        req.insert("region".into(), json!(r));
    }
    if let Some(y) = text(&f.levy_year) {
        req.insert("levy_year".into(), integer(y));
    }
    if let Some(d) = text(&f.as_of) {
        req.insert("as_of".into(), json!(d));
    }
    let mut employer = Map::new();
    if let Some(k) = text(&f.kind) {
        employer.insert("kind".into(), json!(k));
    }
    if let Some(d) = text(&f.registered_on) {
        employer.insert("registered_on".into(), json!(d));
    }
    req.insert("employer".into(), Value::Object(employer));

    let mut staff = Map::new();
    if f.months.iter().any(|m| text(m).is_some()) {
        let months: Vec<Value> = f
            .months
            .iter()
            .map(|m| text(m).map_or(Value::Null, integer))
            .collect();
        staff.insert("monthly_headcount".into(), Value::Array(months));
    }
    if let Some(a) = text(&f.average_headcount) {
        staff.insert("average_headcount".into(), json!(a));
    }
    req.insert("staff".into(), Value::Object(staff));
    if let Some(w) = text(&f.total_wages) {
        req.insert("total_wages".into(), json!(w));
    }
    if let Some(w) = text(&f.average_wage) {
        req.insert("average_wage".into(), json!(w));
    }

    let mut rows = Vec::new();
    let mut employees = Vec::new();
    for (i, r) in f.rows.iter().enumerate() {
        if r.is_empty() {
            continue;
        }
        rows.push(i);
        let mut e = Map::new();
        e.insert("certificate_no".into(), json!(r.cert.trim()));
        if r.kind == "veteran" {
            e.insert("certificate_kind".into(), json!("veteran"));
        }
        if let Some(g) = text(&r.grade) {
            e.insert("grade".into(), integer(g));
        }
        if let Some(m) = text(&r.months) {
            e.insert(
                "months".into(),
                parse_months(m).map_or_else(|| json!(m), |v| json!(v)),
            );
        }
        if let Some(d) = text(&r.from) {
            e.insert("employed_from".into(), json!(d));
        }
        if let Some(d) = text(&r.to) {
            e.insert("employed_to".into(), json!(d));
        }
        if r.establishment {
            e.insert("on_establishment".into(), json!(true));
        }
        if let Some(c) = text(&r.contract) {
            e.insert("contract_months".into(), integer(c));
        }
        if !r.insurance {
            e.insert("social_insurance_paid".into(), json!(false));
        }
        if let Some(w) = text(&r.wage) {
            e.insert("monthly_wage".into(), json!(w));
        }
        if r.graduate {
            e.insert("fresh_graduate".into(), json!(true));
        }
        employees.push(Value::Object(e));
    }
    if !employees.is_empty() {
        req.insert("disabled_employees".into(), Value::Array(employees));
    }
    if let Some(c) = text(&f.disabled_count) {
        req.insert("disabled_count".into(), json!(c));
    }
    let mut overrides = Map::new();
    for (key, v) in [
        ("quota_ratio", &f.quota_ratio),
        ("social_average_wage", &f.social_average_wage),
        ("minimum_wage_monthly", &f.minimum_wage_monthly),
    ] {
        if let Some(v) = text(v) {
            overrides.insert(key.into(), json!(v));
        }
    }
    if !overrides.is_empty() {
        req.insert("overrides".into(), Value::Object(overrides));
    }
    (Value::Object(req), rows)
}

/// A JSON value as the form shows it: strings as they are, numbers as written, other
/// values as JSON text (the API will say what is wrong with them).
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The form a request fills (a `?request=` link). Parts the form has no field for are
/// not shown; the calculation itself uses the request as it is.
pub fn from_request(v: &Value) -> CalcForm {
    let mut f = CalcForm::new(&shown(v.get("region")), 0);
    f.levy_year = shown(v.get("levy_year"));
    f.as_of = shown(v.get("as_of"));
    f.kind = shown(v.pointer("/employer/kind"));
    f.registered_on = shown(v.pointer("/employer/registered_on"));
    if let Some(Value::Array(months)) = v.pointer("/staff/monthly_headcount") {
        for (slot, m) in f.months.iter_mut().zip(months) {
            *slot = shown(Some(m));
        }
    }
    f.average_headcount = shown(v.pointer("/staff/average_headcount"));
    f.total_wages = shown(v.get("total_wages"));
    f.average_wage = shown(v.get("average_wage"));
    f.disabled_count = shown(v.get("disabled_count"));
    f.quota_ratio = shown(v.pointer("/overrides/quota_ratio"));
    f.social_average_wage = shown(v.pointer("/overrides/social_average_wage"));
    f.minimum_wage_monthly = shown(v.pointer("/overrides/minimum_wage_monthly"));
    f.rows.clear();
    if let Some(Value::Array(es)) = v.get("disabled_employees") {
        for e in es.iter().take(MAX_ROWS) {
            let flag =
                |k: &str, default: bool| e.get(k).and_then(Value::as_bool).unwrap_or(default);
            let months = match e.get("months") {
                Some(Value::Array(a)) => {
                    let ms: Option<Vec<i64>> = a.iter().map(Value::as_i64).collect();
                    ms.map_or_else(|| shown(e.get("months")), |m| months_text(&m))
                }
                other => shown(other),
            };
            f.rows.push(RowForm {
                cert: shown(e.get("certificate_no")),
                kind: match e.get("certificate_kind").and_then(Value::as_str) {
                    Some("veteran") => "veteran".into(),
                    _ => "disability".into(),
                },
                grade: shown(e.get("grade")),
                months,
                from: shown(e.get("employed_from")),
                to: shown(e.get("employed_to")),
                contract: shown(e.get("contract_months")),
                establishment: flag("on_establishment", false),
                insurance: flag("social_insurance_paid", true),
                wage: shown(e.get("monthly_wage")),
                graduate: flag("fresh_graduate", false),
            });
        }
    }
    let empty = if f.rows.is_empty() { EMPTY_ROWS } else { 1 };
    for _ in 0..empty {
        if f.rows.len() < MAX_ROWS {
            f.rows.push(RowForm::default());
        }
    }
    f
}

/// The form field (its `name`, which is also its element id after `f-`) where a fault
/// at `pointer` is shown; `None` for a fault of the whole request. `rows` maps the
/// request's employees to form rows.
pub fn field_of(pointer: &str, rows: &[usize]) -> Option<String> {
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    let simple = |s: &str| Some(s.to_owned());
    match parts.as_slice() {
        ["region", ..] => simple("region"),
        ["levy_year", ..] => simple("levy_year"),
        ["as_of", ..] => simple("as_of"),
        ["employer", "registered_on", ..] => simple("registered_on"),
        ["employer", ..] => simple("kind"),
        ["staff", "monthly_headcount", i, ..] => i
            .parse::<usize>()
            .ok()
            .filter(|i| *i < 12)
            .map(|i| format!("m{}", i + 1))
            .or_else(|| simple("months")),
        ["staff", "monthly_headcount"] => simple("months"),
        ["staff", "average_headcount", ..] => simple("average_headcount"),
        ["staff", ..] => simple("staff"),
        ["total_wages", ..] => simple("total_wages"),
        ["average_wage", ..] => simple("average_wage"),
        ["disabled_count", ..] => simple("disabled_count"),
        ["disabled_employees", i, rest @ ..] => {
            let row = i.parse::<usize>().ok().and_then(|i| rows.get(i).copied());
            let Some(row) = row else {
                return simple("roster");
            };
            let field = match rest.first() {
                Some(&"certificate_no") => "cert",
                Some(&"certificate_kind") => "kind",
                Some(&"grade") => "grade",
                Some(&"months") => "months",
                Some(&"employed_from") => "from",
                Some(&"employed_to") => "to",
                Some(&"on_establishment") => "establishment",
                Some(&"contract_months") => "contract",
                Some(&"social_insurance_paid") => "insurance",
                Some(&"monthly_wage") => "wage",
                Some(&"fresh_graduate") => "graduate",
                _ => return Some(format!("e{row}")),
            };
            Some(format!("e{row}_{field}"))
        }
        ["disabled_employees", ..] => simple("roster"),
        ["overrides", key, ..]
            if ["quota_ratio", "social_average_wage", "minimum_wage_monthly"].contains(key) =>
        {
            Some((*key).to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn months_read_as_lists_and_ranges_and_write_back_as_runs() {
        assert_eq!(parse_months("1-12"), Some((1..=12).collect()));
        assert_eq!(parse_months("1-3, 5、7至8"), Some(vec![1, 2, 3, 5, 7, 8]));
        assert_eq!(parse_months("全年"), None);
        assert_eq!(parse_months("9-3"), None);
        assert_eq!(parse_months(""), None);
        assert_eq!(months_text(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(months_text(&[12]), "12");
    }

    #[test]
    fn a_form_becomes_the_api_request_and_empty_rows_are_skipped() {
        let mut p = pairs(&[
            ("region", "411200"),
            ("levy_year", "2025"),
            ("kind", "enterprise"),
            ("average_headcount", "100"),
            ("total_wages", "6000000.00"),
            ("e0_shown", "1"),
            ("e0_kind", "disability"),
            ("e0_insurance", "on"),
            ("e1_shown", "1"),
            ("e1_kind", "disability"),
            ("e1_cert", "11010519491231002X41"),
            ("e1_months", "1-12"),
            ("e1_contract", "12"),
            ("e1_wage", "3000"),
        ]);
        p.push(("e1_graduate".into(), "on".into()));
        let (f, action) = from_pairs(&p);
        assert_eq!(action, Action::Calculate);
        let (req, rows) = to_request(&f);
        assert_eq!(rows, vec![1]);
        assert_eq!(
            req,
            json!({
                "region": "411200",
                "levy_year": 2025,
                "employer": {"kind": "enterprise"},
                "staff": {"average_headcount": "100"},
                "total_wages": "6000000.00",
                "disabled_employees": [{
                    "certificate_no": "11010519491231002X41",
                    "months": [1,2,3,4,5,6,7,8,9,10,11,12],
                    "contract_months": 12,
                    // e1_insurance was not sent: the box was unchecked.
                    "social_insurance_paid": false,
                    "monthly_wage": "3000",
                    "fresh_graduate": true
                }]
            })
        );
    }

    #[test]
    fn text_that_is_not_a_number_goes_to_the_api_as_typed() {
        let (f, _) = from_pairs(&pairs(&[("levy_year", "twenty"), ("m3", "x"), ("m1", "5")]));
        let (req, _) = to_request(&f);
        assert_eq!(req["levy_year"], json!("twenty"));
        assert_eq!(req["staff"]["monthly_headcount"][0], json!(5));
        assert_eq!(req["staff"]["monthly_headcount"][1], Value::Null);
        assert_eq!(req["staff"]["monthly_headcount"][2], json!("x"));
    }

    #[test]
    fn add_row_adds_one_row_and_does_not_calculate() {
        let (f, action) = from_pairs(&pairs(&[("e0_shown", "1"), ("action", "add_row")]));
        assert_eq!(action, Action::AddRow);
        assert_eq!(f.rows.len(), 2);
        assert!(f.rows[1].insurance, "a new row starts with insurance paid");
    }

    #[test]
    fn a_request_fills_the_form_that_gives_it_back() {
        let req = json!({
            "region": "411202",
            "levy_year": 2024,
            "as_of": "2024-10-31",
            "employer": {"kind": "public_institution", "registered_on": "2016-03-01"},
            "staff": {"monthly_headcount": [10,11,12,13,14,15,16,17,18,19,20,21]},
            "average_wage": "80000.00",
            "disabled_employees": [
                {"certificate_no": "11010519491231002X41", "months": [1,2,3,7,8], "contract_months": 24,
                 "on_establishment": true, "social_insurance_paid": false, "monthly_wage": "2500.50"},
                {"certificate_no": "V123", "certificate_kind": "veteran", "grade": 5,
                 "employed_from": "2023-02-01", "employed_to": "2023-09-30", "fresh_graduate": true}
            ],
            "overrides": {"social_average_wage": "90000"}
        });
        let f = from_request(&req);
        assert_eq!(f.rows.len(), 3, "one empty row follows the roster");
        assert_eq!(f.rows[0].months, "1-3,7-8");
        let (back, rows) = to_request(&f);
        assert_eq!(back, req);
        assert_eq!(rows, vec![0, 1]);
    }

    #[test]
    fn pointers_land_on_their_fields() {
        let rows = [0, 2];
        assert_eq!(field_of("/region", &rows).as_deref(), Some("region"));
        assert_eq!(
            field_of("/staff/monthly_headcount/11", &rows).as_deref(),
            Some("m12")
        );
        assert_eq!(
            field_of("/disabled_employees/1/certificate_no", &rows).as_deref(),
            Some("e2_cert")
        );
        assert_eq!(
            field_of("/disabled_employees/1/months/0", &rows).as_deref(),
            Some("e2_months")
        );
        assert_eq!(
            field_of("/disabled_employees/1", &rows).as_deref(),
            Some("e2")
        );
        assert_eq!(
            field_of("/disabled_employees/7/grade", &rows).as_deref(),
            Some("roster")
        );
        assert_eq!(
            field_of("/overrides/social_average_wage", &rows).as_deref(),
            Some("social_average_wage")
        );
        assert_eq!(field_of("/employer", &rows).as_deref(), Some("kind"));
        assert_eq!(field_of("", &rows), None);
        assert_eq!(field_of("/language", &rows), None);
    }
}
