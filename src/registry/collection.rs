//! What the tax bureau's pages read across employers: the levy year at a glance by
//! county (counts and sums as SQL aggregates, the surcharge reckoned chunk by chunk),
//! kept per date and state of the register ([`kept_overview`]); the levy roll filtered
//! and paged by key, and the arrears list.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::SurchargeFrom;
use crate::db::assessments::{snapshot_json, RollRaw};
use crate::db::collection::{county_figures, roll_page, CountyFigures, RollFilter};
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::surcharge::SurchargeResult;
use crate::domain::money::{format_count, format_money, from_fen};
use crate::domain::ResolvedPolicy;
use crate::registry::notices::NoticeStatus;
use crate::registry::payments::{reckon_levy, SurchargeTerms};
use crate::registry::roll::RollRow;

/// Rows read per query while reckoning surcharges.
const CHUNK: i64 = 2_000;

/// One county's line (or the total) of the levy year at a glance.
#[derive(Debug, Clone, Default)]
pub struct CountyLine {
    /// The region code (empty on the total line).
    pub region: String,
    /// Employers registered.
    pub registered: i64,
    /// With a declaration, draft or filed.
    pub declared: i64,
    /// With a filed declaration.
    pub filed: i64,
    /// Assessed.
    pub assessed: i64,
    /// Assessed exempt.
    pub exempt: i64,
    /// Assessed below the quota.
    pub below_quota: i64,
    /// Levy payable.
    pub payable: Decimal,
    /// Paid up to the as-of date.
    pub paid: Decimal,
    /// Surcharge accrued to the as-of date.
    pub surcharge: Decimal,
    /// Principal and surcharge still owed.
    pub outstanding: Decimal,
}

impl CountyLine {
    fn add(&mut self, o: &CountyLine) {
        self.registered += o.registered;
        self.declared += o.declared;
        self.filed += o.filed;
        self.assessed += o.assessed;
        self.exempt += o.exempt;
        self.below_quota += o.below_quota;
        self.payable += o.payable;
        self.paid += o.paid;
        self.surcharge += o.surcharge;
        self.outstanding += o.outstanding;
    }
}

/// The levy year at a glance.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// One line per county, by region code.
    pub counties: Vec<CountyLine>,
    /// The sums.
    pub total: CountyLine,
}

/// One assessed employer reckoned as of a date.
#[derive(Debug, Clone)]
pub struct Reckoned {
    /// The roll's stored line.
    pub raw: RollRaw,
    /// The principal after an approved hardship reduction.
    pub principal: Decimal,
    /// The surcharge position.
    pub position: SurchargeResult,
    /// Paid up to the as-of date.
    pub paid: Decimal,
    /// The payment due date (after an approved deferral).
    pub due_date: NaiveDate,
}

impl Reckoned {
    /// Principal and surcharge still owed.
    pub fn outstanding(&self) -> Decimal {
        self.position.outstanding_principal + self.position.outstanding_surcharge
    }

    /// The line as the levy roll shows it.
    pub fn roll_row(&self) -> RollRow {
        let r = &self.raw;
        // N × 12 × 10^4 → N, exact, then shown to 4 decimals (as the roll does).
        let e4_12 = |x: i64| Decimal::new(x, 4) / Decimal::from(12);
        RollRow {
            uscc: r.1.clone(),
            name: r.2.clone(),
            kind: r.3.clone(),
            region: r.4.clone(),
            staff: format_count(e4_12(r.5), 4),
            required: format_count(Decimal::new(r.6, 4), 4),
            counted: format_count(e4_12(r.7), 4),
            payable: format_money(from_fen(r.8)),
            paid: format_money(self.paid),
            surcharge: format_money(self.position.accrued),
            outstanding: format_money(self.outstanding()),
            exempt: r.9,
            status: NoticeStatus::of_assessment(r.9, r.11 > 0),
            due_date: self.due_date,
        }
    }
}

/// Reckons the surcharge of stored roll lines as of `as_of` under `trigger`, with the
/// policy snapshots read once each (`policies` is kept between chunks).
pub fn reckon(
    conn: &mut AnyConnection,
    levy_year: i32,
    raws: Vec<RollRaw>,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
    policies: &mut HashMap<i64, ResolvedPolicy>,
) -> Result<Vec<Reckoned>, DbError> {
    let ids: Vec<i64> = raws.iter().map(|r| r.0).collect();
    let mut paid = crate::db::payments::of_employers(conn, levy_year, &ids, Some(as_of))?;
    let deadlines = match trigger {
        SurchargeFrom::DueDate => HashMap::new(),
        SurchargeFrom::WrittenDemand => {
            crate::db::demands::first_deadlines(conn, levy_year, &ids, as_of)?
        }
    };
    let reliefs = crate::registry::hardship::reliefs(conn, levy_year, &ids)?;
    let mut out = Vec::with_capacity(raws.len());
    for r in raws {
        let policy = match policies.entry(r.10) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let json = snapshot_json(conn, r.10)?;
                let p: ResolvedPolicy = serde_json::from_str(&json).map_err(|e| {
                    DbError::Task(format!("policy snapshot {} unreadable: {e}", r.10))
                })?;
                v.insert(p)
            }
        };
        let pays = paid.remove(&r.0).unwrap_or_default();
        let terms = SurchargeTerms {
            rule: &policy.surcharge.value,
            due: policy.payment_due.value,
            trigger,
            first_deadline: deadlines.get(&r.0).copied(),
            relief: reliefs.get(&r.0),
        };
        let p = reckon_levy(&terms, from_fen(r.8), &pays, as_of)
            .map_err(|e| DbError::Task(e.to_string()))?;
        out.push(Reckoned {
            paid: pays.iter().map(|p| p.amount).sum(),
            raw: r,
            principal: p.principal,
            position: p.result,
            due_date: p.due,
        });
    }
    Ok(out)
}

/// The levy year at a glance under `region_prefix`: the counts, payable, paid and the
/// principal owed per county are SQL aggregates; the surcharge (5‰ a day, rounded per
/// run of days: docs/rules.md §6) is reckoned over the assessed employers with a levy,
/// a chunk at a time, so that memory holds one chunk whatever the region's size.
pub fn overview(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<Overview, DbError> {
    let figures: Vec<CountyFigures> = county_figures(conn, levy_year, region_prefix, as_of)?;
    // region → (surcharge accrued, surcharge owed)
    let mut sur: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let filter = RollFilter {
        region_prefix: region_prefix.to_owned(),
        min_payable_fen: Some(1),
        ..RollFilter::default()
    };
    let mut after = String::new();
    let mut policies = HashMap::new();
    loop {
        let raws = roll_page(conn, levy_year, &filter, &after, CHUNK)?;
        let Some(last) = raws.last() else { break };
        after = last.1.clone();
        for r in reckon(conn, levy_year, raws, as_of, trigger, &mut policies)? {
            let e = sur.entry(r.raw.4.clone()).or_default();
            e.0 += r.position.accrued;
            e.1 += r.position.outstanding_surcharge;
        }
    }
    let mut o = Overview::default();
    for f in figures {
        let (accrued, owed) = sur.get(&f.region).copied().unwrap_or_default();
        let line = CountyLine {
            registered: f.registered,
            declared: f.declared,
            filed: f.filed,
            assessed: f.assessed,
            exempt: f.exempt,
            below_quota: f.below_quota,
            payable: from_fen(f.payable_fen),
            paid: from_fen(f.paid_fen),
            surcharge: accrued,
            outstanding: from_fen(f.outstanding_principal_fen) + owed,
            region: f.region,
        };
        o.total.add(&line);
        o.counties.push(line);
    }
    Ok(o)
}

/// What an overview is reckoned for: levy year, region prefix, as-of date, trigger.
type OverviewKey = (i32, String, NaiveDate, &'static str);

/// An overview reckoned and kept, with the register's stamp when its reckoning began.
struct KeptOverview {
    stamp: String,
    begun: NaiveDateTime,
    figures: Overview,
}

/// At most this many overviews are kept in a process (a few county lines each).
const KEPT_MAX: usize = 256;

/// The overviews of one database reckoned in this process, for the day they were asked
/// for, and those being reckoned again (docs/architecture.md, "The tax overview"); the
/// service keeps one in its state.
#[derive(Default)]
pub struct KeptOverviews {
    kept: Mutex<BTreeMap<OverviewKey, KeptOverview>>,
    refreshing: Mutex<BTreeSet<OverviewKey>>,
}

fn key_of(levy_year: i32, region_prefix: &str, as_of: NaiveDate, t: SurchargeFrom) -> OverviewKey {
    (levy_year, region_prefix.to_owned(), as_of, t.as_str())
}

/// The [`overview`] as kept: reckoned on the register as it is now, or, when a write
/// came since it was reckoned, the kept one with the time its reckoning began (UTC), so
/// that the caller answers at once and has it reckoned again ([`OverviewRefresh`]).
/// Reckoned here, on the request, only when none is kept for that date. The register's
/// state is the violator list's stamp, which covers every table the overview reads.
pub fn kept_overview(
    conn: &mut AnyConnection,
    kept: &KeptOverviews,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<(Overview, Option<NaiveDateTime>), DbError> {
    let stamp = crate::db::violator_lists::stamp(conn)?;
    let key = key_of(levy_year, region_prefix, as_of, trigger);
    if let Some(k) = kept
        .kept
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        let stale = (k.stamp != stamp).then_some(k.begun);
        return Ok((k.figures.clone(), stale));
    }
    Ok((reckon_and_keep(conn, kept, key, trigger, stamp)?, None))
}

/// Reckons the overview of `key` on the register of `stamp` (read before) and keeps it,
/// unless one begun later was kept meanwhile.
fn reckon_and_keep(
    conn: &mut AnyConnection,
    kept: &KeptOverviews,
    key: OverviewKey,
    trigger: SurchargeFrom,
    stamp: String,
) -> Result<Overview, DbError> {
    let begun = chrono::Utc::now().naive_utc();
    let figures = overview(conn, key.0, &key.1, key.2, trigger)?;
    let mut kept = kept.kept.lock().unwrap_or_else(PoisonError::into_inner);
    // Another day's figures are asked for no more once a later day's are.
    kept.retain(|k, _| k.2 >= key.2);
    if kept.len() >= KEPT_MAX {
        kept.clear();
    }
    if kept.get(&key).is_none_or(|k| k.begun <= begun) {
        kept.insert(
            key,
            KeptOverview {
                stamp,
                begun,
                figures: figures.clone(),
            },
        );
    }
    Ok(figures)
}

/// The claim of reckoning one kept overview again, held by one caller at a time;
/// released when dropped.
pub struct OverviewRefresh {
    kept: Arc<KeptOverviews>,
    key: OverviewKey,
    trigger: SurchargeFrom,
}

impl OverviewRefresh {
    /// The claim for the overview of `levy_year` under `region_prefix` on `as_of` in
    /// `kept`, or `None` while another holds it.
    pub fn claim(
        kept: &Arc<KeptOverviews>,
        levy_year: i32,
        region_prefix: &str,
        as_of: NaiveDate,
        trigger: SurchargeFrom,
    ) -> Option<OverviewRefresh> {
        let key = key_of(levy_year, region_prefix, as_of, trigger);
        let mut running = kept
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        running.insert(key.clone()).then(|| OverviewRefresh {
            kept: kept.clone(),
            key,
            trigger,
        })
    }

    /// Reckons the overview on the register as it is now and keeps it, then releases
    /// the claim.
    pub fn run(self, conn: &mut AnyConnection) -> Result<(), DbError> {
        let stamp = crate::db::violator_lists::stamp(conn)?;
        reckon_and_keep(conn, &self.kept, self.key.clone(), self.trigger, stamp).map(|_| ())
    }
}

impl Drop for OverviewRefresh {
    fn drop(&mut self) {
        self.kept
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// One page of the levy roll by key: the rows after USCC `after` that `filter` keeps,
/// at most `limit`, and the key of the next page when there is one.
pub fn roll_rows(
    conn: &mut AnyConnection,
    levy_year: i32,
    filter: &RollFilter,
    after: &str,
    limit: i64,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<(Vec<RollRow>, Option<String>), DbError> {
    let mut raws = roll_page(conn, levy_year, filter, after, limit + 1)?;
    let more = raws.len() as i64 > limit;
    raws.truncate(usize::try_from(limit).unwrap_or(0));
    let next = more.then(|| raws.last().map(|r| r.1.clone())).flatten();
    let rows = reckon(conn, levy_year, raws, as_of, trigger, &mut HashMap::new())?
        .iter()
        .map(Reckoned::roll_row)
        .collect();
    Ok((rows, next))
}

/// Employers with a levy reckoned at most for one page of the arrears list.
const ARREARS_SCAN: usize = 4_000;

/// One page of the arrears list: assessed employers under `region_prefix` that owe
/// principal or surcharge on `as_of`, after USCC `after`, at most `limit`; and the key
/// of the next page when the walk did not reach the end.
///
/// What each owes is computed, not stored (the surcharge grows by the day), so no index
/// holds the debtors. The database pages by key over the employers with a levy
/// ([`roll_page`], payable at least one fen: a walk of the USCC index, never the
/// region), and only those candidates are reckoned, a chunk at a time, until the page
/// is full. Those that owe nothing are passed over; after `ARREARS_SCAN` candidates
/// the page ends where the walk stopped, short, with the key of the next, so that a
/// region that has nearly all paid costs a bounded walk per page, not a scan of it.
pub fn arrears(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    after: &str,
    limit: usize,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<(Vec<Reckoned>, Option<String>), DbError> {
    let filter = RollFilter {
        region_prefix: region_prefix.to_owned(),
        min_payable_fen: Some(1),
        ..RollFilter::default()
    };
    let mut found = Vec::new();
    let mut after = after.to_owned();
    let mut policies = HashMap::new();
    let mut scanned = 0;
    // A page's worth and a little more per chunk: most candidates owe.
    let chunk = CHUNK.min(limit as i64 + limit as i64 / 4 + 1);
    loop {
        if scanned >= ARREARS_SCAN {
            return Ok((found, Some(after)));
        }
        let raws = roll_page(conn, levy_year, &filter, &after, chunk)?;
        let Some(last) = raws.last() else {
            return Ok((found, None));
        };
        after = last.1.clone();
        scanned += raws.len();
        for r in reckon(conn, levy_year, raws, as_of, trigger, &mut policies)? {
            if r.outstanding() > Decimal::ZERO {
                if found.len() == limit {
                    // One more owes: the next page starts after the last one shown.
                    let next = found.last().map(|l: &Reckoned| l.raw.1.clone());
                    return Ok((found, next));
                }
                found.push(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reckoning_again_at_a_time_per_overview() {
        let kept = Arc::new(KeptOverviews::default());
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let first = OverviewRefresh::claim(&kept, 2025, "4112", day, SurchargeFrom::DueDate);
        assert!(first.is_some());
        let again = OverviewRefresh::claim(&kept, 2025, "4112", day, SurchargeFrom::DueDate);
        assert!(again.is_none(), "one at a time");
        let county = OverviewRefresh::claim(&kept, 2025, "411202", day, SurchargeFrom::DueDate);
        assert!(county.is_some(), "another scope is another overview");
        drop(first);
        let after = OverviewRefresh::claim(&kept, 2025, "4112", day, SurchargeFrom::DueDate);
        assert!(after.is_some(), "released when done");
    }
}
