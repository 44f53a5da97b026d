//! The impact of a draft policy pack: every filed declaration of a region and levy year
//! computed twice, under the packs in force and under the draft, with the registry's own
//! [`compute`] (the function that assesses), and nothing written. What is kept is
//! bounded whatever the size of the register: the sums (totals, by county, by employer
//! kind, by size band, status transitions, winners and losers), the 20 largest changes
//! and the first [`STATUS_LIST_MAX`] changes of status; every employer's line goes to a
//! callback as it is computed (the CSV streams from it). docs/impact.md describes the
//! report.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use serde::{Serialize, Serializer};

use super::assessments::{apply_disputes, compute, CachingProvider, Computed, SnapshotCache};
use super::declarations::declared_input;
use super::disputes::{disputes_for, LineDispute};
use crate::db::declarations as decl_repo;
use crate::db::declarations::Declaration;
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::{calculate, ExplainMode, LevyResult};
use crate::domain::money::{format_money, from_fen};
use crate::domain::{EmployerKind, Language, PolicyProvider, RegionCode, Said};
use crate::policy::{DraftBook, PolicyBook};

/// Employers read and computed at a time (as the batch assessment reads them).
pub const CHUNK: i64 = 2_000;

/// The largest changes the report names.
pub const TOP: usize = 20;

/// Changes of status the report lists at most (the CSV has every one).
pub const STATUS_LIST_MAX: usize = 1_000;

/// Where an employer stands under one set of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The small-enterprise exemption applies (docs/rules.md §2).
    Exempt,
    /// Fewer disabled employees than the quota requires, not exempt: levy payable.
    BelowQuota,
    /// Exactly the quota.
    AtQuota,
    /// More than the quota (a reward may be due, docs/rules.md §7).
    OverQuota,
    /// The declaration cannot be calculated under these rules (a figure is missing).
    NotAssessable,
}

impl Status {
    /// Every status, in the report's order.
    pub const ALL: [Status; 5] = [
        Status::Exempt,
        Status::BelowQuota,
        Status::AtQuota,
        Status::OverQuota,
        Status::NotAssessable,
    ];

    /// Stable id (`below_quota`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exempt => "exempt",
            Status::BelowQuota => "below_quota",
            Status::AtQuota => "at_quota",
            Status::OverQuota => "over_quota",
            Status::NotAssessable => "not_assessable",
        }
    }

    /// As a reader sees it.
    pub fn name(self, lang: Language) -> &'static str {
        match self {
            Status::Exempt => lang.pick("免征", "exempt"),
            Status::BelowQuota => lang.pick("未达比例", "below quota"),
            Status::AtQuota => lang.pick("恰达比例", "at quota"),
            Status::OverQuota => lang.pick("超比例", "over quota"),
            Status::NotAssessable => lang.pick("无法核定", "not assessable"),
        }
    }

    fn of(row: &crate::db::assessments::NewAssessment) -> Status {
        if row.exempt {
            Status::Exempt
        } else if row.shortfall_e4 > 0 {
            Status::BelowQuota
        } else if row.over_quota_e4 > 0 {
            Status::OverQuota
        } else {
            Status::AtQuota
        }
    }
}

/// Size bands by in-service staff `N` (annual average, docs/impact.md): the first ends
/// at the small-enterprise exemption's 30 staff (财政部公告2019年第98号, 2023年第8号).
pub const BANDS: [(&str, i64); 5] = [
    ("0-30", 30),
    ("31-99", 99),
    ("100-299", 299),
    ("300-999", 999),
    ("1000+", i64::MAX),
];

/// The band of staff stored as twelfths × 10⁴: a fractional average above a bound
/// (30.5) belongs to the next band, as "≤ 30" reads.
pub fn band_of(staff_x12_e4: i64) -> &'static str {
    for (name, max) in BANDS {
        if max == i64::MAX || staff_x12_e4 <= max.saturating_mul(120_000) {
            return name;
        }
    }
    "1000+"
}

/// The figures of one side, from the row the assessment would store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// Where the employer stands.
    pub status: Status,
    /// Staff `N` × 12 × 10⁴ (exact).
    pub staff_x12_e4: i64,
    /// Disabled counted `D` × 12 × 10⁴ (exact).
    pub disabled_x12_e4: i64,
    /// `required` × 10⁴.
    pub required_e4: i64,
    /// `shortfall` × 10⁴.
    pub shortfall_e4: i64,
    /// `W` in fen.
    pub average_wage_fen: Option<i64>,
    /// `W_used` in fen.
    pub wage_used_fen: Option<i64>,
    /// Fee due, fen.
    pub fee_due_fen: i64,
    /// Reduction, fen.
    pub reduction_fen: i64,
    /// Levy payable, fen.
    pub payable_fen: i64,
    /// Over quota × 10⁴.
    pub over_quota_e4: i64,
    /// Reward, fen.
    pub reward_fen: i64,
    /// Exempt.
    pub exempt: bool,
}

impl Side {
    fn of(c: &Computed) -> Side {
        let r = &c.row;
        Side {
            status: Status::of(r),
            staff_x12_e4: r.staff_x12_e4,
            disabled_x12_e4: r.disabled_x12_e4,
            required_e4: r.required_e4,
            shortfall_e4: r.shortfall_e4,
            average_wage_fen: r.average_wage_fen,
            wage_used_fen: r.wage_used_fen,
            fee_due_fen: r.fee_due_fen,
            reduction_fen: r.reduction_fen,
            payable_fen: r.payable_fen,
            over_quota_e4: r.over_quota_e4,
            reward_fen: r.reward_fen,
            exempt: r.exempt,
        }
    }
}

/// The engine's steps (ids of the explanation, [`crate::domain::levy::Step::step`])
/// whose figure differs between two sides, in the engine's order.
pub fn moved_steps(a: &Side, b: &Side) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 12] = [
        ("average_headcount", a.staff_x12_e4 != b.staff_x12_e4),
        ("disabled_counted", a.disabled_x12_e4 != b.disabled_x12_e4),
        ("required", a.required_e4 != b.required_e4),
        ("shortfall", a.shortfall_e4 != b.shortfall_e4),
        ("average_wage", a.average_wage_fen != b.average_wage_fen),
        ("wage_cap", a.wage_used_fen != b.wage_used_fen),
        ("fee_due", a.fee_due_fen != b.fee_due_fen),
        ("exemption", a.exempt != b.exempt),
        ("reduction", a.reduction_fen != b.reduction_fen),
        ("payable", a.payable_fen != b.payable_fen),
        ("over_quota", a.over_quota_e4 != b.over_quota_e4),
        ("reward", a.reward_fen != b.reward_fen),
    ];
    checks
        .into_iter()
        .filter_map(|(s, moved)| moved.then_some(s))
        .collect()
}

fn money<S: Serializer>(fen: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_money(from_fen(*fen)))
}

fn money_opt<S: Serializer>(fen: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match fen {
        Some(f) => money(f, s),
        None => s.serialize_none(),
    }
}

/// One input of a step that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputChange {
    /// The input's name.
    pub name: &'static str,
    /// Its value today (absent when the step had no such input).
    pub today: Option<String>,
    /// Its value under the draft.
    pub draft: Option<String>,
}

/// A step of the explanation that differs between today's law and the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepChange {
    /// The step's id (`required`, `fee_due`, …).
    pub step: &'static str,
    /// Its result today; `None` when today's explanation has no such step.
    pub today: Option<String>,
    /// Its result under the draft; `None` when the draft's has none.
    pub draft: Option<String>,
    /// The inputs that differ.
    pub inputs: Vec<InputChange>,
    /// The draft's citation of the step (today's when the draft has no such step).
    pub citation: String,
    /// The step as a sentence, under the draft (today's when the draft has none).
    pub text: String,
}

/// The two explanations compared step by step: steps are paired by id and by how many
/// of that id came before (a roster has one `disabled_employee` step per line), and a
/// pair is listed when its result, an input or its citation differs.
pub fn compare_explanations(today: &LevyResult, draft: &LevyResult) -> Vec<StepChange> {
    type Keyed<'a> = Vec<((&'static str, usize), crate::domain::levy::Step<'a>)>;
    fn keyed(r: &LevyResult) -> Keyed<'_> {
        let mut seen: HashMap<&'static str, usize> = HashMap::new();
        r.explanation
            .iter()
            .map(|s| {
                let n = seen.entry(s.step()).or_default();
                *n += 1;
                ((s.step(), *n), s)
            })
            .collect()
    }
    let (a, b) = (keyed(today), keyed(draft));
    let mut out = Vec::new();
    let mut keys: Vec<(&'static str, usize)> = a.iter().map(|(k, _)| *k).collect();
    for (k, _) in &b {
        if !keys.contains(k) {
            keys.push(*k);
        }
    }
    for k in keys {
        let sa = a.iter().find(|(x, _)| *x == k).map(|(_, s)| *s);
        let sb = b.iter().find(|(x, _)| *x == k).map(|(_, s)| *s);
        let mut inputs = Vec::new();
        let mut names: Vec<&'static str> =
            sa.iter().flat_map(|s| s.inputs().map(|(n, _)| n)).collect();
        for n in sb.iter().flat_map(|s| s.inputs().map(|(n, _)| n)) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        for n in names {
            let (x, y) = (
                sa.and_then(|s| s.input(n)).map(str::to_owned),
                sb.and_then(|s| s.input(n)).map(str::to_owned),
            );
            if x != y {
                inputs.push(InputChange {
                    name: n,
                    today: x,
                    draft: y,
                });
            }
        }
        let (ra, rb) = (
            sa.map(|s| s.result().to_owned()),
            sb.map(|s| s.result().to_owned()),
        );
        let citation_moved = sa.map(|s| s.citation()) != sb.map(|s| s.citation());
        if ra == rb && inputs.is_empty() && !citation_moved {
            continue;
        }
        let shown = sb.or(sa);
        out.push(StepChange {
            step: k.0,
            today: ra,
            draft: rb,
            inputs,
            citation: shown.map(|s| s.citation().to_owned()).unwrap_or_default(),
            text: shown.map(|s| s.text().to_owned()).unwrap_or_default(),
        });
    }
    out
}

/// One employer compared.
#[derive(Debug, Clone, Serialize)]
pub struct EmployerChange {
    /// Row id of the employer (internal).
    #[serde(skip)]
    pub employer_id: i64,
    /// Unified social credit code.
    pub uscc: String,
    /// Registered name.
    pub name: String,
    /// Employer kind (`enterprise`, …).
    pub kind: String,
    /// Its county (GB/T 2260).
    pub county: String,
    /// Its size band ([`BANDS`]).
    pub size_band: &'static str,
    /// Status today.
    pub today_status: Status,
    /// Status under the draft.
    pub draft_status: Status,
    /// Levy payable today (absent when not assessable).
    #[serde(serialize_with = "money_opt")]
    pub today_payable: Option<i64>,
    /// Levy payable under the draft.
    #[serde(serialize_with = "money_opt")]
    pub draft_payable: Option<i64>,
    /// Draft minus today (0 when a side is not assessable).
    #[serde(serialize_with = "money")]
    pub change: i64,
    /// Reward today.
    #[serde(serialize_with = "money_opt")]
    pub today_reward: Option<i64>,
    /// Reward under the draft.
    #[serde(serialize_with = "money_opt")]
    pub draft_reward: Option<i64>,
    /// The engine's steps whose figure moved.
    pub moved: Vec<&'static str>,
    /// The steps compared in full (the largest changes only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepChange>,
    /// Why a side could not be calculated (codes and pointers, no figures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_assessable: Option<String>,
    /// Every figure of each side, when assessable (for comparisons).
    #[serde(skip)]
    pub sides: (Option<Side>, Option<Side>),
}

impl EmployerChange {
    /// True when the status, the levy payable or the reward differ.
    pub fn changed(&self) -> bool {
        self.today_status != self.draft_status
            || self.today_payable != self.draft_payable
            || self.today_reward != self.draft_reward
    }
}

/// Sums of one group of employers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group: county code, kind id or size band.
    pub key: String,
    /// Its name as the reader sees it.
    pub name: String,
    /// Employers.
    pub employers: u64,
    /// Levy payable today.
    #[serde(serialize_with = "money")]
    pub today_payable: i64,
    /// Levy payable under the draft.
    #[serde(serialize_with = "money")]
    pub draft_payable: i64,
    /// Draft minus today.
    #[serde(serialize_with = "money")]
    pub change: i64,
    /// Employers paying less under the draft.
    pub winners: u64,
    /// Employers paying more.
    pub losers: u64,
    /// Employers whose status changes.
    pub status_changes: u64,
}

impl Group {
    fn add(&mut self, e: &EmployerChange) {
        self.employers += 1;
        self.today_payable += e.today_payable.unwrap_or(0);
        self.draft_payable += e.draft_payable.unwrap_or(0);
        self.change = self.draft_payable - self.today_payable;
        if e.change < 0 {
            self.winners += 1;
        } else if e.change > 0 {
            self.losers += 1;
        }
        if e.today_status != e.draft_status {
            self.status_changes += 1;
        }
    }
}

/// Employers whose levy moves one way: how many, and by how much in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Movers {
    /// How many.
    pub count: u64,
    /// The sum of their changes (positive: what losers pay more; winners: less).
    #[serde(serialize_with = "money")]
    pub sum: i64,
}

/// How many employers stand in a status, today and under the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusCount {
    /// The status.
    pub status: Status,
    /// Today.
    pub today: u64,
    /// Under the draft.
    pub draft: u64,
}

/// Employers moving from one status to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Today.
    pub from: Status,
    /// Under the draft.
    pub to: Status,
    /// How many.
    pub count: u64,
}

/// Why employers cannot be calculated under one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotAssessable {
    /// `today` or `draft`.
    pub side: &'static str,
    /// Codes and pointers of the faults.
    pub reason: String,
    /// How many employers.
    pub count: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    /// The levy year.
    pub levy_year: i32,
    /// The region previewed (and everything below it).
    pub region: String,
    /// The draft pack's region.
    pub draft_region: String,
    /// The draft's file name.
    pub draft_file: String,
    /// True when the draft replaces a pack in force, false when it adds one.
    pub draft_replaces: bool,
    /// Employers with a filed declaration.
    pub employers: u64,
    /// Levy payable today (assessable employers).
    #[serde(serialize_with = "money")]
    pub today_payable: i64,
    /// Levy payable under the draft.
    #[serde(serialize_with = "money")]
    pub draft_payable: i64,
    /// Draft minus today.
    #[serde(serialize_with = "money")]
    pub change: i64,
    /// Rewards today.
    #[serde(serialize_with = "money")]
    pub today_reward: i64,
    /// Rewards under the draft.
    #[serde(serialize_with = "money")]
    pub draft_reward: i64,
    /// Employers paying less under the draft.
    pub winners: Movers,
    /// Employers paying more.
    pub losers: Movers,
    /// Employers whose status, levy and reward stay the same.
    pub unchanged: u64,
    /// Employers per status.
    pub statuses: Vec<StatusCount>,
    /// Changes of status, by pair.
    pub transitions: Vec<Transition>,
    /// By county.
    pub by_county: Vec<Group>,
    /// By employer kind.
    pub by_kind: Vec<Group>,
    /// By size band.
    pub by_size: Vec<Group>,
    /// The largest changes of levy payable, largest first, each explained step by step.
    pub largest: Vec<EmployerChange>,
    /// Employers whose status changes, in employer order (the first
    /// [`STATUS_LIST_MAX`]).
    pub status_changes: Vec<EmployerChange>,
    /// How many employers change status in all.
    pub status_changes_total: u64,
    /// Employers that cannot be calculated, by side and reason.
    pub not_assessable: Vec<NotAssessable>,
}

impl ImpactReport {
    /// True when the list of status changes was cut at [`STATUS_LIST_MAX`].
    pub fn status_list_cut(&self) -> bool {
        self.status_changes_total > self.status_changes.len() as u64
    }
}

/// What to preview.
pub struct ImpactJob<'a> {
    /// The levy year.
    pub levy_year: i32,
    /// The region (and below).
    pub region: RegionCode,
    /// The packs in force.
    pub today: &'a PolicyBook,
    /// The draft over them.
    pub draft: &'a DraftBook,
    /// The language of names and explanations.
    pub lang: Language,
}

/// Refused unless the draft governs employers of `region`: its pack must lie on the
/// region's chain (the region itself, its city, province, or the national pack) or
/// below the region (one of its counties).
pub fn check_draft_region(region: RegionCode, draft: RegionCode) -> Result<(), Said> {
    if region.chain().contains(&draft) || crate::auth::region_covers(&region, &draft) {
        return Ok(());
    }
    Err(Said::new(
        format!(
            "草案政策包的地区 {draft} 不适用于地区 {region} 的任何单位：请选择该地区所在的上级地区或其下属地区的政策包"
        ),
        format!(
            "the draft pack's region {draft} governs no employer of region {region}: \
             a draft for this preview is the pack of the region, of a region above it, or \
             of a region below it"
        ),
    ))
}

fn pattern_of(region: RegionCode) -> String {
    if region.is_national() {
        "%".to_owned()
    } else {
        format!("{}%", crate::auth::scope_prefix(&region))
    }
}

fn why(errs: Vec<crate::wire::FieldError>) -> String {
    // Codes and pointers only, as the batch run logs them: messages may quote figures.
    errs.iter()
        .map(|f| format!("{} {}", f.pointer, f.code))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One employer under both sets of rules.
fn compare_one(
    today: &dyn PolicyProvider,
    draft: &dyn PolicyProvider,
    snaps: &mut (SnapshotCache, SnapshotCache),
    e: &Employer,
    d: &Declaration,
    lines: &[LineDispute],
    now: chrono::NaiveDateTime,
) -> EmployerChange {
    let a = compute(today, &mut snaps.0, e, d, lines, now).map_err(why);
    let b = compute(draft, &mut snaps.1, e, d, lines, now).map_err(why);
    let sa = a.as_ref().ok().map(Side::of);
    let sb = b.as_ref().ok().map(Side::of);
    let status = |s: &Option<Side>| s.map_or(Status::NotAssessable, |s| s.status);
    let staff = sa.or(sb).map(|s| s.staff_x12_e4);
    let change = match (sa, sb) {
        (Some(x), Some(y)) => y.payable_fen - x.payable_fen,
        _ => 0,
    };
    let moved = match (&sa, &sb) {
        (Some(x), Some(y)) => moved_steps(x, y),
        _ => Vec::new(),
    };
    let not_assessable = match (&a, &b) {
        (Err(x), _) => Some(format!("today: {x}")),
        (_, Err(y)) => Some(format!("draft: {y}")),
        _ => None,
    };
    EmployerChange {
        employer_id: e.id,
        uscc: e.uscc.clone(),
        name: e.name.clone(),
        kind: e.kind.clone(),
        county: e.region.clone(),
        size_band: staff.map_or("unknown", band_of),
        today_status: status(&sa),
        draft_status: status(&sb),
        today_payable: sa.map(|s| s.payable_fen),
        draft_payable: sb.map(|s| s.payable_fen),
        change,
        today_reward: sa.map(|s| s.reward_fen),
        draft_reward: sb.map(|s| s.reward_fen),
        moved,
        steps: Vec::new(),
        not_assessable,
        sides: (sa, sb),
    }
}

/// One chunk compared on up to two threads (the machine's two cores), in input order.
fn compare_chunk(
    today: &CachingProvider<'_>,
    draft: &CachingProvider<'_>,
    rows: &[(Employer, Declaration)],
    disputes: &HashMap<i64, Vec<LineDispute>>,
) -> Vec<EmployerChange> {
    let now = Utc::now().naive_utc();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2);
    let per = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(per)
            .map(|slice| {
                s.spawn(move || {
                    let mut snaps = (SnapshotCache::default(), SnapshotCache::default());
                    slice
                        .iter()
                        .map(|(e, d)| {
                            let lines = disputes.get(&e.id).map_or(&[][..], Vec::as_slice);
                            compare_one(today, draft, &mut snaps, e, d, lines, now)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The running sums.
#[derive(Default)]
struct Sums {
    employers: u64,
    today_payable: i64,
    draft_payable: i64,
    today_reward: i64,
    draft_reward: i64,
    winners: Movers,
    losers: Movers,
    unchanged: u64,
    statuses: BTreeMap<Status, (u64, u64)>,
    transitions: BTreeMap<(Status, Status), u64>,
    by_county: BTreeMap<String, Group>,
    by_kind: BTreeMap<String, Group>,
    by_size: BTreeMap<&'static str, Group>,
    largest: Vec<EmployerChange>,
    status_changes: Vec<EmployerChange>,
    status_changes_total: u64,
    not_assessable: BTreeMap<(&'static str, String), u64>,
}

impl Sums {
    fn add(&mut self, e: &EmployerChange) {
        self.employers += 1;
        self.today_payable += e.today_payable.unwrap_or(0);
        self.draft_payable += e.draft_payable.unwrap_or(0);
        self.today_reward += e.today_reward.unwrap_or(0);
        self.draft_reward += e.draft_reward.unwrap_or(0);
        if e.change < 0 {
            self.winners.count += 1;
            self.winners.sum += e.change;
        } else if e.change > 0 {
            self.losers.count += 1;
            self.losers.sum += e.change;
        }
        if !e.changed() {
            self.unchanged += 1;
        }
        self.statuses.entry(e.today_status).or_default().0 += 1;
        self.statuses.entry(e.draft_status).or_default().1 += 1;
        if e.today_status != e.draft_status {
            *self
                .transitions
                .entry((e.today_status, e.draft_status))
                .or_default() += 1;
            self.status_changes_total += 1;
            if self.status_changes.len() < STATUS_LIST_MAX {
                self.status_changes.push(e.clone());
            }
        }
        self.by_county.entry(e.county.clone()).or_default().add(e);
        self.by_kind.entry(e.kind.clone()).or_default().add(e);
        self.by_size.entry(e.size_band).or_default().add(e);
        if let Some(why) = &e.not_assessable {
            let (side, reason) = why.split_once(": ").unwrap_or(("draft", why.as_str()));
            let side = if side == "today" { "today" } else { "draft" };
            *self
                .not_assessable
                .entry((side, reason.to_owned()))
                .or_default() += 1;
        }
        self.keep_largest(e);
    }

    /// Keeps the [`TOP`] largest changes (by size, then USCC, so that the list does not
    /// depend on the order of reading).
    fn keep_largest(&mut self, e: &EmployerChange) {
        if e.change == 0 {
            return;
        }
        let before = |x: &EmployerChange, y: &EmployerChange| {
            (x.change.unsigned_abs(), std::cmp::Reverse(&x.uscc))
                > (y.change.unsigned_abs(), std::cmp::Reverse(&y.uscc))
        };
        if self.largest.len() == TOP && self.largest.last().is_some_and(|l| !before(e, l)) {
            return;
        }
        let at = self
            .largest
            .iter()
            .position(|l| before(e, l))
            .unwrap_or(self.largest.len());
        self.largest.insert(at, e.clone());
        self.largest.truncate(TOP);
    }
}

fn kind_name(kind: &str, lang: Language) -> String {
    match kind.parse::<EmployerKind>() {
        Ok(k) if lang == Language::Zh => k.name_zh().to_owned(),
        Ok(k) => k.as_str().replace('_', " "),
        Err(_) => kind.to_owned(),
    }
}

fn band_name(band: &str, lang: Language) -> String {
    match band {
        "unknown" => lang.pick("未知", "unknown").to_owned(),
        b => format!("{b} {}", lang.pick("人", "staff")),
    }
}

/// The full explanations of one employer under both rules, compared step by step
/// ([`compare_explanations`]); empty when a side cannot be calculated or the employer
/// has no filed declaration any more.
pub fn explain_change(
    conn: &mut AnyConnection,
    today: &dyn PolicyProvider,
    draft: &dyn PolicyProvider,
    employer_id: i64,
    levy_year: i32,
    lang: Language,
) -> Result<Vec<StepChange>, DbError> {
    let rows = decl_repo::filed_after(conn, levy_year, "%", employer_id - 1, 1)?;
    let Some((e, d)) = rows.into_iter().find(|(e, _)| e.id == employer_id) else {
        return Ok(Vec::new());
    };
    let disputes = disputes_for(conn, levy_year, &[e.id])?
        .remove(&e.id)
        .unwrap_or_default();
    let full = |p: &dyn PolicyProvider| -> Option<LevyResult> {
        let mut parsed = declared_input(p, &e, &d).ok()?;
        apply_disputes(&mut parsed.input, &disputes);
        calculate(&parsed.policy, &parsed.input, ExplainMode::Full(lang)).ok()
    };
    Ok(match (full(today), full(draft)) {
        (Some(a), Some(b)) => compare_explanations(&a, &b),
        _ => Vec::new(),
    })
}

/// Runs the preview: every filed declaration of the job's region and year, in employer
/// order and in chunks of [`CHUNK`], each employer handed to `each` as it is compared
/// (unchanged ones too), then the report. Reads only: no assessment, audit entry or
/// policy snapshot is written.
pub fn run(
    conn: &mut AnyConnection,
    job: &ImpactJob<'_>,
    each: &mut dyn FnMut(&EmployerChange) -> Result<(), DbError>,
) -> Result<ImpactReport, DbError> {
    let pattern = pattern_of(job.region);
    let today = CachingProvider::new(job.today);
    let draft = CachingProvider::new(&job.draft.book);
    let mut sums = Sums::default();
    let mut after = 0_i64;
    loop {
        let rows = decl_repo::filed_after(conn, job.levy_year, &pattern, after, CHUNK)?;
        let Some(last) = rows.last().map(|(e, _)| e.id) else {
            break;
        };
        let ids: Vec<i64> = rows.iter().map(|(e, _)| e.id).collect();
        let disputes = disputes_for(conn, job.levy_year, &ids)?;
        for change in compare_chunk(&today, &draft, &rows, &disputes) {
            sums.add(&change);
            each(&change)?;
        }
        after = last;
    }
    for e in &mut sums.largest {
        e.steps = explain_change(conn, &today, &draft, e.employer_id, job.levy_year, job.lang)?;
    }
    let lang = job.lang;
    let named = |mut g: Group, key: String, name: String| {
        g.key = key;
        g.name = name;
        g
    };
    Ok(ImpactReport {
        levy_year: job.levy_year,
        region: job.region.to_string(),
        draft_region: job.draft.region.to_string(),
        draft_file: job.draft.file_name.clone(),
        draft_replaces: job.draft.replaces,
        employers: sums.employers,
        today_payable: sums.today_payable,
        draft_payable: sums.draft_payable,
        change: sums.draft_payable - sums.today_payable,
        today_reward: sums.today_reward,
        draft_reward: sums.draft_reward,
        winners: sums.winners,
        losers: sums.losers,
        unchanged: sums.unchanged,
        statuses: Status::ALL
            .iter()
            .map(|s| {
                let (t, d) = sums.statuses.get(s).copied().unwrap_or_default();
                StatusCount {
                    status: *s,
                    today: t,
                    draft: d,
                }
            })
            .filter(|c| c.today > 0 || c.draft > 0 || c.status != Status::NotAssessable)
            .collect(),
        transitions: sums
            .transitions
            .into_iter()
            .map(|((from, to), count)| Transition { from, to, count })
            .collect(),
        by_county: sums
            .by_county
            .into_iter()
            .map(|(k, g)| {
                let name = k
                    .parse::<RegionCode>()
                    .map(|c| {
                        let (zh, en) = job.today.region_names(c);
                        lang.pick(&zh, &en).to_owned()
                    })
                    .unwrap_or_else(|_| k.clone());
                named(g, k, name)
            })
            .collect(),
        by_kind: sums
            .by_kind
            .into_iter()
            .map(|(k, g)| {
                let name = kind_name(&k, lang);
                named(g, k, name)
            })
            .collect(),
        by_size: BANDS
            .iter()
            .map(|(b, _)| *b)
            .chain(["unknown"])
            .filter_map(|b| {
                sums.by_size
                    .get(b)
                    .cloned()
                    .map(|g| named(g, b.to_owned(), band_name(b, lang)))
            })
            .collect(),
        largest: sums.largest,
        status_changes: sums.status_changes,
        status_changes_total: sums.status_changes_total,
        not_assessable: sums
            .not_assessable
            .into_iter()
            .map(|((side, reason), count)| NotAssessable {
                side,
                reason,
                count,
            })
            .collect(),
    })
}

/// A fault of a draft pack as the reader sees it: the file, line and key in the
/// reader's language, then the loader's own words (English, as `policy check` prints
/// them), so that the field at fault is named in both languages.
pub fn draft_fault(i: &crate::policy::PolicyIssue, lang: Language) -> String {
    match lang {
        Language::Zh => {
            let mut s = format!("草案政策包 {}", i.file);
            if let Some(l) = i.line {
                s.push_str(&format!(" 第 {l} 行"));
            }
            if let Some(k) = &i.key {
                s.push_str(&format!("，字段 {k}"));
            }
            s.push_str(&format!("：{}", i.message));
            s
        }
        Language::En => format!("draft pack {i}"),
    }
}

/// The CSV header of the employer lines, in `lang`.
pub fn csv_header(lang: Language) -> Vec<&'static str> {
    match lang {
        Language::Zh => vec![
            "统一社会信用代码",
            "单位名称",
            "区县",
            "单位类型",
            "规模（在职职工）",
            "现行状态",
            "草案状态",
            "现行应缴",
            "草案应缴",
            "差额",
            "现行奖励",
            "草案奖励",
            "变动步骤",
        ],
        Language::En => vec![
            "uscc",
            "name",
            "county",
            "kind",
            "size_band",
            "today_status",
            "draft_status",
            "today_payable",
            "draft_payable",
            "change",
            "today_reward",
            "draft_reward",
            "moved_steps",
        ],
    }
}

/// One employer as a CSV line (CRLF-terminated).
pub fn push_csv_line(out: &mut String, e: &EmployerChange, lang: Language) {
    let m = |f: Option<i64>| f.map(|f| format_money(from_fen(f))).unwrap_or_default();
    let cells = [
        e.uscc.clone(),
        e.name.clone(),
        e.county.clone(),
        kind_name(&e.kind, lang),
        e.size_band.to_owned(),
        e.today_status.name(lang).to_owned(),
        e.draft_status.name(lang).to_owned(),
        m(e.today_payable),
        m(e.draft_payable),
        format_money(from_fen(e.change)),
        m(e.today_reward),
        m(e.draft_reward),
        e.moved.join(" "),
    ];
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    out.push_str(&super::csv::line(&refs));
}

/// The totals line of the CSV.
pub fn csv_totals(r: &ImpactReport, lang: Language) -> String {
    let m = |f: i64| format_money(from_fen(f));
    let employers = r.employers.to_string();
    let cells = [
        lang.pick("合计", "total"),
        employers.as_str(),
        "",
        "",
        "",
        "",
        "",
        &m(r.today_payable),
        &m(r.draft_payable),
        &m(r.change),
        &m(r.today_reward),
        &m(r.draft_reward),
        "",
    ];
    super::csv::line(&cells)
}

/// The report as an XLSX workbook: a sheet of totals and statuses, one per grouping,
/// the largest changes and the changes of status (the report's bounded lists, so the
/// workbook is small whatever the register).
pub fn workbook(r: &ImpactReport, lang: Language) -> Result<Vec<u8>, DbError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| DbError::Task(format!("impact workbook: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let amount = Format::new().set_num_format("#,##0.00");
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let mut sheet = |name: &str, header: &[&str], rows: Vec<Vec<Cell>>| -> Result<(), DbError> {
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(err)?;
        for (c, h) in header.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| DbError::Task("too many columns".into()))?;
            ws.write_string_with_format(0, c, *h, &bold).map_err(err)?;
            ws.set_column_width(c, 16).map_err(err)?;
        }
        for (i, row) in rows.iter().enumerate() {
            let rr = u32::try_from(i + 1).map_err(|_| DbError::Task("too many rows".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|_| DbError::Task("too many columns".into()))?;
                match cell {
                    Cell::Text(t) => ws.write_string(rr, c, t),
                    Cell::Count(n) => ws.write_number(rr, c, *n as f64),
                    // As the levy roll writes figures: a number only where the double
                    // prints back as the same decimal, else the exact text.
                    Cell::Money(f) => {
                        let t = format_money(from_fen(*f));
                        match super::roll::xlsx::number(&t) {
                            Some(n) => ws.write_number_with_format(rr, c, n, &amount),
                            None => ws.write_string(rr, c, &t),
                        }
                    }
                }
                .map_err(err)?;
            }
        }
        Ok(())
    };
    use Cell::{Count, Money, Text};
    let mut summary = vec![
        vec![
            Text(l("征收年度", "levy year").into()),
            Count(r.levy_year as u64),
        ],
        vec![Text(l("地区", "region").into()), Text(r.region.clone())],
        vec![Text(l("草案", "draft").into()), Text(r.draft_file.clone())],
        vec![Text(l("单位数", "employers").into()), Count(r.employers)],
        vec![
            Text(l("现行应缴合计", "payable today").into()),
            Money(r.today_payable),
        ],
        vec![
            Text(l("草案应缴合计", "payable under the draft").into()),
            Money(r.draft_payable),
        ],
        vec![Text(l("差额", "change").into()), Money(r.change)],
        vec![
            Text(l("现行奖励", "rewards today").into()),
            Money(r.today_reward),
        ],
        vec![
            Text(l("草案奖励", "rewards under the draft").into()),
            Money(r.draft_reward),
        ],
        vec![
            Text(l("少缴单位", "paying less").into()),
            Count(r.winners.count),
            Money(r.winners.sum),
        ],
        vec![
            Text(l("多缴单位", "paying more").into()),
            Count(r.losers.count),
            Money(r.losers.sum),
        ],
        vec![Text(l("无变化", "unchanged").into()), Count(r.unchanged)],
    ];
    for s in &r.statuses {
        summary.push(vec![
            Text(s.status.name(lang).into()),
            Count(s.today),
            Count(s.draft),
        ]);
    }
    for t in &r.transitions {
        summary.push(vec![
            Text(format!("{} → {}", t.from.name(lang), t.to.name(lang))),
            Count(t.count),
        ]);
    }
    sheet(
        l("汇总", "Summary"),
        &[l("项目", "item"), l("现行", "today"), l("草案", "draft")],
        summary,
    )?;
    let group_header = [
        l("分组", "group"),
        l("单位数", "employers"),
        l("现行应缴", "payable today"),
        l("草案应缴", "payable (draft)"),
        l("差额", "change"),
        l("少缴", "paying less"),
        l("多缴", "paying more"),
        l("状态改变", "status changes"),
    ];
    for (name, groups) in [
        (l("区县", "County"), &r.by_county),
        (l("单位类型", "Kind"), &r.by_kind),
        (l("规模", "Size"), &r.by_size),
    ] {
        let rows = groups
            .iter()
            .map(|g| {
                vec![
                    Text(format!("{} {}", g.key, g.name)),
                    Count(g.employers),
                    Money(g.today_payable),
                    Money(g.draft_payable),
                    Money(g.change),
                    Count(g.winners),
                    Count(g.losers),
                    Count(g.status_changes),
                ]
            })
            .collect();
        sheet(name, &group_header, rows)?;
    }
    let employer_header = csv_header(lang);
    let lines = |list: &[EmployerChange]| -> Vec<Vec<Cell>> {
        list.iter()
            .map(|e| {
                let mo = |f: Option<i64>| f.map_or(Text(String::new()), Money);
                vec![
                    Text(e.uscc.clone()),
                    Text(e.name.clone()),
                    Text(e.county.clone()),
                    Text(kind_name(&e.kind, lang)),
                    Text(e.size_band.into()),
                    Text(e.today_status.name(lang).into()),
                    Text(e.draft_status.name(lang).into()),
                    mo(e.today_payable),
                    mo(e.draft_payable),
                    Money(e.change),
                    mo(e.today_reward),
                    mo(e.draft_reward),
                    Text(e.moved.join(" ")),
                ]
            })
            .collect()
    };
    sheet(
        l("变化最大", "Largest"),
        &employer_header,
        lines(&r.largest),
    )?;
    sheet(
        l("状态改变", "Status changes"),
        &employer_header,
        lines(&r.status_changes),
    )?;
    wb.save_to_buffer().map_err(err)
}

/// A cell of the workbook.
enum Cell {
    Text(String),
    Count(u64),
    Money(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bands_close_at_their_bound_and_a_fraction_above_it_moves_on() {
        let n = |staff: i64| staff * 120_000;
        assert_eq!(band_of(0), "0-30");
        assert_eq!(band_of(n(30)), "0-30");
        assert_eq!(band_of(n(30) + 1), "31-99");
        assert_eq!(band_of(n(99)), "31-99");
        assert_eq!(band_of(n(100)), "100-299");
        assert_eq!(band_of(n(999)), "300-999");
        assert_eq!(band_of(n(1000)), "1000+");
        assert_eq!(band_of(n(250_000)), "1000+");
    }

    #[test]
    fn a_draft_governs_the_region_its_chain_and_below_but_not_a_neighbour() {
        let r = |s: &str| s.parse::<RegionCode>().unwrap_or(RegionCode::NATIONAL);
        for ok in ["411200", "410000", "000000", "411202"] {
            assert!(check_draft_region(r("411200"), r(ok)).is_ok(), "{ok}");
        }
        for bad in ["440000", "411300", "420100"] {
            let e = check_draft_region(r("411200"), r(bad));
            assert!(e.is_err(), "{bad}");
        }
    }
}
