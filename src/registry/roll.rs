//! The levy roll (征收名册) for the tax bureau: every assessed employer of a region and
//! levy year with staff, required, counted, payable, paid, surcharge to date and
//! outstanding. Rows are produced chunk by chunk, so a region of any size is exported
//! without holding it in memory.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

use crate::config::SurchargeFrom;
use crate::db::assessments::{snapshot_json, RollRaw};
use crate::db::{AnyConnection, DbError};
use crate::domain::money::{format_count, format_money, from_fen};
use crate::domain::ResolvedPolicy;
use crate::registry::hardship::Relief;
use crate::registry::payments::{reckon_levy, SurchargeTerms};

pub mod xlsx;

/// Rows read per query.
const CHUNK: i64 = 2_000;

/// One employer on the roll.
#[derive(Debug, Clone, Serialize)]
pub struct RollRow {
    /// Unified social credit code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Region.
    pub region: String,
    /// Average in-service staff `N` (4 decimals).
    pub staff: String,
    /// Required disabled employees `N × q` (4 decimals).
    pub required: String,
    /// Disabled employees counted `D` (4 decimals).
    pub counted: String,
    /// Levy payable.
    pub payable: String,
    /// Paid so far (up to the as-of date).
    pub paid: String,
    /// Late-payment surcharge accrued to the as-of date.
    pub surcharge: String,
    /// Principal and surcharge still owed.
    pub outstanding: String,
    /// Exempt small enterprise.
    pub exempt: bool,
    /// Exempt, below the quota or compliant, in the notice's words.
    pub status: crate::registry::notices::NoticeStatus,
    /// Payment due date.
    pub due_date: NaiveDate,
}

/// Sums over the whole roll.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RollTotals {
    /// Employers on the roll.
    pub employers: i64,
    /// Sum of payable.
    pub payable: String,
    /// Sum paid.
    pub paid: String,
    /// Sum of surcharges.
    pub surcharge: String,
    /// Sum outstanding.
    pub outstanding: String,
}

/// Running sums while rows are produced.
#[derive(Debug, Clone, Default)]
pub struct Sums {
    employers: i64,
    payable: Decimal,
    paid: Decimal,
    surcharge: Decimal,
    outstanding: Decimal,
}

impl Sums {
    fn add(&mut self, payable: Decimal, paid: Decimal, s: Decimal, out: Decimal) {
        self.employers += 1;
        self.payable += payable;
        self.paid += paid;
        self.surcharge += s;
        self.outstanding += out;
    }

    /// The totals as the API shows them.
    pub fn totals(&self) -> RollTotals {
        RollTotals {
            employers: self.employers,
            payable: format_money(self.payable),
            paid: format_money(self.paid),
            surcharge: format_money(self.surcharge),
            outstanding: format_money(self.outstanding),
        }
    }
}

fn e4_12(x12_e4: i64) -> Decimal {
    // N × 12 × 10^4 → N, exact, then rounded half-up to 4 decimals for display.
    Decimal::new(x12_e4, 4) / Decimal::from(12)
}

/// One chunk as the reading thread hands it over: the rows, their payments up to the
/// as-of date, and the policy snapshots first referenced in this chunk.
struct Chunk {
    raws: Vec<RollRaw>,
    paid: HashMap<i64, Vec<crate::domain::levy::Payment>>,
    policies: Vec<(i64, ResolvedPolicy)>,
    /// First written demands' deadlines, read only under the written demand rule.
    deadlines: HashMap<i64, NaiveDate>,
    reliefs: HashMap<i64, Relief>,
}

/// Reads the roll chunk by chunk and sends each chunk to `tx`; stops at the end, on an
/// error (sent on), or when the receiver has gone (the page is full, or emitting failed).
fn read_chunks(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
    tx: &std::sync::mpsc::SyncSender<Result<Chunk, DbError>>,
) {
    let mut after = String::new();
    let mut known: std::collections::HashSet<i64> = std::collections::HashSet::new();
    loop {
        let chunk = (|| -> Result<Option<Chunk>, DbError> {
            let raws =
                crate::db::assessments::roll_chunk(conn, levy_year, region_prefix, &after, CHUNK)?;
            let Some(last) = raws.last() else {
                return Ok(None);
            };
            after.clone_from(&last.1);
            let ids: Vec<i64> = raws.iter().map(|r| r.0).collect();
            let paid = crate::db::payments::of_employers(conn, levy_year, &ids, Some(as_of))?;
            let deadlines = match trigger {
                SurchargeFrom::DueDate => HashMap::new(),
                SurchargeFrom::WrittenDemand => {
                    crate::db::demands::first_deadlines(conn, levy_year, &ids, as_of)?
                }
            };
            let reliefs = crate::registry::hardship::reliefs(conn, levy_year, &ids)?;
            let mut policies = Vec::new();
            for r in &raws {
                if known.insert(r.10) {
                    let json = snapshot_json(conn, r.10)?;
                    let p: ResolvedPolicy = serde_json::from_str(&json).map_err(|e| {
                        DbError::Task(format!("policy snapshot {} unreadable: {e}", r.10))
                    })?;
                    policies.push((r.10, p));
                }
            }
            Ok(Some(Chunk {
                raws,
                paid,
                policies,
                deadlines,
                reliefs,
            }))
        })();
        let last = !matches!(chunk, Ok(Some(_)));
        let Some(message) = chunk.transpose() else {
            return;
        };
        if tx.send(message).is_err() || last {
            return;
        }
    }
}

/// Produces the roll of `levy_year` for employers whose region starts with
/// `region_prefix`, in USCC order, from the `skip`-th row, at most `limit` rows (all
/// when `None`), calling `emit` for each; returns the sums over the rows visited.
/// `sums_over_all` keeps reading past the page to total the whole roll. The surcharge
/// is the statement's ([`reckon_levy`]), started as `trigger` says.
///
/// The next chunk is read on a second thread (with `conn`) while this one computes the
/// surcharges and emits the rows of the current chunk; at most two chunks are in memory.
#[allow(clippy::too_many_arguments)]
pub fn for_each(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    skip: i64,
    limit: Option<i64>,
    sums_over_all: bool,
    trigger: SurchargeFrom,
    emit: &mut dyn FnMut(RollRow) -> Result<(), DbError>,
) -> Result<Sums, DbError> {
    std::thread::scope(|scope| {
        // One chunk waiting while one is processed: reading stays one chunk ahead.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || read_chunks(conn, levy_year, region_prefix, as_of, trigger, &tx));
        let result = emit_chunks(&rx, as_of, skip, limit, sums_over_all, emit, trigger);
        // Dropping the receiver stops the reader at its next send.
        drop(rx);
        result
    })
}

fn emit_chunks(
    rx: &std::sync::mpsc::Receiver<Result<Chunk, DbError>>,
    as_of: NaiveDate,
    skip: i64,
    limit: Option<i64>,
    sums_over_all: bool,
    emit: &mut dyn FnMut(RollRow) -> Result<(), DbError>,
    trigger: SurchargeFrom,
) -> Result<Sums, DbError> {
    let mut sums = Sums::default();
    let mut index: i64 = 0;
    let mut policies: HashMap<i64, ResolvedPolicy> = HashMap::new();
    // The reader ends the channel after the last chunk (or an error, received here).
    for chunk in rx {
        let Chunk {
            raws,
            mut paid,
            policies: new,
            deadlines,
            reliefs,
        } = chunk?;
        policies.extend(new);
        for r in raws {
            let policy = policies
                .get(&r.10)
                .ok_or_else(|| DbError::Task(format!("policy snapshot {} was not read", r.10)))?;
            let principal = from_fen(r.8);
            let pays = paid.remove(&r.0).unwrap_or_default();
            let terms = SurchargeTerms {
                rule: &policy.surcharge.value,
                due: policy.payment_due.value,
                trigger,
                first_deadline: deadlines.get(&r.0).copied(),
                relief: reliefs.get(&r.0),
            };
            let position = reckon_levy(&terms, principal, &pays, as_of)
                .map_err(|e| DbError::Task(e.to_string()))?;
            let s = &position.result;
            let paid_total: Decimal = pays.iter().map(|p| p.amount).sum();
            let outstanding = s.outstanding_principal + s.outstanding_surcharge;
            sums.add(principal, paid_total, s.accrued, outstanding);
            let in_page = index >= skip && limit.is_none_or(|l| index < skip + l);
            index += 1;
            if in_page {
                emit(RollRow {
                    uscc: r.1,
                    name: r.2,
                    kind: r.3,
                    region: r.4,
                    staff: format_count(e4_12(r.5), 4),
                    required: format_count(Decimal::new(r.6, 4), 4),
                    counted: format_count(e4_12(r.7), 4),
                    payable: format_money(principal),
                    paid: format_money(paid_total),
                    surcharge: format_money(s.accrued),
                    outstanding: format_money(outstanding),
                    exempt: r.9,
                    status: crate::registry::notices::NoticeStatus::of_assessment(r.9, r.11 > 0),
                    due_date: position.due,
                })?;
            } else if !sums_over_all && limit.is_some_and(|l| index >= skip + l) {
                return Ok(sums);
            }
        }
    }
    Ok(sums)
}

/// The CSV header, in Chinese for Chinese Excel, with the English key in brackets; also
/// the header row of the XLSX sheet ([`xlsx`]).
pub const CSV_HEADER: [&str; 13] = [
    "统一社会信用代码 (uscc)",
    "单位名称 (name)",
    "单位类型 (kind)",
    "行政区划 (region)",
    "在职职工年平均人数 (staff)",
    "应安排残疾人数 (required)",
    "已安排残疾人数 (counted)",
    "应缴保障金 (payable)",
    "已缴 (paid)",
    "滞纳金 (surcharge)",
    "欠缴 (outstanding)",
    "缴款期限 (due_date)",
    "安排比例状态 (status)",
];

/// The employer kind as the roll shows it: in Chinese (`企业`, `机关`…); a kind this
/// version does not know is shown as stored rather than dropped.
pub fn kind_zh(kind: &str) -> &str {
    kind.parse::<crate::domain::EmployerKind>()
        .map(|k| k.name_zh())
        .unwrap_or(kind)
}

/// The status as a cell of the CSV and the workbook: the notice's words, then the API
/// spelling, e.g. `未达到规定比例 (below_quota)`.
pub fn status_cell(s: crate::registry::notices::NoticeStatus) -> String {
    format!("{} ({})", s.name_zh(), s.as_str())
}

/// One CSV line for a row (RFC 4180 quoting).
pub fn csv_line(r: &RollRow) -> String {
    let mut out = String::with_capacity(160);
    push_csv_line(&mut out, r);
    out
}

/// [`csv_line`] appended to `out`, without a string per cell (the export of a whole
/// region writes a million of them).
pub fn push_csv_line(out: &mut String, r: &RollRow) {
    use std::fmt::Write as _;
    let status = status_cell(r.status);
    let mut due = String::with_capacity(10);
    let _ = write!(due, "{}", r.due_date);
    let fields = [
        r.uscc.as_str(),
        r.name.as_str(),
        kind_zh(&r.kind),
        r.region.as_str(),
        r.staff.as_str(),
        r.required.as_str(),
        r.counted.as_str(),
        r.payable.as_str(),
        r.paid.as_str(),
        r.surcharge.as_str(),
        r.outstanding.as_str(),
        &due,
        &status,
    ];
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        super::csv::push_field(out, f);
    }
    out.push_str("\r\n");
}

/// The totals line.
pub fn csv_totals(t: &RollTotals) -> String {
    let n = t.employers.to_string();
    let fields = [
        "合计 (total)",
        &n,
        "",
        "",
        "",
        "",
        "",
        &t.payable,
        &t.paid,
        &t.surcharge,
        &t.outstanding,
        "",
        "",
    ]
    .map(super::csv::field);
    format!("{}\r\n", fields.join(","))
}
