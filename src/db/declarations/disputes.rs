//! A person declared by more than one employer in a year: the overlaps, the claims, and
//! the resolution naming who counts the person.

use diesel::prelude::*;

use crate::db::schema::{certificate_resolutions, declarations, employers, roster_lines};
use crate::db::{AnyConnection, DbError};

use super::Status;

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
    use crate::db::schema::certificate_resolutions as cr;
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

/// The employers whose current filed declaration of `levy_year` has a roster line for
/// the person `holder_id` (the claimants of a possible dispute), in USCC order.
pub fn claimants(
    conn: &mut AnyConnection,
    levy_year: i32,
    holder_id: &str,
) -> Result<Vec<crate::db::employers::Employer>, DbError> {
    use crate::db::schema::employers;
    let mut found: Vec<crate::db::employers::Employer> = roster_lines::table
        .inner_join(declarations::table)
        .inner_join(employers::table.on(employers::id.eq(roster_lines::employer_id)))
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(roster_lines::holder_id.eq(holder_id))
        .filter(declarations::status.ne(Status::Draft.as_str()))
        .order(employers::uscc.asc())
        .select(crate::db::employers::Employer::as_select())
        .load(conn)?;
    found.dedup_by(|a, b| a.id == b.id);
    Ok(found)
}

/// A claim on a contested person: holder, certificate, line, months, USCC, name, region,
/// employer id.
pub type ClaimRow = (String, String, i32, i32, String, String, String, i64);

/// The people on the filed rosters of two or more employers in the year.
pub fn contested_holders(conn: &mut AnyConnection, levy_year: i32) -> Result<Vec<String>, DbError> {
    use diesel::AggregateExpressionMethods;
    Ok(roster_lines::table
        .inner_join(declarations::table)
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .group_by(roster_lines::holder_id)
        .having(
            diesel::dsl::count(roster_lines::employer_id)
                .aggregate_distinct()
                .gt(1),
        )
        .select(roster_lines::holder_id)
        .load(conn)?)
}

/// Every filed claim of the year on `holders`, by holder then USCC.
pub fn claims(
    conn: &mut AnyConnection,
    levy_year: i32,
    holders: &[String],
) -> Result<Vec<ClaimRow>, DbError> {
    Ok(roster_lines::table
        .inner_join(declarations::table)
        .inner_join(employers::table.on(employers::id.eq(roster_lines::employer_id)))
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(roster_lines::holder_id.eq_any(holders))
        .order((roster_lines::holder_id.asc(), employers::uscc.asc()))
        .select((
            roster_lines::holder_id,
            roster_lines::certificate_no,
            roster_lines::line_no,
            roster_lines::months_mask,
            employers::uscc,
            employers::name,
            employers::region,
            employers::id,
        ))
        .load(conn)?)
}

/// The employer with USCC `uscc` when it declares the person in the year.
pub fn claimant(
    conn: &mut AnyConnection,
    levy_year: i32,
    holder_id: &str,
    uscc: &str,
) -> Result<Option<i64>, DbError> {
    Ok(roster_lines::table
        .inner_join(employers::table.on(employers::id.eq(roster_lines::employer_id)))
        .filter(roster_lines::levy_year.eq(levy_year))
        .filter(roster_lines::holder_id.eq(holder_id))
        .filter(employers::uscc.eq(uscc))
        .select(employers::id)
        .first(conn)
        .optional()?)
}

/// The employer named to count the person in the year, if any.
pub fn resolution_of(
    conn: &mut AnyConnection,
    levy_year: i32,
    holder_id: &str,
) -> Result<Option<i64>, DbError> {
    Ok(certificate_resolutions::table
        .filter(certificate_resolutions::levy_year.eq(levy_year))
        .filter(certificate_resolutions::holder_id.eq(holder_id))
        .select(certificate_resolutions::employer_id)
        .first(conn)
        .optional()?)
}

/// Names `employer_id` to count the person in the year, replacing an earlier decision.
pub fn replace_resolution(
    conn: &mut AnyConnection,
    levy_year: i32,
    holder_id: &str,
    employer_id: i64,
    actor: &str,
    note: Option<&str>,
) -> Result<(), DbError> {
    diesel::delete(
        certificate_resolutions::table
            .filter(certificate_resolutions::levy_year.eq(levy_year))
            .filter(certificate_resolutions::holder_id.eq(holder_id)),
    )
    .execute(conn)?;
    diesel::insert_into(certificate_resolutions::table)
        .values((
            certificate_resolutions::levy_year.eq(levy_year),
            certificate_resolutions::holder_id.eq(holder_id),
            certificate_resolutions::employer_id.eq(employer_id),
            certificate_resolutions::resolved_by.eq(actor),
            certificate_resolutions::resolved_at.eq(chrono::Utc::now().naive_utc()),
            certificate_resolutions::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}
