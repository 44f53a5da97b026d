//! Positions reserved for disabled people (岗位预留, 三政〔2016〕23号 §3(1)).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashSet;

use super::schema::{employers, reserved_positions, roster_lines};
use super::{AnyConnection, DbError};

/// Status: registered by the employer, awaiting the federation's review.
pub const SUBMITTED: &str = "submitted";
/// Status: published by the federation (shown publicly while open).
pub const PUBLISHED: &str = "published";
/// Status: refused by the federation (with a note).
pub const REJECTED: &str = "rejected";
/// Status: filled by a disabled employee (the roster line is kept, never shown).
pub const FILLED: &str = "filled";
/// Status: withdrawn by the employer.
pub const WITHDRAWN: &str = "withdrawn";

/// A stored position.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reserved_positions)]
pub struct PositionRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Job title.
    pub title: String,
    /// How many people.
    pub openings: i32,
    /// County (region code) of the workplace.
    pub county: String,
    /// Address of the workplace.
    pub address: String,
    /// What the job asks.
    pub requirements: String,
    /// The workplace's accessibility.
    pub accessibility: String,
    /// Monthly wage from, fen.
    pub wage_min_fen: i64,
    /// Monthly wage to, fen.
    pub wage_max_fen: i64,
    /// Open from.
    pub open_from: NaiveDate,
    /// Open to (expired after).
    pub open_to: NaiveDate,
    /// The office's phone.
    pub contact_phone: Option<String>,
    /// The office's e-mail.
    pub contact_email: Option<String>,
    /// `submitted`, `published`, `rejected`, `filled`, `withdrawn`.
    pub status: String,
    /// The federation's note (why rejected).
    pub review_note: Option<String>,
    /// The roster line of the person who took it (never public).
    pub filled_roster_line_id: Option<i64>,
    /// That person's keyed digest (never public).
    pub filled_holder_id: Option<String>,
    /// Who registered it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

/// A position to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reserved_positions)]
pub struct NewPosition {
    /// See [`PositionRow`].
    pub employer_id: i64,
    /// See [`PositionRow`].
    pub title: String,
    /// See [`PositionRow`].
    pub openings: i32,
    /// See [`PositionRow`].
    pub county: String,
    /// See [`PositionRow`].
    pub address: String,
    /// See [`PositionRow`].
    pub requirements: String,
    /// See [`PositionRow`].
    pub accessibility: String,
    /// See [`PositionRow`].
    pub wage_min_fen: i64,
    /// See [`PositionRow`].
    pub wage_max_fen: i64,
    /// See [`PositionRow`].
    pub open_from: NaiveDate,
    /// See [`PositionRow`].
    pub open_to: NaiveDate,
    /// See [`PositionRow`].
    pub contact_phone: Option<String>,
    /// See [`PositionRow`].
    pub contact_email: Option<String>,
    /// See [`PositionRow`].
    pub status: String,
    /// See [`PositionRow`].
    pub created_by: String,
    /// See [`PositionRow`].
    pub created_at: NaiveDateTime,
    /// See [`PositionRow`].
    pub updated_at: NaiveDateTime,
}

/// Inserts a position; returns its id.
pub fn insert(conn: &mut AnyConnection, p: &NewPosition) -> Result<i64, DbError> {
    diesel::insert_into(reserved_positions::table)
        .values(p)
        .execute(conn)?;
    Ok(reserved_positions::table
        .filter(reserved_positions::employer_id.eq(p.employer_id))
        .order(reserved_positions::id.desc())
        .select(reserved_positions::id)
        .first(conn)?)
}

/// A position by id.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<PositionRow>, DbError> {
    Ok(reserved_positions::table
        .find(id)
        .select(PositionRow::as_select())
        .first(conn)
        .optional()?)
}

/// An employer's positions, newest first.
pub fn of_employer(
    conn: &mut AnyConnection,
    employer_id: i64,
) -> Result<Vec<PositionRow>, DbError> {
    Ok(reserved_positions::table
        .filter(reserved_positions::employer_id.eq(employer_id))
        .order(reserved_positions::id.desc())
        .select(PositionRow::as_select())
        .load(conn)?)
}

/// Sets a position's status and note (and, when filled, the roster line).
pub fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    note: Option<&str>,
    filled: Option<(i64, &str)>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(reserved_positions::table.find(id))
        .set((
            reserved_positions::status.eq(status),
            reserved_positions::review_note.eq(note),
            reserved_positions::filled_roster_line_id.eq(filled.map(|f| f.0)),
            reserved_positions::filled_holder_id.eq(filled.map(|f| f.1)),
            reserved_positions::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A position with its employer: (USCC, name, kind, position).
pub type Listed = (String, String, String, PositionRow);

/// Positions of `status` whose county starts with `county_prefix`, of employers of
/// `kinds` (all when empty) in a region under `region_prefix`; when `open_on` is given,
/// only those open that day (`open_from` ≤ day ≤ `open_to`). Public bodies first
/// (they must lead, docs/rules.md §8), then by county and id.
pub fn listed(
    conn: &mut AnyConnection,
    status: &str,
    county_prefix: &str,
    region_prefix: &str,
    kinds: &[&str],
    open_on: Option<NaiveDate>,
) -> Result<Vec<Listed>, DbError> {
    let mut q = reserved_positions::table
        .inner_join(employers::table)
        .filter(reserved_positions::status.eq(status))
        .filter(reserved_positions::county.like(format!("{county_prefix}%")))
        .filter(employers::region.like(format!("{region_prefix}%")))
        .into_boxed();
    if !kinds.is_empty() {
        q = q.filter(employers::kind.eq_any(kinds.to_vec()));
    }
    if let Some(d) = open_on {
        q = q
            .filter(reserved_positions::open_from.le(d))
            .filter(reserved_positions::open_to.ge(d));
    }
    let mut rows: Vec<Listed> = q
        .order((
            reserved_positions::county.asc(),
            reserved_positions::id.asc(),
        ))
        .select((
            employers::uscc,
            employers::name,
            employers::kind,
            PositionRow::as_select(),
        ))
        .load(conn)?;
    let public = |k: &str| !matches!(k, "government_agency" | "public_institution");
    rows.sort_by_key(|r| public(&r.2));
    Ok(rows)
}

/// The employers among `employer_ids` with a published position open on `day`.
pub fn with_open_position(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    day: NaiveDate,
) -> Result<HashSet<i64>, DbError> {
    let mut out = HashSet::new();
    for chunk in employer_ids.chunks(500) {
        let ids: Vec<i64> = reserved_positions::table
            .filter(reserved_positions::employer_id.eq_any(chunk))
            .filter(reserved_positions::status.eq(PUBLISHED))
            .filter(reserved_positions::open_from.le(day))
            .filter(reserved_positions::open_to.ge(day))
            .select(reserved_positions::employer_id)
            .load(conn)?;
        out.extend(ids);
    }
    Ok(out)
}

/// The roster line `line_no` of an employer's declaration for a levy year (the latest
/// stored): its id and holder digest.
pub fn roster_line(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
    line_no: i32,
) -> Result<Option<(i64, String)>, DbError> {
    Ok(roster_lines::table
        .filter(roster_lines::employer_id.eq(employer_id))
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(roster_lines::line_no.eq(line_no))
        .order(roster_lines::id.desc())
        .select((roster_lines::id, roster_lines::holder_id))
        .first(conn)
        .optional()?)
}

/// The public bodies (government agencies, public institutions) under `region_prefix`
/// whose current assessment of `levy_year` counts no disabled employee.
pub fn public_bodies_without_disabled(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
) -> Result<Vec<super::employers::Employer>, DbError> {
    use super::schema::assessments;
    Ok(employers::table
        .inner_join(assessments::table)
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .filter(assessments::disabled_x12_e4.eq(0))
        .filter(employers::kind.eq_any(["government_agency", "public_institution"]))
        .filter(employers::region.like(format!("{region_prefix}%")))
        .order(employers::uscc.asc())
        .select(super::employers::Employer::as_select())
        .load(conn)?)
}

/// The employers among `employer_ids` that have reserved a position still to come on
/// `day`: published and open, or registered and awaiting review (not yet past its last
/// day). Such a body has done what the reserve-position reminder asks.
pub fn reserved_among(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    day: NaiveDate,
) -> Result<HashSet<i64>, DbError> {
    let mut out = HashSet::new();
    for chunk in employer_ids.chunks(500) {
        let ids: Vec<i64> = reserved_positions::table
            .filter(reserved_positions::employer_id.eq_any(chunk))
            .filter(reserved_positions::status.eq_any([PUBLISHED, SUBMITTED]))
            .filter(reserved_positions::open_to.ge(day))
            .select(reserved_positions::employer_id)
            .load(conn)?;
        out.extend(ids);
    }
    Ok(out)
}

/// The public bodies (government agencies, public institutions) among `employer_ids`
/// whose current assessment of `levy_year` counts no disabled employee.
pub fn public_bodies_without_disabled_among(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashSet<i64>, DbError> {
    use super::schema::assessments;
    let mut out = HashSet::new();
    for chunk in employer_ids.chunks(500) {
        let ids: Vec<i64> = employers::table
            .inner_join(assessments::table)
            .filter(employers::id.eq_any(chunk))
            .filter(assessments::levy_year.eq(levy_year))
            .filter(assessments::is_current.eq(true))
            .filter(assessments::disabled_x12_e4.eq(0))
            .filter(employers::kind.eq_any(["government_agency", "public_institution"]))
            .select(employers::id)
            .load(conn)?;
        out.extend(ids);
    }
    Ok(out)
}
