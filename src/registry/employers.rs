//! Registering employers.

use std::collections::HashMap;

use chrono::{Datelike, Utc};
use diesel::Connection;
use serde_json::{json, Value};

use super::fields::{check_email, Fields};
use crate::db::audit::{self, AuditEntry};
use crate::db::employers::{self as repo, Employer, NewEmployer};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::{mask_numbers_in, UnifiedSocialCreditCode};
use crate::domain::request::FieldError;
use crate::domain::{EmployerKind, PolicyLookupError, PolicyProvider, RegionCode};

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
pub fn check_region(policy: &dyn PolicyProvider, s: &str) -> Result<RegionCode, String> {
    let code: RegionCode = s
        .parse()
        .map_err(|e: crate::domain::region::RegionCodeError| e.to_string())?;
    let today = crate::clock::china_today();
    match policy.resolve(code, today, today.year() - 1) {
        Err(PolicyLookupError::UnknownRegion(_)) => {
            Err("unknown region: no policy pack covers it or its province".to_owned())
        }
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

/// Validates an employer given as a JSON object (API body or an import row).
pub fn parse_new_employer(
    policy: &dyn PolicyProvider,
    body: &Value,
) -> Result<ParsedEmployer, Vec<FieldError>> {
    let mut f = Fields::new(body, EMPLOYER_FIELDS)?;
    let uscc = f.parsed("uscc", true, UnifiedSocialCreditCode::parse);
    let name = f.string("name", true);
    let kind = f.parsed("kind", true, |s| s.parse::<EmployerKind>());
    let region = f.parsed("region", true, |s| check_region(policy, s));
    let registered_on = f.date("registered_on", false);
    let contact_email = f.parsed("contact_email", false, check_email);
    let establishment_size = f.int("establishment_size", false, 0, 10_000_000);
    let committee_member = f.bool("committee_member").unwrap_or(false);
    if let Some(n) = &name {
        if n.chars().count() > 200 {
            f.fail("name", "must be at most 200 characters");
        }
    }
    let errors = f.errors.clone();
    let (Some(uscc), Some(name), Some(kind), Some(region), true) =
        (uscc, name, kind, region, errors.is_empty())
    else {
        return Err(errors);
    };
    let mut warnings = Vec::new();
    if let Some(hint) = uscc.kind_hint() {
        if hint != kind {
            warnings.push(format!(
                "the USCC's positions 1-2 suggest {} but the declared kind is {}; the declared kind is used",
                hint.as_str(),
                kind.as_str()
            ));
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

/// Inserts and audits, in the caller's transaction. `Ok(None)` when the USCC exists.
pub fn insert_audited(
    conn: &mut AnyConnection,
    new: &NewEmployer,
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
            after: Some(audit_view(&e)),
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
    new: &[&NewEmployer],
    actor: &str,
    request_id: Option<&str>,
) -> Result<Vec<Option<Employer>>, DbError> {
    let mut stored: HashMap<String, Employer> = repo::insert_many(conn, new)?
        .into_iter()
        .map(|e| (e.uscc.clone(), e))
        .collect();
    let out: Vec<Option<Employer>> = new.iter().map(|n| stored.remove(&n.uscc)).collect();
    let entries: Vec<AuditEntry<'_>> = out
        .iter()
        .flatten()
        .map(|e| AuditEntry {
            actor,
            action: "employer.create",
            entity_type: "employer",
            entity_id: &e.uscc,
            before: None,
            after: Some(audit_view(e)),
            request_id,
        })
        .collect();
    audit::record_many(conn, &entries)?;
    Ok(out)
}

/// Registers one employer in its own transaction.
pub fn create(
    conn: &mut AnyConnection,
    new: &NewEmployer,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Option<Employer>, DbError> {
    conn.transaction(|c| insert_audited(c, new, actor, request_id))
}
