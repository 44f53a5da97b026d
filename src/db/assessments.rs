//! Assessments (immutable rows, one current per employer and year), the policy
//! snapshots they reference, and batch runs.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{assessment_runs, assessments, policy_snapshots};
use super::{AnyConnection, DbError};

/// A stored assessment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assessments)]
pub struct Assessment {
    /// Row id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Region used.
    pub region: String,
    /// Employer kind used.
    pub kind: String,
    /// Declaration row id.
    pub declaration_id: i64,
    /// Declaration version assessed.
    pub declaration_version: i32,
    /// SHA-256 of the inputs and the policy values.
    pub inputs_digest: String,
    /// Policy snapshot used.
    pub policy_snapshot_id: i64,
    /// As-of date the law was resolved for.
    pub as_of: NaiveDate,
    /// N × 12 × 10^4 (exact).
    pub staff_x12_e4: i64,
    /// D × 12 × 10^4 (exact).
    pub disabled_x12_e4: i64,
    /// Required count × 10^4, rounded.
    pub required_e4: i64,
    /// Shortfall × 10^4, rounded.
    pub shortfall_e4: i64,
    /// Average wage, fen.
    pub average_wage_fen: Option<i64>,
    /// Wage used after the cap, fen.
    pub wage_used_fen: Option<i64>,
    /// Fee due, fen.
    pub fee_due_fen: i64,
    /// Reduction, fen.
    pub reduction_fen: i64,
    /// Levy payable, fen.
    pub payable_fen: i64,
    /// Over-quota × 10^4, rounded.
    pub over_quota_e4: i64,
    /// Reward, fen.
    pub reward_fen: i64,
    /// Small-enterprise exemption applied.
    pub exempt: bool,
    /// A provisional value was used.
    pub provisional: bool,
    /// The calculation request, canonical JSON; empty when it is the declaration
    /// version's body as a request (see `registry::assessments::inputs_of`).
    pub inputs_json: String,
    /// Batch run that made it, if any.
    pub run_id: Option<i64>,
    /// When computed (UTC).
    pub computed_at: NaiveDateTime,
    /// When superseded (UTC).
    pub superseded_at: Option<NaiveDateTime>,
    /// The current one for its employer and year.
    pub is_current: bool,
    /// The employer's registration date the inputs were stated with (NULL in rows made
    /// before it was kept: their `inputs_json` holds it).
    pub registered_on: Option<NaiveDate>,
}

/// A new assessment row. `None` is stored as NULL (the nullable columns have no other
/// default), which PostgreSQL's binary COPY needs.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = assessments, treat_none_as_default_value = false)]
pub struct NewAssessment {
    /// See [`Assessment`].
    pub employer_id: i64,
    /// See [`Assessment`].
    pub levy_year: i32,
    /// See [`Assessment`].
    pub region: String,
    /// See [`Assessment`].
    pub kind: String,
    /// See [`Assessment`].
    pub declaration_id: i64,
    /// See [`Assessment`].
    pub declaration_version: i32,
    /// See [`Assessment`].
    pub inputs_digest: String,
    /// See [`Assessment`].
    pub policy_snapshot_id: i64,
    /// See [`Assessment`].
    pub as_of: NaiveDate,
    /// See [`Assessment`].
    pub staff_x12_e4: i64,
    /// See [`Assessment`].
    pub disabled_x12_e4: i64,
    /// See [`Assessment`].
    pub required_e4: i64,
    /// See [`Assessment`].
    pub shortfall_e4: i64,
    /// See [`Assessment`].
    pub average_wage_fen: Option<i64>,
    /// See [`Assessment`].
    pub wage_used_fen: Option<i64>,
    /// See [`Assessment`].
    pub fee_due_fen: i64,
    /// See [`Assessment`].
    pub reduction_fen: i64,
    /// See [`Assessment`].
    pub payable_fen: i64,
    /// See [`Assessment`].
    pub over_quota_e4: i64,
    /// See [`Assessment`].
    pub reward_fen: i64,
    /// See [`Assessment`].
    pub exempt: bool,
    /// See [`Assessment`].
    pub provisional: bool,
    /// See [`Assessment`].
    pub inputs_json: String,
    /// See [`Assessment`].
    pub run_id: Option<i64>,
    /// See [`Assessment`].
    pub computed_at: NaiveDateTime,
    /// See [`Assessment`].
    pub superseded_at: Option<NaiveDateTime>,
    /// See [`Assessment`].
    pub is_current: bool,
    /// See [`Assessment`].
    pub registered_on: Option<NaiveDate>,
}

/// The current assessment of an employer for a year.
pub fn current(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<Assessment>, DbError> {
    Ok(assessments::table
        .filter(assessments::employer_id.eq(employer_id))
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .select(Assessment::as_select())
        .first(conn)
        .optional()?)
}

/// (employer id, assessment id, inputs digest) of the current assessments of these
/// employers.
pub fn current_digests(
    conn: &mut AnyConnection,
    employer_ids: &[i64],
    levy_year: i32,
) -> Result<Vec<(i64, i64, String)>, DbError> {
    if employer_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(assessments::table
        .filter(assessments::employer_id.eq_any(employer_ids))
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .select((
            assessments::employer_id,
            assessments::id,
            assessments::inputs_digest,
        ))
        .load(conn)?)
}

/// Marks assessments as no longer current.
pub fn supersede(conn: &mut AnyConnection, ids: &[i64], at: NaiveDateTime) -> Result<(), DbError> {
    for chunk in ids.chunks(500) {
        diesel::update(assessments::table.filter(assessments::id.eq_any(chunk)))
            .set((
                assessments::is_current.eq(false),
                assessments::superseded_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Rows of one multi-row insert on SQLite: a fixed count, so that diesel prepares the
/// statement once and caches it (a slice of any length would be built and prepared
/// anew each time); 32 rows bind 896 values, within any SQLite's limit.
const SQLITE_ROWS_PER_INSERT: usize = 32;

/// Inserts rows: on PostgreSQL by binary COPY; on SQLite by one cached prepared
/// statement of [`SQLITE_ROWS_PER_INSERT`] rows re-bound per batch, and one of one row
/// for the rest. A statement built for a whole chunk would cost more to build and
/// prepare than SQLite's insert itself (BENCHMARKS.md, "Batch assessment").
pub fn insert_many(conn: &mut AnyConnection, rows: &[NewAssessment]) -> Result<(), DbError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            let mut batches = rows.chunks_exact(SQLITE_ROWS_PER_INSERT);
            for batch in &mut batches {
                let batch: &[NewAssessment; SQLITE_ROWS_PER_INSERT] =
                    batch.try_into().map_err(|_| {
                        DbError::Task("a batch of assessments of the wrong size".into())
                    })?;
                diesel::insert_into(assessments::table)
                    .values(batch)
                    .execute(c)?;
            }
            for row in batches.remainder() {
                diesel::insert_into(assessments::table)
                    .values(row)
                    .execute(c)?;
            }
        }
        // Binary COPY: no statement to build, parse and plan per batch.
        AnyConnection::Postgresql(c) => {
            if !rows.is_empty() {
                diesel::copy_from(assessments::table)
                    .from_insertable(rows)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// How many assessments (current and superseded) an employer has for a year.
pub fn count_for(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<i64, DbError> {
    Ok(assessments::table
        .filter(assessments::employer_id.eq(employer_id))
        .filter(assessments::levy_year.eq(levy_year))
        .count()
        .get_result(conn)?)
}

/// The id of the snapshot with this digest, storing it first when new.
pub fn snapshot_id(
    conn: &mut AnyConnection,
    digest: &str,
    body_json: &str,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    let find = |conn: &mut AnyConnection| -> Result<Option<i64>, DbError> {
        Ok(policy_snapshots::table
            .filter(policy_snapshots::digest.eq(digest))
            .select(policy_snapshots::id)
            .first(conn)
            .optional()?)
    };
    if let Some(id) = find(conn)? {
        return Ok(id);
    }
    // Two writers may store the same snapshot at once; the unique digest keeps one.
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(policy_snapshots::table)
        .values((
            policy_snapshots::digest.eq(digest),
            policy_snapshots::body_json.eq(body_json),
            policy_snapshots::created_at.eq(now),
        ))
        .on_conflict(policy_snapshots::digest)
        .do_nothing()
        .execute(c))?;
    find(conn)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

/// A snapshot's JSON.
pub fn snapshot_json(conn: &mut AnyConnection, id: i64) -> Result<String, DbError> {
    Ok(policy_snapshots::table
        .find(id)
        .select(policy_snapshots::body_json)
        .first(conn)?)
}

/// A batch run.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = assessment_runs)]
pub struct Run {
    /// Id.
    pub id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Region (prefix scope), if limited.
    pub region: Option<String>,
    /// `running`, `finished`, `failed`.
    pub status: String,
    /// Employers with a filed declaration in scope when the run started.
    pub total: i64,
    /// Employers processed so far.
    pub processed: i64,
    /// New assessments written.
    pub assessed: i64,
    /// Employers whose current assessment already had these inputs.
    pub unchanged: i64,
    /// Employers that could not be assessed (e.g. a missing policy value).
    pub failed: i64,
    /// Exempt employers.
    pub exempt: i64,
    /// Employers below quota and not exempt.
    pub below_quota: i64,
    /// Sum of levy payable, fen.
    pub payable_total_fen: i64,
    /// The highest employer id of the chunks committed so far (with several workers,
    /// chunks below it may still be in progress).
    pub last_employer_id: i64,
    /// Who started it.
    pub started_by: String,
    /// Started (UTC).
    pub started_at: NaiveDateTime,
    /// Finished (UTC).
    pub finished_at: Option<NaiveDateTime>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A run by id.
pub fn run(conn: &mut AnyConnection, id: i64) -> Result<Option<Run>, DbError> {
    Ok(assessment_runs::table
        .find(id)
        .select(Run::as_select())
        .first(conn)
        .optional()?)
}

/// The latest run started, of any year and scope (for `GET /metrics`).
pub fn latest_run(conn: &mut AnyConnection) -> Result<Option<Run>, DbError> {
    Ok(assessment_runs::table
        .order(assessment_runs::id.desc())
        .select(Run::as_select())
        .first(conn)
        .optional()?)
}

/// The unfinished run for a year and scope, to resume after a crash.
pub fn unfinished_run(
    conn: &mut AnyConnection,
    levy_year: i32,
    region: Option<&str>,
) -> Result<Option<Run>, DbError> {
    let mut q = assessment_runs::table
        .filter(assessment_runs::levy_year.eq(levy_year))
        .filter(assessment_runs::status.eq("running"))
        .into_boxed();
    q = match region {
        Some(r) => q.filter(assessment_runs::region.eq(r.to_owned())),
        None => q.filter(assessment_runs::region.is_null()),
    };
    Ok(q.order(assessment_runs::id.desc())
        .select(Run::as_select())
        .first(conn)
        .optional()?)
}

/// Starts a run record.
pub fn start_run(
    conn: &mut AnyConnection,
    levy_year: i32,
    region: Option<&str>,
    total: i64,
    started_by: &str,
    now: NaiveDateTime,
) -> Result<Run, DbError> {
    diesel::insert_into(assessment_runs::table)
        .values((
            assessment_runs::levy_year.eq(levy_year),
            assessment_runs::region.eq(region),
            assessment_runs::status.eq("running"),
            assessment_runs::total.eq(total),
            assessment_runs::started_by.eq(started_by),
            assessment_runs::started_at.eq(now),
        ))
        .execute(conn)?;
    Ok(assessment_runs::table
        .filter(assessment_runs::levy_year.eq(levy_year))
        .order(assessment_runs::id.desc())
        .select(Run::as_select())
        .first(conn)?)
}

/// Counts of one chunk, added to a run in the chunk's transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChunkCounts {
    /// Employers processed.
    pub processed: i64,
    /// New assessments.
    pub assessed: i64,
    /// Unchanged.
    pub unchanged: i64,
    /// Failed.
    pub failed: i64,
    /// Exempt (new or unchanged).
    pub exempt: i64,
    /// Below quota and not exempt.
    pub below_quota: i64,
    /// Payable, fen.
    pub payable_fen: i64,
}

/// Records a chunk's progress: adds its counts and moves the progress mark up to
/// `last_employer_id` (never down: workers commit their chunks in any order).
pub fn advance_run(
    conn: &mut AnyConnection,
    run_id: i64,
    last_employer_id: i64,
    c: ChunkCounts,
) -> Result<(), DbError> {
    use diesel::sql_types::BigInt;
    // One statement on both backends: `CASE` where PostgreSQL would say `GREATEST` and
    // SQLite `max`. Numbered parameters in order of first use bind the same on both.
    diesel::sql_query(
        "UPDATE assessment_runs SET processed = processed + $1, assessed = assessed + $2, \
         unchanged = unchanged + $3, failed = failed + $4, exempt = exempt + $5, \
         below_quota = below_quota + $6, payable_total_fen = payable_total_fen + $7, \
         last_employer_id = CASE WHEN last_employer_id < $8 THEN $8 ELSE last_employer_id END \
         WHERE id = $9",
    )
    .bind::<BigInt, _>(c.processed)
    .bind::<BigInt, _>(c.assessed)
    .bind::<BigInt, _>(c.unchanged)
    .bind::<BigInt, _>(c.failed)
    .bind::<BigInt, _>(c.exempt)
    .bind::<BigInt, _>(c.below_quota)
    .bind::<BigInt, _>(c.payable_fen)
    .bind::<BigInt, _>(last_employer_id)
    .bind::<BigInt, _>(run_id)
    .execute(conn)?;
    Ok(())
}

/// Marks a run finished or failed.
pub fn finish_run(
    conn: &mut AnyConnection,
    run_id: i64,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    // Only a running run: a worker that stops late must not turn another worker's
    // "finished" into "failed", nor finish a run twice.
    diesel::update(
        assessment_runs::table
            .find(run_id)
            .filter(assessment_runs::status.eq("running")),
    )
    .set((
        assessment_runs::status.eq(if error.is_some() {
            "failed"
        } else {
            "finished"
        }),
        assessment_runs::finished_at.eq(Some(now)),
        assessment_runs::error.eq(error),
    ))
    .execute(conn)?;
    Ok(())
}

/// The current assessments of `employer_ids` for the year: employer id → (policy
/// snapshot id, levy payable in fen).
pub fn current_levies(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<std::collections::HashMap<i64, (i64, i64)>, DbError> {
    Ok(assessments::table
        .filter(assessments::employer_id.eq_any(employer_ids))
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .select((
            assessments::employer_id,
            assessments::policy_snapshot_id,
            assessments::payable_fen,
        ))
        .load::<(i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(e, s, p)| (e, (s, p)))
        .collect())
}

/// One line of the levy roll as stored: employer id, USCC, name, kind, region; staff
/// ×12×10⁴, required ×10⁴, disabled ×12×10⁴, payable (fen), exempt, policy snapshot,
/// shortfall ×10⁴.
pub type RollRaw = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    bool,
    i64,
    i64,
);

/// One row of [`roll_chunk`] (and of the tax roll's pages) as the query returns it.
#[derive(QueryableByName)]
pub(super) struct RollChunkRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    uscc: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    region: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    staff_x12_e4: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    required_e4: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    disabled_x12_e4: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    payable_fen: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exempt: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    policy_snapshot_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    shortfall_e4: i64,
}

impl RollChunkRow {
    /// The row as the roll's tuple.
    pub(super) fn into_raw(self) -> RollRaw {
        (
            self.id,
            self.uscc,
            self.name,
            self.kind,
            self.region,
            self.staff_x12_e4,
            self.required_e4,
            self.disabled_x12_e4,
            self.payable_fen,
            self.exempt,
            self.policy_snapshot_id,
            self.shortfall_e4,
        )
    }
}

/// The current assessments of the year under `region_prefix`, after USCC `after`, in
/// USCC order, at most `limit` (the roll's chunks).
///
/// Keyset pagination served by indexes (BENCHMARKS.md, "Levy roll", has the plans):
/// the outer loop walks the employers' unique USCC index from `after` and stops at
/// `limit`; each employer's current assessment is one index-only probe of
/// `assessments_roll`, which holds the figures read here. Starting from the assessments
/// instead makes the database collect and sort the whole region for every chunk, so a
/// roll's cost grows with the square of its length. SQLite, without statistics, picks
/// that plan for an inner join; `CROSS JOIN` is SQLite's way of fixing the join order
/// (to PostgreSQL it is an inner join like any other, and it plans it the same way).
/// `a.is_current` is stated bare, not `= true`: SQLite uses a partial index only when
/// the query states the index's condition, and a bound `true` does not.
pub fn roll_chunk(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<RollRaw>, DbError> {
    use diesel::sql_types::{BigInt, Integer, Text};
    // SQLite would rather probe `assessments_one_current` (unique, so "one row"), which
    // then reads the assessment row itself; `INDEXED BY` names the covering index.
    macro_rules! roll_sql {
        ($assessments:literal) => {
            concat!(
                "SELECT e.id, e.uscc, e.name, e.kind, e.region, a.staff_x12_e4, ",
                "a.required_e4, a.disabled_x12_e4, a.payable_fen, a.exempt, ",
                "a.policy_snapshot_id, a.shortfall_e4 ",
                "FROM employers e CROSS JOIN ",
                $assessments,
                " WHERE e.uscc > $1 AND e.region LIKE $2 ",
                "AND a.employer_id = e.id AND a.levy_year = $3 AND a.is_current ",
                "ORDER BY e.uscc LIMIT $4"
            )
        };
    }
    let pattern = format!("{region_prefix}%");
    let rows: Vec<RollChunkRow> = match conn {
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(roll_sql!("assessments a INDEXED BY assessments_roll"))
                .bind::<Text, _>(after)
                .bind::<Text, _>(&pattern)
                .bind::<Integer, _>(levy_year)
                .bind::<BigInt, _>(limit)
                .load(c)?
        }
        AnyConnection::Postgresql(c) => diesel::sql_query(roll_sql!("assessments a"))
            .bind::<Text, _>(after)
            .bind::<Text, _>(&pattern)
            .bind::<Integer, _>(levy_year)
            .bind::<BigInt, _>(limit)
            .load(c)?,
    };
    Ok(rows.into_iter().map(RollChunkRow::into_raw).collect())
}
