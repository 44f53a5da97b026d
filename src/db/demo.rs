//! The writes of the demonstration generator (`jobs::demo`): rows numbered by the
//! generator itself, inserted in bulk, and PostgreSQL's sequences kept past them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::declarations::NewRosterLine;
use super::schema::{declaration_versions, declarations, employers, roster_lines};
use super::{AnyConnection, DbError};

/// Rows per multi-row INSERT (SQLite allows 32766 bound parameters; 14 columns × 1000).
const ROWS_PER_INSERT: usize = 1_000;

/// An employer row with its id chosen by the generator (fields: the table's columns).
#[derive(Insertable)]
#[diesel(table_name = employers)]
pub struct EmployerRow<'a> {
    pub id: i64,
    pub uscc: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub region: &'a str,
    pub registered_on: Option<NaiveDate>,
    pub contact_email: Option<&'a str>,
    pub establishment_size: Option<i32>,
    pub committee_member: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A declaration row with its id chosen by the generator (fields: the table's columns).
#[derive(Insertable)]
#[diesel(table_name = declarations)]
pub struct DeclarationRow<'a> {
    pub id: i64,
    pub employer_id: i64,
    pub levy_year: i32,
    pub version: i32,
    pub status: &'a str,
    pub body_json: &'a str,
    pub body_digest: &'a str,
    pub submitted_at: Option<NaiveDateTime>,
    pub certified_at: Option<NaiveDateTime>,
    pub certified_by: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The first version of a generated declaration (fields: the table's columns).
#[derive(Insertable)]
#[diesel(table_name = declaration_versions)]
pub struct VersionRow<'a> {
    pub declaration_id: i64,
    pub version: i32,
    pub status: &'a str,
    pub body_json: &'a str,
    pub body_digest: &'a str,
    pub created_at: NaiveDateTime,
    pub created_by: &'a str,
}

/// The highest id of `table` (0 when empty); `table` is one of the generator's own.
pub fn max_id(conn: &mut AnyConnection, table: &str) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct M {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        m: i64,
    }
    let rows: Vec<M> =
        diesel::sql_query(format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}")).load(conn)?;
    Ok(rows.first().map_or(0, |r| r.m))
}

/// Employers registered.
pub fn count_employers(conn: &mut AnyConnection) -> Result<i64, DbError> {
    Ok(employers::table.count().get_result(conn)?)
}

/// Keeps PostgreSQL's id sequences past the explicitly numbered rows.
pub fn bump_sequences(conn: &mut AnyConnection) -> Result<(), DbError> {
    if let AnyConnection::Postgresql(_) = conn {
        conn.batch_execute(
            "SELECT setval(pg_get_serial_sequence('employers', 'id'), \
                    (SELECT COALESCE(MAX(id), 1) FROM employers)); \
             SELECT setval(pg_get_serial_sequence('declarations', 'id'), \
                    (SELECT COALESCE(MAX(id), 1) FROM declarations));",
        )
        .map_err(DbError::Query)?;
    }
    Ok(())
}

/// Takes the write lock before the maxima are read, so numbering cannot race (SQLite's
/// write transaction already holds it).
pub fn lock_for_numbering(conn: &mut AnyConnection) -> Result<(), DbError> {
    if let AnyConnection::Postgresql(_) = conn {
        conn.batch_execute("LOCK TABLE employers, declarations IN SHARE ROW EXCLUSIVE MODE")
            .map_err(DbError::Query)?;
    }
    Ok(())
}

/// Inserts employers in bulk.
pub fn insert_employers(conn: &mut AnyConnection, rows: &[EmployerRow<'_>]) -> Result<(), DbError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(employers::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Inserts declarations in bulk.
pub fn insert_declarations(
    conn: &mut AnyConnection,
    rows: &[DeclarationRow<'_>],
) -> Result<(), DbError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(declarations::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Inserts declaration versions in bulk.
pub fn insert_versions(conn: &mut AnyConnection, rows: &[VersionRow<'_>]) -> Result<(), DbError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(
            declaration_versions::table
        )
        .values(chunk)
        .execute(c))?;
    }
    Ok(())
}

/// Inserts roster lines in bulk.
pub fn insert_roster_lines(
    conn: &mut AnyConnection,
    rows: &[NewRosterLine],
) -> Result<(), DbError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(roster_lines::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}
