//! Published compliance notices (公示): insert and read, never update.
//!
//! There is deliberately no update or delete function here, and the migration adds a
//! trigger that refuses both: a correction is a new notice that names the one it
//! replaces, and whether a notice is superseded is read from that link.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use super::schema::{employers, notice_entries, notice_mailings, notices};
use super::{AnyConnection, DbError};

/// A notice as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    /// Row id: the public notice number.
    pub id: i64,
    /// Region code the notice covers (and the regions below it).
    pub region: String,
    /// Levy year.
    pub levy_year: i32,
    /// Publication date (China).
    pub published_on: NaiveDate,
    /// Last day on which objections are accepted.
    pub objection_until: NaiveDate,
    /// The notice this one corrects.
    pub replaces_id: Option<i64>,
    /// Number of employers listed.
    pub entries: i32,
    /// The canonical JSON of the published content.
    pub content_json: String,
    /// SHA-256 (hex) of `content_json`'s UTF-8 bytes.
    pub content_sha256: String,
    /// Who published it (actor).
    pub published_by: String,
    /// When (UTC).
    pub published_at: NaiveDateTime,
    /// The entries are rows of `notice_entries` and `content_json` has an empty
    /// `entries` array; otherwise (notices published before) they are in `content_json`.
    pub entries_in_rows: bool,
}

/// A notice to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNotice<'a> {
    /// The number reserved by [`reserve_id`], which the entries already carry.
    pub id: i64,
    /// Region code.
    pub region: &'a str,
    /// Levy year.
    pub levy_year: i32,
    /// Publication date.
    pub published_on: NaiveDate,
    /// End of the objection period.
    pub objection_until: NaiveDate,
    /// The notice corrected.
    pub replaces_id: Option<i64>,
    /// Employers listed.
    pub entries: i32,
    /// Canonical content.
    pub content_json: &'a str,
    /// Its digest.
    pub content_sha256: &'a str,
    /// Actor.
    pub published_by: &'a str,
    /// Now (UTC).
    pub published_at: NaiveDateTime,
    /// Entries stored as rows (always, for a new notice).
    pub entries_in_rows: bool,
}

/// The number the next notice gets, to be inserted with [`insert`] in the same write
/// transaction. Its entries are written first (they carry the number), so the number is
/// taken, not drawn from the sequence: a publication refused half-way leaves no gap in
/// the public numbering. PostgreSQL: the table is locked against other writers until
/// the transaction ends (publications are rare; readers are not blocked); SQLite's
/// write transaction already excludes them.
pub fn reserve_id(conn: &mut AnyConnection) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        next: i64,
    }
    let next: Next = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(
            // AUTOINCREMENT never reuses a number: sqlite_sequence holds the highest.
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'notices'), 0), \
             COALESCE((SELECT MAX(id) FROM notices), 0)) + 1 AS next",
        )
        .get_result(c)?,
        AnyConnection::Postgresql(c) => {
            diesel::sql_query("LOCK TABLE notices IN EXCLUSIVE MODE").execute(c)?;
            diesel::sql_query("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM notices")
                .get_result(c)?
        }
    };
    Ok(next.next)
}

/// Inserts a notice under its reserved number.
pub fn insert(conn: &mut AnyConnection, new: &NewNotice<'_>) -> Result<i64, DbError> {
    diesel::insert_into(notices::table)
        .values(new)
        .execute(conn)?;
    if let AnyConnection::Postgresql(c) = conn {
        // Keeps the column's sequence past the numbers taken, for any other client.
        diesel::sql_query("SELECT setval(pg_get_serial_sequence('notices', 'id'), $1)")
            .bind::<diesel::sql_types::BigInt, _>(new.id)
            .execute(c)?;
    }
    Ok(new.id)
}

/// One entry of a notice, as stored (and as published).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notice_entries)]
pub struct EntryRow {
    /// The notice.
    pub notice_id: i64,
    /// Its place in the notice, from 1.
    pub entry_no: i32,
    /// USCC.
    pub uscc: String,
    /// Registered name.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// Kind as printed.
    pub kind_zh: String,
    /// Region code.
    pub region: String,
    /// Region name.
    pub region_name: String,
    /// Staff (4 decimals), absent when not declared.
    pub staff: Option<String>,
    /// Required.
    pub required: Option<String>,
    /// Counted.
    pub counted: Option<String>,
    /// Status code.
    pub status: String,
    /// Status as printed.
    pub status_zh: String,
}

/// An entry to store, borrowed from the entry composed. `None` is stored as NULL (the
/// nullable columns have no other default), which PostgreSQL's binary COPY needs.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notice_entries, treat_none_as_default_value = false)]
pub struct NewEntry<'a> {
    /// The notice.
    pub notice_id: i64,
    /// Its place in the notice, from 1.
    pub entry_no: i32,
    /// USCC.
    pub uscc: &'a str,
    /// Registered name.
    pub name: &'a str,
    /// Kind code.
    pub kind: &'a str,
    /// Kind as printed.
    pub kind_zh: &'a str,
    /// Region code.
    pub region: &'a str,
    /// Region name.
    pub region_name: &'a str,
    /// Staff (4 decimals), absent when not declared.
    pub staff: Option<&'a str>,
    /// Required.
    pub required: Option<&'a str>,
    /// Counted.
    pub counted: Option<&'a str>,
    /// Status code.
    pub status: &'a str,
    /// Status as printed.
    pub status_zh: &'a str,
}

/// Inserts entries: on PostgreSQL by binary COPY (one statement, nothing to build or
/// plan per batch; the statement trigger that freezes published notices still fires);
/// on SQLite one cached prepared statement re-bound per row, cheaper in-process than
/// building and preparing a fresh multi-row statement each chunk.
pub fn insert_entries(conn: &mut AnyConnection, rows: &[NewEntry<'_>]) -> Result<(), DbError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(notice_entries::table)
                    .values(row)
                    .execute(c)?;
            }
        }
        AnyConnection::Postgresql(c) => {
            if !rows.is_empty() {
                diesel::copy_from(notice_entries::table)
                    .from_insertable(rows)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Up to `limit` entries of notice `id` after place `after`, in order: the chunks a
/// whole notice is served by (the primary key's range).
pub fn entries_after(
    conn: &mut AnyConnection,
    id: i64,
    after: i32,
    limit: i64,
) -> Result<Vec<EntryRow>, DbError> {
    Ok(notice_entries::table
        .filter(notice_entries::notice_id.eq(id))
        .filter(notice_entries::entry_no.gt(after))
        .order(notice_entries::entry_no.asc())
        .limit(limit)
        .select(EntryRow::as_select())
        .load(conn)?)
}

/// A keyset page of notice `id`'s entries whose name contains `name_part` (all when
/// `None`): up to `limit` after place `after`, or the `limit` before place `before`,
/// in order either way.
pub fn entries_page(
    conn: &mut AnyConnection,
    id: i64,
    name_part: Option<&str>,
    after: Option<i32>,
    before: Option<i32>,
    limit: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let mut q = notice_entries::table
        .filter(notice_entries::notice_id.eq(id))
        .select(EntryRow::as_select())
        .into_boxed();
    if let Some(part) = name_part {
        q = q.filter(notice_entries::name.like(like_contains(part)).escape('\\'));
    }
    let mut rows = match before {
        Some(b) => {
            let mut rows: Vec<EntryRow> = q
                .filter(notice_entries::entry_no.lt(b))
                .order(notice_entries::entry_no.desc())
                .limit(limit)
                .load(conn)?;
            rows.reverse();
            rows
        }
        None => q
            .filter(notice_entries::entry_no.gt(after.unwrap_or(0)))
            .order(notice_entries::entry_no.asc())
            .limit(limit)
            .load(conn)?,
    };
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// Whether notice `id` has an entry named like `name_part` before place `before`
/// (a page's "previous" link needs to know).
pub fn any_entry_before(
    conn: &mut AnyConnection,
    id: i64,
    name_part: Option<&str>,
    before: i32,
) -> Result<bool, DbError> {
    let mut q = notice_entries::table
        .filter(notice_entries::notice_id.eq(id))
        .filter(notice_entries::entry_no.lt(before))
        .select(notice_entries::entry_no)
        .into_boxed();
    if let Some(part) = name_part {
        q = q.filter(notice_entries::name.like(like_contains(part)).escape('\\'));
    }
    Ok(q.first::<i32>(conn).optional()?.is_some())
}

/// Entries of notice `id` whose name contains `name_part`.
pub fn count_named(conn: &mut AnyConnection, id: i64, name_part: &str) -> Result<i64, DbError> {
    Ok(notice_entries::table
        .filter(notice_entries::notice_id.eq(id))
        .filter(
            notice_entries::name
                .like(like_contains(name_part))
                .escape('\\'),
        )
        .count()
        .get_result(conn)?)
}

/// A LIKE pattern matching text that contains `part` literally.
fn like_contains(part: &str) -> String {
    let mut p = String::with_capacity(part.len() + 2);
    p.push('%');
    for ch in part.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The entry of `uscc` in notice `id`.
pub fn entry_of(
    conn: &mut AnyConnection,
    id: i64,
    uscc: &str,
) -> Result<Option<EntryRow>, DbError> {
    Ok(notice_entries::table
        .filter(notice_entries::notice_id.eq(id))
        .filter(notice_entries::uscc.eq(uscc))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// The entries of `usccs` in notice `id` (the federation's register names them).
pub fn entries_of(
    conn: &mut AnyConnection,
    id: i64,
    usccs: &[String],
) -> Result<Vec<EntryRow>, DbError> {
    let mut out = Vec::new();
    for chunk in usccs.chunks(conn.rows_per_statement(1)) {
        out.extend(
            notice_entries::table
                .filter(notice_entries::notice_id.eq(id))
                .filter(notice_entries::uscc.eq_any(chunk))
                .select(EntryRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// One notice.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<NoticeRow>, DbError> {
    Ok(notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()?)
}

/// The digest of notice `id`, without its content.
pub fn digest_of(conn: &mut AnyConnection, id: i64) -> Result<Option<String>, DbError> {
    Ok(notices::table
        .find(id)
        .select(notices::content_sha256)
        .first(conn)
        .optional()?)
}

/// The notice that corrects `id`, if one was published.
pub fn successor_of(conn: &mut AnyConnection, id: i64) -> Result<Option<i64>, DbError> {
    Ok(notices::table
        .filter(notices::replaces_id.eq(id))
        .select(notices::id)
        .first(conn)
        .optional()?)
}

/// A line of the notice index (no content).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct NoticeHead {
    /// Id.
    pub id: i64,
    /// Region.
    pub region: String,
    /// Levy year.
    pub levy_year: i32,
    /// Publication date.
    pub published_on: NaiveDate,
    /// End of the objection period.
    pub objection_until: NaiveDate,
    /// The notice corrected.
    pub replaces_id: Option<i64>,
    /// Employers listed.
    pub entries: i32,
    /// Digest.
    pub content_sha256: String,
}

/// Notices of regions starting with `region_prefix`, optionally of one levy year,
/// newest first, with the ids of those that were corrected.
pub fn list(
    conn: &mut AnyConnection,
    region_prefix: &str,
    levy_year: Option<i32>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<NoticeHead>, i64), DbError> {
    let filtered = || {
        let mut q = notices::table
            .filter(notices::region.like(format!("{region_prefix}%")))
            .into_boxed();
        if let Some(y) = levy_year {
            q = q.filter(notices::levy_year.eq(y));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(notices::id.desc())
        .offset(offset)
        .limit(limit)
        .select(NoticeHead::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Of `ids`, those a later notice replaces, with the id of the correction.
pub fn successors(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    let rows: Vec<(Option<i64>, i64)> = notices::table
        .filter(notices::replaces_id.eq_any(ids))
        .select((notices::replaces_id, notices::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(old, new)| old.map(|o| (o, new)))
        .collect())
}

/// An employer with what a notice says of it: only the columns an entry is made of.
#[derive(Debug, Clone, QueryableByName)]
pub struct SnapshotRow {
    /// USCC.
    #[diesel(sql_type = Text)]
    pub uscc: String,
    /// Registered name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Kind code.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Region code.
    #[diesel(sql_type = Text)]
    pub region: String,
    /// Declaration status of the year, absent when none was made.
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    /// Its current version.
    #[diesel(sql_type = Nullable<Integer>)]
    pub version: Option<i32>,
    /// Digest of its current body.
    #[diesel(sql_type = Nullable<Text>)]
    pub body_digest: Option<String>,
    /// The declaration version the current assessment was made of.
    #[diesel(sql_type = Nullable<Integer>)]
    pub assessed_version: Option<i32>,
    /// The body digest of that version, read only when it is not the current one.
    #[diesel(sql_type = Nullable<Text>)]
    pub assessed_body_digest: Option<String>,
    /// Staff ×12×10⁴.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub staff_x12_e4: Option<i64>,
    /// Required ×10⁴.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub required_e4: Option<i64>,
    /// Disabled counted ×12×10⁴.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub disabled_x12_e4: Option<i64>,
    /// Shortfall ×10⁴.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub shortfall_e4: Option<i64>,
    /// Exempt.
    #[diesel(sql_type = Nullable<Bool>)]
    pub exempt: Option<bool>,
}

/// Where a chunk of the notice's employers starts: after this (region, name, USCC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotKey {
    /// Region code.
    pub region: String,
    /// Name.
    pub name: String,
    /// USCC.
    pub uscc: String,
}

/// The least text above every text that starts with `prefix`.
fn prefix_end(prefix: &str) -> String {
    let mut p = prefix.to_owned();
    match p.pop().and_then(|c| char::from_u32(u32::from(c) + 1)) {
        Some(next) => {
            p.push(next);
            p
        }
        None => char::MAX.to_string(),
    }
}

/// Up to `limit` employers under `region_prefix` registered by `year_end` (or undated),
/// after `after`, with the declaration of the year and current assessment of each, in
/// the notice's order: region, name, USCC, compared by code point on both backends.
///
/// A keyset over `employers_notice_order`: each chunk starts in the index where the
/// last one stopped and stops at `limit`. That index, `declarations_notice` and
/// `assessments_roll` hold every column read, so no probe reads a table row
/// (BENCHMARKS.md, "Notices", has the plans). SQLite, without statistics, would rather
/// probe the unique indexes of the declarations and the current assessments ("one
/// row"), and then read the rows themselves: `INDEXED BY` names the covering ones.
/// PostgreSQL compares in the "C" collation, the one the index is built in, so that the
/// order does not depend on the database's collation. `a.is_current` is bare, not
/// `= true`: SQLite uses a partial index only for a condition it can match.
pub fn snapshot_chunk(
    conn: &mut AnyConnection,
    region_prefix: &str,
    levy_year: i32,
    year_end: NaiveDate,
    after: &SnapshotKey,
    limit: i64,
) -> Result<Vec<SnapshotRow>, DbError> {
    use diesel::sql_types::Date;
    macro_rules! chunk_sql {
        ($declarations:literal, $assessments:literal, $c:literal) => {
            concat!(
                "SELECT e.uscc, e.name, e.kind, e.region, d.status, d.version, ",
                "d.body_digest, a.declaration_version AS assessed_version, ",
                "dv.body_digest AS assessed_body_digest, a.staff_x12_e4, a.required_e4, ",
                "a.disabled_x12_e4, a.shortfall_e4, a.exempt ",
                "FROM employers e ",
                "LEFT JOIN ",
                $declarations,
                " ON d.employer_id = e.id AND d.levy_year = $1 ",
                "LEFT JOIN ",
                $assessments,
                " ON a.employer_id = e.id AND a.levy_year = $2 AND a.is_current ",
                // The version the assessment was made of: certifying a declaration makes
                // a new version of the same body, which the assessment still describes.
                // Looked up only when it is not the current version (mostly it is).
                "LEFT JOIN declaration_versions dv ON dv.declaration_id = a.declaration_id ",
                "AND dv.version = a.declaration_version AND a.declaration_version <> d.version ",
                "WHERE (e.region",
                $c,
                ", e.name",
                $c,
                ", e.uscc",
                $c,
                ") > ($3, $4, $5) ",
                // The prefix as a range, which the index can stop at (LIKE alone it
                // cannot).
                "AND e.region",
                $c,
                " < $6 AND e.region LIKE $7 ",
                // An employer registered after the levy year did not exist in it.
                "AND (e.registered_on IS NULL OR e.registered_on <= $8) ",
                "ORDER BY e.region",
                $c,
                ", e.name",
                $c,
                ", e.uscc",
                $c,
                " LIMIT $9"
            )
        };
    }
    let end = prefix_end(region_prefix);
    let pattern = format!("{region_prefix}%");
    macro_rules! run {
        ($c:expr, $sql:expr) => {
            diesel::sql_query($sql)
                .bind::<Integer, _>(levy_year)
                .bind::<Integer, _>(levy_year)
                .bind::<Text, _>(&after.region)
                .bind::<Text, _>(&after.name)
                .bind::<Text, _>(&after.uscc)
                .bind::<Text, _>(&end)
                .bind::<Text, _>(&pattern)
                .bind::<Date, _>(year_end)
                .bind::<BigInt, _>(limit)
                .load::<SnapshotRow>($c)?
        };
    }
    Ok(match conn {
        AnyConnection::Sqlite(c) => run!(
            c,
            chunk_sql!(
                "declarations d INDEXED BY declarations_notice",
                "assessments a INDEXED BY assessments_roll",
                ""
            )
        ),
        AnyConnection::Postgresql(c) => run!(
            c,
            chunk_sql!("declarations d", "assessments a", " COLLATE \"C\"")
        ),
    })
}

/// Records that notice `id` owes its employers their mails, in the transaction that
/// publishes it (docs/notices.md, "Mails").
pub fn open_mailing(conn: &mut AnyConnection, id: i64) -> Result<(), DbError> {
    diesel::insert_into(notice_mailings::table)
        .values((
            notice_mailings::notice_id.eq(id),
            notice_mailings::planned_through.eq(0),
            notice_mailings::queued.eq(0_i64),
        ))
        .execute(conn)?;
    Ok(())
}

/// The notices whose mails are not all planned yet, oldest first.
pub fn open_mailings(conn: &mut AnyConnection) -> Result<Vec<i64>, DbError> {
    Ok(notice_mailings::table
        .filter(notice_mailings::finished_at.is_null())
        .order(notice_mailings::notice_id.asc())
        .select(notice_mailings::notice_id)
        .load(conn)?)
}

/// Where the planning of notice `id`'s mails stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct Mailing {
    /// The last entry whose mail is queued (0 before the first).
    pub planned_through: i32,
    /// Mails queued so far.
    pub queued: i64,
    /// Every entry planned.
    pub finished: bool,
}

/// The mailing of notice `id`, locked until the transaction ends on PostgreSQL (so two
/// planners take its chunks in turn; SQLite's write transaction already excludes them).
/// `None` when the notice owes none (published before mails were planned apart).
pub fn mailing_for_update(conn: &mut AnyConnection, id: i64) -> Result<Option<Mailing>, DbError> {
    let q = notice_mailings::table.find(id).select((
        notice_mailings::planned_through,
        notice_mailings::queued,
        notice_mailings::finished_at.is_not_null(),
    ));
    let row: Option<(i32, i64, bool)> = match conn {
        AnyConnection::Sqlite(c) => q.first(c).optional()?,
        AnyConnection::Postgresql(c) => q.for_update().first(c).optional()?,
    };
    Ok(row.map(|(planned_through, queued, finished)| Mailing {
        planned_through,
        queued,
        finished,
    }))
}

/// Moves notice `id`'s mailing on to entry `through`, with `queued` mails queued in all,
/// finished at `finished_at` when given.
pub fn advance_mailing(
    conn: &mut AnyConnection,
    id: i64,
    through: i32,
    queued: i64,
    finished_at: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    diesel::update(notice_mailings::table.find(id))
        .set((
            notice_mailings::planned_through.eq(through),
            notice_mailings::queued.eq(queued),
            notice_mailings::finished_at.eq(finished_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// An entry of a notice with the employer it names, for its mail.
#[derive(Debug, Clone, Queryable)]
pub struct MailEntry {
    /// Its place in the notice.
    pub entry_no: i32,
    /// Status code, as published.
    pub status: String,
    /// USCC, as published.
    pub uscc: String,
    /// Name, as published.
    pub name: String,
    /// The employer's row id (absent if it is gone from the register).
    pub employer_id: Option<i64>,
    /// Where its mail goes, now.
    pub contact_email: Option<String>,
}

/// Up to `limit` entries of notice `id` after place `after`, in order, each with its
/// employer's id and contact address (found by USCC, which an employer never changes).
pub fn mail_entries_after(
    conn: &mut AnyConnection,
    id: i64,
    after: i32,
    limit: i64,
) -> Result<Vec<MailEntry>, DbError> {
    Ok(notice_entries::table
        .left_join(employers::table.on(employers::uscc.eq(notice_entries::uscc)))
        .filter(notice_entries::notice_id.eq(id))
        .filter(notice_entries::entry_no.gt(after))
        .order(notice_entries::entry_no.asc())
        .limit(limit)
        .select((
            notice_entries::entry_no,
            notice_entries::status,
            notice_entries::uscc,
            notice_entries::name,
            employers::id.nullable(),
            employers::contact_email.nullable(),
        ))
        .load(conn)?)
}
