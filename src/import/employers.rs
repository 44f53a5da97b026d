//! The employers import: one employer per row, validated by
//! [`crate::registry::employers::parse_new_employer`] (the API's own check) and written
//! in batches by [`crate::registry::employers::insert_many_audited`].

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::columns::{Bound, Record, Schema};
use super::report::{ImportKind, Report, RowIssue};
use super::{
    issue_from, merge, read_bound, values, write_batches, Input, Options, Phase, Progress,
};
use crate::auth::region_covers;
use crate::db::employers::NewEmployer;
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::{IdError, UnifiedSocialCreditCode};
use crate::domain::{Language, PolicyProvider};
use crate::registry::employers::{insert_many_audited, parse_new_employer, ParsedEmployer};

/// Imports employers from `input`. Database failures are errors; everything about the
/// file's content is in the report.
pub fn import_employers(
    conn: &mut AnyConnection,
    policy: &dyn PolicyProvider,
    input: &Input<'_>,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, DbError> {
    let lang = opts.lang;
    let mut report = Report::new(opts.import_id.clone(), ImportKind::Employers, opts.partial);
    progress.phase(Phase::Reading, 0);
    let Some(bound) = read_bound(input, Schema::Employers, lang, &mut report) else {
        report.finish_issues();
        return Ok(report);
    };
    report.counts.rows = bound.records.len();
    progress.phase(Phase::Validating, bound.records.len() as u64);

    let mut valid: Vec<(usize, ParsedEmployer)> = Vec::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for rec in &bound.records {
        let mut issues = rec.issues.clone();
        let (body, local) = employer_body(&bound, rec, lang);
        merge(&mut issues, local);
        // Within the file, the later of two rows with one USCC is the fault, whatever
        // else is wrong with either.
        if let Some(code) = rec
            .get("uscc")
            .and_then(|u| UnifiedSocialCreditCode::parse(u).ok())
        {
            let key = code.expose().to_owned();
            match first_row_of.get(&key) {
                Some(first) => issues.push(bound.issue(
                    rec.row,
                    "uscc",
                    "duplicate",
                    match lang {
                        Language::Zh => format!("与第 {first} 行的统一社会信用代码重复"),
                        Language::En => format!("the same USCC is already on row {first}"),
                    },
                )),
                None => {
                    first_row_of.insert(key, rec.row);
                }
            }
        }
        match parse_new_employer(policy, &body, opts.today, lang) {
            Err(errors) => {
                let more = errors
                    .iter()
                    .map(|e| issue_from(&bound, rec.row, e.pointer.trim_start_matches('/'), e))
                    .collect();
                merge(&mut issues, more);
            }
            Ok(parsed) => {
                if let Some(scope) = &opts.scope {
                    if !region_covers(scope, &parsed.region) {
                        issues.push(bound.issue(
                            rec.row,
                            "region",
                            "out_of_scope",
                            match lang {
                                Language::Zh => {
                                    format!("该行政区划不在您的管辖范围（{scope}）内")
                                }
                                Language::En => {
                                    format!("the region is outside your scope ({scope})")
                                }
                            },
                        ));
                    }
                }
                for w in &parsed.warnings {
                    report
                        .warnings
                        .push(bound.issue(rec.row, "kind", "kind_hint", w.clone()));
                }
                if issues.is_empty() {
                    valid.push((rec.row, parsed));
                }
            }
        }
        report.rows.extend(issues);
        progress.inc(1);
    }

    // Already registered: a fault found before writing, so that without `partial`
    // nothing is written.
    let wanted: Vec<String> = valid.iter().map(|(_, p)| p.new.uscc.clone()).collect();
    let existing = registered(conn, &wanted)?;
    let already = |lang: Language| {
        lang.pick(
            "该统一社会信用代码已登记（如需修改请用 PATCH /api/v1/employers/{uscc}）",
            "this USCC is already registered (change it with PATCH /api/v1/employers/{uscc})",
        )
        .to_owned()
    };
    valid.retain(|(row, p)| {
        if existing.contains(&p.new.uscc) {
            report
                .rows
                .push(bound.issue(*row, "uscc", "already_registered", already(lang)));
            false
        } else {
            true
        }
    });

    let any_invalid = !report.rows.is_empty();
    if any_invalid && !opts.partial {
        finish(&mut report);
        return Ok(report);
    }
    let written = write_batches(conn, &valid, opts.partial, progress, |c, batch| {
        let news: Vec<(&NewEmployer, &[String])> = batch
            .iter()
            .map(|(_, p)| (&p.new, p.warnings.as_slice()))
            .collect();
        let stored = insert_many_audited(c, &news, &opts.actor, Some(&opts.import_id))?;
        let mut done = Vec::with_capacity(batch.len());
        let mut rejected = Vec::new();
        for ((row, _), e) in batch.iter().zip(stored) {
            match e {
                Some(e) => {
                    if let Some(inv) = &opts.invitations {
                        crate::registry::accounts::invite_by_mail(c, inv, &e, &opts.actor)?;
                    }
                    done.push(())
                }
                // Registered by someone else since the check above.
                None => {
                    rejected.push(bound.issue(*row, "uscc", "already_registered", already(lang)))
                }
            }
        }
        Ok((done, rejected))
    })?;
    report.rows.extend(written.rejected);
    report.committed = written.committed;
    report.counts.imported = if written.committed {
        written.done.len()
    } else {
        0
    };
    finish(&mut report);
    Ok(report)
}

/// Sorts and counts the faults, among them the rows already registered.
fn finish(report: &mut Report) {
    report.finish_issues();
    let already = report
        .rows
        .iter()
        .filter(|i| i.code == "already_registered")
        .count();
    report.counts.already_registered = Some(already);
}

/// The JSON body `parse_new_employer` takes, from a row, with faults of cells that
/// cannot be turned into it.
fn employer_body(bound: &Bound, rec: &Record, lang: Language) -> (Value, Vec<RowIssue>) {
    let mut body = Map::new();
    let mut issues = Vec::new();
    for (key, text) in &rec.values {
        let key: &'static str = key;
        let v = match key {
            "uscc" if values::is_scientific(text) => {
                issues.push(bound.issue(rec.row, key, "long_number", scientific_message(lang)));
                continue;
            }
            // Checked here too so that the message is in the report's language.
            "uscc" => match UnifiedSocialCreditCode::parse(text) {
                Ok(u) => Value::String(u.expose().to_owned()),
                Err(e) => {
                    issues.push(id_issue(bound, rec.row, key, &e, lang));
                    continue;
                }
            },
            "kind" => match values::employer_kind(text) {
                Some(k) => Value::String(k.as_str().to_owned()),
                None => {
                    issues.push(bound.issue(
                        rec.row,
                        key,
                        "invalid",
                        lang.pick(
                            "单位类型应为 企业、机关、事业单位、社会团体 或 民办非企业单位",
                            "must be 企业 (enterprise), 机关 (government_agency), 事业单位 (public_institution), 社会团体 (social_organization) or 民办非企业单位 (private_non_enterprise)",
                        ),
                    ));
                    continue;
                }
            },
            "committee_member" => match values::yes_no(text) {
                Some(b) => Value::Bool(b),
                None => {
                    issues.push(bound.issue(rec.row, key, "invalid", yes_no_message(lang)));
                    continue;
                }
            },
            "registered_on" => Value::String(values::date(text)),
            "establishment_size" => values::integer(text),
            _ => Value::String(text.clone()),
        };
        body.insert(key.to_owned(), v);
    }
    (Value::Object(body), issues)
}

/// A fault of an identifier, with the calculator's codes for it.
pub(super) fn id_issue(
    bound: &Bound,
    row: usize,
    key: &str,
    e: &IdError,
    lang: Language,
) -> RowIssue {
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
    bound.issue(row, key, code, e.message(lang))
}

/// The message for an identifier that Excel turned into `4.11202E+19`.
pub(super) fn scientific_message(lang: Language) -> &'static str {
    lang.pick(
        "Excel 已把该号码存为科学计数法，末尾数字已丢失：请把该列设为“文本”格式后重新录入",
        "Excel saved this number in scientific notation and its last digits are lost: format the column as text and enter it again",
    )
}

/// The message for a cell that should be 是 or 否.
pub(super) fn yes_no_message(lang: Language) -> &'static str {
    lang.pick(
        "应为 是 或 否",
        "must be 是 or 否 (yes/no, true/false, 1/0)",
    )
}

/// Which of `usccs` are registered.
fn registered(conn: &mut AnyConnection, usccs: &[String]) -> Result<HashSet<String>, DbError> {
    crate::db::employers::registered_among(conn, usccs)
}
