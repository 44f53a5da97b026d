//! The bank payments import: one payment per row of a bank's file (columns `uscc`
//! 统一社会信用代码, `amount` 缴款金额, `paid_on` 缴款日期, `bank_reference` 银行流水号;
//! `name` 单位名称 is read past), for one levy year. Each row becomes a payment recorded
//! under its bank reference, unique per employer
//! ([`crate::registry::bank_payments`]): a row whose reference was recorded before with
//! the same figures is counted as already recorded (`counts.already_recorded`, and a
//! warning on its row), never recorded twice; the same reference with other figures, or
//! twice in one file for one employer, is a fault on the later row. A file that cannot
//! be read, or whose header lacks a column, is refused whole (the reading and limits of
//! [`super::reader`]).

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::columns::{Bound, Record, Schema};
use super::report::{ImportKind, Report, RowIssue};
use super::{read_bound, values, write_batches, Input, Options, Phase, Progress};
use crate::auth::region_covers;
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::money::to_fen;
use crate::domain::{Language, RegionCode};
use crate::registry::bank_payments::{judge, record_many, BankOutcome, BankPayment};
use crate::registry::payments::MAX_PAYMENT_FEN;

/// The longest bank reference accepted, in characters (as the API's `reference`).
const MAX_REFERENCE: usize = 100;

/// Imports the payments of `levy_year` from `input`. Database failures are errors;
/// everything about the file's content is in the report.
pub fn import_payments(
    conn: &mut AnyConnection,
    levy_year: i32,
    input: &Input<'_>,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, DbError> {
    let lang = opts.lang;
    let mut report = Report::new(opts.import_id.clone(), ImportKind::Payments, opts.partial);
    report.levy_year = Some(levy_year);
    progress.phase(Phase::Reading, 0);
    let Some(bound) = read_bound(input, Schema::Payments, lang, &mut report) else {
        report.finish_issues();
        return Ok(report);
    };
    report.counts.rows = bound.records.len();
    progress.phase(Phase::Validating, bound.records.len() as u64);

    let wanted: Vec<String> = bound
        .records
        .iter()
        .filter_map(|r| r.get("uscc"))
        .filter_map(|u| UnifiedSocialCreditCode::parse(u).ok())
        .map(|c| c.expose().to_owned())
        .collect();
    let employers = crate::db::employers::by_usccs(conn, &wanted)?;

    let mut checked: Vec<(usize, BankPayment)> = Vec::new();
    let mut first_row_of: HashMap<(i64, String), usize> = HashMap::new();
    for rec in &bound.records {
        let mut issues = rec.issues.clone();
        if let Some(p) = check_row(&bound, rec, levy_year, opts, &employers, &mut issues) {
            let key = (p.employer_id, p.bank_reference.clone());
            match first_row_of.get(&key) {
                Some(first) => issues.push(bound.issue(
                    rec.row,
                    "bank_reference",
                    "duplicate",
                    match lang {
                        Language::Zh => format!("该单位的银行流水号与第 {first} 行重复"),
                        Language::En => {
                            format!("the same bank reference of this employer is on row {first}")
                        }
                    },
                )),
                None => {
                    first_row_of.insert(key, rec.row);
                }
            }
            if issues.is_empty() {
                checked.push((rec.row, p));
            }
        }
        report.rows.extend(issues);
        progress.inc(1);
    }

    // Recorded before: the same figures are no fault (a file imported again), other
    // figures under the same reference are, found before writing so that without
    // `partial` nothing is written.
    let keys: Vec<(i64, String)> = checked
        .iter()
        .map(|(_, p)| (p.employer_id, p.bank_reference.clone()))
        .collect();
    let before = crate::db::bank_payments::recorded(conn, &keys)?;
    let mut already = 0usize;
    let mut fresh: Vec<(usize, BankPayment)> = Vec::new();
    for (row, p) in checked {
        match before
            .get(&(p.employer_id, p.bank_reference.clone()))
            .map(|r| judge(&p, r))
        {
            Some(BankOutcome::AlreadyRecorded) => {
                already += 1;
                report.warnings.push(already_recorded(&bound, row, lang));
            }
            Some(_) => report.rows.push(conflict(&bound, row, lang)),
            None => fresh.push((row, p)),
        }
    }

    report.finish_issues();
    if !report.rows.is_empty() && !opts.partial {
        report.counts.already_recorded = Some(already);
        return Ok(report);
    }
    let items: Vec<BankPayment> = fresh.iter().map(|(_, p)| p.clone()).collect();
    let written = write_batches(conn, &items, opts.partial, progress, |c, batch| {
        let outcomes = record_many(c, batch, &opts.import_id, &opts.actor)?;
        Ok((outcomes, Vec::new()))
    })?;
    let mut imported = 0usize;
    for ((row, _), outcome) in fresh.iter().zip(&written.done) {
        match outcome {
            BankOutcome::Recorded => imported += 1,
            // A concurrent import of the same file got there between the check and the
            // write.
            BankOutcome::AlreadyRecorded => {
                already += 1;
                report.warnings.push(already_recorded(&bound, *row, lang));
            }
            BankOutcome::Conflict => report.rows.push(conflict(&bound, *row, lang)),
        }
    }
    report.committed = written.committed;
    report.counts.imported = imported;
    report.counts.already_recorded = Some(already);
    report.finish_issues();
    Ok(report)
}

fn already_recorded(bound: &Bound, row: usize, lang: Language) -> RowIssue {
    bound.issue(
        row,
        "bank_reference",
        "already_recorded",
        lang.pick(
            "该银行流水号的缴款此前已记录，未重复记录",
            "a payment with this bank reference was recorded before: not recorded again",
        ),
    )
}

fn conflict(bound: &Bound, row: usize, lang: Language) -> RowIssue {
    bound.issue(
        row,
        "bank_reference",
        "reference_reused",
        lang.pick(
            "该单位的此银行流水号已记录为另一笔缴款（金额、日期或年度不同）",
            "this bank reference of the employer was recorded for another payment (another amount, date or levy year)",
        ),
    )
}

/// The row's payment, or `None` with its faults added to `issues`.
fn check_row(
    bound: &Bound,
    rec: &Record,
    levy_year: i32,
    opts: &Options,
    employers: &HashMap<String, crate::db::employers::Employer>,
    issues: &mut Vec<RowIssue>,
) -> Option<BankPayment> {
    let lang = opts.lang;
    let has_fault = |issues: &Vec<RowIssue>, key: &str| issues.iter().any(|i| i.field == key);
    let fail = |issues: &mut Vec<RowIssue>, key: &str, code: &str, zh: &str, en: &str| {
        if !has_fault(issues, key) {
            issues.push(bound.issue(rec.row, key, code, lang.pick(zh, en)));
        }
    };
    let required = |issues: &mut Vec<RowIssue>, key: &str| {
        if !has_fault(issues, key) {
            issues.push(bound.issue(
                rec.row,
                key,
                "required",
                lang.pick("此项必填", "is required"),
            ));
        }
    };

    let employer = match rec.get("uscc") {
        None => {
            required(issues, "uscc");
            None
        }
        Some(u) => match UnifiedSocialCreditCode::parse(u) {
            Err(e) => {
                fail(
                    issues,
                    "uscc",
                    "invalid",
                    "统一社会信用代码无效",
                    &e.to_string(),
                );
                None
            }
            Ok(code) => {
                let visible = employers.get(code.expose()).filter(|e| {
                    opts.scope.is_none_or(|scope| {
                        e.region
                            .parse::<RegionCode>()
                            .is_ok_and(|r| region_covers(&scope, &r))
                    })
                });
                if visible.is_none() {
                    // One answer for unregistered and out of scope: a code cannot be probed.
                    fail(
                        issues,
                        "uscc",
                        "unknown_employer",
                        "没有该单位（或不在您的管辖范围内）",
                        "no such employer (or not one in your scope)",
                    );
                }
                visible
            }
        },
    };

    let amount_fen = match rec.get("amount") {
        None => {
            required(issues, "amount");
            None
        }
        Some(a) => match values::decimal(a).parse::<Decimal>() {
            Err(_) => {
                fail(
                    issues,
                    "amount",
                    "invalid",
                    "金额须为数字，如 1234.50",
                    "must be an amount such as 1234.50",
                );
                None
            }
            Ok(d) if d <= Decimal::ZERO => {
                fail(
                    issues,
                    "amount",
                    "not_positive",
                    "金额须大于零",
                    "must be more than zero",
                );
                None
            }
            Ok(d) => match to_fen(d) {
                None => {
                    fail(
                        issues,
                        "amount",
                        "too_many_decimals",
                        "金额最多两位小数",
                        "has more than two decimals",
                    );
                    None
                }
                Some(f) if f > MAX_PAYMENT_FEN => {
                    fail(
                        issues,
                        "amount",
                        "too_large",
                        "金额过大（至多 10000000000.00）",
                        "is too large (at most 10000000000.00)",
                    );
                    None
                }
                Some(f) => Some(f),
            },
        },
    };

    let paid_on = match rec.get("paid_on") {
        None => {
            required(issues, "paid_on");
            None
        }
        Some(d) => match chrono::NaiveDate::parse_from_str(&values::date(d), "%Y-%m-%d") {
            Err(_) => {
                fail(
                    issues,
                    "paid_on",
                    "invalid",
                    "日期无效，如 2025-12-01",
                    "must be a date such as 2025-12-01",
                );
                None
            }
            Ok(d) if d > opts.today => {
                fail(
                    issues,
                    "paid_on",
                    "in_future",
                    "缴款日期不能晚于今天",
                    "must not be after today",
                );
                None
            }
            Ok(d) => Some(d),
        },
    };

    let reference = match rec.get("bank_reference").map(str::trim) {
        None | Some("") => {
            required(issues, "bank_reference");
            None
        }
        Some(r) if r.chars().count() > MAX_REFERENCE => {
            fail(
                issues,
                "bank_reference",
                "too_long",
                "银行流水号至多 100 个字符",
                "must be at most 100 characters",
            );
            None
        }
        Some(r) => Some(r.to_owned()),
    };

    match (employer, amount_fen, paid_on, reference) {
        (Some(e), Some(amount_fen), Some(paid_on), Some(bank_reference)) => Some(BankPayment {
            employer_id: e.id,
            uscc: e.uscc.clone(),
            levy_year,
            amount_fen,
            paid_on,
            bank_reference,
        }),
        _ => None,
    }
}
