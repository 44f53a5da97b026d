//! The stored violator lists (`registry::violator_list`): a list per levy year, date and
//! state of the register; its entries, one per employer, read in the list's order
//! (amount owed, largest first, then USCC) from the index `violator_entries_order`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max, sql, sum};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use std::collections::HashSet;

use super::schema::{
    assessments, audit_log, certificate_resolutions, declaration_versions, employers,
    hardship_decisions, payments, reserved_positions, violator_entries, violator_lists,
};
use super::{AnyConnection, DbError};

/// Audit actions that change nothing the violator list reads (sign-ins, accounts,
/// tokens): they do not make a stored list stale.
const UNREAD_ACTIONS: [&str; 4] = ["session.%", "user.%", "token.%", "activation.%"];

/// The state of the register as far as the violator list reads it: the newest audit
/// entry of a write it reads, and the newest row of every table it reads that is
/// written without an audit entry of its own (a batch assessment run). Any write the list
/// reads makes a new stamp; rows are never renumbered, so a stamp is never repeated.
pub fn stamp(conn: &mut AnyConnection) -> Result<String, DbError> {
    let mut q = audit_log::table.select(audit_log::id).into_boxed();
    for pattern in UNREAD_ACTIONS {
        q = q.filter(audit_log::action.not_like(pattern));
    }
    // Opening a roster line is a read, audited as one.
    let audit = q
        .filter(audit_log::action.ne("roster_line.reveal"))
        .order(audit_log::id.desc())
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0);
    let newest = |v: Option<i64>| v.unwrap_or(0);
    let a = newest(
        assessments::table
            .select(max(assessments::id))
            .first(conn)?,
    );
    let p = newest(payments::table.select(max(payments::id)).first(conn)?);
    let v = newest(
        declaration_versions::table
            .select(max(declaration_versions::id))
            .first(conn)?,
    );
    let h = newest(
        hardship_decisions::table
            .select(max(hardship_decisions::id))
            .first(conn)?,
    );
    let c = newest(
        certificate_resolutions::table
            .select(max(certificate_resolutions::id))
            .first(conn)?,
    );
    let r = newest(
        reserved_positions::table
            .select(max(reserved_positions::id))
            .first(conn)?,
    );
    let e = newest(employers::table.select(max(employers::id)).first(conn)?);
    Ok(format!("l{audit}.a{a}.p{p}.v{v}.h{h}.c{c}.r{r}.e{e}"))
}

/// The newest complete list of `levy_year` on `as_of` decided on `stamp`.
pub fn find(
    conn: &mut AnyConnection,
    levy_year: i32,
    as_of: NaiveDate,
    stamp: &str,
) -> Result<Option<i64>, DbError> {
    Ok(violator_lists::table
        .filter(violator_lists::levy_year.eq(levy_year))
        .filter(violator_lists::as_of.eq(as_of))
        .filter(violator_lists::stamp.eq(stamp))
        .filter(violator_lists::complete.eq(true))
        .select(max(violator_lists::id))
        .first::<Option<i64>>(conn)?)
}

/// The newest complete list of `levy_year` on `as_of`, whatever its stamp: its id,
/// stamp and when its build began (the register it read is the one of that moment).
pub fn newest(
    conn: &mut AnyConnection,
    levy_year: i32,
    as_of: NaiveDate,
) -> Result<Option<(i64, String, NaiveDateTime)>, DbError> {
    Ok(violator_lists::table
        .filter(violator_lists::levy_year.eq(levy_year))
        .filter(violator_lists::as_of.eq(as_of))
        .filter(violator_lists::complete.eq(true))
        .order(violator_lists::id.desc())
        .select((
            violator_lists::id,
            violator_lists::stamp,
            violator_lists::built_at,
        ))
        .first(conn)
        .optional()?)
}

/// True while list `id` is stored (a newer one may have replaced it).
pub fn exists(conn: &mut AnyConnection, id: i64) -> Result<bool, DbError> {
    Ok(violator_lists::table
        .find(id)
        .select(violator_lists::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// Starts a list, not complete until [`finish`].
pub fn start(
    conn: &mut AnyConnection,
    levy_year: i32,
    as_of: NaiveDate,
    stamp: &str,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    let values = (
        violator_lists::levy_year.eq(levy_year),
        violator_lists::as_of.eq(as_of),
        violator_lists::stamp.eq(stamp),
        violator_lists::complete.eq(false),
        violator_lists::entries.eq(0i64),
        violator_lists::built_at.eq(now),
    );
    // RETURNING is not on the MultiBackend; both backends have it natively.
    let id = crate::per_backend!(&mut *conn, |c| diesel::insert_into(violator_lists::table)
        .values(values)
        .returning(violator_lists::id)
        .get_result::<i64>(c))?;
    Ok(id)
}

/// Marks list `id` complete with its number of entries.
pub fn finish(conn: &mut AnyConnection, id: i64, entries: i64) -> Result<(), DbError> {
    diesel::update(violator_lists::table.find(id))
        .set((
            violator_lists::complete.eq(true),
            violator_lists::entries.eq(entries),
        ))
        .execute(conn)?;
    // PostgreSQL plans a page of a list it has no statistics of as a bitmap scan and a
    // sort of the whole range (340 ms at 20,000 employers) instead of a walk of the
    // order index (under 1 ms): BENCHMARKS.md, "Lists". SQLite walks the index anyway.
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("ANALYZE violator_entries").execute(c)?;
    }
    Ok(())
}

/// Removes the lists other than `keep` that no reader can want, and returns how many:
/// a list replaced by a newer complete one of the same levy year and date begun more
/// than `grace` before `now` (a page or a download may still be reading the one it
/// replaced: pages answer from the newest complete list while the next is decided), a
/// list never completed and begun more than `grace` ago, and any list begun more than a
/// day ago.
pub fn prune(
    conn: &mut AnyConnection,
    keep: i64,
    now: NaiveDateTime,
    grace: chrono::Duration,
) -> Result<usize, DbError> {
    let lists: Vec<(i64, i32, NaiveDate, bool, NaiveDateTime)> = violator_lists::table
        .select((
            violator_lists::id,
            violator_lists::levy_year,
            violator_lists::as_of,
            violator_lists::complete,
            violator_lists::built_at,
        ))
        .order(violator_lists::id.desc())
        .load(conn)?;
    let (settled, day) = (now - grace, now - chrono::Duration::days(1));
    // Newest first: once a complete list of a year and date begun before `settled` is
    // seen, every older one of that year and date has been replaced long enough.
    let mut replaced: HashSet<(i32, NaiveDate)> = HashSet::new();
    let mut old = Vec::new();
    for (id, levy_year, as_of, complete, begun) in lists {
        let key = (levy_year, as_of);
        if id != keep && (begun < day || (!complete && begun < settled) || replaced.contains(&key))
        {
            old.push(id);
        }
        if complete && begun < settled {
            replaced.insert(key);
        }
    }
    for id in &old {
        diesel::delete(violator_entries::table.filter(violator_entries::list_id.eq(id)))
            .execute(conn)?;
        diesel::delete(violator_lists::table.find(id)).execute(conn)?;
    }
    Ok(old.len())
}

/// An entry to store (fields: the table's columns).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = violator_entries)]
pub struct NewEntry {
    pub list_id: i64,
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub public_body: bool,
    pub owed_fen: i64,
    pub kinds: i32,
    pub n_rows: i32,
    pub rows_json: String,
}

/// Columns a [`NewEntry`] binds.
const ENTRY_COLUMNS: usize = 10;

/// Stores entries with multi-row statements sized to the backend's parameter limit.
pub fn insert(conn: &mut AnyConnection, entries: &[NewEntry]) -> Result<(), DbError> {
    let per = conn.rows_per_statement(ENTRY_COLUMNS);
    for chunk in entries.chunks(per) {
        // A multi-row INSERT does not compile for the MultiBackend.
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(violator_entries::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// A stored entry as read (fields: the table's columns).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = violator_entries)]
pub struct EntryRow {
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub owed_fen: i64,
    pub n_rows: i32,
    pub rows_json: String,
}

/// What the entries read must pass; every part optional, all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Region code prefix ("" for all).
    pub region_prefix: String,
    /// Entries with this bit set in `kinds` (at least one violation of that kind).
    pub kind_bit: Option<i32>,
    /// Owed at least (fen).
    pub min_fen: Option<i64>,
    /// Owed at most (fen).
    pub max_fen: Option<i64>,
    /// Government agencies and public institutions only.
    pub public_only: bool,
}

/// `$q` (a boxed query over violator_entries) narrowed to list `$list` and filter `$f`.
macro_rules! filtered {
    ($q:expr, $list:expr, $f:expr) => {{
        let f: &EntryFilter = $f;
        let mut q = $q.filter(violator_entries::list_id.eq($list));
        if !f.region_prefix.is_empty() {
            q = q.filter(violator_entries::region.like(format!("{}%", f.region_prefix)));
        }
        if let Some(bit) = f.kind_bit {
            // The bit is a constant of the code (one kind's place), never input.
            q = q.filter(sql::<Bool>(&format!("(kinds & {bit}) <> 0")));
        }
        if let Some(m) = f.min_fen {
            q = q.filter(violator_entries::owed_fen.ge(m));
        }
        if let Some(m) = f.max_fen {
            q = q.filter(violator_entries::owed_fen.le(m));
        }
        if f.public_only {
            q = q.filter(violator_entries::public_body.eq(true));
        }
        q
    }};
}

/// Up to `limit` entries of list `list` passing `f`, in the list's order, after the
/// entry `after` (its amount owed in fen and USCC) when given: a keyset page, one range
/// of the order index wherever it starts.
pub fn page(
    conn: &mut AnyConnection,
    list: i64,
    f: &EntryFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let mut q = filtered!(
        violator_entries::table
            .select(EntryRow::as_select())
            .into_boxed(),
        list,
        f
    );
    if let Some((owed, uscc)) = after {
        // `owed <= last` bounds the index range; the OR picks up after the last USCC.
        q = q.filter(violator_entries::owed_fen.le(owed)).filter(
            violator_entries::owed_fen
                .lt(owed)
                .or(violator_entries::uscc.gt(uscc.to_owned())),
        );
    }
    Ok(q.order((
        violator_entries::owed_fen.desc(),
        violator_entries::uscc.asc(),
    ))
    .limit(limit)
    .load(conn)?)
}

/// Entries of list `list` as counted when it was decided.
pub fn entries_of(conn: &mut AnyConnection, list: i64) -> Result<i64, DbError> {
    Ok(violator_lists::table
        .find(list)
        .select(violator_lists::entries)
        .first(conn)?)
}

/// Employers of list `list` passing `f`.
pub fn count(conn: &mut AnyConnection, list: i64, f: &EntryFilter) -> Result<i64, DbError> {
    Ok(filtered!(
        violator_entries::table.select(count_star()).into_boxed(),
        list,
        f
    )
    .first(conn)?)
}

/// Rows (violations) of the entries of list `list` passing `f`.
pub fn count_rows(conn: &mut AnyConnection, list: i64, f: &EntryFilter) -> Result<i64, DbError> {
    let total: Option<i64> = filtered!(
        violator_entries::table
            .select(sum(violator_entries::n_rows))
            .into_boxed(),
        list,
        f
    )
    .first(conn)?;
    Ok(total.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes_ago: i64, now: NaiveDateTime) -> NaiveDateTime {
        now - chrono::Duration::minutes(minutes_ago)
    }

    #[test]
    fn a_replaced_list_stays_until_its_replacement_began_the_grace_ago() {
        let (_dir, db) = crate::db::test_support::temp_db();
        let mut c = db.conn().expect("conn");
        let now = chrono::Utc::now().naive_utc();
        let (year, day) = (
            2025,
            NaiveDate::from_ymd_opt(2026, 1, 30).unwrap_or_default(),
        );
        let other = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default();
        let list = |c: &mut AnyConnection, d: NaiveDate, stamp: &str, ago: i64, done: bool| {
            let id = start(c, year, d, stamp, at(ago, now)).expect("start");
            if done {
                finish(c, id, 0).expect("finish");
            }
            id
        };
        // Oldest first: replaced by one begun 30 minutes ago, replaced by one begun
        // 5 minutes ago, replaced by the one just decided.
        let first = list(&mut c, day, "s1", 60, true);
        let second = list(&mut c, day, "s2", 30, true);
        let third = list(&mut c, day, "s3", 5, true);
        let dead = list(&mut c, day, "s3", 20, false);
        let young = list(&mut c, day, "s4", 2, false);
        let old_day = list(&mut c, other, "s0", 60 * 25, true);
        let other_day = list(&mut c, other, "s1", 50, true);
        let keep = list(&mut c, day, "s4", 0, true);
        let gone = prune(&mut c, keep, now, chrono::Duration::minutes(10)).expect("prune");
        let left: Vec<i64> = violator_lists::table
            .select(violator_lists::id)
            .order(violator_lists::id)
            .load(&mut c)
            .expect("lists");
        // `first` was replaced by `second` 30 minutes ago; `second` by `third` only 5
        // minutes ago, so a reader of it has time yet; the unfinished build of 20
        // minutes ago is dead, the one of 2 minutes ago may still be running; another
        // date's list stays while younger than a day.
        assert_eq!(gone, 3);
        assert_eq!(left, vec![second, third, young, other_day, keep]);
        assert!(![first, dead, old_day].iter().any(|id| left.contains(id)));
    }
}
