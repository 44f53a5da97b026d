//! Employers: the registry.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::employers;
use super::{AnyConnection, DbError};

/// An employer as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = employers)]
pub struct Employer {
    /// Row id (internal; never in the API).
    #[serde(skip)]
    pub id: i64,
    /// Unified social credit code.
    pub uscc: String,
    /// Registered name.
    pub name: String,
    /// `enterprise`, `government_agency`, …
    pub kind: String,
    /// GB/T 2260 code.
    pub region: String,
    /// Business registration date.
    pub registered_on: Option<NaiveDate>,
    /// Where reminders go.
    pub contact_email: Option<String>,
    /// Establishment (编制) size, for public bodies.
    pub establishment_size: Option<i32>,
    /// Member unit of the disabled persons' work committee (残工委).
    pub committee_member: bool,
    /// Optimistic-concurrency version (the ETag).
    pub version: i32,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: NaiveDateTime,
}

/// The fields of a new employer.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = employers)]
pub struct NewEmployer {
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Region.
    pub region: String,
    /// Registration date.
    pub registered_on: Option<NaiveDate>,
    /// Contact e-mail.
    pub contact_email: Option<String>,
    /// Establishment size.
    pub establishment_size: Option<i32>,
    /// Committee member unit.
    pub committee_member: bool,
    /// Version, starting at 1.
    pub version: i32,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// A change to an employer; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = employers)]
pub struct EmployerPatch {
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Registration date.
    pub registered_on: Option<Option<NaiveDate>>,
    /// Contact e-mail.
    pub contact_email: Option<Option<String>>,
    /// Establishment size.
    pub establishment_size: Option<Option<i32>>,
    /// Committee member unit.
    pub committee_member: Option<bool>,
}

impl EmployerPatch {
    /// True when the patch would change nothing.
    pub fn is_noop(&self, e: &Employer) -> bool {
        self.name.as_ref().is_none_or(|v| *v == e.name)
            && self.kind.as_ref().is_none_or(|v| *v == e.kind)
            && self.region.as_ref().is_none_or(|v| *v == e.region)
            && self.registered_on.is_none_or(|v| v == e.registered_on)
            && self
                .contact_email
                .as_ref()
                .is_none_or(|v| *v == e.contact_email)
            && self
                .establishment_size
                .is_none_or(|v| v == e.establishment_size)
            && self
                .committee_member
                .is_none_or(|v| v == e.committee_member)
    }
}

/// Looks an employer up by USCC.
pub fn by_uscc(conn: &mut AnyConnection, uscc: &str) -> Result<Option<Employer>, DbError> {
    Ok(employers::table
        .filter(employers::uscc.eq(uscc))
        .select(Employer::as_select())
        .first(conn)
        .optional()?)
}

/// Looks an employer up by row id.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Employer>, DbError> {
    Ok(employers::table
        .find(id)
        .select(Employer::as_select())
        .first(conn)
        .optional()?)
}

/// Inserts an employer; `Ok(None)` when the USCC is already registered.
pub fn insert(conn: &mut AnyConnection, new: &NewEmployer) -> Result<Option<Employer>, DbError> {
    if by_uscc(conn, &new.uscc)?.is_some() {
        return Ok(None);
    }
    diesel::insert_into(employers::table)
        .values(new)
        .execute(conn)?;
    by_uscc(conn, &new.uscc)
}

/// A new employer as one row of a multi-row insert, borrowed from its [`NewEmployer`].
/// `None` is written as NULL (the nullable columns have no other default), so that
/// SQLite gets one statement for many rows.
#[derive(Insertable)]
#[diesel(table_name = employers, treat_none_as_default_value = false)]
struct EmployerInsert<'a> {
    uscc: &'a str,
    name: &'a str,
    kind: &'a str,
    region: &'a str,
    registered_on: Option<NaiveDate>,
    contact_email: Option<&'a str>,
    establishment_size: Option<i32>,
    committee_member: bool,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Columns an [`EmployerInsert`] binds.
const EMPLOYER_COLUMNS: usize = 11;

/// Inserts employers with multi-row statements (sized to the backend's bound-parameter
/// limit) and returns the rows inserted, as stored, in no particular order. A USCC
/// already registered, even by a transaction that committed a moment ago, is skipped
/// rather than failing the statement: it is simply absent from the answer.
pub fn insert_many(
    conn: &mut AnyConnection,
    new: &[&NewEmployer],
) -> Result<Vec<Employer>, DbError> {
    let per = conn.rows_per_statement(EMPLOYER_COLUMNS);
    let mut stored = Vec::with_capacity(new.len());
    for chunk in new.chunks(per) {
        let rows: Vec<EmployerInsert<'_>> = chunk
            .iter()
            .map(|n| EmployerInsert {
                uscc: &n.uscc,
                name: &n.name,
                kind: &n.kind,
                region: &n.region,
                registered_on: n.registered_on,
                contact_email: n.contact_email.as_deref(),
                establishment_size: n.establishment_size,
                committee_member: n.committee_member,
                version: n.version,
                created_at: n.created_at,
                updated_at: n.updated_at,
            })
            .collect();
        // RETURNING hands back the ids (and the rows as stored) without a second
        // look-up; a multi-row INSERT does not compile for the MultiBackend.
        let mut rows: Vec<Employer> =
            crate::per_backend!(&mut *conn, |c| diesel::insert_into(employers::table)
                .values(&rows)
                .on_conflict(employers::uscc)
                .do_nothing()
                .returning(Employer::as_returning())
                .get_results(c))?;
        stored.append(&mut rows);
    }
    Ok(stored)
}

/// Applies a patch to the employer at `version` and bumps the version; returns the new
/// state, or `None` when the row is no longer at `version` (a concurrent writer won).
/// The version is part of the `UPDATE` itself: on PostgreSQL a writer that waited for
/// another's row lock re-checks it against the committed row, so two writers holding
/// one ETag cannot both win.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i32,
    patch: &EmployerPatch,
) -> Result<Option<Employer>, DbError> {
    let n = diesel::update(
        employers::table
            .filter(employers::id.eq(id))
            .filter(employers::version.eq(version)),
    )
    .set((
        patch,
        employers::version.eq(version + 1),
        employers::updated_at.eq(Utc::now().naive_utc()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(
        employers::table
            .find(id)
            .select(Employer::as_select())
            .first(conn)?,
    ))
}

/// Filters for listing.
#[derive(Debug, Clone, Default)]
pub struct EmployerFilter {
    /// Code prefix the employer's region must start with (a scope or a query).
    pub region_prefixes: Vec<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Exactly this USCC (employer tokens).
    pub uscc: Option<String>,
}

/// One page of employers in USCC order, and the total matching.
pub fn list(
    conn: &mut AnyConnection,
    filter: &EmployerFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Employer>, i64), DbError> {
    let build = || {
        let mut q = employers::table.into_boxed();
        for p in &filter.region_prefixes {
            q = q.filter(employers::region.like(format!("{p}%")));
        }
        if let Some(k) = &filter.kind {
            q = q.filter(employers::kind.eq(k.clone()));
        }
        if let Some(u) = &filter.uscc {
            q = q.filter(employers::uscc.eq(u.clone()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let items = build()
        .order(employers::uscc.asc())
        .offset(offset)
        .limit(limit)
        .select(Employer::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Up to `limit` employers with a contact address, after id `after`, in id order (the
/// reminder planner's chunks).
pub fn with_email_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Employer>, DbError> {
    Ok(employers::table
        .filter(employers::id.gt(after))
        .filter(employers::contact_email.is_not_null())
        .order(employers::id.asc())
        .limit(limit)
        .select(Employer::as_select())
        .load(conn)?)
}

/// Rows per `IN (…)` look-up: far below every backend's bind-parameter limit.
const LOOKUP_CHUNK: usize = 500;

/// The registered employers among `usccs`, by USCC (the importers' look-up).
pub fn by_usccs(
    conn: &mut AnyConnection,
    usccs: &[String],
) -> Result<std::collections::HashMap<String, Employer>, DbError> {
    let mut found = std::collections::HashMap::new();
    for chunk in usccs.chunks(LOOKUP_CHUNK) {
        // `eq_any` binds a list, which the multi-backend connection cannot: run it on
        // the concrete connection.
        let rows: Vec<Employer> = crate::per_backend!(conn, |c| employers::table
            .filter(employers::uscc.eq_any(chunk))
            .select(Employer::as_select())
            .load(c))?;
        found.extend(rows.into_iter().map(|e| (e.uscc.clone(), e)));
    }
    Ok(found)
}

/// Which of `usccs` are registered (the USCCs only: an import checks many).
pub fn registered_among(
    conn: &mut AnyConnection,
    usccs: &[String],
) -> Result<std::collections::HashSet<String>, DbError> {
    let mut found = std::collections::HashSet::new();
    for chunk in usccs.chunks(LOOKUP_CHUNK) {
        let rows: Vec<String> = crate::per_backend!(conn, |c| employers::table
            .filter(employers::uscc.eq_any(chunk))
            .select(employers::uscc)
            .load(c))?;
        found.extend(rows);
    }
    Ok(found)
}
