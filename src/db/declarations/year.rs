//! Scans of a levy year across employers, for reminders, reports and assessment runs.

use diesel::prelude::*;
use std::collections::HashMap;

use crate::db::employers::Employer;
use crate::db::schema::{assessments, declarations, employers, roster_lines};
use crate::db::{AnyConnection, DbError};

use super::Declaration;

/// Filed declarations of the year in scope, after `after_employer_id`, in employer order.
pub fn filed_after(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
    after_employer_id: i64,
    limit: i64,
) -> Result<Vec<(Employer, Declaration)>, DbError> {
    Ok(declarations::table
        .inner_join(employers::table)
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(employers::region.like(pattern.to_owned()))
        // Filter and order on the declaration's employer id (equal through the join):
        // the (levy_year, employer_id) index then yields the rows in order and the
        // LIMIT stops the scan, instead of sorting everything after the mark per chunk.
        .filter(declarations::employer_id.gt(after_employer_id))
        .order(declarations::employer_id.asc())
        .limit(limit)
        .select((Employer::as_select(), Declaration::as_select()))
        .load(conn)?)
}

/// Filed declarations of the year in scope with `after < employer id <= last`, in
/// employer order: one chunk of a batch run.
pub fn filed_between(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
    after_employer_id: i64,
    last_employer_id: i64,
) -> Result<Vec<(Employer, Declaration)>, DbError> {
    Ok(declarations::table
        .inner_join(employers::table)
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(employers::region.like(pattern.to_owned()))
        // On the declaration's employer id, as in `filed_after`: the index range scan.
        .filter(declarations::employer_id.gt(after_employer_id))
        .filter(declarations::employer_id.le(last_employer_id))
        .order(declarations::employer_id.asc())
        .select((Employer::as_select(), Declaration::as_select()))
        .load(conn)?)
}

/// The employer ids of the filed declarations of the year in scope after
/// `after_employer_id`, in order (what a batch run cuts into chunks).
pub fn filed_employer_ids(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
    after_employer_id: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(declarations::table
        .inner_join(employers::table)
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(employers::region.like(pattern.to_owned()))
        .filter(declarations::employer_id.gt(after_employer_id))
        .order(declarations::employer_id.asc())
        .select(declarations::employer_id)
        .load(conn)?)
}

/// How many declarations of the year in scope are filed.
pub fn count_filed(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
) -> Result<i64, DbError> {
    Ok(declarations::table
        .inner_join(employers::table)
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(employers::region.like(pattern.to_owned()))
        .count()
        .get_result(conn)?)
}

/// The drafts of the year in scope (`pattern`: a `LIKE` on the region code): how many,
/// and the first `named` USCCs in order.
pub fn drafts(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
    named: i64,
) -> Result<(i64, Vec<String>), DbError> {
    let base = || {
        declarations::table
            .inner_join(employers::table)
            .filter(declarations::levy_year.eq(levy_year))
            .filter(declarations::status.eq("draft"))
            .filter(employers::region.like(pattern.to_owned()))
    };
    let count: i64 = base().count().get_result(conn)?;
    let first: Vec<String> = base()
        .order(employers::uscc.asc())
        .limit(named)
        .select(employers::uscc)
        .load(conn)?;
    Ok((count, first))
}

/// The filed declarations of the year in scope without a current assessment, with
/// their employers, in USCC order.
pub fn filed_unassessed(
    conn: &mut AnyConnection,
    levy_year: i32,
    pattern: &str,
) -> Result<Vec<(Employer, Declaration)>, DbError> {
    Ok(declarations::table
        .inner_join(employers::table)
        .left_join(
            assessments::table.on(assessments::employer_id
                .eq(employers::id)
                .and(assessments::levy_year.eq(levy_year))
                .and(assessments::is_current.eq(true))),
        )
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::status.ne("draft"))
        .filter(employers::region.like(pattern.to_owned()))
        .filter(assessments::id.nullable().is_null())
        .order(employers::uscc.asc())
        .select((Employer::as_select(), Declaration::as_select()))
        .load(conn)?)
}

/// An employer as the violator checks read it: id, USCC, name, kind, region,
/// establishment size, committee member.
pub type EmployerFacts = (i64, String, String, String, String, Option<i32>, bool);

/// A roster line as the violator checks read it: employer id, months mask, on
/// establishment, contract months, insured, wage (fen). Never the certificate or
/// holder ID.
pub type RosterFacts = (i64, i32, bool, Option<i32>, bool, Option<i64>);

/// Employers under `region_prefix` after USCC `after`, in USCC order, at most `limit`.
pub fn employer_chunk(
    conn: &mut AnyConnection,
    region_prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<EmployerFacts>, DbError> {
    Ok(employers::table
        .filter(employers::region.like(format!("{region_prefix}%")))
        .filter(employers::uscc.gt(after))
        .order(employers::uscc.asc())
        .limit(limit)
        .select((
            employers::id,
            employers::uscc,
            employers::name,
            employers::kind,
            employers::region,
            employers::establishment_size,
            employers::committee_member,
        ))
        .load(conn)?)
}

/// The filed declarations of the year among `employer_ids`: employer id → declaration id.
pub fn filed_ids(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbError> {
    Ok(declarations::table
        .filter(declarations::levy_year.eq(levy_year))
        .filter(declarations::employer_id.eq_any(employer_ids))
        .filter(declarations::status.ne("draft"))
        .select((declarations::employer_id, declarations::id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}

/// The current assessments of the year among `employer_ids`: employer id → (payable in
/// fen, disabled ×12×10⁴, policy snapshot).
pub fn current_figures(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, (i64, i64, i64)>, DbError> {
    Ok(assessments::table
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .filter(assessments::employer_id.eq_any(employer_ids))
        .select((
            assessments::employer_id,
            assessments::payable_fen,
            assessments::disabled_x12_e4,
            assessments::policy_snapshot_id,
        ))
        .load::<(i64, i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(e, p, d, s)| (e, (p, d, s)))
        .collect())
}

/// The roster lines of `declaration_ids`, only the columns the checks need.
pub fn roster_facts(
    conn: &mut AnyConnection,
    declaration_ids: &[i64],
) -> Result<Vec<RosterFacts>, DbError> {
    Ok(roster_lines::table
        .filter(roster_lines::declaration_id.eq_any(declaration_ids))
        .select((
            roster_lines::employer_id,
            roster_lines::months_mask,
            roster_lines::on_establishment,
            roster_lines::contract_months,
            roster_lines::social_insurance_paid,
            roster_lines::monthly_wage_fen,
        ))
        .load(conn)?)
}
