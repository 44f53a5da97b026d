//! Over-quota rewards: the federation's decisions and the payouts (docs/rules.md §7).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

use super::schema::{assessments, employers, reward_decisions, reward_payouts};
use super::{AnyConnection, DbError};

/// A decision on an employer's reward for a year.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reward_decisions)]
pub struct DecisionRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// The assessment decided on.
    pub assessment_id: i64,
    /// Its reward, fen: what an approval approves.
    pub reward_fen: i64,
    /// Approved (true) or refused.
    pub approved: bool,
    /// Why refused (required then), or a note.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: String,
    /// When (UTC).
    pub decided_at: NaiveDateTime,
}

/// A decision to store (replacing the employer's decision of the year, if any).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = reward_decisions, treat_none_as_null = true)]
pub struct NewDecision {
    /// See [`DecisionRow`].
    pub employer_id: i64,
    /// See [`DecisionRow`].
    pub levy_year: i32,
    /// See [`DecisionRow`].
    pub assessment_id: i64,
    /// See [`DecisionRow`].
    pub reward_fen: i64,
    /// See [`DecisionRow`].
    pub approved: bool,
    /// See [`DecisionRow`].
    pub reason: Option<String>,
    /// See [`DecisionRow`].
    pub decided_by: String,
    /// See [`DecisionRow`].
    pub decided_at: NaiveDateTime,
}

/// A recorded payout (negative: a reversal).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reward_payouts)]
pub struct PayoutRow {
    /// Id.
    pub id: i64,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Amount, fen (negative for a reversal).
    pub amount_fen: i64,
    /// Value date.
    pub paid_on: NaiveDate,
    /// Bank reference.
    pub reference: String,
    /// The payout this one reverses.
    pub reverses_id: Option<i64>,
    /// The client's Idempotency-Key.
    pub idempotency_key: String,
    /// SHA-256 of what was asked.
    pub request_digest: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (UTC).
    pub recorded_at: NaiveDateTime,
}

/// A payout to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reward_payouts)]
pub struct NewPayout {
    /// See [`PayoutRow`].
    pub employer_id: i64,
    /// See [`PayoutRow`].
    pub levy_year: i32,
    /// See [`PayoutRow`].
    pub amount_fen: i64,
    /// See [`PayoutRow`].
    pub paid_on: NaiveDate,
    /// See [`PayoutRow`].
    pub reference: String,
    /// See [`PayoutRow`].
    pub reverses_id: Option<i64>,
    /// See [`PayoutRow`].
    pub idempotency_key: String,
    /// See [`PayoutRow`].
    pub request_digest: String,
    /// See [`PayoutRow`].
    pub recorded_by: String,
    /// See [`PayoutRow`].
    pub recorded_at: NaiveDateTime,
}

/// The decision on an employer's reward of a year.
pub fn decision(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Option<DecisionRow>, DbError> {
    Ok(reward_decisions::table
        .filter(reward_decisions::employer_id.eq(employer_id))
        .filter(reward_decisions::levy_year.eq(levy_year))
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a decision, replacing the one of the employer and year.
pub fn put_decision(conn: &mut AnyConnection, d: &NewDecision) -> Result<(), DbError> {
    let n = diesel::update(
        reward_decisions::table
            .filter(reward_decisions::employer_id.eq(d.employer_id))
            .filter(reward_decisions::levy_year.eq(d.levy_year)),
    )
    .set(d)
    .execute(conn)?;
    if n == 0 {
        diesel::insert_into(reward_decisions::table)
            .values(d)
            .execute(conn)?;
    }
    Ok(())
}

/// The decisions of these employers for a year.
pub fn decisions_of(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, DecisionRow>, DbError> {
    let mut out = HashMap::new();
    for chunk in employer_ids.chunks(500) {
        let rows: Vec<DecisionRow> = reward_decisions::table
            .filter(reward_decisions::levy_year.eq(levy_year))
            .filter(reward_decisions::employer_id.eq_any(chunk))
            .select(DecisionRow::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(|d| (d.employer_id, d)));
    }
    Ok(out)
}

/// The payout recorded for an employer under an idempotency key.
pub fn payout_by_key(
    conn: &mut AnyConnection,
    employer_id: i64,
    key: &str,
) -> Result<Option<PayoutRow>, DbError> {
    Ok(reward_payouts::table
        .filter(reward_payouts::employer_id.eq(employer_id))
        .filter(reward_payouts::idempotency_key.eq(key))
        .select(PayoutRow::as_select())
        .first(conn)
        .optional()?)
}

/// Inserts a payout. A key the employer used meanwhile is a unique violation; callers
/// insert inside a savepoint (as payments do).
pub fn insert_payout(conn: &mut AnyConnection, p: &NewPayout) -> Result<(), DbError> {
    diesel::insert_into(reward_payouts::table)
        .values(p)
        .execute(conn)?;
    Ok(())
}

/// Payouts of an employer for a year, in the order recorded.
pub fn payouts_for(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(reward_payouts::table
        .filter(reward_payouts::employer_id.eq(employer_id))
        .filter(reward_payouts::levy_year.eq(levy_year))
        .order(reward_payouts::id.asc())
        .select(PayoutRow::as_select())
        .load(conn)?)
}

/// Net paid (fen) to these employers for a year.
pub fn net_paid_of(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbError> {
    let mut out: HashMap<i64, i64> = HashMap::new();
    for chunk in employer_ids.chunks(500) {
        let rows: Vec<(i64, i64)> = reward_payouts::table
            .filter(reward_payouts::levy_year.eq(levy_year))
            .filter(reward_payouts::employer_id.eq_any(chunk))
            .select((reward_payouts::employer_id, reward_payouts::amount_fen))
            .load(conn)?;
        for (e, fen) in rows {
            *out.entry(e).or_default() += fen;
        }
    }
    Ok(out)
}

/// One line of the rewards roll as stored: employer id, USCC, name, kind, region;
/// over-quota ×10⁴, reward (fen), provisional, policy snapshot, assessment id.
pub type RewardRaw = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    bool,
    i64,
    i64,
);

/// The current assessments of the year under `region_prefix` that carry a reward, or
/// whose employer has a decision on one (a re-assessment may have taken it away), after
/// USCC `after`, in USCC order, at most `limit`.
pub fn roll_chunk(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<RewardRaw>, DbError> {
    let decided = reward_decisions::table
        .filter(reward_decisions::levy_year.eq(levy_year))
        .select(reward_decisions::employer_id);
    Ok(assessments::table
        .inner_join(employers::table)
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .filter(
            assessments::reward_fen
                .gt(0)
                .or(assessments::employer_id.eq_any(decided)),
        )
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
            assessments::over_quota_e4,
            assessments::reward_fen,
            assessments::provisional,
            assessments::policy_snapshot_id,
            assessments::id,
        ))
        .load(conn)?)
}

/// A payout with its employer, for the fund's account: (USCC, name, payout).
pub type PayoutLine = (String, String, PayoutRow);

/// Payouts of the year to employers under `region_prefix`, in the order recorded.
pub fn payouts_in(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
) -> Result<Vec<PayoutLine>, DbError> {
    let rows: Vec<(String, String, PayoutRow)> = reward_payouts::table
        .inner_join(employers::table)
        .filter(reward_payouts::levy_year.eq(levy_year))
        .filter(employers::region.like(format!("{region_prefix}%")))
        .order(reward_payouts::id.asc())
        .select((employers::uscc, employers::name, PayoutRow::as_select()))
        .load(conn)?;
    Ok(rows)
}

/// A levy payment of the fund's account: (USCC, name, payment id, value date, amount in
/// fen, bank reference).
pub type PaymentLine = (String, String, i64, NaiveDate, i64, String);

/// The levy payments of the year, up to `up_to`, of the employers under `region_prefix`
/// that have a current assessment (those the levy roll lists, so that the account's
/// "collected" is the roll's "paid"), by value date.
pub fn assessed_payments_in(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    up_to: NaiveDate,
) -> Result<Vec<PaymentLine>, DbError> {
    use super::schema::payments;
    let assessed = assessments::table
        .filter(assessments::levy_year.eq(levy_year))
        .filter(assessments::is_current.eq(true))
        .select(assessments::employer_id);
    Ok(payments::table
        .inner_join(employers::table)
        .filter(payments::levy_year.eq(levy_year))
        .filter(payments::paid_on.le(up_to))
        .filter(payments::employer_id.eq_any(assessed))
        .filter(employers::region.like(format!("{region_prefix}%")))
        .order((payments::paid_on.asc(), payments::id.asc()))
        .select((
            employers::uscc,
            employers::name,
            payments::id,
            payments::paid_on,
            payments::amount_fen,
            payments::reference,
        ))
        .load(conn)?)
}
