//! Signed computation receipts (docs/receipts.md): a stored assessment as a document
//! anyone can check without asking the service — the inputs (personal numbers masked),
//! the policy values used with their citations, every figure, the explanation, the
//! software's name and version and the time — in canonical JSON, signed with the
//! deployment's Ed25519 key.
//!
//! The key is derived from the server secret (HMAC under a purpose of its own), so it is
//! made when the secret is, at first start, and needs no storage of its own; the public
//! key is published at `GET /api/v1/receipt-key`. A receipt is issued once per
//! assessment and kept as issued: its digest, printed with a QR code on statements and
//! demand letters, keeps answering the same document.

use chrono::{DateTime, NaiveDateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::db::assessments::Assessment;
use crate::db::employers::Employer;
use crate::db::receipts::{self as repo, ReceiptRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::Language;
use crate::registry::assessments::{inputs_hmac, replay_with_inputs};
use crate::registry::declarations::mask_body;
use crate::registry::notices::canonical_json;
use crate::secret::ServerSecret;

/// The format name every receipt carries, so that a later format is told apart.
pub const FORMAT: &str = "quota-levy-receipt/1";

/// The deployment's receipt-signing key: derived from the server secret under a purpose
/// of its own, so that it is independent of every other digest the secret keys.
pub fn signing_key(secret: &ServerSecret) -> SigningKey {
    let seed = secret.keyed_digest("receipt-signing-key-ed25519", b"");
    let mut bytes = [0u8; 32];
    // The digest is 64 hex digits: it always decodes to 32 bytes.
    if let Ok(b) = hex::decode(seed) {
        bytes.copy_from_slice(&b[..32.min(b.len())]);
    }
    SigningKey::from_bytes(&bytes)
}

/// A public key's id: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let d = hex::encode(Sha256::digest(key.as_bytes()));
    d[..16].to_owned()
}

/// The public key as published: algorithm, id and the key in hex.
pub fn public_key_document(secret: &ServerSecret) -> Value {
    let key = signing_key(secret).verifying_key();
    json!({
        "format": FORMAT,
        "algorithm": "Ed25519",
        "key_id": key_id(&key),
        "public_key": hex::encode(key.as_bytes()),
    })
}

/// The body of a receipt for a stored assessment, not yet signed. Personal numbers in
/// the inputs are masked whoever asks: a receipt is made to be passed on.
pub fn body(
    conn: &mut AnyConnection,
    secret: &ServerSecret,
    employer: &Employer,
    a: &Assessment,
    issued_at: NaiveDateTime,
) -> Result<Value, DbError> {
    let key = signing_key(secret).verifying_key();
    let (result, mut inputs) = replay_with_inputs(conn, a, Language::Zh).map_err(DbError::Task)?;
    mask_body(&mut inputs);
    let result = serde_json::to_value(&result)
        .map_err(|e| DbError::Task(format!("result not serialisable: {e}")))?;
    Ok(json!({
        "format": FORMAT,
        "key_id": key_id(&key),
        "issued_at": DateTime::<Utc>::from_naive_utc_and_offset(issued_at, Utc),
        "software": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "assessment": {
            "id": a.id,
            "uscc": employer.uscc,
            "employer_name": employer.name,
            "levy_year": a.levy_year,
            "declaration_version": a.declaration_version,
            "computed_at": DateTime::<Utc>::from_naive_utc_and_offset(a.computed_at, Utc),
            // Keyed, as the assessment API gives it: the plain digest of inputs whose
            // certificate numbers are masked would give them back to anyone trying all.
            "inputs_digest": inputs_hmac(secret, &a.inputs_digest),
        },
        "inputs": inputs,
        "result": result,
    }))
}

/// A receipt body signed: `{"receipt": body, "digest": SHA-256 of its canonical JSON,
/// "signature": Ed25519 over the same bytes}`, both in hex.
pub fn sign(body: Value, key: &SigningKey) -> Value {
    let canonical = canonical_json(&body);
    let digest = hex::encode(Sha256::digest(canonical.as_bytes()));
    let signature = key.sign(canonical.as_bytes());
    json!({
        "receipt": body,
        "digest": digest,
        "signature": hex::encode(signature.to_bytes()),
    })
}

/// The receipt of the assessment: the one issued before, or a new one, signed, stored
/// and returned.
pub fn issue(
    conn: &mut AnyConnection,
    secret: &ServerSecret,
    employer: &Employer,
    a: &Assessment,
    now: NaiveDateTime,
) -> Result<ReceiptRow, DbError> {
    if let Some(r) = repo::for_assessment(conn, a.id)? {
        return Ok(r);
    }
    let key = signing_key(secret);
    let now = now.and_utc().timestamp_micros();
    // Microseconds: what both backends' timestamps keep, so the stored document and a
    // re-serialised one agree.
    let issued_at = DateTime::from_timestamp_micros(now)
        .map(|d| d.naive_utc())
        .unwrap_or_default();
    let doc = sign(body(conn, secret, employer, a, issued_at)?, &key);
    let digest = doc["digest"].as_str().unwrap_or_default().to_owned();
    repo::insert_or_get(
        conn,
        a.id,
        &digest,
        &key_id(&key.verifying_key()),
        &doc.to_string(),
        issued_at,
    )
}

/// What a check of a receipt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The digest matches the body and the signature is the key's.
    Valid {
        /// The digest.
        digest: String,
    },
    /// It does not verify, and why.
    Invalid(Fault),
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not a receipt document (`receipt`, `digest`, `signature` missing or of the wrong
    /// form).
    Malformed,
    /// Signed by another key than the one checked against.
    OtherKey,
    /// The body does not have the digest it states: something in it was changed.
    DigestMismatch,
    /// The signature is not the key's over this body.
    BadSignature,
}

impl Fault {
    /// The reason as a stable code.
    pub fn code(self) -> &'static str {
        match self {
            Fault::Malformed => "malformed",
            Fault::OtherKey => "other_key",
            Fault::DigestMismatch => "digest_mismatch",
            Fault::BadSignature => "bad_signature",
        }
    }

    /// The reason in words.
    pub fn message(self, lang: Language) -> &'static str {
        match self {
            Fault::Malformed => lang.pick(
                "不是核定回执文件（缺少 receipt、digest 或 signature）",
                "not a receipt document (receipt, digest or signature missing)",
            ),
            Fault::OtherKey => lang.pick(
                "回执由另一密钥签名，不是本系统的密钥",
                "the receipt was signed with another key than this deployment's",
            ),
            Fault::DigestMismatch => lang.pick(
                "回执内容与其摘要不符：内容已被改动",
                "the receipt's content does not match its digest: it was changed",
            ),
            Fault::BadSignature => lang.pick(
                "签名无效：回执不是由该密钥签发的",
                "the signature is not valid: the receipt was not signed by this key",
            ),
        }
    }
}

/// Checks a receipt document against a public key, offline: the digest is recomputed
/// from the canonical body, then the signature checked over the same bytes.
pub fn verify(doc: &Value, key: &VerifyingKey) -> Verdict {
    let (Some(body), Some(digest), Some(sig)) = (
        doc.get("receipt").filter(|b| b.is_object()),
        doc.get("digest").and_then(Value::as_str),
        doc.get("signature").and_then(Value::as_str),
    ) else {
        return Verdict::Invalid(Fault::Malformed);
    };
    let Some(signature) = hex::decode(sig)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
    else {
        return Verdict::Invalid(Fault::Malformed);
    };
    if body.get("key_id").and_then(Value::as_str) != Some(key_id(key).as_str()) {
        return Verdict::Invalid(Fault::OtherKey);
    }
    let canonical = canonical_json(body);
    let actual = hex::encode(Sha256::digest(canonical.as_bytes()));
    if actual != digest {
        return Verdict::Invalid(Fault::DigestMismatch);
    }
    match key.verify(canonical.as_bytes(), &signature) {
        Ok(()) => Verdict::Valid { digest: actual },
        Err(_) => Verdict::Invalid(Fault::BadSignature),
    }
}

/// A public key given as 64 hex digits.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        signing_key(&ServerSecret::from_bytes([7; 32]))
    }

    fn doc() -> Value {
        let k = key();
        sign(
            json!({"format": FORMAT, "key_id": key_id(&k.verifying_key()),
                   "result": {"levy_payable": "21000.00", "steps": ["a", "b"]}}),
            &k,
        )
    }

    #[test]
    fn a_signed_receipt_verifies_with_the_deployments_key() {
        let d = doc();
        assert!(matches!(
            verify(&d, &key().verifying_key()),
            Verdict::Valid { .. }
        ));
        // Key order in the document does not matter: the body is canonicalised.
        let reparsed: Value = serde_json::from_str(&d.to_string()).unwrap();
        assert!(matches!(
            verify(&reparsed, &key().verifying_key()),
            Verdict::Valid { .. }
        ));
    }

    #[test]
    fn one_changed_figure_fails_the_digest_and_a_restated_digest_fails_the_signature() {
        let mut d = doc();
        d["receipt"]["result"]["levy_payable"] = json!("20000.00");
        assert_eq!(
            verify(&d, &key().verifying_key()),
            Verdict::Invalid(Fault::DigestMismatch)
        );
        let canonical = canonical_json(&d["receipt"]);
        d["digest"] = json!(hex::encode(Sha256::digest(canonical.as_bytes())));
        assert_eq!(
            verify(&d, &key().verifying_key()),
            Verdict::Invalid(Fault::BadSignature)
        );
    }

    #[test]
    fn another_key_and_a_malformed_document_are_named() {
        let other = signing_key(&ServerSecret::from_bytes([8; 32])).verifying_key();
        assert_eq!(verify(&doc(), &other), Verdict::Invalid(Fault::OtherKey));
        assert_eq!(
            verify(&json!({"receipt": {}}), &other),
            Verdict::Invalid(Fault::Malformed)
        );
        let mut d = doc();
        d["signature"] = json!("zz");
        assert_eq!(
            verify(&d, &key().verifying_key()),
            Verdict::Invalid(Fault::Malformed)
        );
    }

    #[test]
    fn the_key_is_the_secrets_and_round_trips_as_hex() {
        let a = signing_key(&ServerSecret::from_bytes([7; 32]));
        let b = signing_key(&ServerSecret::from_bytes([7; 32]));
        assert_eq!(a.to_bytes(), b.to_bytes(), "the same secret, the same key");
        let doc = public_key_document(&ServerSecret::from_bytes([7; 32]));
        let parsed = parse_public_key(doc["public_key"].as_str().unwrap()).unwrap();
        assert_eq!(parsed, a.verifying_key());
        assert_eq!(parse_public_key("00"), None);
    }
}
