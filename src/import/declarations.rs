//! The declarations import: an employer's declaration row and its roster rows become
//! one declaration body, validated by
//! [`crate::registry::declarations::parse_declaration_lang`] (the calculator's own
//! check) and saved in batches by
//! [`crate::registry::declarations::save_many_audited`]. The layout is described in
//! [`crate::import`].

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::columns::{Bound, Record, Schema, MONTH_KEYS};
use super::employers::{id_issue, scientific_message, yes_no_message};
use super::report::{ImportKind, Report, RowIssue};
use super::values::{self, MonthsError};
use super::{issue_from, merge, read_bound, write_batches, Input, Options, Phase, Progress};
use crate::auth::region_covers;
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::{Language, PolicyProvider, RegionCode};
use crate::registry::declarations::{
    parse_declaration_lang, save_many_audited, submit_in_transaction, ParsedDeclaration,
    RegistryError, SaveOptions, SaveOutcome,
};
use crate::wire::FieldError;

/// Keys of a declaration row's figures, besides the twelve months.
const FIGURE_KEYS: &[&str] = &[
    "average_headcount",
    "total_wages",
    "average_wage",
    "disabled_count",
];

/// Keys of a roster line.
pub(super) const ROSTER_KEYS: &[&str] = &[
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
];

/// One employer's rows.
struct Group {
    /// Index (into the records) of the declaration row.
    head: Option<usize>,
    /// Records carrying a roster line, in file order (the head first when it has one).
    lines: Vec<usize>,
    /// Every record of the group.
    rows: Vec<usize>,
    /// The USCC, when it is valid.
    uscc: Option<String>,
}

/// What saving one declaration did.
enum Saved {
    Created,
    Updated,
    Unchanged,
}

fn is_head(r: &Record) -> bool {
    r.has_any(&MONTH_KEYS) || r.has_any(FIGURE_KEYS)
}

fn is_line(r: &Record) -> bool {
    r.has_any(ROSTER_KEYS)
}

/// Imports the declarations of `levy_year` from `input`. Database failures are errors;
/// everything about the file's content is in the report.
pub fn import_declarations(
    conn: &mut AnyConnection,
    policy: &dyn PolicyProvider,
    levy_year: i32,
    input: &Input<'_>,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, DbError> {
    let lang = opts.lang;
    let mut report = Report::new(
        opts.import_id.clone(),
        ImportKind::Declarations,
        opts.partial,
    );
    report.levy_year = Some(levy_year);
    progress.phase(Phase::Reading, 0);
    let Some(bound) = read_bound(input, Schema::Declarations, lang, &mut report) else {
        report.finish_issues();
        return Ok(report);
    };
    let records = &bound.records;
    report.counts.rows = records.len();
    let mut issues: Vec<RowIssue> = records.iter().flat_map(|r| r.issues.clone()).collect();

    // Group the rows by employer, in order of first appearance.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (i, rec) in records.iter().enumerate() {
        let Some(text) = rec.get("uscc") else {
            issues.push(bound.issue(
                rec.row,
                "uscc",
                "required",
                lang.pick("必填", "is required"),
            ));
            continue;
        };
        if values::is_scientific(text) {
            issues.push(bound.issue(rec.row, "uscc", "long_number", scientific_message(lang)));
            continue;
        }
        let (head, line) = (is_head(rec), is_line(rec));
        if !head && !line {
            issues.push(bound.issue(
                rec.row,
                "",
                "empty_row",
                lang.pick(
                    "该行只有统一社会信用代码：申报行须填写人数和工资，名单行须填写残疾证号等",
                    "the row has only a USCC: a declaration row needs staff and wages, a roster row a certificate",
                ),
            ));
            continue;
        }
        let uscc = UnifiedSocialCreditCode::parse(text);
        if let Err(e) = &uscc {
            issues.push(id_issue(&bound, rec.row, "uscc", e, lang));
        }
        let key = text.trim().to_ascii_uppercase();
        let g = *group_of.entry(key).or_insert_with(|| {
            groups.push(Group {
                head: None,
                lines: Vec::new(),
                rows: Vec::new(),
                uscc: uscc.as_ref().ok().map(|u| u.expose().to_owned()),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.rows.push(i);
        if head {
            if let Some(first) = group.head {
                issues.push(bound.issue(
                    rec.row,
                    "uscc",
                    "duplicate",
                    match lang {
                        Language::Zh => format!(
                            "同一单位的第二个申报行（第一个在第 {} 行）：其余残疾职工请填在名单行，人数和工资列留空",
                            records[first].row
                        ),
                        Language::En => format!(
                            "a second declaration row for this employer (the first is row {}): put further disabled employees on roster rows with the staff and wage cells empty",
                            records[first].row
                        ),
                    },
                ));
                continue;
            }
            group.head = Some(i);
        }
        if line {
            group.lines.push(i);
        }
    }
    report.counts.declarations = Some(groups.len());

    let wanted: Vec<String> = groups.iter().filter_map(|g| g.uscc.clone()).collect();
    let known = employers_by_uscc(conn, &wanted)?;

    progress.phase(Phase::Validating, groups.len() as u64);
    let mut valid: Vec<(usize, &Employer, ParsedDeclaration)> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        progress.inc(1);
        let Some(head) = g.head else {
            for &i in &g.rows {
                issues.push(bound.issue(
                    records[i].row,
                    "uscc",
                    "no_declaration_row",
                    lang.pick(
                        "该单位没有申报行：须有一行填写职工人数和工资",
                        "no declaration row for this employer: one row must have its staff and wages",
                    ),
                ));
            }
            continue;
        };
        let Some(uscc) = &g.uscc else { continue };
        let head_row = records[head].row;
        let Some(employer) = known.get(uscc) else {
            issues.push(bound.issue(
                head_row,
                "uscc",
                "unknown_employer",
                lang.pick(
                    "没有以该统一社会信用代码登记的用人单位：请先导入用人单位",
                    "no employer is registered with this USCC: import the employer first",
                ),
            ));
            continue;
        };
        if let Some(scope) = &opts.scope {
            let inside = employer
                .region
                .parse::<RegionCode>()
                .is_ok_and(|r| region_covers(scope, &r));
            if !inside {
                issues.push(bound.issue(
                    head_row,
                    "uscc",
                    "out_of_scope",
                    match lang {
                        Language::Zh => format!("该单位不在您的管辖范围（{scope}）内"),
                        Language::En => format!("the employer is outside your scope ({scope})"),
                    },
                ));
                continue;
            }
        }
        let lines: Vec<&Record> = g.lines.iter().map(|&i| &records[i]).collect();
        let (body, local) = declaration_body(&bound, &records[head], &lines, lang);
        let mut group_issues = local;
        match parse_declaration_lang(policy, employer, levy_year, &body, lang) {
            Ok((parsed, _)) => {
                // Faults on the group's other rows are checked below, all at once.
                if group_issues.is_empty() {
                    valid.push((gi, employer, parsed));
                }
            }
            Err(errors) => {
                let more = errors
                    .iter()
                    .map(|e| locate(&bound, &records[head], &lines, e, lang))
                    .collect();
                merge(&mut group_issues, more);
                if group_issues.is_empty() {
                    // Cannot happen (a rejection has faults), but never write it.
                    group_issues.push(bound.issue(
                        head_row,
                        "",
                        "invalid",
                        lang.pick("申报无效", "invalid declaration"),
                    ));
                }
            }
        }
        issues.extend(group_issues);
    }
    // A group with a fault on any of its rows is not written (faults found after the
    // group was checked, e.g. a stray cell, are caught here too).
    let bad_rows: HashSet<usize> = issues.iter().map(|i| i.row).collect();
    valid.retain(|(gi, _, _)| {
        groups[*gi]
            .rows
            .iter()
            .all(|&i| !bad_rows.contains(&records[i].row))
    });
    report.counts.invalid_declarations = Some(groups.len() - valid.len());
    report.rows.extend(issues);

    if !report.rows.is_empty() && !opts.partial {
        report.finish_issues();
        return Ok(report);
    }
    let written = write_batches(conn, &valid, opts.partial, progress, |c, batch| {
        let items: Vec<(&Employer, &ParsedDeclaration)> =
            batch.iter().map(|(_, e, p)| (*e, p)).collect();
        let outcomes = save_many_audited(
            c,
            levy_year,
            &items,
            &opts.actor,
            Some(&opts.import_id),
            &opts.secret,
        )?;
        // Only the kind of outcome is kept: 100,000 stored declarations would
        // otherwise stay in memory until the report is done.
        let mut done = Vec::with_capacity(outcomes.len());
        for (o, (employer, _)) in outcomes.iter().zip(&items) {
            let filed = opts.submit
                && submit_in_transaction(
                    c,
                    employer,
                    levy_year,
                    o.declaration(),
                    &SaveOptions {
                        actor: &opts.actor,
                        request_id: Some(&opts.import_id),
                        if_match: None,
                        secret: &opts.secret,
                    },
                )
                .map_err(|e| match e {
                    RegistryError::Db(e) => e,
                    other => DbError::Conflict(other.to_string()),
                })?;
            done.push((
                match o {
                    SaveOutcome::Created(_) => Saved::Created,
                    SaveOutcome::Updated(_) => Saved::Updated,
                    SaveOutcome::Unchanged(_) => Saved::Unchanged,
                },
                filed,
            ));
        }
        Ok((done, Vec::new()))
    })?;
    report.rows.extend(written.rejected);
    report.committed = written.committed;
    let (mut created, mut updated, mut unchanged, mut submitted) = (0, 0, 0, 0);
    if written.committed {
        for (o, filed) in &written.done {
            submitted += usize::from(*filed);
            match o {
                Saved::Created => created += 1,
                Saved::Updated => updated += 1,
                Saved::Unchanged => unchanged += 1,
            }
        }
    }
    report.counts.imported = created + updated;
    report.counts.created = Some(created);
    report.counts.updated = Some(updated);
    report.counts.unchanged = Some(unchanged);
    report.counts.submitted = opts.submit.then_some(submitted);
    report.finish_issues();
    Ok(report)
}

/// The declaration body of one employer's rows, with faults of cells that cannot be
/// turned into it.
fn declaration_body(
    bound: &Bound,
    head: &Record,
    lines: &[&Record],
    lang: Language,
) -> (Value, Vec<RowIssue>) {
    let mut body = Map::new();
    let mut issues = Vec::new();
    let mut staff = Map::new();
    if head.has_any(&MONTH_KEYS) {
        let months: Vec<Value> = MONTH_KEYS
            .iter()
            .map(|&k| match head.get(k) {
                Some(t) => values::integer(t),
                None => {
                    issues.push(bound.issue(
                        head.row,
                        k,
                        "required",
                        lang.pick(
                            "12 个月的人数须全部填写（或改填在职职工年平均人数）",
                            "all 12 monthly headcounts must be filled (or give average_headcount instead)",
                        ),
                    ));
                    Value::Null
                }
            })
            .collect();
        staff.insert("monthly_headcount".into(), Value::Array(months));
    }
    if let Some(t) = head.get("average_headcount") {
        staff.insert(
            "average_headcount".into(),
            Value::String(values::decimal(t)),
        );
    }
    if !staff.is_empty() {
        body.insert("staff".into(), Value::Object(staff));
    }
    for key in ["total_wages", "average_wage", "disabled_count"] {
        if let Some(t) = head.get(key) {
            body.insert(key.into(), Value::String(values::decimal(t)));
        }
    }
    if !lines.is_empty() {
        let list = lines
            .iter()
            .map(|r| {
                let (v, mut i) = roster_line(bound, r, lang);
                issues.append(&mut i);
                v
            })
            .collect();
        body.insert("disabled_employees".into(), Value::Array(list));
    }
    (Value::Object(body), issues)
}

pub(super) fn roster_line(bound: &Bound, r: &Record, lang: Language) -> (Value, Vec<RowIssue>) {
    let mut line = Map::new();
    let mut issues = Vec::new();
    for &key in ROSTER_KEYS {
        let Some(text) = r.get(key) else { continue };
        let v = match key {
            "certificate_no" if values::is_scientific(text) => {
                issues.push(bound.issue(r.row, key, "long_number", scientific_message(lang)));
                continue;
            }
            "certificate_no" => Value::String(text.to_owned()),
            "certificate_kind" => Value::String(values::certificate_kind(text)),
            "grade" => values::grade(text),
            "months" => match values::months(text) {
                Ok(m) => Value::Array(m.into_iter().map(Value::from).collect()),
                Err(e) => {
                    let msg: String = match (e, lang) {
                        (MonthsError::OutOfRange(_), Language::Zh) => "月份应在 1–12 之内".into(),
                        (MonthsError::OutOfRange(_), Language::En) => {
                            "a month is outside 1-12".into()
                        }
                        (MonthsError::Backwards, Language::Zh) => {
                            "月份区间应从小到大，如 1-6".into()
                        }
                        (MonthsError::Backwards, Language::En) => {
                            "a month range must run forwards, e.g. 1-6".into()
                        }
                        (MonthsError::Unreadable, Language::Zh) => {
                            "应为月份，如 1-12、1,2,3 或 1-6,9".into()
                        }
                        (MonthsError::Unreadable, Language::En) => {
                            "must be months such as 1-12, 1,2,3 or 1-6,9".into()
                        }
                    };
                    issues.push(bound.issue(r.row, key, "invalid_months", msg));
                    continue;
                }
            },
            "employed_from" | "employed_to" => Value::String(values::date(text)),
            "on_establishment" | "social_insurance_paid" | "fresh_graduate" => {
                match values::yes_no(text) {
                    Some(b) => Value::Bool(b),
                    None => {
                        issues.push(bound.issue(r.row, key, "invalid", yes_no_message(lang)));
                        continue;
                    }
                }
            }
            "contract_months" => values::integer(text),
            "monthly_wage" => Value::String(values::decimal(text)),
            _ => Value::String(text.to_owned()),
        };
        line.insert(key.to_owned(), v);
    }
    (Value::Object(line), issues)
}

/// Moves a validator fault (a JSON pointer into the body) to the row and column the
/// value came from.
fn locate(
    bound: &Bound,
    head: &Record,
    lines: &[&Record],
    e: &FieldError,
    lang: Language,
) -> RowIssue {
    let segs: Vec<&str> = e.pointer.split('/').skip(1).collect();
    let staff_key = if head.has_any(&MONTH_KEYS) || !head.has_any(&["average_headcount"]) {
        "m01"
    } else {
        "average_headcount"
    };
    let (rec, key): (&Record, &str) = match segs.as_slice() {
        ["staff", "monthly_headcount", i, ..] => (
            head,
            i.parse::<usize>()
                .ok()
                .and_then(|i| MONTH_KEYS.get(i).copied())
                .unwrap_or("m01"),
        ),
        ["staff", "average_headcount", ..] => (head, "average_headcount"),
        ["staff", ..] => (head, staff_key),
        [k @ ("total_wages" | "average_wage" | "disabled_count"), ..] => (head, *k),
        ["disabled_employees", i, rest @ ..] => {
            match i.parse::<usize>().ok().and_then(|i| lines.get(i)) {
                Some(r) => {
                    let key = rest
                        .first()
                        .copied()
                        .filter(|k| ROSTER_KEYS.contains(k))
                        .unwrap_or("certificate_no");
                    if e.code == "duplicate_certificate" {
                        if let Some(first) = first_holder_row(lines, i.parse().unwrap_or(0)) {
                            let message = match lang {
                                Language::Zh => format!("与第 {first} 行是同一残疾证（同一人）"),
                                Language::En => {
                                    format!("the same certificate (person) as on row {first}")
                                }
                            };
                            return bound.issue(r.row, key, e.code, message);
                        }
                    }
                    (*r, key)
                }
                None => (head, ""),
            }
        }
        ["employer_record", ..] => {
            let message = match lang {
                Language::Zh => format!("单位登记信息：{}", e.message),
                Language::En => format!("employer record: {}", e.message),
            };
            return bound.issue(head.row, "uscc", e.code, message);
        }
        _ => (head, ""),
    };
    issue_from(bound, rec.row, key, e)
}

/// The row of the first roster line before `index` whose certificate names the same
/// person: the same number, or the same 18-character ID part (a re-issued certificate).
fn first_holder_row(lines: &[&Record], index: usize) -> Option<usize> {
    let norm = |r: &Record| {
        r.get("certificate_no")
            .map(|s| s.trim().to_ascii_uppercase())
    };
    let this = norm(lines.get(index)?)?;
    let person = |s: &str| s.chars().take(18).collect::<String>();
    lines[..index]
        .iter()
        .find(|r| {
            norm(r).is_some_and(|o| {
                o == this || (o.len() >= 20 && this.len() >= 20 && person(&o) == person(&this))
            })
        })
        .map(|r| r.row)
}

/// Registered employers among `usccs`, by USCC.
fn employers_by_uscc(
    conn: &mut AnyConnection,
    usccs: &[String],
) -> Result<HashMap<String, Employer>, DbError> {
    crate::db::employers::by_usccs(conn, usccs)
}
