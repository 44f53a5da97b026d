//! The audit log: every write records who, when, what, and the before and after state.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{AnyConnection, DbError};

/// One audit entry to write, in the same transaction as the change it describes.
pub struct AuditEntry<'a> {
    /// Who (`token:ID:ROLE:…` or `cli:…`).
    pub actor: &'a str,
    /// What (`employer.create`, `declaration.submit`, …).
    pub action: &'a str,
    /// Entity kind.
    pub entity_type: &'a str,
    /// Entity key.
    pub entity_id: &'a str,
    /// State before (None for creation). Must not contain personal data in clear.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
    /// Request ID of the HTTP request, if any.
    pub request_id: Option<&'a str>,
}

/// Appends an entry.
pub fn record(conn: &mut AnyConnection, e: AuditEntry<'_>) -> Result<(), DbError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(Utc::now().naive_utc()),
            audit_log::actor.eq(e.actor),
            audit_log::action.eq(e.action),
            audit_log::entity_type.eq(e.entity_type),
            audit_log::entity_id.eq(e.entity_id),
            audit_log::before_json.eq(e.before.map(|v| v.to_string())),
            audit_log::after_json.eq(e.after.map(|v| v.to_string())),
            audit_log::request_id.eq(e.request_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// One stored entry, for tests and the admin view.
#[derive(Debug, Queryable, serde::Serialize)]
pub struct AuditRow {
    /// Row id.
    pub id: i64,
    /// When (UTC).
    pub at: chrono::NaiveDateTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Entity kind.
    pub entity_type: String,
    /// Entity key.
    pub entity_id: String,
    /// Before, JSON.
    pub before_json: Option<String>,
    /// After, JSON.
    pub after_json: Option<String>,
    /// Request ID.
    pub request_id: Option<String>,
}

/// Entries about one entity, oldest first.
pub fn for_entity(
    conn: &mut AnyConnection,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq(entity_id))
        .order(audit_log::id.asc())
        .load(conn)?)
}
