//! Assessing declarations: the calculator's own function, figures stored in fen, the
//! inputs and policy values kept so that the full explanation is reproduced on read.

use crate::domain::Said;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::declarations::{declared_input, request_for_body, RegistryError};
use super::disputes::{disputes_for, mask_months, DisputeState, LineDispute};
use crate::db::assessments::{self as repo, Assessment, NewAssessment};
use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{self as decl_repo, Declaration};
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::{
    calculate, Disabled, ExplainMode, LevyInput, LevyResult, MonthSet, Twelfths,
};
use crate::domain::money::{format_money, from_fen, to_fen};
use crate::domain::{
    FrozenPolicy, Language, PolicyLookupError, PolicyProvider, RegionCode, ResolvedPolicy,
};
use crate::secret::ServerSecret;
use crate::wire::{
    build_response, levy_field_error, parse_request, request_of, CalcResponse, FieldError,
};

/// A provider that remembers resolutions: a batch run resolves the same few
/// (region, as-of, data year) triples for a million employers.
pub struct CachingProvider<'a> {
    inner: &'a dyn PolicyProvider,
    cache: crate::policy::Resolutions,
    as_of: Mutex<HashMap<(RegionCode, i32), NaiveDate>>,
}

impl<'a> CachingProvider<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a dyn PolicyProvider) -> Self {
        CachingProvider {
            inner,
            cache: crate::policy::Resolutions::default(),
            as_of: Mutex::new(HashMap::new()),
        }
    }
}

impl PolicyProvider for CachingProvider<'_> {
    fn resolve(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<ResolvedPolicy, PolicyLookupError> {
        self.resolve_shared(region, as_of, data_year)
            .map(|p| ResolvedPolicy::clone(&p))
    }

    fn resolve_shared(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: i32,
    ) -> Result<Arc<ResolvedPolicy>, PolicyLookupError> {
        self.cache.get_or_resolve((region, as_of, data_year), || {
            self.inner.resolve_shared(region, as_of, data_year)
        })
    }

    fn default_as_of(
        &self,
        region: RegionCode,
        levy_year: i32,
    ) -> Result<NaiveDate, PolicyLookupError> {
        let key = (region, levy_year);
        if let Some(d) = self.as_of.lock().ok().and_then(|c| c.get(&key).copied()) {
            return Ok(d);
        }
        let d = self.inner.default_as_of(region, levy_year)?;
        if let Ok(mut c) = self.as_of.lock() {
            c.insert(key, d);
        }
        Ok(d)
    }
}

/// A policy resolution serialized once: its JSON and digest.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Canonical JSON of the [`ResolvedPolicy`].
    pub json: Arc<str>,
    /// Its SHA-256.
    pub digest: Arc<str>,
}

/// Remembers snapshots per resolution key within a run.
#[derive(Default)]
pub struct SnapshotCache(HashMap<(RegionCode, NaiveDate, i32), Snapshot>);

impl SnapshotCache {
    fn get(&mut self, p: &ResolvedPolicy) -> Result<Snapshot, serde_json::Error> {
        let key = (p.region, p.as_of, p.data_year);
        if let Some(s) = self.0.get(&key) {
            return Ok(s.clone());
        }
        let json = serde_json::to_string(p)?;
        let digest = hex::encode(Sha256::digest(json.as_bytes()));
        let s = Snapshot {
            json: json.into(),
            digest: digest.into(),
        };
        self.0.insert(key, s.clone());
        Ok(s)
    }
}

/// One computed assessment, not yet stored.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The row (snapshot id and run id filled in when stored).
    pub row: NewAssessment,
    /// The policy values used.
    pub snapshot: Snapshot,
    /// Below quota and not exempt (for run summaries and enforcement).
    pub below_quota: bool,
}

fn e4(v: Decimal) -> Option<i64> {
    let x = v.checked_mul(Decimal::from(10_000))?;
    (x.fract().is_zero())
        .then(|| i64::try_from(x.trunc()).ok())
        .flatten()
}

fn internal(msg: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError {
        pointer: String::new(),
        code: "internal",
        message: msg.into(),
    }]
}

/// The figures of a result as stored: money in fen, staff and disabled in exact
/// twelfths × 10⁴, the other counts rounded to 4 decimals × 10⁴. An assessment is
/// computed into these and replayed against them, integer for integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figures {
    staff_x12_e4: i64,
    disabled_x12_e4: i64,
    required_e4: i64,
    shortfall_e4: i64,
    average_wage_fen: Option<i64>,
    wage_used_fen: Option<i64>,
    fee_due_fen: i64,
    reduction_fen: i64,
    payable_fen: i64,
    over_quota_e4: i64,
    reward_fen: i64,
    exempt: bool,
    provisional: bool,
}

impl Figures {
    fn of(r: &LevyResult) -> Result<Figures, String> {
        let fen = |d: Decimal| to_fen(d).ok_or("amount out of range");
        let exact = |t: Twelfths| e4(t.twelfths()).ok_or("count out of range");
        let rounded = |t: Twelfths| e4(t.round(4)).ok_or("count out of range");
        Ok(Figures {
            staff_x12_e4: exact(r.staff)?,
            disabled_x12_e4: exact(r.disabled)?,
            required_e4: rounded(r.required)?,
            shortfall_e4: rounded(r.shortfall)?,
            average_wage_fen: r.average_wage.map(fen).transpose()?,
            wage_used_fen: r.wage_used.map(fen).transpose()?,
            fee_due_fen: fen(r.fee_due)?,
            reduction_fen: fen(r.reduction)?,
            payable_fen: fen(r.payable)?,
            over_quota_e4: rounded(r.over_quota)?,
            reward_fen: fen(r.reward)?,
            exempt: r.exempt,
            provisional: r.provisional,
        })
    }

    fn stored(a: &Assessment) -> Figures {
        Figures {
            staff_x12_e4: a.staff_x12_e4,
            disabled_x12_e4: a.disabled_x12_e4,
            required_e4: a.required_e4,
            shortfall_e4: a.shortfall_e4,
            average_wage_fen: a.average_wage_fen,
            wage_used_fen: a.wage_used_fen,
            fee_due_fen: a.fee_due_fen,
            reduction_fen: a.reduction_fen,
            payable_fen: a.payable_fen,
            over_quota_e4: a.over_quota_e4,
            reward_fen: a.reward_fen,
            exempt: a.exempt,
            provisional: a.provisional,
        }
    }
}

/// Sets what the disputes decide on the roster lines of `input`: months of a pending
/// dispute are counted by neither employer, months decided for another employer are
/// not counted here. A line the declaration no longer has is skipped.
pub fn apply_disputes(input: &mut LevyInput, disputes: &[LineDispute]) {
    let Disabled::Roster(lines) = &mut input.disabled else {
        return;
    };
    for d in disputes.iter().filter(|d| d.excluded_mask != 0) {
        let Some(line) = usize::try_from(d.line_no)
            .ok()
            .and_then(|i| lines.get_mut(i))
        else {
            continue;
        };
        let months = MonthSet::from_months(&mask_months(d.excluded_mask)).unwrap_or_default();
        match d.state {
            DisputeState::CountedElsewhere => line.counted_elsewhere = months,
            _ => line.disputed = months,
        }
    }
}

/// Computes the assessment of `declaration` (figures only: the explanation is rebuilt
/// on read from the stored inputs and policy values). The typed declaration and the
/// outcomes of its `disputes` (the employer's roster lines claimed by another employer
/// too) are the engine's input; the stored inputs are that input stated as a
/// calculation request, so that they alone reproduce the result.
pub fn compute(
    provider: &dyn PolicyProvider,
    snapshots: &mut SnapshotCache,
    employer: &Employer,
    declaration: &Declaration,
    disputes: &[LineDispute],
    now: NaiveDateTime,
) -> Result<Computed, Vec<FieldError>> {
    let mut parsed = declared_input(provider, employer, declaration)?;
    apply_disputes(&mut parsed.input, disputes);
    let r = calculate(&parsed.policy, &parsed.input, ExplainMode::FiguresOnly)
        .map_err(|e| vec![levy_field_error(&e, Language::Zh)])?;
    let snapshot = snapshots
        .get(&parsed.policy)
        .map_err(|e| internal(e.to_string()))?;
    let inputs = request_of(parsed.policy.region, declaration.levy_year, &parsed.input);
    let inputs_json = serde_json::to_value(&inputs)
        .map(|v| v.to_string())
        .map_err(|e| internal(e.to_string()))?;
    let inputs_digest = digest_of(&inputs_json, &snapshot.digest);
    // Without a dispute the inputs are the filed version's body as a request, which
    // the version already holds: keep only what rebuilds them (docs/scaling.md,
    // "What an assessment stores"). A dispute changes the inputs, so they are kept.
    let disputed = disputes.iter().any(|d| d.excluded_mask != 0);
    let inputs_json = if disputed { inputs_json } else { String::new() };
    let f = Figures::of(&r).map_err(internal)?;
    let row = NewAssessment {
        employer_id: employer.id,
        levy_year: declaration.levy_year,
        region: employer.region.clone(),
        kind: employer.kind.clone(),
        declaration_id: declaration.id,
        declaration_version: declaration.version,
        inputs_digest,
        policy_snapshot_id: 0,
        as_of: parsed.policy.as_of,
        staff_x12_e4: f.staff_x12_e4,
        disabled_x12_e4: f.disabled_x12_e4,
        required_e4: f.required_e4,
        shortfall_e4: f.shortfall_e4,
        average_wage_fen: f.average_wage_fen,
        wage_used_fen: f.wage_used_fen,
        fee_due_fen: f.fee_due_fen,
        reduction_fen: f.reduction_fen,
        payable_fen: f.payable_fen,
        over_quota_e4: f.over_quota_e4,
        reward_fen: f.reward_fen,
        exempt: f.exempt,
        provisional: f.provisional,
        inputs_json,
        run_id: None,
        computed_at: now,
        superseded_at: None,
        is_current: true,
        registered_on: employer.registered_on,
    };
    let below_quota = !r.shortfall.is_zero() && !r.exempt;
    Ok(Computed {
        row,
        snapshot,
        below_quota,
    })
}

/// The stored inputs digest: SHA-256 of the inputs' canonical JSON, a newline and the
/// policy snapshot's digest.
fn digest_of(inputs_json: &str, snapshot_digest: &str) -> String {
    let mut h = Sha256::new();
    h.update(inputs_json.as_bytes());
    h.update(b"\n");
    h.update(snapshot_digest.as_bytes());
    hex::encode(h.finalize())
}

/// The calculation request an assessment was computed from, canonical JSON: the one
/// the row stores or, when it stores none, the declaration version's body stated as a
/// request for the row's region, kind and registration date, read and stated again
/// exactly as when it was computed. A rebuilt request must give the row's digest, so
/// a version or snapshot that changed is an error, never a different explanation.
fn inputs_text(
    conn: &mut AnyConnection,
    a: &Assessment,
    policy_json: &str,
    policy: &ResolvedPolicy,
) -> Result<String, String> {
    if !a.inputs_json.is_empty() {
        return Ok(a.inputs_json.clone());
    }
    let body = decl_repo::version_body(conn, a.declaration_id, a.declaration_version)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("assessment {}: its declaration version is missing", a.id))?;
    let body: Value = serde_json::from_str(&body)
        .map_err(|e| format!("assessment {}: declaration version unreadable: {e}", a.id))?;
    let req = request_for_body(&a.region, &a.kind, a.registered_on, a.levy_year, &body);
    let parsed = parse_request(&FrozenPolicy(policy.clone()), &req, Language::Zh)
        .map_err(|e| format!("declaration version no longer calculates: {e:?}"))?;
    let inputs = request_of(parsed.policy.region, a.levy_year, &parsed.input);
    let text = serde_json::to_value(&inputs)
        .map(|v| v.to_string())
        .map_err(|e| e.to_string())?;
    let snapshot_digest = hex::encode(Sha256::digest(policy_json.as_bytes()));
    if digest_of(&text, &snapshot_digest) != a.inputs_digest {
        return Err(format!(
            "assessment {}: the inputs rebuilt from its declaration version do not match its digest",
            a.id
        ));
    }
    Ok(text)
}

/// What assessing one employer did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A new current assessment.
    Assessed(Assessment),
    /// The current assessment already has these inputs and policy values.
    Unchanged(Assessment),
}

/// Why an employer could not be assessed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    /// No filed declaration.
    #[error("{0}")]
    NotDeclared(Said),
    /// The declaration cannot be calculated (e.g. a policy value is missing).
    #[error("the declaration cannot be assessed")]
    Invalid(Vec<FieldError>),
    /// Storage failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<DbError> for AssessError {
    fn from(e: DbError) -> Self {
        AssessError::Registry(RegistryError::Db(e))
    }
}

impl From<diesel::result::Error> for AssessError {
    fn from(e: diesel::result::Error) -> Self {
        AssessError::Registry(RegistryError::Db(DbError::Query(e)))
    }
}

/// The keyed digest of an assessment's inputs, from the stored plain one. The stored
/// digest stays plain (it tells a re-assessment whether anything changed); what leaves
/// the database is keyed, since the inputs hold certificate numbers that some readers
/// see masked, and a plain digest lets them try every number until it matches.
pub fn inputs_hmac(secret: &ServerSecret, inputs_digest: &str) -> String {
    secret.keyed_digest("assessment-inputs", inputs_digest.as_bytes())
}

/// Assesses one employer now, in its own transaction.
pub fn assess_one(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    actor: &str,
    request_id: Option<&str>,
    secret: &ServerSecret,
) -> Result<Outcome, AssessError> {
    let declaration = decl_repo::current(conn, employer.id, levy_year)?
        .filter(|d| d.status().is_filed())
        .ok_or_else(|| {
            AssessError::NotDeclared(Said::new(
                "该单位没有本征收年度已提交的申报",
                "this employer has no submitted declaration for the levy year",
            ))
        })?;
    let now = Utc::now().naive_utc();
    let disputes = disputes_for(conn, levy_year, &[employer.id])?
        .remove(&employer.id)
        .unwrap_or_default();
    let computed = compute(
        provider,
        &mut SnapshotCache::default(),
        employer,
        &declaration,
        &disputes,
        now,
    )
    .map_err(AssessError::Invalid)?;
    crate::db::write_transaction(conn, |c| {
        if let Some(cur) = repo::current(c, employer.id, levy_year)? {
            if cur.inputs_digest == computed.row.inputs_digest {
                return Ok(Outcome::Unchanged(cur));
            }
            repo::supersede(c, &[cur.id], now)?;
        }
        let mut row = computed.row.clone();
        row.policy_snapshot_id =
            repo::snapshot_id(c, &computed.snapshot.digest, &computed.snapshot.json, now)?;
        repo::insert_many(c, std::slice::from_ref(&row))?;
        let stored = repo::current(c, employer.id, levy_year)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "assessment.create",
                entity_type: "assessment",
                entity_id: &format!("{}/{}", employer.uscc, levy_year),
                before: None,
                after: Some(json!({
                    "id": stored.id, "declaration_version": stored.declaration_version,
                    "payable": format_money(from_fen(stored.payable_fen)),
                    "inputs_hmac": inputs_hmac(secret, &stored.inputs_digest),
                })),
                request_id,
            },
        )?;
        Ok(Outcome::Assessed(stored))
    })
}

/// What re-assessing the claimants of a person did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reassessed {
    /// Employers given a new current assessment.
    pub assessed: usize,
    /// Employers whose assessment already had these inputs.
    pub unchanged: usize,
    /// Employers that cannot be assessed now (e.g. a policy figure is missing); their
    /// assessment waits, and the next run assesses them.
    pub waiting: usize,
}

/// Re-assesses every employer whose filed roster of `levy_year` names `holder_id`, after
/// the federation decided who counts the person: the decision changes what each
/// counts, so their current assessments (and what a notice or the roll shows) must
/// follow at once. Each employer in its own transaction, as [`assess_one`].
pub fn reassess_claimants(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    levy_year: i32,
    holder_id: &str,
    actor: &str,
    request_id: Option<&str>,
    secret: &ServerSecret,
) -> Result<Reassessed, DbError> {
    let mut done = Reassessed::default();
    for employer in decl_repo::claimants(conn, levy_year, holder_id)? {
        match assess_one(
            conn, provider, &employer, levy_year, actor, request_id, secret,
        ) {
            Ok(Outcome::Assessed(_)) => done.assessed += 1,
            Ok(Outcome::Unchanged(_)) => done.unchanged += 1,
            Err(AssessError::Invalid(_) | AssessError::NotDeclared(_)) => done.waiting += 1,
            Err(AssessError::Registry(RegistryError::Db(e))) => return Err(e),
            Err(AssessError::Registry(e)) => return Err(DbError::Conflict(e.to_string())),
        }
    }
    Ok(done)
}

/// A stored assessment with its full explained result, replayed from the stored inputs
/// and policy values and checked against the stored figures, integer for integer.
pub fn replay(
    conn: &mut AnyConnection,
    a: &Assessment,
    lang: Language,
) -> Result<CalcResponse, String> {
    replay_with_inputs(conn, a, lang).map(|(r, _)| r)
}

/// [`replay`], also giving the calculation request the assessment was computed from
/// (unmasked: the caller masks it for whoever may not see personal numbers).
pub fn replay_with_inputs(
    conn: &mut AnyConnection,
    a: &Assessment,
    lang: Language,
) -> Result<(CalcResponse, Value), String> {
    let policy_json = repo::snapshot_json(conn, a.policy_snapshot_id).map_err(|e| e.to_string())?;
    let policy: ResolvedPolicy = serde_json::from_str(&policy_json)
        .map_err(|e| format!("policy snapshot unreadable: {e}"))?;
    let text = inputs_text(conn, a, &policy_json, &policy)?;
    let inputs: Value =
        serde_json::from_str(&text).map_err(|e| format!("inputs unreadable: {e}"))?;
    let parsed = parse_request(&FrozenPolicy(policy), &inputs, lang)
        .map_err(|e| format!("stored inputs no longer calculate: {e:?}"))?;
    let r = calculate(&parsed.policy, &parsed.input, ExplainMode::Full(lang))
        .map_err(|e| format!("stored inputs no longer calculate: {e}"))?;
    let got = Figures::of(&r)?;
    let want = Figures::stored(a);
    if got != want {
        return Err(format!(
            "assessment {} does not replay: {got:?} ≠ stored {want:?}",
            a.id
        ));
    }
    Ok((build_response(&parsed, &r), inputs))
}
