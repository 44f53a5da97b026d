//! Registering employers.

use crate::domain::Said;
use std::collections::HashMap;

use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use super::fields::{check_email, Fields};
use crate::auth::{Principal, Role};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::{self as repo, Employer, EmployerPatch, NewEmployer};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::{mask_numbers_in, UnifiedSocialCreditCode};
use crate::domain::{EmployerKind, Language, PolicyLookupError, PolicyProvider, RegionCode};
use crate::registry::declarations::RegistryError;
use crate::wire::{Fault, FieldError};

/// Every field an employer record has.
pub const EMPLOYER_FIELDS: &[&str] = &[
    "uscc",
    "name",
    "kind",
    "region",
    "registered_on",
    "contact_email",
    "establishment_size",
    "committee_member",
];

/// Checks that a region code is one the policy packs know.
pub fn check_region(policy: &dyn PolicyProvider, s: &str) -> Result<RegionCode, Fault> {
    let code: RegionCode = s.parse().map_err(|_| Fault::Region)?;
    let today = crate::clock::china_today();
    match policy.resolve(code, today, today.year() - 1) {
        Err(PolicyLookupError::UnknownRegion(_)) => Err(Fault::UnknownRegion),
        _ => Ok(code),
    }
}

/// A validated new employer, with warnings (e.g. the USCC's kind hint disagrees).
#[derive(Debug, Clone)]
pub struct ParsedEmployer {
    /// What to insert.
    pub new: NewEmployer,
    /// The region, parsed.
    pub region: RegionCode,
    /// Things worth saying that do not stop the registration.
    pub warnings: Vec<String>,
}

/// Validates an employer given as a JSON object (API body or an import row), with
/// messages in `lang`.
pub fn parse_new_employer(
    policy: &dyn PolicyProvider,
    body: &Value,
    today: chrono::NaiveDate,
    lang: Language,
) -> Result<ParsedEmployer, Vec<FieldError>> {
    let mut f = Fields::new(body, EMPLOYER_FIELDS, lang)?;
    let uscc = f.parsed("uscc", true, |s| {
        UnifiedSocialCreditCode::parse(s).map_err(Fault::Id)
    });
    let name = f.string("name", true);
    let kind = f.parsed("kind", true, |s| {
        s.parse::<EmployerKind>().map_err(|_| Fault::EmployerKind)
    });
    let region = f.parsed("region", true, |s| check_region(policy, s));
    let registered_on = registration_date(&mut f, today);
    let contact_email = f.parsed("contact_email", false, check_email);
    let establishment_size = f.int("establishment_size", false, 0, 10_000_000);
    let committee_member = f.bool("committee_member").unwrap_or(false);
    if let Some(n) = &name {
        if n.chars().count() > 200 {
            f.fail("name", Fault::TooLong { max: 200 });
        }
    }
    let errors = f.errors().to_vec();
    let (Some(uscc), Some(name), Some(kind), Some(region), true) =
        (uscc, name, kind, region, errors.is_empty())
    else {
        return Err(errors);
    };
    let mut warnings = Vec::new();
    if let Some(w) = region_warning(&uscc, &region, lang) {
        warnings.push(w);
    }
    if let Some(hint) = uscc.kind_hint() {
        if hint != kind {
            let (h, k) = (hint.as_str(), kind.as_str());
            warnings.push(match lang {
                Language::Zh => format!(
                    "统一社会信用代码第 1–2 位表明单位类型为 {h}，而申报的类型为 {k}；以申报的类型为准"
                ),
                Language::En => format!(
                    "the USCC's positions 1-2 suggest {h} but the declared kind is {k}; the declared kind is used"
                ),
            });
        }
    }
    let now = Utc::now().naive_utc();
    Ok(ParsedEmployer {
        new: NewEmployer {
            uscc: uscc.expose().to_owned(),
            name,
            kind: kind.as_str().to_owned(),
            region: region.to_string(),
            registered_on,
            contact_email,
            establishment_size: establishment_size.and_then(|n| i32::try_from(n).ok()),
            committee_member,
            version: 1,
            created_at: now,
            updated_at: now,
        },
        region,
        warnings,
    })
}

/// The earliest business registration date accepted: older records are typing errors.
const EARLIEST_REGISTRATION: (i32, u32, u32) = (1900, 1, 1);

/// `registered_on`, when given: a date from 1900 up to today (China's date); a
/// registration in the future is a typing error that would exempt an enterprise under
/// the three-year rule of 2015–2017.
pub fn registration_date(
    f: &mut Fields<'_>,
    today: chrono::NaiveDate,
) -> Option<chrono::NaiveDate> {
    let d = f.date("registered_on", false)?;
    let (y, m, day) = EARLIEST_REGISTRATION;
    let earliest = chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap_or(chrono::NaiveDate::MIN);
    if d > today {
        f.fail("registered_on", Fault::InFuture);
        return None;
    }
    if d < earliest {
        f.fail("registered_on", Fault::DateTooEarly { earliest });
        return None;
    }
    Some(d)
}

/// A warning when the USCC was issued in another province than the declared region's
/// (positions 3–8 name the registering authority's region, GB 32100-2015). It happens
/// — a branch registered where its head office is — so it does not stop the
/// registration, but it is often a wrong region. Codes issued nationally (`10…`) name
/// no province.
pub fn region_warning(
    uscc: &UnifiedSocialCreditCode,
    region: &RegionCode,
    lang: Language,
) -> Option<String> {
    let issued = &uscc.region_digits()[..2];
    let declared = region.to_string();
    if issued == "10" || declared.starts_with(issued) {
        return None;
    }
    let province = &declared[..2];
    Some(match lang {
        Language::Zh => format!(
            "统一社会信用代码（第 3–8 位）由 {issued}0000 省份登记，而申报地区 {declared} 属于 {province}0000 省份；请核对地区"
        ),
        Language::En => format!(
            "the USCC was issued in province {issued}0000 (positions 3-8) but the declared region {declared} lies in province {province}0000; check the region"
        ),
    })
}

/// The audit view of an employer. Employers are legal persons; their free text is
/// still written with any identifier-like number masked, in case one was typed there.
pub fn audit_view(e: &Employer) -> Value {
    json!({
        "uscc": e.uscc, "name": mask_numbers_in(&e.name), "kind": e.kind, "region": e.region,
        "registered_on": e.registered_on,
        "contact_email": e.contact_email.as_deref().map(mask_numbers_in),
        "establishment_size": e.establishment_size, "committee_member": e.committee_member,
        "version": e.version,
    })
}

/// The audit view of a new employer, with the warnings its registration gave.
fn created_view(e: &Employer, warnings: &[String]) -> Value {
    let mut v = audit_view(e);
    if let (Some(o), false) = (v.as_object_mut(), warnings.is_empty()) {
        o.insert("warnings".into(), json!(warnings));
    }
    v
}

/// Inserts and audits, in the caller's transaction. `Ok(None)` when the USCC exists.
pub fn insert_audited(
    conn: &mut AnyConnection,
    new: &NewEmployer,
    warnings: &[String],
    actor: &str,
    request_id: Option<&str>,
) -> Result<Option<Employer>, DbError> {
    let Some(e) = repo::insert(conn, new)? else {
        return Ok(None);
    };
    audit::record(
        conn,
        AuditEntry {
            actor,
            action: "employer.create",
            entity_type: "employer",
            entity_id: &e.uscc,
            before: None,
            after: Some(created_view(&e, warnings)),
            request_id,
        },
    )?;
    Ok(Some(e))
}

/// Inserts and audits many employers, in the caller's transaction, with a few
/// multi-row statements instead of four round trips each. Answers per employer, in the
/// order given, what [`insert_audited`] would have: the stored row, or `None` when the
/// USCC is already registered (also when it comes twice in `new`: the first one is
/// registered). Each employer written gets its own audit entry, the same as
/// [`insert_audited`] writes.
pub fn insert_many_audited(
    conn: &mut AnyConnection,
    new: &[(&NewEmployer, &[String])],
    actor: &str,
    request_id: Option<&str>,
) -> Result<Vec<Option<Employer>>, DbError> {
    let rows: Vec<&NewEmployer> = new.iter().map(|(n, _)| *n).collect();
    let mut stored: HashMap<String, Employer> = repo::insert_many(conn, &rows)?
        .into_iter()
        .map(|e| (e.uscc.clone(), e))
        .collect();
    let out: Vec<Option<Employer>> = new.iter().map(|(n, _)| stored.remove(&n.uscc)).collect();
    let entries: Vec<AuditEntry<'_>> = out
        .iter()
        .zip(new)
        .filter_map(|(e, (_, warnings))| Some((e.as_ref()?, *warnings)))
        .map(|(e, warnings)| AuditEntry {
            actor,
            action: "employer.create",
            entity_type: "employer",
            entity_id: &e.uscc,
            before: None,
            after: Some(created_view(e, warnings)),
            request_id,
        })
        .collect();
    audit::record_many(conn, &entries)?;
    Ok(out)
}

/// Registers one employer in its own transaction; `warnings` (see [`ParsedEmployer`])
/// are kept in its audit entry; with `invitations`, its activation mail is queued in
/// the same transaction.
pub fn create(
    conn: &mut AnyConnection,
    new: &NewEmployer,
    warnings: &[String],
    invitations: Option<&crate::registry::accounts::Invitations>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Option<Employer>, DbError> {
    crate::db::write_transaction(conn, |c| {
        let created = insert_audited(c, new, warnings, actor, request_id)?;
        // The activation mail is queued with the registration, or not at all.
        if let (Some(e), Some(inv)) = (&created, invitations) {
            crate::registry::accounts::invite_by_mail(c, inv, e, actor)?;
        }
        Ok(created)
    })
}

/// How often a change without `If-Match` re-reads and tries again when another writer
/// changed the employer between its read and its write.
const UPDATE_ATTEMPTS: usize = 5;

/// The changes `body` asks of employer `current`, checked for `who`: an employer changes
/// only its name and contact address (anything else is named and refused), an officer
/// every field but the credit code, and never moves an employer outside its own scope.
pub fn parse_patch(
    policy: &dyn PolicyProvider,
    who: &Principal,
    current: &Employer,
    body: &Value,
    today: chrono::NaiveDate,
    lang: Language,
) -> Result<EmployerPatch, Vec<FieldError>> {
    let employer_fields = ["name", "contact_email"];
    let allowed: Vec<&str> = if who.role == Role::Employer {
        employer_fields.to_vec()
    } else {
        EMPLOYER_FIELDS
            .iter()
            .copied()
            .filter(|f| *f != "uscc")
            .collect()
    };
    if who.role == Role::Employer {
        if let Some(k) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| !employer_fields.contains(&k.as_str())))
        {
            let zh = "用人单位只能修改 name 和 contact_email；其他信息请联系税务机关修改";
            let en = "an employer may change only name and contact_email; ask the tax bureau for other changes";
            return Err(vec![FieldError {
                pointer: crate::wire::unknown_key_pointer("", k),
                code: "invalid",
                message: lang.pick(zh, en).to_owned(),
            }]);
        }
    }
    let mut f = Fields::new(body, &allowed, lang)?;
    let mut patch = EmployerPatch::default();
    if f.has("name") {
        patch.name = f.string("name", true);
    }
    if f.has("kind") {
        patch.kind = f
            .parsed("kind", true, |s| {
                s.parse::<EmployerKind>().map_err(|_| Fault::EmployerKind)
            })
            .map(|k| k.as_str().to_owned());
    }
    if f.has("region") {
        let r = f.parsed("region", true, |s| check_region(policy, s));
        if let Some(r) = r {
            if !who.can_see(&current.uscc, &r) {
                f.fail("region", Fault::OutOfScope);
            }
            patch.region = Some(r.to_string());
        }
    }
    if f.has("registered_on") {
        patch.registered_on = Some(registration_date(&mut f, today));
    }
    if f.has("contact_email") {
        patch.contact_email = Some(f.parsed("contact_email", false, check_email));
    }
    if f.has("establishment_size") {
        patch.establishment_size = Some(
            f.int("establishment_size", false, 0, 10_000_000)
                .map(|n| n as i32),
        );
    }
    if f.has("committee_member") {
        patch.committee_member = f.bool("committee_member");
    }
    f.finish()?;
    Ok(patch)
}

/// What [`update`] did.
#[derive(Debug, Clone)]
pub enum UpdateOutcome {
    /// The patch changed the employer: the new state.
    Updated(Employer),
    /// The patch would change nothing: the current state, untouched.
    Unchanged(Employer),
}

/// Changes an employer in one write transaction, audited. With `expected_version` (the
/// caller's `If-Match`) the change lands only on that version: any other answers
/// `PreconditionFailed`, also when another writer gets there first. Without it the
/// patch applies to the latest version, re-read and tried again if a concurrent writer
/// wins the race.
pub fn update(
    conn: &mut AnyConnection,
    uscc: &str,
    expected_version: Option<i32>,
    patch: &EmployerPatch,
    actor: &str,
    request_id: Option<&str>,
) -> Result<UpdateOutcome, RegistryError> {
    crate::db::write_transaction(conn, |c| {
        for _ in 0..UPDATE_ATTEMPTS {
            let fresh = repo::by_uscc(c, uscc)?.ok_or_else(|| {
                RegistryError::NotFound(Said::new(
                    "没有该单位（或您无权查看）",
                    "no such employer (or not one you may see)",
                ))
            })?;
            if expected_version.is_some_and(|v| v != fresh.version) {
                return Err(stale_employer());
            }
            if patch.is_noop(&fresh) {
                return Ok(UpdateOutcome::Unchanged(fresh));
            }
            let Some(after) = repo::update(c, fresh.id, fresh.version, patch)? else {
                if expected_version.is_some() {
                    return Err(stale_employer());
                }
                continue;
            };
            audit::record(
                c,
                AuditEntry {
                    actor,
                    action: "employer.update",
                    entity_type: "employer",
                    entity_id: &after.uscc,
                    before: Some(audit_view(&fresh)),
                    after: Some(audit_view(&after)),
                    request_id,
                },
            )?;
            return Ok(UpdateOutcome::Updated(after));
        }
        Err(RegistryError::Conflict(Said::new(
            "该单位信息正被他人同时修改；请重新读取后再试",
            "the employer is being changed by others at this moment; read it again and retry",
        )))
    })
}

fn stale_employer() -> RegistryError {
    RegistryError::PreconditionFailed(Said::new(
        "单位信息在您读取之后已被修改（If-Match 与其 ETag 不符）；请重新读取",
        "the employer changed since you read it (If-Match does not match its ETag); read it again",
    ))
}
