//! Reading and writing versions: the current one (for a writer, locked), saving one or
//! a batch as the next version, status changes, the history and the roster.

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};

use crate::db::schema::{declaration_versions, declarations, roster_lines};
use crate::db::{AnyConnection, DbError};

use super::{Declaration, NewRosterLine, RosterLine, Status};

/// The current declaration of an employer for a year.
pub fn current(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<Declaration>, DbError> {
    Ok(declarations::table
        .filter(declarations::employer_id.eq(employer_id))
        .filter(declarations::levy_year.eq(levy_year))
        .select(Declaration::as_select())
        .first(conn)
        .optional()?)
}

/// [`current`] for a writer, inside its write transaction: on PostgreSQL the row is
/// locked (`FOR UPDATE`), so concurrent writers of one declaration queue behind each
/// other and each reads the version the previous one committed; SQLite's write
/// transaction holds the database's one write lock already.
pub fn current_for_update(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<Declaration>, DbError> {
    match conn {
        AnyConnection::Postgresql(c) => Ok(declarations::table
            .filter(declarations::employer_id.eq(employer_id))
            .filter(declarations::levy_year.eq(levy_year))
            .select(Declaration::as_select())
            .for_update()
            .first(c)
            .optional()?),
        AnyConnection::Sqlite(_) => current(conn, employer_id, levy_year),
    }
}

/// The employers among `employer_ids` whose declaration for `levy_year` is filed
/// ([`Status::is_filed`]: submitted, certified or amended). The reminder planner and the
/// sender's check before each mail both ask this, so that "declared" means the same to
/// both.
pub fn filed_among(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    levy_year: i32,
) -> Result<HashSet<i64>, DbError> {
    if employer_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let filed: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_filed())
        .map(|s| s.as_str())
        .collect();
    Ok(declarations::table
        .filter(declarations::employer_id.eq_any(employer_ids))
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.eq_any(filed))
        .select(declarations::employer_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect())
}

/// A body to store as the next version of a declaration.
pub struct NewVersion<'a> {
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Canonical body.
    pub body_json: &'a str,
    /// Its digest.
    pub body_digest: &'a str,
    /// Status of the new version.
    pub status: Status,
    /// Who.
    pub actor: &'a str,
    /// Typed roster lines of the body.
    pub roster: Vec<NewRosterLine>,
}

/// The row of `d` while it is still at the version read. Every change of a declaration
/// matches on it, so that of two writers that read one version only one lands (on
/// PostgreSQL the one that waited for the row lock re-checks the committed row).
fn at_version(
    d: &Declaration,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<declarations::table, i64>,
    diesel::dsl::Eq<declarations::version, i32>,
> {
    declarations::table
        .find(d.id)
        .filter(declarations::version.eq(d.version))
}

/// The error of a change that found its declaration at another version than read.
fn stale(d: &Declaration) -> DbError {
    DbError::Conflict(format!(
        "the declaration changed while this request ran (version {} was read); read it again",
        d.version
    ))
}

/// Stores a new body as the next version of `existing`, the current version as the
/// caller read it and checked its preconditions on (or as the first version when
/// `None`). Returns the new current row. When the declaration is no longer at the
/// version read, nothing is written: [`DbError::Conflict`] (or, for a first version
/// that another writer created meanwhile, a unique violation).
pub fn save(
    conn: &mut AnyConnection,
    existing: Option<&Declaration>,
    v: NewVersion<'_>,
) -> Result<Declaration, DbError> {
    let NewVersion {
        employer_id,
        levy_year,
        body_json,
        body_digest,
        status,
        actor,
        roster,
    } = v;
    let now = Utc::now().naive_utc();
    let id = match existing {
        None => {
            diesel::insert_into(declarations::table)
                .values((
                    declarations::employer_id.eq(employer_id),
                    declarations::levy_year.eq(levy_year),
                    declarations::version.eq(1),
                    declarations::status.eq(status.as_str()),
                    declarations::body_json.eq(body_json),
                    declarations::body_digest.eq(body_digest),
                    declarations::created_at.eq(now),
                    declarations::updated_at.eq(now),
                ))
                .execute(conn)?;
            current(conn, employer_id, levy_year)?
                .ok_or(diesel::result::Error::NotFound)?
                .id
        }
        Some(d) => {
            let n = diesel::update(at_version(d))
                .set((
                    declarations::version.eq(d.version + 1),
                    declarations::status.eq(status.as_str()),
                    declarations::body_json.eq(body_json),
                    declarations::body_digest.eq(body_digest),
                    declarations::updated_at.eq(now),
                ))
                .execute(conn)?;
            if n == 0 {
                return Err(stale(d));
            }
            d.id
        }
    };
    let row: Declaration = declarations::table
        .find(id)
        .select(Declaration::as_select())
        .first(conn)?;
    record_version(conn, &row, actor)?;
    diesel::delete(roster_lines::table.filter(roster_lines::declaration_id.eq(id)))
        .execute(conn)?;
    let lines: Vec<NewRosterLine> = roster
        .into_iter()
        .map(|l| NewRosterLine {
            declaration_id: id,
            ..l
        })
        .collect();
    for chunk in lines.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(roster_lines::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(row)
}

/// The current declarations of these employers for a year, by employer id.
pub fn current_many(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    levy_year: i32,
) -> Result<HashMap<i64, Declaration>, DbError> {
    let mut found = HashMap::with_capacity(employer_ids.len());
    // SQLite binds one parameter per id.
    let per = conn.rows_per_statement(1);
    for chunk in employer_ids.chunks(per) {
        let rows: Vec<Declaration> = crate::per_backend!(&mut *conn, |c| declarations::table
            .filter(declarations::employer_id.eq_any(chunk))
            .filter(declarations::levy_year.eq(levy_year))
            .select(Declaration::as_select())
            .load(c))?;
        found.extend(rows.into_iter().map(|d| (d.employer_id, d)));
    }
    Ok(found)
}

/// One declaration of a batch, to store as its next version (or its first).
pub struct NextVersion<'a> {
    /// Employer row id.
    pub employer_id: i64,
    /// The current version, as read in this transaction; `None` for a first version.
    pub current: Option<&'a Declaration>,
    /// Canonical body.
    pub body_json: &'a str,
    /// Its digest.
    pub body_digest: &'a str,
    /// Status of the new version.
    pub status: Status,
    /// Typed roster lines of the body (their declaration id is filled in here).
    pub roster: &'a [NewRosterLine],
}

/// A first version as one row of a multi-row insert (no nullable column: the submission
/// and certification columns stay NULL, as [`save`] leaves them).
#[derive(Insertable)]
#[diesel(table_name = declarations)]
struct DeclarationInsert<'a> {
    employer_id: i64,
    levy_year: i32,
    version: i32,
    status: &'a str,
    body_json: &'a str,
    body_digest: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Columns a [`DeclarationInsert`] binds.
const DECLARATION_COLUMNS: usize = 8;

#[derive(Insertable)]
#[diesel(table_name = declaration_versions)]
struct VersionInsert<'a> {
    declaration_id: i64,
    version: i32,
    status: &'a str,
    body_json: &'a str,
    body_digest: &'a str,
    created_at: NaiveDateTime,
    created_by: &'a str,
}

/// Columns a [`VersionInsert`] binds.
const VERSION_COLUMNS: usize = 7;

/// A roster line as one row of a multi-row insert. `None` is written as NULL (the
/// nullable columns have no other default), so that SQLite gets one statement for many
/// rows instead of diesel's row-by-row fallback.
#[derive(Insertable)]
#[diesel(table_name = roster_lines, treat_none_as_default_value = false)]
struct RosterInsert<'a> {
    declaration_id: i64,
    employer_id: i64,
    levy_year: i32,
    line_no: i32,
    certificate_no: &'a str,
    holder_id: &'a str,
    certificate_kind: &'a str,
    grade: i32,
    months_mask: i32,
    on_establishment: bool,
    contract_months: Option<i32>,
    social_insurance_paid: bool,
    monthly_wage_fen: Option<i64>,
    fresh_graduate: bool,
}

/// Columns a [`RosterInsert`] binds.
const ROSTER_COLUMNS: usize = 14;

/// Values an updated version binds: id, version read, next version, status, body,
/// digest, time.
const UPDATE_COLUMNS: usize = 7;

/// Stores each item as the next version of its declaration (or the first), as [`save`]
/// does for one, with multi-row statements sized to the backend's bound-parameter limit:
/// first versions inserted (their ids come back by RETURNING), current ones updated by
/// one statement per chunk, every new version kept in `declaration_versions`, roster
/// lines replaced. Returns the new current rows, in the order given. Each employer may
/// come at most once. The caller has checked preconditions; a declaration whose version
/// moved on since `current` was read fails the whole call.
pub fn save_many(
    conn: &mut AnyConnection,
    levy_year: i32,
    actor: &str,
    items: &[NextVersion<'_>],
) -> Result<Vec<Declaration>, DbError> {
    // Truncated to what both backends store, so that the rows returned for updates
    // (built here, not read back) are the rows stored.
    let now = Utc::now().naive_utc().trunc_subsecs(6);

    let firsts: Vec<DeclarationInsert<'_>> = items
        .iter()
        .filter(|i| i.current.is_none())
        .map(|i| DeclarationInsert {
            employer_id: i.employer_id,
            levy_year,
            version: 1,
            status: i.status.as_str(),
            body_json: i.body_json,
            body_digest: i.body_digest,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let mut created: HashMap<i64, Declaration> = HashMap::with_capacity(firsts.len());
    for chunk in firsts.chunks(conn.rows_per_statement(DECLARATION_COLUMNS)) {
        let rows: Vec<Declaration> =
            crate::per_backend!(&mut *conn, |c| diesel::insert_into(declarations::table)
                .values(chunk)
                .returning(Declaration::as_returning())
                .get_results(c))?;
        created.extend(rows.into_iter().map(|d| (d.employer_id, d)));
    }

    let updates: Vec<(&Declaration, &NextVersion<'_>)> = items
        .iter()
        .filter_map(|i| i.current.map(|d| (d, i)))
        .collect();
    for chunk in updates.chunks(conn.rows_per_statement(UPDATE_COLUMNS)) {
        update_chunk(conn, chunk, now)?;
    }

    let mut saved = Vec::with_capacity(items.len());
    for i in items {
        let row = match i.current {
            None => created
                .remove(&i.employer_id)
                .ok_or(diesel::result::Error::NotFound)?,
            Some(d) => Declaration {
                version: d.version + 1,
                status: i.status.as_str().to_owned(),
                body_json: i.body_json.to_owned(),
                body_digest: i.body_digest.to_owned(),
                updated_at: now,
                ..d.clone()
            },
        };
        saved.push(row);
    }

    let versions: Vec<VersionInsert<'_>> = saved
        .iter()
        .map(|d| VersionInsert {
            declaration_id: d.id,
            version: d.version,
            status: &d.status,
            body_json: &d.body_json,
            body_digest: &d.body_digest,
            created_at: d.updated_at,
            created_by: actor,
        })
        .collect();
    for chunk in versions.chunks(conn.rows_per_statement(VERSION_COLUMNS)) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(
            declaration_versions::table
        )
        .values(chunk)
        .execute(c))?;
    }

    let replaced: Vec<i64> = updates.iter().map(|(d, _)| d.id).collect();
    for chunk in replaced.chunks(conn.rows_per_statement(1)) {
        crate::per_backend!(&mut *conn, |c| diesel::delete(
            roster_lines::table.filter(roster_lines::declaration_id.eq_any(chunk))
        )
        .execute(c))?;
    }
    let lines: Vec<RosterInsert<'_>> = items
        .iter()
        .zip(&saved)
        .flat_map(|(i, d)| {
            i.roster.iter().map(move |l| RosterInsert {
                declaration_id: d.id,
                employer_id: l.employer_id,
                levy_year: l.levy_year,
                line_no: l.line_no,
                certificate_no: &l.certificate_no,
                holder_id: &l.holder_id,
                certificate_kind: &l.certificate_kind,
                grade: l.grade,
                months_mask: l.months_mask,
                on_establishment: l.on_establishment,
                contract_months: l.contract_months,
                social_insurance_paid: l.social_insurance_paid,
                monthly_wage_fen: l.monthly_wage_fen,
                fresh_graduate: l.fresh_graduate,
            })
        })
        .collect();
    for chunk in lines.chunks(conn.rows_per_statement(ROSTER_COLUMNS)) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(roster_lines::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(saved)
}

/// Moves a chunk of declarations to their next version with one statement. Each row
/// carries its own values, which diesel's UPDATE cannot express, hence the SQL; the
/// version read is part of the match, so a row changed meanwhile is caught here rather
/// than by a duplicate version further on.
fn update_chunk(
    conn: &mut AnyConnection,
    chunk: &[(&Declaration, &NextVersion<'_>)],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
    use std::fmt::Write;
    if chunk.is_empty() {
        return Ok(());
    }
    let pg = matches!(conn, AnyConnection::Postgresql(_));
    let mut sql = String::from(
        "WITH v (v_id, v_read, v_version, v_status, v_body, v_digest, v_at) AS (VALUES ",
    );
    for k in 0..chunk.len() {
        if k > 0 {
            sql.push_str(", ");
        }
        if pg {
            // PostgreSQL types a VALUES list from its first row; say what each is.
            let b = k * UPDATE_COLUMNS;
            let _ = write!(
                sql,
                "(${}::BIGINT, ${}::INTEGER, ${}::INTEGER, ${}::TEXT, ${}::TEXT, ${}::TEXT, ${}::TIMESTAMP)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            );
        } else {
            sql.push_str("(?, ?, ?, ?, ?, ?, ?)");
        }
    }
    sql.push_str(
        ") UPDATE declarations SET version = v_version, status = v_status, \
         body_json = v_body, body_digest = v_digest, updated_at = v_at \
         FROM v WHERE declarations.id = v_id AND declarations.version = v_read",
    );
    let changed = crate::per_backend!(&mut *conn, |c| {
        let mut q = diesel::sql_query(sql).into_boxed();
        for (d, i) in chunk {
            q = q
                .bind::<BigInt, _>(d.id)
                .bind::<Integer, _>(d.version)
                .bind::<Integer, _>(d.version + 1)
                .bind::<Text, _>(i.status.as_str())
                .bind::<Text, _>(i.body_json)
                .bind::<Text, _>(i.body_digest)
                .bind::<Timestamp, _>(now);
        }
        q.execute(c)
    })?;
    if changed != chunk.len() {
        return Err(DbError::Conflict(format!(
            "{} of {} declarations changed while they were being saved; nothing of this batch was written, try again",
            chunk.len() - changed,
            chunk.len()
        )));
    }
    Ok(())
}

fn record_version(conn: &mut AnyConnection, d: &Declaration, actor: &str) -> Result<(), DbError> {
    diesel::insert_into(declaration_versions::table)
        .values((
            declaration_versions::declaration_id.eq(d.id),
            declaration_versions::version.eq(d.version),
            declaration_versions::status.eq(&d.status),
            declaration_versions::body_json.eq(&d.body_json),
            declaration_versions::body_digest.eq(&d.body_digest),
            declaration_versions::created_at.eq(d.updated_at),
            declaration_versions::created_by.eq(actor),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves the current version to `status` (submit, certify) as a new version with the
/// same body, so the history shows each step.
pub fn set_status(
    conn: &mut AnyConnection,
    d: &Declaration,
    status: Status,
    actor: &str,
) -> Result<Declaration, DbError> {
    let now = Utc::now().naive_utc();
    let (submitted_at, certified_at, certified_by) = match status {
        Status::Submitted => (Some(now), d.certified_at, d.certified_by.clone()),
        Status::Certified => (d.submitted_at, Some(now), Some(actor.to_owned())),
        _ => (d.submitted_at, d.certified_at, d.certified_by.clone()),
    };
    let n = diesel::update(at_version(d))
        .set((
            declarations::version.eq(d.version + 1),
            declarations::status.eq(status.as_str()),
            declarations::submitted_at.eq(submitted_at),
            declarations::certified_at.eq(certified_at),
            declarations::certified_by.eq(certified_by),
            declarations::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(stale(d));
    }
    let row: Declaration = declarations::table
        .find(d.id)
        .select(Declaration::as_select())
        .first(conn)?;
    record_version(conn, &row, actor)?;
    Ok(row)
}

/// One version in a declaration's history.
#[derive(Debug, Clone, Queryable)]
pub struct VersionRow {
    /// Version number.
    pub version: i32,
    /// Status it had.
    pub status: String,
    /// Body digest.
    pub body_digest: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// By whom.
    pub created_by: String,
}

/// The body of version `version` of declaration `declaration_id`, as it was filed.
pub fn version_body(
    conn: &mut AnyConnection,
    declaration_id: i64,
    version: i32,
) -> Result<Option<String>, DbError> {
    Ok(declaration_versions::table
        .filter(declaration_versions::declaration_id.eq(declaration_id))
        .filter(declaration_versions::version.eq(version))
        .select(declaration_versions::body_json)
        .first(conn)
        .optional()?)
}

/// Every version of a declaration, oldest first.
pub fn history(conn: &mut AnyConnection, declaration_id: i64) -> Result<Vec<VersionRow>, DbError> {
    Ok(declaration_versions::table
        .filter(declaration_versions::declaration_id.eq(declaration_id))
        .order(declaration_versions::version.asc())
        .select((
            declaration_versions::version,
            declaration_versions::status,
            declaration_versions::body_digest,
            declaration_versions::created_at,
            declaration_versions::created_by,
        ))
        .load(conn)?)
}

/// The roster lines of a declaration.
pub fn roster(conn: &mut AnyConnection, declaration_id: i64) -> Result<Vec<RosterLine>, DbError> {
    Ok(roster_lines::table
        .filter(roster_lines::declaration_id.eq(declaration_id))
        .order(roster_lines::line_no.asc())
        .select(RosterLine::as_select())
        .load(conn)?)
}
