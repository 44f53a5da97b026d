//! Declarations: one current version per employer and levy year, every earlier version
//! kept, and the typed roster lines of the current version.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{declarations, roster_lines};

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
    /// Sent back to the employer by the federation with a reason, to correct and
    /// submit again (still filed: its figures stand until the employer corrects them).
    Returned,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Submitted,
        Status::Certified,
        Status::Amended,
        Status::Returned,
    ];

    /// Stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Certified => "certified",
            Status::Amended => "amended",
            Status::Returned => "returned",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "draft" => Some(Status::Draft),
            "submitted" => Some(Status::Submitted),
            "certified" => Some(Status::Certified),
            "amended" => Some(Status::Amended),
            "returned" => Some(Status::Returned),
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

// Split by concern; the items are re-exported here so that callers name
// `db::declarations::X` as before.
mod disputes;
mod queue;
mod versions;
mod year;

pub use disputes::*;
pub use queue::*;
pub use versions::*;
pub use year::*;
