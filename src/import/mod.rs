//! Bulk import of employers and declarations from CSV or XLSX files:
//! `quota-levy import employers FILE`, `quota-levy import declarations --levy-year Y
//! FILE`, and the same by HTTP upload (`POST /api/v1/imports/…`, see
//! [`crate::http::imports`]).
//!
//! # Files
//!
//! - **CSV** in UTF-8 (with or without a byte-order mark) or GBK, as Chinese Excel saves
//!   "CSV (逗号分隔)". The encoding is detected (valid UTF-8 is UTF-8, anything else is
//!   decoded as GBK) unless `--encoding utf-8|gbk` (HTTP: `charset=` on the content
//!   type, or `?encoding=`) says. Tab-separated text is read too. UTF-16 ("Unicode
//!   text") and XLS (Excel 97-2003) are refused with a message saying what to save as.
//! - **XLSX**: the first sheet. Number cells become the text the user typed (`411200`,
//!   not `411200.0`; `1173441.33`), date cells `YYYY-MM-DD`. A number longer than the
//!   15 digits a spreadsheet keeps (a certificate number typed into a number cell) is a
//!   fault on its cell: its last digits are already lost.
//!
//! - **Bounds** (`[import]` settings, [`Limits`]): a file that unpacks to more than
//!   `import.max_uncompressed_bytes` (XLSX: the sizes its zip directory declares for its
//!   parts, checked before anything is unpacked, and the text of its cells; CSV: the
//!   file), or that has more data rows than `import.max_rows`, is refused as a whole
//!   and nothing of it is written; the report's `limit` names the setting. The sheet is
//!   read cell by cell, so a cell far to the right or bottom costs nothing; the header
//!   may have at most [`reader::MAX_COLUMNS`] columns.
//!
//! The first non-blank row is the header; blank rows are skipped. Rows are numbered as
//! the user sees them: the header is row 1 (the line a CSV record starts on). Headers
//! may be the English keys or the Chinese headers below (a leading `*` and a trailing
//! note in brackets, such as `编制人数（人）`, are ignored). An unknown, duplicated or
//! missing required column is a fault on row 1 naming it, and then no row is read.
//!
//! # Employers file: one employer per row
//!
//! | key | Chinese header (also accepted) | value |
//! |---|---|---|
//! | `uscc` * | 统一社会信用代码 (社会信用代码, 信用代码) | 18 characters, check character verified |
//! | `name` * | 单位名称 (用人单位名称, 用人单位, 名称) | at most 200 characters |
//! | `kind` * | 单位类型 (单位性质, 单位类别) | 企业 / 机关 / 事业单位 / 社会团体 / 民办非企业单位, or `enterprise`, `government_agency`, `public_institution`, `social_organization`, `private_non_enterprise` |
//! | `region` * | 行政区划代码 (行政区划, 区划代码, 地区代码) | GB/T 2260 code a policy pack covers |
//! | `registered_on` | 成立日期 (登记日期, 注册日期) | `2019-05-01`, `2019/5/1`, `2019年5月1日`, `20190501` or a date cell |
//! | `contact_email` | 联系邮箱 (电子邮箱, 邮箱, email) | e-mail address |
//! | `establishment_size` | 编制人数 (编制数, 核定编制) | whole number (public bodies) |
//! | `committee_member` | 残工委成员单位 (是否残工委成员单位) | 是 / 否 (also yes/no, true/false, 1/0) |
//!
//! (* = required column.) A USCC already registered, or one that appears on an earlier
//! row of the file, is a fault on the later row. A region outside the uploader's scope
//! (a region-scoped tax officer) is a fault on its row.
//!
//! # Declarations file: one row per employer, then optional roster rows
//!
//! The **declaration row** of an employer has its `uscc` and its figures:
//!
//! | key | Chinese header | value |
//! |---|---|---|
//! | `uscc` * | 统一社会信用代码 | a registered employer |
//! | `name` | 单位名称 | for the reader of the sheet; not checked, not stored |
//! | `m01` … `m12` | 1月 … 12月 (01月, 一月, 1月份, 1月人数) | staff headcount of each month of the data year: all twelve, or none |
//! | `average_headcount` | 在职职工年平均人数 | or the yearly average (`32.3333`) |
//! | `total_wages` | 工资总额 (在职职工工资总额) | yuan, `1,173,441.33` accepted |
//! | `average_wage` | 年平均工资 | or the average yearly wage |
//! | `disabled_count` | 经认证的残疾职工人数 | the certified weighted count (`1.5`), instead of a roster |
//!
//! **Roster rows** follow (anywhere in the file) with the same `uscc`, their staff and
//! wage cells empty, and one disabled employee each:
//!
//! | key | Chinese header | value |
//! |---|---|---|
//! | `certificate_no` | 残疾证号 (残疾人证号, 证件号码) | the 20- or 22-character certificate number (format the column as text in Excel) |
//! | `certificate_kind` | 证件类型 | 残疾人证 (default) or 残疾军人证; `disability` / `veteran` |
//! | `grade` | 残疾等级 | 1–8 for a veteran's certificate (`2`, `2级`, `二级`); a disability certificate carries its grade |
//! | `months` | 在职月份 | counted months: `1-12`, `1,2,3`, `1-6,9`, `全年` |
//! | `employed_from`, `employed_to` | 入职日期, 离职日期 | or the employment period |
//! | `on_establishment` | 是否在编 | 是 / 否 |
//! | `contract_months` | 劳动合同期限（月） | whole months |
//! | `social_insurance_paid` | 是否足额缴纳社会保险 | 是 / 否 (default 是) |
//! | `monthly_wage` | 月工资 | yuan |
//! | `fresh_graduate` | 是否应届高校毕业生 | 是 / 否 |
//!
//! The declaration row may itself carry the first roster line. Names and ID numbers of
//! disabled employees are not collected: a 姓名 or 身份证号 column is refused.
//! `tests/data/declarations.csv` is a sample.
//!
//! Each employer's rows become one declaration body (the calculation request's `staff`,
//! `total_wages`/`average_wage`, `disabled_employees`/`disabled_count`) and are checked
//! by [`crate::registry::declarations::parse_declaration`], the calculator's own
//! validation; its faults are reported on the row and column they came from (a fault at
//! `/disabled_employees/1/certificate_no` on the second roster row, column
//! `certificate_no`). A fault on any row of an employer rejects that employer's whole
//! declaration.
//!
//! # What is written
//!
//! Every row is checked before anything is written. Without `partial`, any fault means
//! nothing is written (the writes run in one transaction, so a row that turns out to
//! collide while writing also undoes everything). With `partial`, the valid rows (for
//! declarations: the valid employers' declarations) are written, in transactions of
//! [`BATCH_ROWS`], and the invalid ones are reported. Either way rows are written in
//! batches of [`BATCH_ROWS`] with multi-row statements, not one at a time. Every row
//! written gets its own audit entry, with the import's ID as its request ID. Messages
//! never contain a certificate number.

pub mod cli;
pub mod columns;
pub mod declarations;
pub mod employers;
pub mod payments;
pub mod reader;
pub mod report;
pub mod roster;
pub mod values;

pub use reader::{Encoding, Format, Limits};
pub use report::{Counts, ImportKind, LimitExceeded, Report, RowIssue};

use crate::db::{AnyConnection, DbError};
use crate::domain::{Language, RegionCode};
use crate::wire::FieldError;
use columns::{Bound, Schema};

/// Rows (or declarations) written together: a handful of multi-row statements per
/// batch (what is stored looked up or checked by the insert itself, the inserts or
/// updates, one insert of the batch's audit entries), split further where a backend's
/// bound-parameter limit needs it; with `partial`, one transaction per batch. Large
/// enough that round trips and commits vanish, small enough that other writers wait at
/// most a moment.
pub const BATCH_ROWS: usize = 1000;

/// The file to import.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The format, when the caller knows it; else detected.
    pub format: Option<Format>,
    /// The text encoding of a CSV file.
    pub encoding: Encoding,
    /// Its name, to recognise `.xlsx` by.
    pub file_name: Option<&'a str>,
    /// What it may unpack to.
    pub limits: Limits,
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write the valid rows even when some are invalid.
    pub partial: bool,
    /// Who, for the audit log.
    pub actor: String,
    /// The import's ID: the request ID of every audit entry.
    pub import_id: String,
    /// The uploader's region scope: rows outside it are faults.
    pub scope: Option<RegionCode>,
    /// Language of the messages.
    pub lang: Language,
    /// Keys the digests of the audit entries.
    pub secret: crate::secret::ServerSecret,
    /// File what is imported (declarations only): each declaration saved, or found
    /// unchanged, that is a draft or an amendment is submitted in the same transaction,
    /// as the tax bureau's imports are filings.
    pub submit: bool,
    /// Today, for the checks that judge by it (a registration date in the future).
    pub today: chrono::NaiveDate,
    /// Employers imported with a contact address get an activation mail, queued in
    /// the transaction that registers them (`accounts.invite_on_registration`).
    pub invitations: Option<std::sync::Arc<crate::registry::accounts::Invitations>>,
}

/// The phases an import goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading and decoding the file.
    Reading,
    /// Checking every row.
    Validating,
    /// Writing the valid rows.
    Writing,
}

/// Where progress goes (a terminal progress bar, or nowhere).
pub trait Progress {
    /// A phase starts with `total` steps (0 when unknown).
    fn phase(&self, phase: Phase, total: u64);
    /// `n` more steps are done.
    fn inc(&self, n: u64);
}

/// No progress display (HTTP, tests).
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _: Phase, _: u64) {}
    fn inc(&self, _: u64) {}
}

/// Records in `report` that the file could not be read at all, and which limit it went
/// over when it was refused for its size.
fn unreadable(report: &mut Report, e: &reader::ReadError, lang: Language) {
    report.limit = e
        .limit()
        .map(|(setting, value)| LimitExceeded { setting, value });
    report.rows.push(RowIssue {
        row: e.row(),
        column: String::new(),
        field: String::new(),
        code: e.code().into(),
        message: e.message(lang),
    });
}

/// The report of a file refused before it was read, because it is larger than
/// `import.max_uncompressed_bytes` (the CLI checks the file's size before loading it).
pub fn too_large_report(
    kind: ImportKind,
    levy_year: Option<i32>,
    format: Format,
    limits: Limits,
    opts: &Options,
) -> Report {
    let mut report = Report::new(opts.import_id.clone(), kind, opts.partial);
    report.levy_year = levy_year;
    report.format = format_name(format);
    let e = reader::ReadError::TooLarge {
        limit: limits.max_uncompressed_bytes,
    };
    unreadable(&mut report, &e, opts.lang);
    report.finish_issues();
    report
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Xlsx => "xlsx",
    }
}

/// Reads and binds the file, recording unreadable-file and header faults in `report`.
fn read_bound(
    input: &Input<'_>,
    schema: Schema,
    lang: Language,
    report: &mut Report,
) -> Option<Bound> {
    let format = reader::detect_format(input.bytes, input.format, input.file_name);
    report.format = format_name(format);
    let table = match reader::read_table(input.bytes, format, input.encoding, input.limits) {
        Ok(t) => t,
        Err(e) => {
            unreadable(report, &e, lang);
            return None;
        }
    };
    report.encoding = table.encoding;
    match columns::bind(table, schema, lang) {
        Ok(b) => Some(b),
        Err(issues) => {
            report.rows.extend(issues);
            None
        }
    }
}

/// A validator fault, moved to the row and column it came from.
fn issue_from(bound: &Bound, row: usize, key: &str, e: &FieldError) -> RowIssue {
    bound.issue(row, key, e.code, e.message.clone())
}

/// Adds validator faults to `issues`, except on columns that already have a fault from
/// reading the cell (the validator would only repeat it less precisely, e.g. "required"
/// after a cell that could not be read).
fn merge(issues: &mut Vec<RowIssue>, more: Vec<RowIssue>) {
    for i in more {
        let dup =
            !i.field.is_empty() && issues.iter().any(|j| j.row == i.row && j.field == i.field);
        if !dup {
            issues.push(i);
        }
    }
}

/// Why a write transaction stopped.
enum Abort {
    Db(DbError),
    /// Rows that turned out invalid while writing (e.g. registered meanwhile by
    /// someone else), when nothing may be written.
    Rejected(Vec<RowIssue>),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Db(DbError::Query(e))
    }
}

impl From<DbError> for Abort {
    fn from(e: DbError) -> Self {
        Abort::Db(e)
    }
}

/// What writing did.
struct Written<T> {
    /// Per item that was written, what the writer returned.
    done: Vec<T>,
    /// Items refused while writing.
    rejected: Vec<RowIssue>,
    /// True when the writes committed.
    committed: bool,
}

/// What a writer did with one batch: per item written, what it returned; and the items
/// it refused (e.g. registered meanwhile by someone else).
type BatchResult<T> = Result<(Vec<T>, Vec<RowIssue>), DbError>;

/// Writes `items` in batches of [`BATCH_ROWS`], each with `write`, which writes a whole
/// batch with a few multi-row statements. Without `partial`: one transaction over every
/// batch, undone entirely on any refusal, so a fault in the last batch leaves nothing of
/// the first. With `partial`: one transaction per batch, refusals reported and skipped.
/// Progress advances by batch.
fn write_batches<I, T>(
    conn: &mut AnyConnection,
    items: &[I],
    partial: bool,
    progress: &dyn Progress,
    mut write: impl FnMut(&mut AnyConnection, &[I]) -> BatchResult<T>,
) -> Result<Written<T>, DbError> {
    progress.phase(Phase::Writing, items.len() as u64);
    if !partial {
        let result = crate::db::write_transaction::<_, Abort, _>(conn, |c| {
            let mut done = Vec::with_capacity(items.len());
            let mut rejected = Vec::new();
            for batch in items.chunks(BATCH_ROWS) {
                let (d, r) = write(c, batch)?;
                done.extend(d);
                rejected.extend(r);
                progress.inc(batch.len() as u64);
            }
            if rejected.is_empty() {
                Ok(done)
            } else {
                Err(Abort::Rejected(rejected))
            }
        });
        return match result {
            Ok(done) => Ok(Written {
                done,
                rejected: Vec::new(),
                committed: true,
            }),
            Err(Abort::Rejected(rejected)) => Ok(Written {
                done: Vec::new(),
                rejected,
                committed: false,
            }),
            Err(Abort::Db(e)) => Err(e),
        };
    }
    let mut done = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for batch in items.chunks(BATCH_ROWS) {
        let (d, r) = crate::db::write_transaction::<_, Abort, _>(conn, |c| Ok(write(c, batch)?))
            .map_err(|e| match e {
                Abort::Db(e) => e,
                Abort::Rejected(_) => {
                    DbError::Task("unreachable: partial writes do not abort".into())
                }
            })?;
        done.extend(d);
        rejected.extend(r);
        progress.inc(batch.len() as u64);
    }
    Ok(Written {
        done,
        rejected,
        committed: true,
    })
}

/// A new import ID.
pub fn new_import_id() -> String {
    format!("import-{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod fuzz;
