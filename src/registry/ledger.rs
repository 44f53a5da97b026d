//! The fund's account of a region and levy year (征收使用管理, 三政〔2016〕23号 §3(1):
//! "加强残疾人就业保障金征收使用管理"): levy assessed, collected, of which surcharge,
//! refunds due, rewards approved and paid, and the balance. Every line is traceable: the
//! levy lines sum the payments of the levy roll's employers ([`entries`]), the reward
//! lines the rewards roll's payouts. The figures are those of the two rolls: the levy
//! roll's payable and paid, the rewards roll's approved and paid.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

use crate::db::assessments::{roll_chunk, snapshot_json};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::levy::surcharge;
use crate::domain::money::{format_money, from_fen};
use crate::domain::ResolvedPolicy;

/// Rows read per query.
const CHUNK: i64 = 2_000;

/// One line of the account.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerLine {
    /// Stable key: `levy_assessed`, `collected`, `surcharge_collected`, `refunds_due`,
    /// `rewards_approved`, `rewards_paid`, `balance`.
    pub key: &'static str,
    /// In Chinese.
    pub label_zh: &'static str,
    /// In English.
    pub label_en: &'static str,
    /// The amount.
    pub amount: String,
    /// The list it sums (`payments` or `payouts`), when it sums one.
    pub entries: Option<&'static str>,
}

/// The account.
#[derive(Debug, Clone, Serialize)]
pub struct Ledger {
    /// Levy year.
    pub levy_year: i32,
    /// The region code prefix (empty: everywhere).
    pub region_prefix: String,
    /// Payments up to this date.
    pub as_of: NaiveDate,
    /// Employers assessed.
    pub employers: i64,
    /// The lines, in order.
    pub lines: Vec<LedgerLine>,
}

/// The exact figures before formatting.
#[derive(Debug, Clone, Default)]
struct Figures {
    employers: i64,
    assessed: Decimal,
    collected: Decimal,
    surcharge: Decimal,
    refunds: Decimal,
}

fn levy_figures(
    conn: &mut AnyConnection,
    levy_year: i32,
    prefix: &str,
    as_of: NaiveDate,
) -> Result<Figures, DbError> {
    let mut f = Figures::default();
    let mut after = String::new();
    let mut policies: HashMap<i64, ResolvedPolicy> = HashMap::new();
    loop {
        let raws = roll_chunk(conn, levy_year, prefix, &after, CHUNK)?;
        let Some(last) = raws.last() else { break };
        after = last.1.clone();
        let ids: Vec<i64> = raws.iter().map(|r| r.0).collect();
        let mut paid = crate::db::payments::of_employers(conn, levy_year, &ids, Some(as_of))?;
        for r in raws {
            if let std::collections::hash_map::Entry::Vacant(v) = policies.entry(r.10) {
                let p: ResolvedPolicy =
                    serde_json::from_str(&snapshot_json(conn, r.10)?).map_err(|e| {
                        DbError::Task(format!("policy snapshot {} unreadable: {e}", r.10))
                    })?;
                v.insert(p);
            }
            let policy = policies
                .get(&r.10)
                .ok_or_else(|| DbError::Task("policy snapshot vanished from the cache".into()))?;
            let principal = from_fen(r.8);
            let pays = paid.remove(&r.0).unwrap_or_default();
            // The statement's reckoning (docs/rules.md §6), as the levy roll's.
            let s = surcharge(
                &policy.surcharge.value,
                principal,
                policy.payment_due.value,
                &pays,
                as_of,
            )
            .map_err(|e| DbError::Task(e.to_string()))?;
            f.employers += 1;
            f.assessed += principal;
            f.collected += pays.iter().map(|p| p.amount).sum::<Decimal>();
            f.surcharge += s.surcharge_paid;
            f.refunds += s.refund_due;
        }
    }
    Ok(f)
}

/// The account of `levy_year` under `region_prefix`, payments up to `as_of`.
pub fn account(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
) -> Result<Ledger, DbError> {
    let f = levy_figures(conn, levy_year, region_prefix, as_of)?;
    let rewards =
        super::rewards::for_each(conn, levy_year, region_prefix, 0, Some(0), &mut |_| Ok(()))?;
    // What the fund holds: collected, less what it owes back and what it paid out.
    let balance = f.collected - f.refunds - rewards.paid();
    let line = |key, label_zh, label_en, amount: Decimal, entries| LedgerLine {
        key,
        label_zh,
        label_en,
        amount: format_money(amount),
        entries,
    };
    Ok(Ledger {
        levy_year,
        region_prefix: region_prefix.to_owned(),
        as_of,
        employers: f.employers,
        lines: vec![
            line(
                "levy_assessed",
                "核定应缴保障金",
                "Levy assessed",
                f.assessed,
                None,
            ),
            line(
                "collected",
                "已征收（含滞纳金）",
                "Collected (surcharge included)",
                f.collected,
                Some("payments"),
            ),
            line(
                "surcharge_collected",
                "其中：滞纳金",
                "of which surcharge",
                f.surcharge,
                None,
            ),
            line("refunds_due", "应退还", "Refunds due", f.refunds, None),
            line(
                "rewards_approved",
                "已批准超比例奖励",
                "Over-quota rewards approved",
                rewards.approved(),
                None,
            ),
            line(
                "rewards_paid",
                "已发放超比例奖励",
                "Over-quota rewards paid",
                rewards.paid(),
                Some("payouts"),
            ),
            line(
                "balance",
                "结余（已征收 − 应退还 − 已发放奖励）",
                "Balance (collected − refunds due − rewards paid)",
                balance,
                None,
            ),
        ],
    })
}

/// One payment or payout a line sums.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `payment` or `payout`.
    pub kind: &'static str,
    /// Its id.
    pub id: i64,
    /// Employer.
    pub uscc: String,
    /// Its name.
    pub name: String,
    /// Value date.
    pub date: NaiveDate,
    /// Amount (a reversal negative).
    pub amount: String,
    /// Bank reference (numbers that may be personal masked).
    pub reference: String,
}

/// The payments (`payments`) or payouts (`payouts`) a line sums, and their sum.
pub fn entries(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    payouts: bool,
) -> Result<(Vec<Entry>, String), DbError> {
    let mut sum = Decimal::ZERO;
    let out: Vec<Entry> = if payouts {
        crate::db::rewards::payouts_in(conn, levy_year, region_prefix)?
            .into_iter()
            .map(|(uscc, name, p)| {
                sum += from_fen(p.amount_fen);
                Entry {
                    kind: "payout",
                    id: p.id,
                    uscc,
                    name,
                    date: p.paid_on,
                    amount: format_money(from_fen(p.amount_fen)),
                    reference: mask_numbers_in(&p.reference).into_owned(),
                }
            })
            .collect()
    } else {
        crate::db::rewards::assessed_payments_in(conn, levy_year, region_prefix, as_of)?
            .into_iter()
            .map(|(uscc, name, id, date, fen, reference)| {
                sum += from_fen(fen);
                Entry {
                    kind: "payment",
                    id,
                    uscc,
                    name,
                    date,
                    amount: format_money(from_fen(fen)),
                    reference: mask_numbers_in(&reference).into_owned(),
                }
            })
            .collect()
    };
    Ok((out, format_money(sum)))
}

/// The CSV header of the account; also the workbook's.
pub const CSV_HEADER: [&str; 3] = ["项目 (line)", "English", "金额 (amount)"];

/// The account's rows as cells.
pub fn rows(l: &Ledger) -> Vec<Vec<String>> {
    l.lines
        .iter()
        .map(|x| {
            vec![
                format!("{} ({})", x.label_zh, x.key),
                x.label_en.to_owned(),
                x.amount.clone(),
            ]
        })
        .collect()
}
