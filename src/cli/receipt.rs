//! `quota-levy receipt verify`: a receipt checked as anyone could check it, offline
//! given the published public key.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;
use crate::domain::Language;
use crate::registry::receipts::{self, Verdict};

/// Checks the receipt in `file` against `public_key`, else the deployment's own key.
pub fn verify(
    settings: &Settings,
    file: PathBuf,
    public_key: Option<String>,
) -> anyhow::Result<ExitCode> {
    let text = match super::read_input(Some(file)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("quota-levy: {e}");
            return Ok(ExitCode::from(crate::output::EXIT_INVALID));
        }
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        eprintln!("quota-levy: the file is not JSON: it is no receipt");
        return Ok(ExitCode::from(crate::output::EXIT_INVALID));
    };
    let key = match public_key {
        Some(hex) => match receipts::parse_public_key(&hex) {
            Some(k) => k,
            None => {
                eprintln!("quota-levy: --public-key must be 64 hexadecimal digits");
                return Ok(ExitCode::from(crate::output::EXIT_INVALID));
            }
        },
        None => {
            let db = super::open_db(settings)?;
            let store = crate::secret::SecretStore::open(&settings.security)?;
            let mut conn = db.conn()?;
            receipts::signing_key(store.get(&mut conn)?).verifying_key()
        }
    };
    match receipts::verify(&doc, &key) {
        Verdict::Valid { digest } => {
            crate::outln!(
                "valid: digest {digest}, signed by Ed25519 key {}",
                receipts::key_id(&key)
            );
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Invalid(f) => {
            crate::outln!("NOT valid ({}): {}", f.code(), f.message(Language::En));
            Ok(ExitCode::FAILURE)
        }
    }
}
