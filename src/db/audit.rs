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

/// An entry as one row of a multi-row insert. `None` is written as NULL (the nullable
/// columns have no other default), so that SQLite gets one statement for many rows
/// instead of diesel's row-by-row fallback for defaultable values.
#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct AuditInsert<'a> {
    at: chrono::NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<&'a str>,
}

/// Columns an [`AuditInsert`] binds.
const AUDIT_COLUMNS: usize = 8;

/// Appends entries in the order given, with multi-row statements sized to
/// the backend's bound-parameter limit. Every entry is written: bulk writers lose no
/// detail the one-at-a-time [`record`] would have kept.
pub fn record_many(conn: &mut AnyConnection, entries: &[AuditEntry<'_>]) -> Result<(), DbError> {
    let at = Utc::now().naive_utc();
    let per = conn.rows_per_statement(AUDIT_COLUMNS);
    for chunk in entries.chunks(per) {
        let rows: Vec<AuditInsert<'_>> = chunk
            .iter()
            .map(|e| AuditInsert {
                at,
                actor: e.actor,
                action: e.action,
                entity_type: e.entity_type,
                entity_id: e.entity_id,
                before_json: e.before.as_ref().map(|v| v.to_string()),
                after_json: e.after.as_ref().map(|v| v.to_string()),
                request_id: e.request_id,
            })
            .collect();
        // A multi-row INSERT does not compile for the MultiBackend.
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(audit_log::table)
            .values(&rows)
            .execute(c))?;
    }
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

/// What the administration's audit page filters on; every part optional, all must hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this actor (`user:3:admin`, `token:1:tax:411200`, `cli`).
    pub actor: Option<String>,
    /// Entity kind (`user`, `employer`, `declaration`, …).
    pub entity_type: Option<String>,
    /// Entity key.
    pub entity_id: Option<String>,
    /// At or after (UTC).
    pub from: Option<chrono::NaiveDateTime>,
    /// Before (UTC).
    pub until: Option<chrono::NaiveDateTime>,
}

/// Up to `limit` entries matching `f`, newest first, older than entry `before_id` when
/// given: a keyset page over the log's id, so that a page deep in a long log costs what
/// the first does and entries written meanwhile do not shift the pages.
pub fn page(
    conn: &mut AnyConnection,
    f: &AuditFilter,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    let mut q = audit_log::table.into_boxed();
    if let Some(a) = &f.actor {
        q = q.filter(audit_log::actor.eq(a.clone()));
    }
    if let Some(t) = &f.entity_type {
        q = q.filter(audit_log::entity_type.eq(t.clone()));
    }
    if let Some(i) = &f.entity_id {
        q = q.filter(audit_log::entity_id.eq(i.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(audit_log::at.lt(until));
    }
    if let Some(b) = before_id {
        q = q.filter(audit_log::id.lt(b));
    }
    Ok(q.order(audit_log::id.desc()).limit(limit).load(conn)?)
}
