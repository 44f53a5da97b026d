//! The tax bureau's views of a levy year across employers: the figures of each county
//! as SQL aggregates (one statement, whatever the number of employers), and the levy
//! roll's rows filtered and paged by key (USCC) on the database.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

use super::assessments::RollRaw;
use super::{AnyConnection, DbError};

/// The figures of one county (region code) for a levy year.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct CountyFigures {
    /// The region code.
    #[diesel(sql_type = Text)]
    pub region: String,
    /// Employers registered.
    #[diesel(sql_type = BigInt)]
    pub registered: i64,
    /// Employers with a declaration for the year, draft or filed.
    #[diesel(sql_type = BigInt)]
    pub declared: i64,
    /// Employers whose declaration is filed (not a draft).
    #[diesel(sql_type = BigInt)]
    pub filed: i64,
    /// Employers with a current assessment.
    #[diesel(sql_type = BigInt)]
    pub assessed: i64,
    /// Assessed exempt (small enterprise).
    #[diesel(sql_type = BigInt)]
    pub exempt: i64,
    /// Assessed below the quota and not exempt.
    #[diesel(sql_type = BigInt)]
    pub below_quota: i64,
    /// Levy payable by the current assessments, fen.
    #[diesel(sql_type = BigInt)]
    pub payable_fen: i64,
    /// Paid for the year up to the as-of date, fen.
    #[diesel(sql_type = BigInt)]
    pub paid_fen: i64,
    /// Principal still owed, fen: payments go to the principal first (docs/rules.md §6),
    /// so it is each employer's payable less what it paid, never below zero.
    #[diesel(sql_type = BigInt)]
    pub outstanding_principal_fen: i64,
}

/// `$1` levy year, `$2` as-of date, `$3` region pattern. SQLite numbers `$N` by first
/// appearance, which is their order here, so one text serves both backends.
const COUNTY_SQL: &str = "\
SELECT e.region AS region, \
  COUNT(*) AS registered, \
  CAST(COALESCE(SUM(CASE WHEN d.id IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS declared, \
  CAST(COALESCE(SUM(CASE WHEN d.status <> 'draft' THEN 1 ELSE 0 END), 0) AS BIGINT) AS filed, \
  CAST(COALESCE(SUM(CASE WHEN a.id IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS assessed, \
  CAST(COALESCE(SUM(CASE WHEN a.exempt THEN 1 ELSE 0 END), 0) AS BIGINT) AS exempt, \
  CAST(COALESCE(SUM(CASE WHEN a.shortfall_e4 > 0 AND NOT a.exempt THEN 1 ELSE 0 END), 0) AS BIGINT) AS below_quota, \
  CAST(COALESCE(SUM(a.payable_fen), 0) AS BIGINT) AS payable_fen, \
  CAST(COALESCE(SUM(p.paid), 0) AS BIGINT) AS paid_fen, \
  CAST(COALESCE(SUM(CASE WHEN a.payable_fen > COALESCE(p.paid, 0) \
       THEN a.payable_fen - COALESCE(p.paid, 0) ELSE 0 END), 0) AS BIGINT) AS outstanding_principal_fen \
FROM employers e \
LEFT JOIN declarations d ON d.employer_id = e.id AND d.levy_year = $1 \
LEFT JOIN assessments a ON a.employer_id = e.id AND a.levy_year = $1 AND a.is_current \
LEFT JOIN (SELECT employer_id, SUM(amount_fen) AS paid FROM payments \
           WHERE levy_year = $1 AND paid_on <= $2 GROUP BY employer_id) p \
       ON p.employer_id = e.id \
WHERE e.region LIKE $3 \
GROUP BY e.region \
ORDER BY e.region";

/// The figures of every county under `region_prefix` for `levy_year`, payments up to
/// `as_of`, by region code.
pub fn county_figures(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: chrono::NaiveDate,
) -> Result<Vec<CountyFigures>, DbError> {
    let pattern = format!("{region_prefix}%");
    Ok(crate::per_backend!(&mut *conn, |c| diesel::sql_query(
        COUNTY_SQL
    )
    .bind::<Integer, _>(levy_year)
    .bind::<Date, _>(as_of)
    .bind::<Text, _>(&pattern)
    .load::<CountyFigures>(c))?)
}

/// The status an assessed employer has on the roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollStatus {
    /// Exempt small enterprise.
    Exempt,
    /// Below the quota, not exempt.
    BelowQuota,
    /// At or above the quota.
    Compliant,
}

/// What the roll is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct RollFilter {
    /// Region code prefix (a county, a city, a province; empty: everywhere).
    pub region_prefix: String,
    /// Employer kind (`enterprise`, …).
    pub kind: Option<String>,
    /// Status.
    pub status: Option<RollStatus>,
    /// Levy payable at least, fen.
    pub min_payable_fen: Option<i64>,
    /// Levy payable at most, fen.
    pub max_payable_fen: Option<i64>,
}

/// The current assessments of the year that `filter` keeps, after USCC `after`, in USCC
/// order, at most `limit`: a page by key, which costs the same on the last page as on
/// the first (no OFFSET).
///
/// The plan is [`super::assessments::roll_chunk`]'s: employers walked in USCC order
/// from `after` on their unique index, each one's current assessment an index-only
/// probe of `assessments_roll` (which holds every column the filters name), stopping at
/// `limit`. The filters are conditions on the rows walked, never a reason to collect
/// and sort: from the assessments (`assessments_year`) SQLite read every assessment of
/// the year and sorted them by USCC for each page (525 ms p99 at 200,000 employers,
/// BENCHMARKS.md "Lists"). An absent filter is bound as a value that keeps every row,
/// so that one statement text serves every combination.
pub fn roll_page(
    conn: &mut AnyConnection,
    levy_year: i32,
    filter: &RollFilter,
    after: &str,
    limit: i64,
) -> Result<Vec<RollRaw>, DbError> {
    use super::assessments::RollChunkRow;
    // $1…$8 first appear in order (SQLite numbers them so); `CROSS JOIN` fixes SQLite's
    // join order, `INDEXED BY` its index, `a.is_current` bare states the partial
    // index's condition (src/db/assessments.rs, roll_chunk).
    macro_rules! page_sql {
        ($assessments:literal) => {
            concat!(
                "SELECT e.id, e.uscc, e.name, e.kind, e.region, a.staff_x12_e4, ",
                "a.required_e4, a.disabled_x12_e4, a.payable_fen, a.exempt, ",
                "a.policy_snapshot_id, a.shortfall_e4 ",
                "FROM employers e CROSS JOIN ",
                $assessments,
                " WHERE e.uscc > $1 AND e.region LIKE $2 ",
                "AND a.employer_id = e.id AND a.levy_year = $3 AND a.is_current ",
                "AND ($4 = '' OR e.kind = $4) ",
                "AND a.payable_fen >= $5 AND a.payable_fen <= $6 ",
                "AND ($7 = 0 OR ($7 = 1 AND a.exempt) ",
                "OR ($7 = 2 AND NOT a.exempt AND a.shortfall_e4 > 0) ",
                "OR ($7 = 3 AND NOT a.exempt AND a.shortfall_e4 <= 0)) ",
                "ORDER BY e.uscc LIMIT $8"
            )
        };
    }
    let pattern = format!("{}%", filter.region_prefix);
    let kind = filter.kind.as_deref().unwrap_or("");
    let min = filter.min_payable_fen.unwrap_or(i64::MIN);
    let max = filter.max_payable_fen.unwrap_or(i64::MAX);
    let status = match filter.status {
        None => 0,
        Some(RollStatus::Exempt) => 1,
        Some(RollStatus::BelowQuota) => 2,
        Some(RollStatus::Compliant) => 3,
    };
    macro_rules! bound {
        ($q:expr) => {
            $q.bind::<Text, _>(after)
                .bind::<Text, _>(&pattern)
                .bind::<Integer, _>(levy_year)
                .bind::<Text, _>(kind)
                .bind::<BigInt, _>(min)
                .bind::<BigInt, _>(max)
                .bind::<Integer, _>(status)
                .bind::<BigInt, _>(limit)
        };
    }
    let rows: Vec<RollChunkRow> = match conn {
        AnyConnection::Sqlite(c) => bound!(diesel::sql_query(page_sql!(
            "assessments a INDEXED BY assessments_roll"
        )))
        .load(c)?,
        AnyConnection::Postgresql(c) => {
            bound!(diesel::sql_query(page_sql!("assessments a"))).load(c)?
        }
    };
    Ok(rows.into_iter().map(RollChunkRow::into_raw).collect())
}
