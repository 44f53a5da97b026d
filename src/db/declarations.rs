//! Declarations: one current version per employer and levy year, every earlier version
//! kept, and the typed roster lines of the current version.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashSet;

use super::schema::{declaration_versions, declarations, roster_lines};
use super::{AnyConnection, DbError};

/// Lifecycle of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared by the employer.
    Draft,
    /// Filed with the tax bureau.
    Submitted,
    /// Roster certified by the disabled persons' federation.
    Certified,
    /// Changed after it was submitted or certified; earlier versions are kept.
    Amended,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Submitted,
        Status::Certified,
        Status::Amended,
    ];

    /// Stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Certified => "certified",
            Status::Amended => "amended",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "draft" => Some(Status::Draft),
            "submitted" => Some(Status::Submitted),
            "certified" => Some(Status::Certified),
            "amended" => Some(Status::Amended),
            _ => None,
        }
    }

    /// True when the declaration counts as filed (assessable).
    pub fn is_filed(&self) -> bool {
        !matches!(self, Status::Draft)
    }
}

/// A stored declaration (current version).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = declarations)]
pub struct Declaration {
    /// Row id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Version, from 1.
    pub version: i32,
    /// Status (stored spelling).
    pub status: String,
    /// The declaration body: the calculation request's staff, wages and roster fields,
    /// canonical JSON.
    pub body_json: String,
    /// SHA-256 of `body_json`.
    pub body_digest: String,
    /// When submitted.
    pub submitted_at: Option<NaiveDateTime>,
    /// When certified.
    pub certified_at: Option<NaiveDateTime>,
    /// By whom.
    pub certified_by: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

impl Declaration {
    /// The status, parsed.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }

    /// The ETag of this version.
    pub fn etag(&self) -> String {
        format!(
            "\"declaration-{}-{}-v{}\"",
            self.employer_id, self.levy_year, self.version
        )
    }
}

/// One typed roster line to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = roster_lines)]
pub struct NewRosterLine {
    /// Declaration row id (set by `save`).
    pub declaration_id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Index in the roster (0-based, as in JSON pointers).
    pub line_no: i32,
    /// Full certificate number (personal data: never logged or published).
    pub certificate_no: String,
    /// The person: the ID-number part of a disability certificate, or `V:` + the
    /// veteran certificate number.
    pub holder_id: String,
    /// `disability` or `veteran`.
    pub certificate_kind: String,
    /// Grade that counts.
    pub grade: i32,
    /// Months of the data year employed (bit 0 = January).
    pub months_mask: i32,
    /// On the establishment.
    pub on_establishment: bool,
    /// Contract length in months.
    pub contract_months: Option<i32>,
    /// Social insurance paid in full.
    pub social_insurance_paid: bool,
    /// Monthly wage in fen.
    pub monthly_wage_fen: Option<i64>,
    /// Fresh college graduate.
    pub fresh_graduate: bool,
}

/// A stored roster line.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roster_lines)]
pub struct RosterLine {
    /// Row id.
    pub id: i64,
    /// Declaration row id.
    pub declaration_id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Index in the roster.
    pub line_no: i32,
    /// Full certificate number.
    pub certificate_no: String,
    /// The person.
    pub holder_id: String,
    /// Kind.
    pub certificate_kind: String,
    /// Grade.
    pub grade: i32,
    /// Months employed.
    pub months_mask: i32,
    /// On the establishment.
    pub on_establishment: bool,
    /// Contract months.
    pub contract_months: Option<i32>,
    /// Social insurance paid.
    pub social_insurance_paid: bool,
    /// Wage in fen.
    pub monthly_wage_fen: Option<i64>,
    /// Fresh graduate.
    pub fresh_graduate: bool,
}

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

/// Stores a new body as the next version (or the first). Returns the new current row.
/// The caller has checked preconditions.
pub fn save(conn: &mut AnyConnection, v: NewVersion<'_>) -> Result<Declaration, DbError> {
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
    let existing = current(conn, employer_id, levy_year)?;
    let id = match &existing {
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
            diesel::update(declarations::table.find(d.id))
                .set((
                    declarations::version.eq(d.version + 1),
                    declarations::status.eq(status.as_str()),
                    declarations::body_json.eq(body_json),
                    declarations::body_digest.eq(body_digest),
                    declarations::updated_at.eq(now),
                ))
                .execute(conn)?;
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
    diesel::update(declarations::table.find(d.id))
        .set((
            declarations::version.eq(d.version + 1),
            declarations::status.eq(status.as_str()),
            declarations::submitted_at.eq(submitted_at),
            declarations::certified_at.eq(certified_at),
            declarations::certified_by.eq(certified_by),
            declarations::updated_at.eq(now),
        ))
        .execute(conn)?;
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

diesel::alias!(roster_lines as other_lines: OtherLines);

/// The same person on another employer's roster of the same year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// Employer whose line this is.
    pub employer_id: i64,
    /// Its roster line.
    pub line_no: i32,
    /// The person.
    pub holder_id: String,
    /// Months on this line.
    pub months_mask: i32,
    /// The other employer.
    pub other_employer_id: i64,
    /// Months on the other employer's line.
    pub other_months_mask: i32,
}

/// Lines of `employer_ids` whose holder is on another employer's filed (not draft)
/// declaration of the same year for at least one common month.
pub fn overlaps(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<Vec<Overlap>, DbError> {
    if employer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, i32, String, i32, i64, i32, i64)> = roster_lines::table
        .inner_join(
            other_lines.on(other_lines
                .field(roster_lines::holder_id)
                .eq(roster_lines::holder_id)
                .and(
                    other_lines
                        .field(roster_lines::levy_year)
                        .eq(roster_lines::levy_year),
                )
                .and(
                    other_lines
                        .field(roster_lines::employer_id)
                        .ne(roster_lines::employer_id),
                )),
        )
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(roster_lines::employer_id.eq_any(employer_ids))
        .select((
            roster_lines::employer_id,
            roster_lines::line_no,
            roster_lines::holder_id,
            roster_lines::months_mask,
            other_lines.field(roster_lines::employer_id),
            other_lines.field(roster_lines::months_mask),
            other_lines.field(roster_lines::declaration_id),
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut decl_ids: Vec<i64> = rows.iter().map(|r| r.6).collect();
    decl_ids.sort_unstable();
    decl_ids.dedup();
    let filed: std::collections::HashSet<i64> = declarations::table
        .filter(declarations::id.eq_any(&decl_ids))
        .filter(declarations::status.ne("draft"))
        .select(declarations::id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| filed.contains(&r.6) && r.3 & r.5 != 0)
        .map(|r| Overlap {
            employer_id: r.0,
            line_no: r.1,
            holder_id: r.2,
            months_mask: r.3,
            other_employer_id: r.4,
            other_months_mask: r.5,
        })
        .collect())
}

/// The federation's resolutions for these holders: holder → employer that counts them.
pub fn resolutions(
    conn: &mut AnyConnection,
    levy_year: i32,
    holders: &[String],
) -> Result<std::collections::HashMap<String, i64>, DbError> {
    use super::schema::certificate_resolutions as cr;
    if holders.is_empty() {
        return Ok(Default::default());
    }
    Ok(cr::table
        .filter(cr::levy_year.eq(levy_year))
        .filter(cr::holder_id.eq_any(holders))
        .select((cr::holder_id, cr::employer_id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}
