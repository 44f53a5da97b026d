//! Over-quota rewards from figure to payout (三政〔2016〕23号 §3(1): "对超比例安排残疾人
//! 就业的，按规定给予奖励"; docs/rules.md §7): the rewards roll of a region and year, the
//! federation's decision on each, the payout recorded exactly once, and what the
//! employer sees on its statement.
//!
//! A decision stores the reward it was made on. When a re-assessment changes the
//! reward, the decision is no longer about the current figure: the reward is `review`
//! and nothing is paid until the federation decides again. Payouts are never edited; a
//! reversal is a new, negative entry.

use chrono::{NaiveDate, Utc};
use diesel::Connection;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::db::assessments::{self as assessments_repo, snapshot_json};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::Employer;
use crate::db::rewards::{self as repo, DecisionRow, NewDecision, NewPayout, PayoutRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::domain::money::{format_count, format_money, from_fen};
use crate::domain::{Cited, PolicyProvider, RegionCode, ResolvedPolicy, RewardRule, Said};

pub mod mail;

/// Rows read per query.
const CHUNK: i64 = 2_000;

/// Where an employer's reward stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardStatus {
    /// The current assessment carries no reward and nothing was decided.
    None,
    /// A reward awaits the federation's decision.
    Pending,
    /// Approved, not (fully) paid.
    Approved,
    /// Approved and paid.
    Paid,
    /// Refused (with a reason): never paid.
    Refused,
    /// Decided on a reward the current assessment no longer carries: to be decided
    /// again before anything is paid.
    Review,
}

impl RewardStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RewardStatus::None => "none",
            RewardStatus::Pending => "pending",
            RewardStatus::Approved => "approved",
            RewardStatus::Paid => "paid",
            RewardStatus::Refused => "refused",
            RewardStatus::Review => "review",
        }
    }

    /// In Chinese, for the CSV and pages.
    pub fn name_zh(self) -> &'static str {
        match self {
            RewardStatus::None => "无奖励",
            RewardStatus::Pending => "待审核",
            RewardStatus::Approved => "已批准",
            RewardStatus::Paid => "已发放",
            RewardStatus::Refused => "不予奖励",
            RewardStatus::Review => "需重新审核",
        }
    }

    /// The status of a reward of `current_fen` with this decision and `net_paid` fen.
    pub fn of(current_fen: i64, decision: Option<&DecisionRow>, net_paid: i64) -> RewardStatus {
        match decision {
            None if current_fen > 0 => RewardStatus::Pending,
            None => RewardStatus::None,
            Some(d) if d.reward_fen != current_fen => RewardStatus::Review,
            Some(d) if !d.approved => RewardStatus::Refused,
            Some(d) if net_paid >= d.reward_fen => RewardStatus::Paid,
            Some(_) => RewardStatus::Approved,
        }
    }
}

/// The reward rule of a region, as the roll explains it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    /// `none`, `minimum_wage_multiple`, `fixed_per_person`.
    pub kind: &'static str,
    /// Its source.
    pub citation: String,
    /// True when the rule is unconfirmed.
    pub provisional: bool,
    /// Why there is no reward, when no rule is in force (the rule's note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl RuleView {
    /// The view of a cited rule.
    pub fn of(rule: &Cited<RewardRule>) -> RuleView {
        let (kind, note) = match &rule.value {
            RewardRule::None { note } => ("none", Some(note.clone())),
            RewardRule::MinimumWageMultiple { .. } => ("minimum_wage_multiple", None),
            RewardRule::FixedPerPerson { .. } => ("fixed_per_person", None),
        };
        RuleView {
            kind,
            citation: rule.citation.clone(),
            provisional: rule.provisional,
            note,
        }
    }
}

/// The reward rule in force for `region` and `levy_year` (on the year's default as-of
/// date), or why it cannot be said.
pub fn rule_of_region(
    provider: &dyn PolicyProvider,
    region: RegionCode,
    levy_year: i32,
) -> Result<RuleView, String> {
    let on = provider
        .default_as_of(region, levy_year)
        .map_err(|e| e.to_string())?;
    let p = provider
        .resolve(region, on, levy_year - 1)
        .map_err(|e| e.to_string())?;
    Ok(RuleView::of(&p.reward))
}

/// One employer on the rewards roll.
#[derive(Debug, Clone, Serialize)]
pub struct RewardRow {
    /// Unified social credit code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Region.
    pub region: String,
    /// Disabled employees over the quota (4 decimals).
    pub over_quota: String,
    /// The reward of the current assessment.
    pub reward: String,
    /// The rule it follows.
    pub rule: RuleView,
    /// True when a provisional value was used.
    pub provisional: bool,
    /// Where it stands.
    pub status: RewardStatus,
    /// The amount approved (as decided), when approved.
    pub approved: Option<String>,
    /// Paid out, net of reversals.
    pub paid: String,
    /// Why refused, or why to be reviewed.
    pub reason: Option<String>,
    /// When decided.
    pub decided_at: Option<chrono::DateTime<Utc>>,
}

/// Sums over the whole rewards roll.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RewardTotals {
    /// Employers on the roll.
    pub employers: i64,
    /// Sum of the rewards of the current assessments.
    pub reward: String,
    /// Sum approved (approved or paid, not under review).
    pub approved: String,
    /// Sum paid out, net of reversals.
    pub paid: String,
}

/// Running sums.
#[derive(Debug, Clone, Default)]
pub struct Sums {
    employers: i64,
    reward: Decimal,
    approved: Decimal,
    paid: Decimal,
}

impl Sums {
    /// The totals as the API shows them.
    pub fn totals(&self) -> RewardTotals {
        RewardTotals {
            employers: self.employers,
            reward: format_money(self.reward),
            approved: format_money(self.approved),
            paid: format_money(self.paid),
        }
    }

    /// Sum approved.
    pub fn approved(&self) -> Decimal {
        self.approved
    }

    /// Sum paid.
    pub fn paid(&self) -> Decimal {
        self.paid
    }
}

/// Why a decision stands for review, in Chinese with the English after it.
fn review_reason(d: &DecisionRow, current_fen: i64) -> String {
    let (was, now) = (
        format_money(from_fen(d.reward_fen)),
        format_money(from_fen(current_fen)),
    );
    format!(
        "审核后重新核定，奖励由 {was} 元变为 {now} 元，须重新审核 \
         (re-assessed after the decision: the reward changed from {was} to {now}; decide again)"
    )
}

/// Produces the rewards roll of `levy_year` under `region_prefix`, in USCC order, from
/// the `skip`-th row, at most `limit` (all when `None`); the sums are over the whole roll.
pub fn for_each(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    skip: i64,
    limit: Option<i64>,
    emit: &mut dyn FnMut(RewardRow) -> Result<(), DbError>,
) -> Result<Sums, DbError> {
    let mut sums = Sums::default();
    let mut after = String::new();
    let mut index: i64 = 0;
    let mut rules: HashMap<i64, RuleView> = HashMap::new();
    loop {
        let raws = repo::roll_chunk(conn, levy_year, region_prefix, &after, CHUNK)?;
        let Some(last) = raws.last() else { break };
        after = last.1.clone();
        let ids: Vec<i64> = raws.iter().map(|r| r.0).collect();
        let decisions = repo::decisions_of(conn, levy_year, &ids)?;
        let paid = repo::net_paid_of(conn, levy_year, &ids)?;
        for r in raws {
            if let std::collections::hash_map::Entry::Vacant(v) = rules.entry(r.8) {
                let p: ResolvedPolicy =
                    serde_json::from_str(&snapshot_json(conn, r.8)?).map_err(|e| {
                        DbError::Task(format!("policy snapshot {} unreadable: {e}", r.8))
                    })?;
                v.insert(RuleView::of(&p.reward));
            }
            let rule = rules.get(&r.8).cloned().ok_or_else(|| {
                DbError::Task("policy snapshot vanished from the cache".to_owned())
            })?;
            let d = decisions.get(&r.0);
            let net = paid.get(&r.0).copied().unwrap_or(0);
            let status = RewardStatus::of(r.6, d, net);
            sums.employers += 1;
            sums.reward += from_fen(r.6);
            sums.paid += from_fen(net);
            let approved = d
                .filter(|_| matches!(status, RewardStatus::Approved | RewardStatus::Paid))
                .map(|d| from_fen(d.reward_fen));
            sums.approved += approved.unwrap_or_default();
            let in_page = index >= skip && limit.is_none_or(|l| index < skip + l);
            index += 1;
            if in_page {
                emit(RewardRow {
                    uscc: r.1,
                    name: r.2,
                    kind: r.3,
                    region: r.4,
                    over_quota: format_count(Decimal::new(r.5, 4), 4),
                    reward: format_money(from_fen(r.6)),
                    rule,
                    provisional: r.7,
                    status,
                    approved: approved.map(format_money),
                    paid: format_money(from_fen(net)),
                    reason: match status {
                        RewardStatus::Review => d.map(|d| review_reason(d, r.6)),
                        _ => d.and_then(|d| d.reason.clone()),
                    },
                    decided_at: d.map(|d| d.decided_at.and_utc()),
                })?;
            }
        }
    }
    Ok(sums)
}

/// The CSV header (Chinese, English key in brackets); also the workbook's.
pub const CSV_HEADER: [&str; 12] = [
    "统一社会信用代码 (uscc)",
    "单位名称 (name)",
    "单位类型 (kind)",
    "行政区划 (region)",
    "超比例人数 (over_quota)",
    "奖励金额 (reward)",
    "奖励依据 (citation)",
    "暂定 (provisional)",
    "状态 (status)",
    "批准金额 (approved)",
    "已发放 (paid)",
    "说明 (reason)",
];

/// The cells of a row, in [`CSV_HEADER`]'s order.
pub fn cells(r: &RewardRow) -> [String; 12] {
    [
        r.uscc.clone(),
        r.name.clone(),
        super::roll::kind_zh(&r.kind).to_owned(),
        r.region.clone(),
        r.over_quota.clone(),
        r.reward.clone(),
        r.rule.citation.clone(),
        if r.provisional {
            "是 (yes)"
        } else {
            "否 (no)"
        }
        .to_owned(),
        format!("{} ({})", r.status.name_zh(), r.status.as_str()),
        r.approved.clone().unwrap_or_default(),
        r.paid.clone(),
        r.reason.clone().unwrap_or_default(),
    ]
}

/// The totals' cells.
pub fn total_cells(t: &RewardTotals) -> [String; 12] {
    let mut c: [String; 12] = Default::default();
    c[0] = "合计 (total)".to_owned();
    c[1] = t.employers.to_string();
    c[5] = t.reward.clone();
    c[9] = t.approved.clone();
    c[10] = t.paid.clone();
    c
}

/// Why a reward could not be decided or paid.
#[derive(Debug, thiserror::Error)]
pub enum RewardError {
    /// No current assessment (or no such payout).
    #[error("{0}")]
    NotFound(Said),
    /// The state forbids it (not approved, under review, already paid…).
    #[error("{0}")]
    Conflict(Said),
    /// A field of the request is wrong: its JSON pointer and why.
    #[error("{1}")]
    Field(String, Said),
    /// The error of the `index`-th employer of a bulk decision.
    #[error("{1}")]
    At(usize, Box<RewardError>),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RewardError {
    fn from(e: diesel::result::Error) -> Self {
        RewardError::Db(DbError::Query(e))
    }
}

/// A decision asked for.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    /// Approve (true) or refuse.
    pub approve: bool,
    /// Why (required for a refusal).
    pub reason: Option<String>,
    /// The reward the decider saw, if given: a different current figure is a conflict,
    /// so that nobody approves a figure that changed under them.
    pub expected_reward_fen: Option<i64>,
}

/// An employer's reward as it stands, for the API and the statement.
#[derive(Debug, Clone, Serialize)]
pub struct EmployerReward {
    /// Employer.
    pub uscc: String,
    /// Levy year.
    pub levy_year: i32,
    /// Due by the current assessment ("0.00" when none).
    pub due: String,
    /// Where it stands.
    pub status: RewardStatus,
    /// The amount approved, when approved.
    pub approved: Option<String>,
    /// Paid out, net of reversals.
    pub paid: String,
    /// Why refused or to be reviewed.
    pub reason: Option<String>,
    /// The payouts (and reversals).
    pub payouts: Vec<PayoutView>,
}

/// One payout.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutView {
    /// Id.
    pub id: i64,
    /// Amount (negative for a reversal).
    pub amount: String,
    /// Value date.
    pub paid_on: NaiveDate,
    /// Bank reference.
    pub reference: String,
    /// The payout this reverses.
    pub reverses: Option<i64>,
    /// When recorded.
    pub recorded_at: chrono::DateTime<Utc>,
}

impl PayoutView {
    /// The view of a row.
    pub fn of(p: &PayoutRow) -> PayoutView {
        PayoutView {
            id: p.id,
            amount: format_money(from_fen(p.amount_fen)),
            paid_on: p.paid_on,
            reference: p.reference.clone(),
            reverses: p.reverses_id,
            recorded_at: p.recorded_at.and_utc(),
        }
    }
}

/// The reward of `employer` for `levy_year`; `None` when it has no current assessment.
pub fn of_employer(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
) -> Result<Option<EmployerReward>, DbError> {
    let Some(current) = assessments_repo::current(conn, employer.id, levy_year)? else {
        return Ok(None);
    };
    let d = repo::decision(conn, employer.id, levy_year)?;
    let payouts = repo::payouts_for(conn, employer.id, levy_year)?;
    let net: i64 = payouts.iter().map(|p| p.amount_fen).sum();
    let status = RewardStatus::of(current.reward_fen, d.as_ref(), net);
    Ok(Some(EmployerReward {
        uscc: employer.uscc.clone(),
        levy_year,
        due: format_money(from_fen(current.reward_fen)),
        status,
        approved: d
            .as_ref()
            .filter(|_| matches!(status, RewardStatus::Approved | RewardStatus::Paid))
            .map(|d| format_money(from_fen(d.reward_fen))),
        paid: format_money(from_fen(net)),
        reason: match (&d, status) {
            (Some(d), RewardStatus::Review) => Some(review_reason(d, current.reward_fen)),
            (Some(d), _) => d.reason.clone(),
            _ => None,
        },
        payouts: payouts.iter().map(PayoutView::of).collect(),
    }))
}

/// Decides on the reward of one employer, inside the caller's transaction; returns the
/// decision stored and the current assessment's reward.
fn decide_in(
    c: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    req: &DecisionRequest,
    actor: &str,
    request_id: Option<&str>,
) -> Result<NewDecision, RewardError> {
    let Some(current) = assessments_repo::current(c, employer.id, levy_year)? else {
        return Err(RewardError::NotFound(Said::new(
            format!("{} 年度尚无核定结果，无奖励可审核", levy_year),
            format!("there is no assessment of {levy_year}, so no reward to decide"),
        )));
    };
    if let Some(seen) = req.expected_reward_fen.filter(|f| *f != current.reward_fen) {
        let (seen, now) = (
            format_money(from_fen(seen)),
            format_money(from_fen(current.reward_fen)),
        );
        return Err(RewardError::Conflict(Said::new(
            format!("奖励金额已变为 {now} 元（您看到的是 {seen} 元），请刷新后重新审核"),
            format!("the reward is now {now}, not the {seen} you saw: reload and decide again"),
        )));
    }
    if req.approve && current.reward_fen <= 0 {
        return Err(RewardError::Conflict(Said::new(
            "当前核定结果没有超比例奖励，无可批准",
            "the current assessment carries no reward to approve",
        )));
    }
    let net: i64 = repo::payouts_for(c, employer.id, levy_year)?
        .iter()
        .map(|p| p.amount_fen)
        .sum();
    if net > 0 && (!req.approve || current.reward_fen < net) {
        let paid = format_money(from_fen(net));
        return Err(RewardError::Conflict(Said::new(
            format!("已发放奖励 {paid} 元：须先冲回已发放的款项，才能不予奖励或降低金额"),
            format!(
                "{paid} has been paid out: reverse the payout before refusing or lowering the reward"
            ),
        )));
    }
    let before = repo::decision(c, employer.id, levy_year)?;
    let d = NewDecision {
        employer_id: employer.id,
        levy_year,
        assessment_id: current.id,
        reward_fen: current.reward_fen,
        approved: req.approve,
        reason: req.reason.clone(),
        decided_by: actor.to_owned(),
        decided_at: Utc::now().naive_utc(),
    };
    repo::put_decision(c, &d)?;
    let view = |approved: bool, fen: i64, reason: &Option<String>| {
        json!({
            "approved": approved, "reward": format_money(from_fen(fen)),
            // A reason is free text; a number in it may be personal.
            "reason": reason.as_deref().map(mask_numbers_in),
        })
    };
    audit::record(
        c,
        AuditEntry {
            actor,
            action: if req.approve {
                "reward.approve"
            } else {
                "reward.refuse"
            },
            entity_type: "reward",
            entity_id: &format!("{}/{}", employer.uscc, levy_year),
            before: before
                .as_ref()
                .map(|b| view(b.approved, b.reward_fen, &b.reason)),
            after: Some(view(d.approved, d.reward_fen, &d.reason)),
            request_id,
        },
    )?;
    Ok(d)
}

/// Decides on the rewards of `employers` for `levy_year`, all or none: one failure
/// ([`RewardError::At`] its index) writes nothing. An approval queues the employer's mail
/// ([`mail::approved`]) when `templates` are given.
pub fn decide(
    conn: &mut AnyConnection,
    employers: &[Employer],
    levy_year: i32,
    req: &DecisionRequest,
    templates: Option<&crate::mail::template::Templates>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Vec<EmployerReward>, RewardError> {
    let items: Vec<(&Employer, &DecisionRequest)> = employers.iter().map(|e| (e, req)).collect();
    decide_each(conn, &items, levy_year, templates, actor, request_id)
}

/// As [`decide`], with a request of its own for each employer: a page's bulk approval
/// names the reward it showed for each, so that no figure changed meanwhile is approved
/// unseen. All or none.
pub fn decide_each(
    conn: &mut AnyConnection,
    items: &[(&Employer, &DecisionRequest)],
    levy_year: i32,
    templates: Option<&crate::mail::template::Templates>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Vec<EmployerReward>, RewardError> {
    crate::db::write_transaction(conn, |c| {
        let at = |i: usize| move |err: RewardError| RewardError::At(i, Box::new(err));
        let mut out = Vec::with_capacity(items.len());
        for (i, (e, req)) in items.iter().enumerate() {
            let d = decide_in(c, e, levy_year, req, actor, request_id).map_err(at(i))?;
            if let (true, Some(t)) = (d.approved, templates) {
                mail::approved(c, t, e, &d).map_err(at(i))?;
            }
            let r = of_employer(c, e, levy_year)?
                .ok_or_else(|| RewardError::Db(DbError::Task("assessment vanished".into())))?;
            out.push(r);
        }
        Ok(out)
    })
}

/// A validated payout request.
#[derive(Debug, Clone)]
pub struct PayoutRequest {
    /// Value date.
    pub paid_on: NaiveDate,
    /// Bank reference.
    pub reference: String,
    /// The payout to reverse, for a reversal.
    pub reverses: Option<i64>,
}

impl PayoutRequest {
    /// What identifies the request for idempotency (as payments').
    pub fn digest(&self, employer_id: i64, levy_year: i32) -> String {
        let text = format!(
            "reward|{employer_id}|{levy_year}|{}|{}|{:?}",
            self.paid_on, self.reference, self.reverses
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// What recording a payout did.
#[derive(Debug, Clone)]
pub enum PaidOut {
    /// Recorded now.
    New(PayoutRow),
    /// The key was used before for the same request: nothing new recorded.
    Replayed(PayoutRow),
    /// The key was used before for a different request.
    KeyReused,
}

/// The amount a payout request records now, or why none may be.
fn payout_amount(
    c: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    req: &PayoutRequest,
) -> Result<i64, RewardError> {
    let payouts = repo::payouts_for(c, employer.id, levy_year)?;
    if let Some(id) = req.reverses {
        let Some(p) = payouts.iter().find(|p| p.id == id && p.amount_fen > 0) else {
            return Err(RewardError::Field(
                "/reverses".to_owned(),
                Said::new(
                    "不是该单位该年度的一笔奖励发放",
                    "is not a payout of this employer's reward for this year",
                ),
            ));
        };
        if payouts.iter().any(|q| q.reverses_id == Some(id)) {
            return Err(RewardError::Conflict(Said::new(
                "该笔发放已冲回",
                "this payout has already been reversed",
            )));
        }
        return Ok(-p.amount_fen);
    }
    let current = assessments_repo::current(c, employer.id, levy_year)?;
    let current_fen = current.as_ref().map_or(0, |a| a.reward_fen);
    let d = repo::decision(c, employer.id, levy_year)?;
    let net: i64 = payouts.iter().map(|p| p.amount_fen).sum();
    let no = |zh: String, en: String| Err(RewardError::Conflict(Said::new(zh, en)));
    match (RewardStatus::of(current_fen, d.as_ref(), net), &d) {
        (RewardStatus::Approved, Some(d)) => Ok(d.reward_fen - net),
        (RewardStatus::Review, Some(d)) => no(
            format!("不予发放：{}", review_reason(d, current_fen)),
            "not paid: the reward changed after it was decided (status review); the federation must decide again".to_owned(),
        ),
        (RewardStatus::Refused, _) => no(
            "该奖励已决定不予发放".to_owned(),
            "this reward was refused: it is never paid".to_owned(),
        ),
        (RewardStatus::Paid, _) => no(
            "该奖励已全额发放".to_owned(),
            "this reward has already been paid in full".to_owned(),
        ),
        _ => no(
            "该奖励尚未批准，不能发放".to_owned(),
            "this reward has not been approved: it cannot be paid".to_owned(),
        ),
    }
}

/// Records a payout (or a reversal) under an idempotency key, exactly once: the same
/// key and request answer with the payout recorded first, a different request with the
/// same key is refused ([`PaidOut::KeyReused`]). A payout queues the employer's mail
/// ([`mail::paid`]) when `templates` are given.
#[allow(clippy::too_many_arguments)]
pub fn pay(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    req: &PayoutRequest,
    key: &str,
    templates: Option<&crate::mail::template::Templates>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<PaidOut, RewardError> {
    let digest = req.digest(employer.id, levy_year);
    let judge = |row: PayoutRow| {
        if row.request_digest == digest {
            PaidOut::Replayed(row)
        } else {
            PaidOut::KeyReused
        }
    };
    crate::db::write_transaction(conn, |c| -> Result<PaidOut, RewardError> {
        if let Some(row) = repo::payout_by_key(c, employer.id, key)? {
            return Ok(judge(row));
        }
        let amount_fen = payout_amount(c, employer, levy_year, req)?;
        let new = NewPayout {
            employer_id: employer.id,
            levy_year,
            amount_fen,
            paid_on: req.paid_on,
            reference: req.reference.clone(),
            reverses_id: req.reverses,
            idempotency_key: key.to_owned(),
            request_digest: digest.clone(),
            recorded_by: actor.to_owned(),
            recorded_at: Utc::now().naive_utc(),
        };
        // In a savepoint, as payments: a concurrent winner with the same key is read
        // and answered as it was.
        match c.transaction(|c| repo::insert_payout(c, &new)) {
            Ok(()) => {}
            Err(e) if crate::db::is_unique_violation(&e) => {
                return Ok(repo::payout_by_key(c, employer.id, key)?
                    .map(judge)
                    .ok_or(e)?);
            }
            Err(e) => return Err(e.into()),
        }
        let row = repo::payout_by_key(c, employer.id, key)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: if row.reverses_id.is_some() {
                    "reward.reverse"
                } else {
                    "reward.pay"
                },
                entity_type: "reward_payout",
                entity_id: &format!("{}/{}/{}", employer.uscc, levy_year, row.id),
                before: None,
                after: Some(json!({
                    "amount": format_money(from_fen(row.amount_fen)), "paid_on": row.paid_on,
                    "reference": mask_numbers_in(&row.reference), "reverses": row.reverses_id,
                })),
                request_id,
            },
        )?;
        if let (None, Some(t)) = (row.reverses_id, templates) {
            mail::paid(c, t, employer, &row)?;
        }
        Ok(PaidOut::New(row))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(fen: i64, approved: bool) -> DecisionRow {
        DecisionRow {
            id: 1,
            employer_id: 1,
            levy_year: 2025,
            assessment_id: 1,
            reward_fen: fen,
            approved,
            reason: None,
            decided_by: "t".into(),
            decided_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn status_follows_the_decision_and_the_current_figure() {
        assert_eq!(RewardStatus::of(0, None, 0), RewardStatus::None);
        assert_eq!(RewardStatus::of(100, None, 0), RewardStatus::Pending);
        assert_eq!(
            RewardStatus::of(100, Some(&decision(100, true)), 0),
            RewardStatus::Approved
        );
        assert_eq!(
            RewardStatus::of(100, Some(&decision(100, true)), 100),
            RewardStatus::Paid
        );
        // A re-assessment that changes the figure puts any decision under review.
        assert_eq!(
            RewardStatus::of(120, Some(&decision(100, true)), 100),
            RewardStatus::Review
        );
        assert_eq!(
            RewardStatus::of(100, Some(&decision(100, false)), 0),
            RewardStatus::Refused
        );
        // Paid, then reversed: approved again, payable again.
        assert_eq!(
            RewardStatus::of(100, Some(&decision(100, true)), 0),
            RewardStatus::Approved
        );
    }
}
