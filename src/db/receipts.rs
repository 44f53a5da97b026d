//! Signed computation receipts as issued: insert once per assessment, read by
//! assessment or by digest, never update.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::receipts;
use super::{AnyConnection, DbError};

/// A receipt as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = receipts)]
pub struct ReceiptRow {
    /// Row id.
    pub id: i64,
    /// The assessment it certifies.
    pub assessment_id: i64,
    /// SHA-256 (hex) of the canonical receipt body.
    pub digest: String,
    /// The signing key's id.
    pub key_id: String,
    /// The whole signed document, as served.
    pub document_json: String,
    /// When it was issued (UTC).
    pub issued_at: NaiveDateTime,
}

/// The receipt of an assessment, if one was issued.
pub fn for_assessment(
    conn: &mut AnyConnection,
    assessment_id: i64,
) -> Result<Option<ReceiptRow>, DbError> {
    Ok(receipts::table
        .filter(receipts::assessment_id.eq(assessment_id))
        .select(ReceiptRow::as_select())
        .first(conn)
        .optional()?)
}

/// The receipt with `digest`, if this deployment issued it.
pub fn by_digest(conn: &mut AnyConnection, digest: &str) -> Result<Option<ReceiptRow>, DbError> {
    Ok(receipts::table
        .filter(receipts::digest.eq(digest))
        .select(ReceiptRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a newly issued receipt unless the assessment has one already (two requests
/// at once: the first stored wins), then reads back the one that stands.
pub fn insert_or_get(
    conn: &mut AnyConnection,
    assessment_id: i64,
    digest: &str,
    key_id: &str,
    document_json: &str,
    issued_at: NaiveDateTime,
) -> Result<ReceiptRow, DbError> {
    let row = (
        receipts::assessment_id.eq(assessment_id),
        receipts::digest.eq(digest),
        receipts::key_id.eq(key_id),
        receipts::document_json.eq(document_json),
        receipts::issued_at.eq(issued_at),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(receipts::table)
        .values(row)
        .on_conflict(receipts::assessment_id)
        .do_nothing()
        .execute(c))?;
    for_assessment(conn, assessment_id)?
        .ok_or_else(|| DbError::Task("receipt vanished after insert".into()))
}
