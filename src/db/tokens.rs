//! API tokens: created by the CLI, printed once, stored as digests, revocable.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::api_tokens;
use super::{AnyConnection, DbError};
use crate::auth::{hash_token, new_token, Credential, Principal, Role};
use crate::domain::RegionCode;

/// A stored token (never the token itself).
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct TokenRow {
    /// Id.
    pub id: i64,
    /// SHA-256 of the token.
    #[serde(skip)]
    pub token_hash: String,
    /// First characters, to recognise it in lists.
    pub prefix: String,
    /// Role.
    pub role: String,
    /// Employer scope.
    pub employer_uscc: Option<String>,
    /// Region scope.
    pub region: Option<String>,
    /// Free text.
    pub label: Option<String>,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Revoked (UTC), if it was.
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

/// Creates a token; returns the plaintext (to print once) and the row.
pub fn create(
    conn: &mut AnyConnection,
    role: Role,
    employer_uscc: Option<&str>,
    region: Option<RegionCode>,
    label: Option<&str>,
) -> Result<(String, TokenRow), DbError> {
    create_by(conn, role, employer_uscc, region, label, "cli", None)
}

/// [`create`] on behalf of `actor` (an administrator on the pages), with the request ID
/// in the audit entry.
pub fn create_by(
    conn: &mut AnyConnection,
    role: Role,
    employer_uscc: Option<&str>,
    region: Option<RegionCode>,
    label: Option<&str>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<(String, TokenRow), DbError> {
    let (token, digest) = new_token();
    let prefix: String = token.chars().take(12).collect();
    crate::db::write_transaction(conn, |conn| {
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::token_hash.eq(&digest),
                api_tokens::prefix.eq(&prefix),
                api_tokens::role.eq(role.as_str()),
                api_tokens::employer_uscc.eq(employer_uscc),
                api_tokens::region.eq(region.map(|r| r.to_string())),
                api_tokens::label.eq(label),
                api_tokens::created_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        let row: TokenRow = api_tokens::table
            .filter(api_tokens::token_hash.eq(&digest))
            .first(conn)?;
        super::audit::record(
            conn,
            super::audit::AuditEntry {
                actor,
                action: "token.create",
                entity_type: "api_token",
                entity_id: &row.id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "role": role.as_str(), "employer_uscc": employer_uscc,
                    "region": region.map(|r| r.to_string()), "prefix": prefix,
                    "label": label,
                })),
                request_id,
            },
        )?;
        Ok((token.clone(), row))
    })
}

/// Revokes by id or by prefix; returns how many were revoked.
pub fn revoke(conn: &mut AnyConnection, id_or_prefix: &str) -> Result<usize, DbError> {
    revoke_by(conn, id_or_prefix, "cli", None)
}

/// [`revoke`] on behalf of `actor`, with the request ID in the audit entry.
pub fn revoke_by(
    conn: &mut AnyConnection,
    id_or_prefix: &str,
    actor: &str,
    request_id: Option<&str>,
) -> Result<usize, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let target = api_tokens::table.filter(api_tokens::revoked_at.is_null());
        let ids: Vec<i64> = match id_or_prefix.parse::<i64>() {
            Ok(id) => target
                .filter(api_tokens::id.eq(id))
                .select(api_tokens::id)
                .load(conn)?,
            Err(_) => target
                .filter(api_tokens::prefix.eq(id_or_prefix))
                .select(api_tokens::id)
                .load(conn)?,
        };
        for id in &ids {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::revoked_at.eq(Some(now)))
                .execute(conn)?;
            super::audit::record(
                conn,
                super::audit::AuditEntry {
                    actor,
                    action: "token.revoke",
                    entity_type: "api_token",
                    entity_id: &id.to_string(),
                    before: None,
                    after: None,
                    request_id,
                },
            )?;
        }
        Ok(ids.len())
    })
}

/// Up to `limit` tokens older than token `before_id` (all when none), newest first: a
/// keyset page of the administration's list.
pub fn page(
    conn: &mut AnyConnection,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<TokenRow>, DbError> {
    let mut q = api_tokens::table.into_boxed();
    if let Some(b) = before_id {
        q = q.filter(api_tokens::id.lt(b));
    }
    Ok(q.order(api_tokens::id.desc()).limit(limit).load(conn)?)
}

/// All tokens, newest first.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<TokenRow>, DbError> {
    Ok(api_tokens::table.order(api_tokens::id.desc()).load(conn)?)
}

/// The principal for a presented token, if it exists and is not revoked.
pub fn authenticate(conn: &mut AnyConnection, token: &str) -> Result<Option<Principal>, DbError> {
    let row: Option<TokenRow> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| {
        Some(Principal {
            credential: Credential::Token(r.id),
            role: r.role.parse().ok()?,
            employer_uscc: r.employer_uscc,
            region: r.region.and_then(|s| s.parse().ok()),
        })
    }))
}
