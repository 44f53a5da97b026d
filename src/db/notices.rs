//! Published compliance notices (公示): insert and read, never update.
//!
//! There is deliberately no update or delete function here, and the migration adds a
//! trigger that refuses both: a correction is a new notice that names the one it
//! replaces, and whether a notice is superseded is read from that link.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::employers::Employer;
use super::schema::{assessments, declaration_versions, declarations, employers, notices};
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
}

/// A notice to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNotice<'a> {
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
}

/// Inserts a notice and returns its id.
pub fn insert(conn: &mut AnyConnection, new: &NewNotice<'_>) -> Result<i64, DbError> {
    // RETURNING is not on the MultiBackend; both backends have it natively.
    let id = crate::per_backend!(&mut *conn, |c| diesel::insert_into(notices::table)
        .values(new)
        .returning(notices::id)
        .get_result::<i64>(c))?;
    Ok(id)
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

/// An employer with what a notice says of it: declaration status, version and digest;
/// the assessed declaration version and its digest; staff ×12×10⁴, required ×10⁴,
/// disabled ×12×10⁴, shortfall ×10⁴, exempt (all absent when not declared or assessed).
pub type SnapshotRow = (
    Employer,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<bool>,
);

/// Every employer under `region_prefix` registered by `year_end` (or undated), with its
/// declaration of the year and current assessment, in USCC order.
pub fn snapshot_rows(
    conn: &mut AnyConnection,
    region_prefix: &str,
    levy_year: i32,
    year_end: NaiveDate,
) -> Result<Vec<SnapshotRow>, DbError> {
    Ok(employers::table
        .left_join(
            declarations::table.on(declarations::employer_id
                .eq(employers::id)
                .and(declarations::levy_year.eq(levy_year))),
        )
        .left_join(
            assessments::table.on(assessments::employer_id
                .eq(employers::id)
                .and(assessments::levy_year.eq(levy_year))
                .and(assessments::is_current.eq(true))),
        )
        // The version the assessment was made of: certifying a declaration makes a new
        // version of the same body, which the assessment still describes.
        .left_join(
            declaration_versions::table.on(declaration_versions::declaration_id
                .eq(assessments::declaration_id)
                .and(declaration_versions::version.eq(assessments::declaration_version))),
        )
        .filter(employers::region.like(format!("{region_prefix}%")))
        // An employer registered after the levy year did not exist in it.
        .filter(
            employers::registered_on
                .is_null()
                .or(employers::registered_on.le(year_end)),
        )
        .order(employers::uscc.asc())
        .select((
            Employer::as_select(),
            declarations::status.nullable(),
            declarations::version.nullable(),
            declarations::body_digest.nullable(),
            assessments::declaration_version.nullable(),
            declaration_versions::body_digest.nullable(),
            assessments::staff_x12_e4.nullable(),
            assessments::required_e4.nullable(),
            assessments::disabled_x12_e4.nullable(),
            assessments::shortfall_e4.nullable(),
            assessments::exempt.nullable(),
        ))
        .load(conn)?)
}
