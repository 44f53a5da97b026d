//! The violator list kept in the database (docs/architecture.md, "The violator list"):
//! decided once per levy year, date and state of the register, one entry per employer
//! with all its rows, then read page by page in the list's order (amount owed, largest
//! first, then USCC) from an index. Neither a page nor a download of any size holds
//! more than one chunk of the list in memory, and no request sorts the region.
//!
//! [`current`] finds the list a request needs or decides it (with
//! [`violations::for_each_chunk`], the same checks as ever), chunk by chunk into the
//! table; [`newest`] finds the newest list decided, current or not, for a page that
//! answers from it while a [`Refresh`] decides the next; [`page`] and [`for_each`] read
//! it under filters the database applies.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::violations::{self, ViolationKind, ViolationRow};
use crate::db::violator_lists::{self as db_l, EntryFilter, EntryRow, NewEntry};
use crate::db::{AnyConnection, DbError};
use crate::domain::money::{format_money, from_fen, to_fen};
use crate::domain::{EmployerKind, PolicyProvider};

/// Entries read per query when walking a list.
const WALK_CHUNK: i64 = 500;

/// How long a replaced list is kept for the pages and downloads still reading it.
const GRACE_MINUTES: i64 = 10;

/// One build at a time in this process: a second request for a list being decided waits
/// for it and reads it instead of deciding it again.
static BUILDS: Mutex<()> = Mutex::new(());

/// One employer of the list with all its rows.
#[derive(Debug, Clone)]
pub struct Entry {
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind (API spelling).
    pub kind: String,
    /// Region code.
    pub region: String,
    /// All it owes for the year.
    pub owed: Decimal,
    /// Its rows, in [`ViolationKind::ALL`] order.
    pub violations: Vec<ViolationRow>,
}

/// A row as stored: what is not the employer's.
#[derive(Serialize, Deserialize)]
struct StoredRow {
    v: ViolationKind,
    zh: String,
    en: String,
    cite: String,
    out: String,
}

/// The bit of `kind` in an entry's `kinds`.
pub fn kind_bit(kind: ViolationKind) -> i32 {
    1 << kind.rank()
}

/// The list of `levy_year` judged on `as_of` for the register as it is now: the stored
/// one, or decided now (every employer, chunk by chunk) when the register changed since.
pub fn current(
    conn: &mut AnyConnection,
    book: &dyn PolicyProvider,
    levy_year: i32,
    as_of: NaiveDate,
) -> Result<i64, DbError> {
    let stamp = db_l::stamp(conn)?;
    if let Some(id) = db_l::find(conn, levy_year, as_of, &stamp)? {
        return Ok(id);
    }
    let _one = BUILDS.lock().unwrap_or_else(PoisonError::into_inner);
    // Another request may have decided it while this one waited.
    let stamp = db_l::stamp(conn)?;
    if let Some(id) = db_l::find(conn, levy_year, as_of, &stamp)? {
        return Ok(id);
    }
    build(conn, book, levy_year, as_of, &stamp)
}

/// The newest list of a levy year and date that is stored complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newest {
    /// Decided on the register as it is now.
    Current(i64),
    /// Decided on the register as it was when its build began (UTC); a write since has
    /// made it stale.
    Stale(i64, NaiveDateTime),
    /// None stored yet.
    Missing,
}

/// The newest list of `levy_year` judged on `as_of` that is stored, and whether the
/// register changed since it was decided; nothing is decided here.
pub fn newest(
    conn: &mut AnyConnection,
    levy_year: i32,
    as_of: NaiveDate,
) -> Result<Newest, DbError> {
    let stamp = db_l::stamp(conn)?;
    Ok(match db_l::newest(conn, levy_year, as_of)? {
        Some((id, s, _)) if s == stamp => Newest::Current(id),
        Some((id, _, begun)) => Newest::Stale(id, begun),
        None => Newest::Missing,
    })
}

/// The levy years and dates whose list a [`Refresh`] of one database is deciding (the
/// service keeps one in its state).
#[derive(Debug, Default)]
pub struct Refreshes(Mutex<BTreeSet<(i32, NaiveDate)>>);

/// The claim of deciding the list of one levy year and date again, held by one caller
/// at a time: pages that answer from a stale list each ask for one, and only the first
/// while none is running gets it. Released when dropped.
#[derive(Debug)]
pub struct Refresh {
    running: Arc<Refreshes>,
    key: (i32, NaiveDate),
}

impl Refresh {
    /// The claim for `levy_year` on `as_of` among `running`, or `None` while another
    /// holds it.
    pub fn claim(running: &Arc<Refreshes>, levy_year: i32, as_of: NaiveDate) -> Option<Refresh> {
        let key = (levy_year, as_of);
        let mut set = running.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(key).then(|| Refresh {
            running: running.clone(),
            key,
        })
    }

    /// Decides the list as [`current`] does (one build at a time, the stamp read again
    /// under the lock), then releases the claim.
    pub fn run(self, conn: &mut AnyConnection, book: &dyn PolicyProvider) -> Result<i64, DbError> {
        current(conn, book, self.key.0, self.key.1)
    }
}

impl Drop for Refresh {
    fn drop(&mut self) {
        self.running
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// Decides the list into the table. The stamp was read before the first employer: a
/// write during the build makes a newer stamp, so this list is then decided again.
fn build(
    conn: &mut AnyConnection,
    book: &dyn PolicyProvider,
    levy_year: i32,
    as_of: NaiveDate,
    stamp: &str,
) -> Result<i64, DbError> {
    let now = chrono::Utc::now().naive_utc();
    let id = db_l::start(conn, levy_year, as_of, stamp, now)?;
    let mut entries: i64 = 0;
    violations::for_each_chunk(conn, book, levy_year, "", as_of, &mut |c, chunk| {
        let news = chunk
            .into_iter()
            .map(|rows| new_entry(id, rows))
            .collect::<Result<Vec<_>, _>>()?;
        entries += i64::try_from(news.len()).unwrap_or(i64::MAX);
        // One short transaction per chunk: other writers wait for a chunk, not a build.
        crate::db::write_transaction(c, |t| db_l::insert(t, &news))
    })?;
    db_l::finish(conn, id, entries)?;
    let gone = db_l::prune(conn, id, now, chrono::Duration::minutes(GRACE_MINUTES))?;
    tracing::info!(levy_year, %as_of, entries, replaced = gone, "violator list decided");
    Ok(id)
}

fn new_entry(list_id: i64, rows: Vec<ViolationRow>) -> Result<NewEntry, DbError> {
    let first = rows
        .first()
        .ok_or_else(|| DbError::Task("an employer of the violator list without a row".into()))?;
    let owed = first.outstanding_value;
    let owed_fen = to_fen(owed)
        .ok_or_else(|| DbError::Task(format!("amount owed {owed} is not whole fen")))?;
    let kinds = rows.iter().fold(0, |k, r| k | kind_bit(r.violation));
    let stored: Vec<StoredRow> = rows
        .iter()
        .map(|r| StoredRow {
            v: r.violation,
            zh: r.why_zh.clone(),
            en: r.why_en.clone(),
            cite: r.citation.clone(),
            out: r.outstanding.clone(),
        })
        .collect();
    let rows_json = serde_json::to_string(&stored)
        .map_err(|e| DbError::Task(format!("violator list entry: {e}")))?;
    Ok(NewEntry {
        list_id,
        public_body: first
            .kind
            .parse::<EmployerKind>()
            .is_ok_and(|k| k.is_public_body()),
        uscc: first.uscc.clone(),
        name: first.name.clone(),
        kind: first.kind.clone(),
        region: first.region.clone(),
        owed_fen,
        kinds,
        n_rows: i32::try_from(rows.len()).unwrap_or(i32::MAX),
        rows_json,
    })
}

fn entry(r: EntryRow) -> Result<Entry, DbError> {
    let stored: Vec<StoredRow> = serde_json::from_str(&r.rows_json)
        .map_err(|e| DbError::Task(format!("violator list entry {} unreadable: {e}", r.uscc)))?;
    let owed = from_fen(r.owed_fen);
    let employer_outstanding = format_money(owed);
    let violations = stored
        .into_iter()
        .map(|s| ViolationRow {
            uscc: r.uscc.clone(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            region: r.region.clone(),
            violation: s.v,
            why_zh: s.zh,
            why_en: s.en,
            citation: s.cite,
            outstanding: s.out,
            employer_outstanding: employer_outstanding.clone(),
            outstanding_value: owed,
        })
        .collect();
    Ok(Entry {
        uscc: r.uscc,
        name: r.name,
        kind: r.kind,
        region: r.region,
        owed,
        violations,
    })
}

/// Up to `per_page` entries of list `list` passing `f` after `after` (amount owed in
/// fen, USCC), and whether more follow.
pub fn page(
    conn: &mut AnyConnection,
    list: i64,
    f: &EntryFilter,
    after: Option<(i64, &str)>,
    per_page: i64,
) -> Result<(Vec<Entry>, bool), DbError> {
    let mut rows = db_l::page(conn, list, f, after, per_page.saturating_add(1))?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(0));
    let entries = rows.into_iter().map(entry).collect::<Result<_, _>>()?;
    Ok((entries, more))
}

/// Employers of list `list` passing `f`.
pub fn count(conn: &mut AnyConnection, list: i64, f: &EntryFilter) -> Result<i64, DbError> {
    if *f == EntryFilter::default() {
        // The whole list: counted when it was decided, not again over the index.
        return db_l::entries_of(conn, list);
    }
    db_l::count(conn, list, f)
}

/// Rows of list `list` passing `f` that are of `kind` (all its rows when `None`).
pub fn count_rows(
    conn: &mut AnyConnection,
    list: i64,
    f: &EntryFilter,
    kind: Option<ViolationKind>,
) -> Result<i64, DbError> {
    match kind {
        // An employer is listed at most once for each kind.
        Some(k) => {
            let f = EntryFilter {
                kind_bit: Some(kind_bit(k)),
                ..f.clone()
            };
            db_l::count(conn, list, &f)
        }
        None => db_l::count_rows(conn, list, f),
    }
}

/// Every entry of list `list` passing `f`, in the list's order, [`WALK_CHUNK`] at a time.
/// `emit` answers false to stop. A list replaced and removed while it is read is an
/// error, never a short list.
pub fn for_each(
    conn: &mut AnyConnection,
    list: i64,
    f: &EntryFilter,
    emit: &mut dyn FnMut(Entry) -> Result<bool, DbError>,
) -> Result<(), DbError> {
    let mut after: Option<(i64, String)> = None;
    loop {
        let rows = db_l::page(
            conn,
            list,
            f,
            after.as_ref().map(|(o, u)| (*o, u.as_str())),
            WALK_CHUNK,
        )?;
        let full = i64::try_from(rows.len()).unwrap_or(0) == WALK_CHUNK;
        after = rows.last().map(|r| (r.owed_fen, r.uscc.clone()));
        for r in rows {
            if !emit(entry(r)?)? {
                return Ok(());
            }
        }
        if !full {
            break;
        }
    }
    if db_l::exists(conn, list)? {
        Ok(())
    } else {
        Err(DbError::Task(
            "the violator list was replaced while it was read".into(),
        ))
    }
}

/// Every row of list `list` passing `f` that is of `kind` (all when `None`), skipping
/// the first `skip` and stopping after `limit` when given: the API's rows, in order.
pub fn for_each_row(
    conn: &mut AnyConnection,
    list: i64,
    f: &EntryFilter,
    kind: Option<ViolationKind>,
    skip: i64,
    limit: Option<i64>,
    emit: &mut dyn FnMut(ViolationRow) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let f = EntryFilter {
        kind_bit: kind.map(kind_bit),
        ..f.clone()
    };
    let mut index: i64 = 0;
    for_each(conn, list, &f, &mut |e| {
        for r in e.violations {
            if kind.is_some_and(|k| r.violation != k) {
                continue;
            }
            if limit.is_some_and(|l| index >= skip.saturating_add(l)) {
                return Ok(false);
            }
            if index >= skip {
                emit(r)?;
            }
            index += 1;
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_refresh_at_a_time_per_year_and_date() {
        let running = Arc::new(Refreshes::default());
        let day = NaiveDate::from_ymd_opt(2026, 1, 30).unwrap_or_default();
        let first = Refresh::claim(&running, 2025, day);
        assert!(first.is_some());
        assert!(
            Refresh::claim(&running, 2025, day).is_none(),
            "one at a time"
        );
        assert!(Refresh::claim(&running, 2025, day.succ_opt().unwrap_or(day)).is_some());
        // Another database's service state claims on its own.
        assert!(Refresh::claim(&Arc::default(), 2025, day).is_some());
        drop(first);
        assert!(
            Refresh::claim(&running, 2025, day).is_some(),
            "released when done"
        );
    }
}
