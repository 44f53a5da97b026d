//! Declarations: validated with the very function the calculator uses, stored as a
//! canonical body with every version kept, and typed roster lines for cross-employer
//! checks.

use crate::domain::Said;
use std::collections::HashSet;

use diesel::Connection;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{self as repo, Declaration, NewRosterLine, Status};
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::{months_in_period, Certificate, Disabled, Employment};
use crate::domain::money::to_fen;
use crate::domain::{Language, PolicyProvider};
use crate::secret::ServerSecret;
use crate::wire::{parse_request, unknown_key_pointer, Fault, FieldError, ParsedRequest};

/// The fields a declaration body may have: the calculation request's staff, wages and
/// disabled-employee fields. Region, kind and registration date come from the employer
/// record; the levy year from the path.
pub const DECLARATION_FIELDS: &[&str] = &[
    "staff",
    "total_wages",
    "average_wage",
    "disabled_employees",
    "disabled_count",
];

/// A validated declaration, ready to store.
#[derive(Debug, Clone)]
pub struct ParsedDeclaration {
    /// The body in canonical form (sorted keys), as stored.
    pub body_json: String,
    /// SHA-256 of `body_json`: equal bodies are the same declaration.
    pub digest: String,
    /// The typed roster lines (declaration id filled in when saved).
    pub roster: Vec<NewRosterLine>,
    /// Figures of the law its assessment needs that no policy pack has yet (the region's
    /// social average wage of the data year, say): the declaration is valid and is
    /// stored, its assessment waits until a pack has them.
    pub waiting_for: Vec<FieldError>,
}

/// What a save did.
#[derive(Debug, Clone)]
pub enum SaveOutcome {
    /// First version.
    Created(Declaration),
    /// A new version (a draft changed, or a filed declaration amended).
    Updated(Declaration),
    /// The body was identical: nothing was written.
    Unchanged(Declaration),
}

impl SaveOutcome {
    /// The declaration after the save.
    pub fn declaration(&self) -> &Declaration {
        match self {
            SaveOutcome::Created(d) | SaveOutcome::Updated(d) | SaveOutcome::Unchanged(d) => d,
        }
    }
}

/// Why a state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No such declaration.
    #[error("{0}")]
    NotFound(Said),
    /// Not allowed in the current state.
    #[error("{0}")]
    Conflict(Said),
    /// `If-Match` did not match.
    #[error("{0}")]
    PreconditionFailed(Said),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RegistryError {
    fn from(e: diesel::result::Error) -> Self {
        RegistryError::Db(DbError::Query(e))
    }
}

/// The full calculation request for an employer's declaration body.
pub fn calc_request_for(employer: &Employer, levy_year: i32, body: &Value) -> Value {
    request_for_body(
        &employer.region,
        &employer.kind,
        employer.registered_on,
        levy_year,
        body,
    )
}

/// The calculation request for a declaration body and the employer facts it is stated
/// with (what [`calc_request_for`] takes from the employer record, and what an
/// assessment keeps of it, to rebuild its inputs later).
pub fn request_for_body(
    region: &str,
    kind: &str,
    registered_on: Option<chrono::NaiveDate>,
    levy_year: i32,
    body: &Value,
) -> Value {
    request_for_owned_body(region, kind, registered_on, levy_year, body.clone())
}

/// [`request_for_body`] taking the body, which becomes the request without a copy: a
/// batch run states every filed declaration this way (BENCHMARKS.md, "Batch
/// assessment").
fn request_for_owned_body(
    region: &str,
    kind: &str,
    registered_on: Option<chrono::NaiveDate>,
    levy_year: i32,
    body: Value,
) -> Value {
    let mut req: Map<String, Value> = match body {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    req.insert("region".into(), json!(region));
    req.insert("levy_year".into(), json!(levy_year));
    let mut emp = Map::new();
    emp.insert("kind".into(), json!(kind));
    if let Some(d) = registered_on {
        emp.insert(
            "registered_on".into(),
            json!(d.format("%Y-%m-%d").to_string()),
        );
    }
    req.insert("employer".into(), Value::Object(emp));
    Value::Object(req)
}

/// A stored declaration as the engine's input: its body read with the calculator's
/// walker, the employer record supplying region, kind and registration date. Faults
/// are worded in Chinese (an assessment run reads them).
pub fn declared_input(
    policy: &dyn PolicyProvider,
    employer: &Employer,
    declaration: &Declaration,
) -> Result<ParsedRequest, Vec<FieldError>> {
    let body: Value = serde_json::from_str(&declaration.body_json).map_err(|e| {
        vec![FieldError {
            pointer: String::new(),
            code: "internal",
            message: format!("stored declaration is not JSON: {e}"),
        }]
    })?;
    let req = request_for_owned_body(
        &employer.region,
        &employer.kind,
        employer.registered_on,
        declaration.levy_year,
        body,
    );
    parse_request(policy, &req, Language::Zh)
}

/// Validates a declaration body for `employer` and `levy_year`, collecting every fault.
pub fn parse_declaration(
    policy: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    body: &Value,
) -> Result<ParsedDeclaration, Vec<FieldError>> {
    parse_declaration_lang(policy, employer, levy_year, body, Language::Zh).map(|(d, _)| d)
}

/// As [`parse_declaration`], with messages in `lang`, also returning the parsed request.
pub fn parse_declaration_lang(
    policy: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    body: &Value,
    lang: Language,
) -> Result<(ParsedDeclaration, ParsedRequest), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", &Fault::NotObject, lang)]);
    };
    let unknown = Fault::UnknownDeclarationField {
        allowed: DECLARATION_FIELDS.join(", "),
    };
    let mut errors: Vec<FieldError> = obj
        .keys()
        .filter(|k| !DECLARATION_FIELDS.contains(&k.as_str()))
        .map(|k| FieldError::new(unknown_key_pointer("", k), &unknown, lang))
        .collect();
    let req = calc_request_for(employer, levy_year, body);
    let mut waiting_for = Vec::new();
    let parsed = match parse_request(policy, &req, lang) {
        Ok(p) => Some(p),
        // Only a figure of the law is missing: the employer's data is valid, and is
        // checked in full with a stand-in for the figure (never used to compute).
        Err(e) if is_waiting(&e) => match parse_request(policy, &with_stand_ins(&req), lang) {
            Ok(p) => {
                // The calculator's advice (give an override) is for a what-if
                // calculation; a declaration simply waits for the pack.
                let (zh, en) = (
                    format!(
                        "地区 {} 数据年度 {} 的社会平均工资尚未收入政策包：申报已保存，待政策包补充后核定",
                        employer.region,
                        levy_year - 1
                    ),
                    format!(
                        "no policy pack has the social average wage of region {} for data year {} yet: the declaration is stored and is assessed once a pack has it",
                        employer.region,
                        levy_year - 1
                    ),
                );
                waiting_for = e
                    .into_iter()
                    .map(|mut fe| {
                        fe.message = lang.pick(&zh, &en).to_owned();
                        fe
                    })
                    .collect();
                Some(p)
            }
            Err(e) => {
                errors.extend(e);
                None
            }
        },
        Err(e) => {
            errors.extend(e.into_iter().map(|mut fe| {
                // Faults in what the employer record supplies are reported against it.
                if fe.pointer == "/region" || fe.pointer.starts_with("/employer") {
                    fe.pointer = format!("/employer_record{}", fe.pointer);
                }
                fe
            }));
            None
        }
    };
    let Some(parsed) = parsed.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    // serde_json's map is ordered by key here, so this text is canonical.
    let body_json = Value::Object(obj.clone()).to_string();
    let digest = hex::encode(Sha256::digest(body_json.as_bytes()));
    let data_year = levy_year - 1;
    let roster = match &parsed.input.disabled {
        Disabled::Certified(_) => Vec::new(),
        Disabled::Roster(list) => list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (certificate_no, holder_id) = match &e.certificate {
                    Certificate::Disability(c) => {
                        (c.expose().to_owned(), c.holder().expose().to_owned())
                    }
                    Certificate::Veteran { number, .. } => {
                        (number.expose().to_owned(), format!("V:{}", number.expose()))
                    }
                };
                let months = match e.employment {
                    Employment::Months(m) => m,
                    Employment::Period { from, to } => months_in_period(data_year, from, to),
                };
                NewRosterLine {
                    declaration_id: 0,
                    employer_id: employer.id,
                    levy_year,
                    line_no: i as i32,
                    certificate_no,
                    holder_id,
                    certificate_kind: e.certificate.kind_str().to_owned(),
                    grade: i32::from(e.certificate.grade()),
                    months_mask: months.iter().fold(0, |acc, m| acc | (1 << (m - 1))),
                    on_establishment: e.on_establishment,
                    contract_months: e.contract_months.and_then(|m| i32::try_from(m).ok()),
                    social_insurance_paid: e.social_insurance_paid,
                    monthly_wage_fen: e.monthly_wage.and_then(to_fen),
                    fresh_graduate: e.fresh_graduate,
                }
            })
            .collect(),
    };
    Ok((
        ParsedDeclaration {
            body_json,
            digest,
            roster,
            waiting_for,
        },
        parsed,
    ))
}

/// True when every fault is a figure of the law that no pack has (the code the
/// calculator gives a missing parameter), so that the data itself is valid.
fn is_waiting(errors: &[FieldError]) -> bool {
    !errors.is_empty() && errors.iter().all(|e| e.code == "missing_parameter")
}

/// The request with a stand-in for each figure of the law a declaration may wait for,
/// so that the rest of it is validated as usual.
fn with_stand_ins(req: &Value) -> Value {
    let mut req = req.clone();
    if let Some(o) = req.as_object_mut() {
        let overrides = o.entry("overrides").or_insert_with(|| json!({}));
        if let Some(ov) = overrides.as_object_mut() {
            ov.entry("social_average_wage")
                .or_insert_with(|| json!("1"));
        }
    }
    req
}

/// The audit view of a declaration version. Not the body, which holds certificate
/// numbers; nor its plain SHA-256 (the stored `body_digest`, kept for change
/// detection): for a one-line roster whose figures the reader knows, that digest gives
/// the certificate number back by trying every birth date. The view has the body's
/// digest keyed with the server secret instead, which still ties the entry to the
/// version for whoever holds the secret.
pub(crate) fn audit_view(
    d: &Declaration,
    roster_len: Option<usize>,
    secret: &ServerSecret,
) -> Value {
    json!({
        "levy_year": d.levy_year, "version": d.version, "status": d.status,
        "body_hmac": body_hmac(secret, &d.body_digest), "roster_lines": roster_len,
    })
}

/// The keyed digest of a declaration body, from its stored plain digest.
pub fn body_hmac(secret: &ServerSecret, body_digest: &str) -> String {
    secret.keyed_digest("declaration-body", body_digest.as_bytes())
}

/// Options of a save.
pub struct SaveOptions<'a> {
    /// Who.
    pub actor: &'a str,
    /// HTTP request ID.
    pub request_id: Option<&'a str>,
    /// The ETag the caller last read; checked inside the transaction.
    pub if_match: Option<&'a str>,
    /// Keys the digests of the audit entry.
    pub secret: &'a ServerSecret,
}

/// Creates or amends the declaration, checking `If-Match`, inside the caller's
/// transaction. An identical body changes nothing (whatever the ETag).
pub fn save_with(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    parsed: &ParsedDeclaration,
    opts: &SaveOptions<'_>,
) -> Result<SaveOutcome, RegistryError> {
    let existing = repo::current_for_update(conn, employer.id, levy_year)?;
    if let Some(d) = &existing {
        if d.body_digest == parsed.digest {
            return Ok(SaveOutcome::Unchanged(d.clone()));
        }
        if let Some(tag) = opts.if_match {
            if tag != d.etag() && tag != "*" {
                return Err(RegistryError::PreconditionFailed(declaration_changed()));
            }
        }
    } else if opts.if_match.is_some_and(|t| t != "*") {
        return Err(RegistryError::PreconditionFailed(Said::new(
            "请求带有 If-Match，但该年度尚无申报",
            "If-Match was given but there is no declaration yet",
        )));
    }
    let status = next_status(existing.as_ref());
    let before = existing.as_ref().map(|d| audit_view(d, None, opts.secret));
    let saved = repo::save(
        conn,
        existing.as_ref(),
        repo::NewVersion {
            employer_id: employer.id,
            levy_year,
            body_json: &parsed.body_json,
            body_digest: &parsed.digest,
            status,
            actor: opts.actor,
            roster: parsed.roster.clone(),
        },
    )?;
    let action = save_action(existing.is_some(), status);
    audit::record(
        conn,
        AuditEntry {
            actor: opts.actor,
            action,
            entity_type: "declaration",
            entity_id: &format!("{}/{}", employer.uscc, levy_year),
            before,
            after: Some(audit_view(&saved, Some(parsed.roster.len()), opts.secret)),
            request_id: opts.request_id,
        },
    )?;
    Ok(if existing.is_none() {
        SaveOutcome::Created(saved)
    } else {
        SaveOutcome::Updated(saved)
    })
}

/// The status a changed body gets: a draft stays a draft, a filed declaration becomes
/// amended.
fn next_status(existing: Option<&Declaration>) -> Status {
    match existing.map(Declaration::status) {
        None | Some(Status::Draft) => Status::Draft,
        Some(_) => Status::Amended,
    }
}

/// The audit action of a save.
fn save_action(existed: bool, status: Status) -> &'static str {
    match (existed, status) {
        (false, _) => "declaration.create",
        (true, Status::Amended) => "declaration.amend",
        _ => "declaration.update",
    }
}

/// Creates or amends many declarations of `levy_year`, inside the caller's transaction,
/// with a few multi-row statements instead of about eight round trips each. Per
/// declaration it does what [`save_with`] does: an identical body changes
/// nothing; otherwise a new version (a draft stays a draft, a filed declaration becomes
/// amended), the version history and roster lines kept, and one audit entry with the
/// same content. Answers in the order given.
pub fn save_many_audited(
    conn: &mut AnyConnection,
    levy_year: i32,
    items: &[(&Employer, &ParsedDeclaration)],
    actor: &str,
    request_id: Option<&str>,
    secret: &ServerSecret,
) -> Result<Vec<SaveOutcome>, DbError> {
    let mut out = Vec::with_capacity(items.len());
    let mut start = 0;
    while start < items.len() {
        // The statements of a run see one employer at most once (a second would
        // collide with the first's insert); runs go in order, so an employer given
        // twice ends as if saved twice, one after the other.
        let mut seen = HashSet::new();
        let end = items[start..]
            .iter()
            .position(|(e, _)| !seen.insert(e.id))
            .map_or(items.len(), |p| start + p);
        out.extend(save_run(
            conn,
            levy_year,
            &items[start..end],
            actor,
            request_id,
            secret,
        )?);
        start = end;
    }
    Ok(out)
}

/// [`save_many_audited`] for items with distinct employers.
fn save_run(
    conn: &mut AnyConnection,
    levy_year: i32,
    items: &[(&Employer, &ParsedDeclaration)],
    actor: &str,
    request_id: Option<&str>,
    secret: &ServerSecret,
) -> Result<Vec<SaveOutcome>, DbError> {
    let ids: Vec<i64> = items.iter().map(|(e, _)| e.id).collect();
    let current = repo::current_many(conn, &ids, levy_year)?;
    let mut changed: Vec<usize> = Vec::new();
    let mut versions: Vec<repo::NextVersion<'_>> = Vec::new();
    for (k, (employer, parsed)) in items.iter().enumerate() {
        let existing = current.get(&employer.id);
        if existing.is_some_and(|d| d.body_digest == parsed.digest) {
            continue;
        }
        changed.push(k);
        versions.push(repo::NextVersion {
            employer_id: employer.id,
            current: existing,
            body_json: &parsed.body_json,
            body_digest: &parsed.digest,
            status: next_status(existing),
            roster: &parsed.roster,
        });
    }
    let saved = repo::save_many(conn, levy_year, actor, &versions)?;
    let entity_ids: Vec<String> = changed
        .iter()
        .map(|&k| format!("{}/{}", items[k].0.uscc, levy_year))
        .collect();
    let entries: Vec<AuditEntry<'_>> = versions
        .iter()
        .zip(&saved)
        .zip(&changed)
        .zip(&entity_ids)
        .map(|(((v, s), &k), entity_id)| AuditEntry {
            actor,
            action: save_action(v.current.is_some(), v.status),
            entity_type: "declaration",
            entity_id,
            before: v.current.map(|d| audit_view(d, None, secret)),
            after: Some(audit_view(s, Some(items[k].1.roster.len()), secret)),
            request_id,
        })
        .collect();
    audit::record_many(conn, &entries)?;

    let mut saved = changed.into_iter().zip(saved).peekable();
    let mut out = Vec::with_capacity(items.len());
    for (k, (employer, _)) in items.iter().enumerate() {
        match saved.next_if(|(j, _)| *j == k) {
            Some((_, d)) if current.contains_key(&employer.id) => out.push(SaveOutcome::Updated(d)),
            Some((_, d)) => out.push(SaveOutcome::Created(d)),
            None => match current.get(&employer.id) {
                Some(d) => out.push(SaveOutcome::Unchanged(d.clone())),
                None => {
                    return Err(DbError::Task(
                        "a declaration was neither saved nor found".into(),
                    ))
                }
            },
        }
    }
    Ok(out)
}

/// How often a request without `If-Match` re-reads and tries again when a concurrent
/// writer changed the declaration between its read and its write.
const WRITE_ATTEMPTS: usize = 5;

/// Runs `attempt` in a savepoint until it does not lose a race with another writer: a
/// stale version (or, for a first version, the other writer's insert) answers
/// `PreconditionFailed` when the caller named the version it read (`If-Match`), and is
/// otherwise tried again on the fresh state. The savepoint undoes the lost attempt (on
/// PostgreSQL a failed insert would end the whole transaction).
fn retry_races<T>(
    conn: &mut AnyConnection,
    if_match: Option<&str>,
    mut attempt: impl FnMut(&mut AnyConnection) -> Result<T, RegistryError>,
) -> Result<T, RegistryError> {
    for _ in 0..WRITE_ATTEMPTS {
        match conn.transaction(&mut attempt) {
            Err(RegistryError::Db(e)) if lost_race(&e) => {
                if if_match.is_some_and(|t| t != "*") {
                    return Err(RegistryError::PreconditionFailed(declaration_changed()));
                }
            }
            other => return other,
        }
    }
    Err(RegistryError::Conflict(Said::new(
        "该申报正被他人同时修改；请重新读取后再试",
        "the declaration is being changed by others at this moment; read it again and retry",
    )))
}

fn lost_race(e: &DbError) -> bool {
    matches!(e, DbError::Conflict(_)) || crate::db::is_unique_violation(e)
}

/// Creates or amends in its own transaction (HTTP PUT).
pub fn put(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    parsed: &ParsedDeclaration,
    opts: &SaveOptions<'_>,
) -> Result<SaveOutcome, RegistryError> {
    crate::db::write_transaction(conn, |c| {
        retry_races(c, opts.if_match, |c| {
            save_with(c, employer, levy_year, parsed, opts)
        })
    })
}

/// Creates or amends and then submits, in one transaction (an employer's page: the
/// form's "submit" button saves what it shows and files it). Audited as a save (when
/// the body changed) and a submission; a declaration filed already and unchanged is
/// answered as it is, nothing written.
pub fn put_and_submit(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    parsed: &ParsedDeclaration,
    opts: &SaveOptions<'_>,
) -> Result<Declaration, RegistryError> {
    crate::db::write_transaction(conn, |c| {
        retry_races(c, opts.if_match, |c| {
            let saved = save_with(c, employer, levy_year, parsed, opts)?;
            let d = saved.declaration();
            if matches!(d.status(), Status::Draft | Status::Amended) {
                // The save above is this transaction's own: the step reads it, so the
                // caller's If-Match (the version before the save) no longer applies.
                let step_opts = SaveOptions {
                    if_match: None,
                    ..*opts
                };
                step_once(c, employer, levy_year, Step::Submit, &step_opts)
            } else {
                Ok(d.clone())
            }
        })
    })
}

/// A status step: `submit` (draft or amended → submitted) or `certify` (submitted →
/// certified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Filed by the employer (or the tax bureau on its behalf).
    Submit,
    /// Certified by the disabled persons' federation.
    Certify,
}

/// Applies a status step in its own transaction.
pub fn step(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    step: Step,
    opts: &SaveOptions<'_>,
) -> Result<Declaration, RegistryError> {
    crate::db::write_transaction(conn, |c| {
        retry_races(c, opts.if_match, |c| {
            step_once(c, employer, levy_year, step, opts)
        })
    })
}

fn step_once(
    c: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    step: Step,
    opts: &SaveOptions<'_>,
) -> Result<Declaration, RegistryError> {
    let d = repo::current_for_update(c, employer.id, levy_year)?.ok_or_else(|| {
        RegistryError::NotFound(Said::new(
            "该单位没有本征收年度的申报",
            "this employer has no declaration for the levy year",
        ))
    })?;
    if let Some(tag) = opts.if_match {
        if tag != d.etag() && tag != "*" {
            return Err(RegistryError::PreconditionFailed(declaration_changed()));
        }
    }
    let (allowed, next, action) = match step {
        // A returned declaration may be submitted again as it is (the employer holds
        // its figures right) or after an edit (then it is amended).
        Step::Submit => (
            matches!(
                d.status(),
                Status::Draft | Status::Amended | Status::Returned
            ),
            Status::Submitted,
            "declaration.submit",
        ),
        Step::Certify => (
            d.status() == Status::Submitted,
            Status::Certified,
            "declaration.certify",
        ),
    };
    if !allowed {
        let status_zh = match d.status() {
            Status::Draft => "草稿",
            Status::Submitted => "已提交",
            Status::Certified => "已审核",
            Status::Amended => "已更正",
            Status::Returned => "已退回",
        };
        return Err(RegistryError::Conflict(Said::new(
            match step {
                Step::Submit => format!("{status_zh}状态的申报不能再提交"),
                Step::Certify => format!("{status_zh}状态的申报不能审核（须先提交）"),
            },
            format!(
                "a {} declaration cannot be {}",
                d.status,
                match step {
                    Step::Submit => "submitted",
                    Step::Certify => "certified (it must be submitted first)",
                }
            ),
        )));
    }
    let after = repo::set_status(c, &d, next, opts.actor)?;
    if step == Step::Submit {
        // The return is answered by this submission.
        repo::clear_returned(c, d.id)?;
    }
    audit::record(
        c,
        AuditEntry {
            actor: opts.actor,
            action,
            entity_type: "declaration",
            entity_id: &format!("{}/{}", employer.uscc, levy_year),
            before: Some(audit_view(&d, None, opts.secret)),
            after: Some(audit_view(&after, None, opts.secret)),
            request_id: opts.request_id,
        },
    )?;
    Ok(after)
}

/// Submits `d` (the declaration as just saved or found) inside the caller's write
/// transaction when it is a draft or an amendment, audited as a submission; true when
/// it was submitted, false when it was filed already.
pub fn submit_in_transaction(
    c: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    d: &Declaration,
    opts: &SaveOptions<'_>,
) -> Result<bool, RegistryError> {
    if !matches!(d.status(), Status::Draft | Status::Amended) {
        return Ok(false);
    }
    step_once(c, employer, levy_year, Step::Submit, opts).map(|_| true)
}

/// Masks every certificate number in a stored body, for callers who do not need them.
pub fn mask_body(body: &mut Value) {
    if let Some(list) = body
        .get_mut("disabled_employees")
        .and_then(Value::as_array_mut)
    {
        for e in list {
            if let Some(Value::String(no)) = e.get_mut("certificate_no") {
                *no = mask_number(no);
            }
        }
    }
}

/// Keeps the first 4 and last 4 characters of an identifier.
pub fn mask_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 8));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// The answer to an `If-Match` that no longer matches the declaration.
fn declaration_changed() -> Said {
    Said::new(
        "申报在您读取之后已被修改（If-Match 与其 ETag 不符）；请重新读取",
        "the declaration changed since you read it (If-Match does not match its ETag); read it again",
    )
}
