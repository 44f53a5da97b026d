//! The server secret: 32 random bytes that key the digests of personal numbers written
//! to the audit log or shown to callers who may not see the numbers themselves. A plain
//! SHA-256 of an ID number is reversed in a moment by trying every birth date and
//! sequence number of a county; an HMAC under this secret cannot be, without the secret.
//!
//! It lives in the database (table `server_secrets`, one row) unless
//! `security.secret_file` names a file (created with mode 0600). Either way it is made
//! at first need, and two processes making it at once end with one secret: the row is
//! inserted only if absent and then read back; the file is written under a temporary
//! name and linked into place only if absent, then read back. It is never logged: its
//! `Debug` is redacted and it has no `Display`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::SecuritySettings;
use crate::db::schema::server_secrets;
use crate::db::{AnyConnection, DbError};

/// Bytes in the secret.
pub const SECRET_LEN: usize = 32;

/// The secret itself.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSecret([u8; SECRET_LEN]);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(***)")
    }
}

impl ServerSecret {
    /// A fresh secret from the operating system's generator.
    pub fn generate() -> ServerSecret {
        let mut b = [0u8; SECRET_LEN];
        rand::rngs::OsRng.fill_bytes(&mut b);
        ServerSecret(b)
    }

    /// A given secret (tests, tools).
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> ServerSecret {
        ServerSecret(bytes)
    }

    fn from_hex(text: &str) -> Option<ServerSecret> {
        let bytes = hex::decode(text.trim()).ok()?;
        bytes.try_into().ok().map(ServerSecret)
    }

    fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// HMAC-SHA-256 of `data` under the secret, as lowercase hex. `purpose` separates
    /// the uses, so that a digest made for one never matches one made for another.
    pub fn keyed_digest(&self, purpose: &str, data: &[u8]) -> String {
        // Infallible: HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Why the secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The secret file could not be read or created.
    #[error("security.secret_file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// What is stored is not 32 bytes of hex.
    #[error("the server secret in {0} is not 64 hexadecimal digits")]
    Malformed(String),
}

impl From<SecretError> for DbError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::Db(e) => e,
            other => DbError::Task(other.to_string()),
        }
    }
}

/// Where the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The `server_secrets` table of the service's database.
    Database,
    /// A file of its own.
    File(PathBuf),
}

impl SecretSource {
    /// The source the settings name.
    pub fn of(settings: &SecuritySettings) -> SecretSource {
        match settings.secret_file() {
            Some(path) => SecretSource::File(path),
            None => SecretSource::Database,
        }
    }
}

/// The secret of one process: read (or made) once, then kept in memory.
#[derive(Debug)]
pub struct SecretStore {
    source: SecretSource,
    cell: OnceLock<ServerSecret>,
}

impl SecretStore {
    /// A store reading from `source` at first use.
    pub fn new(source: SecretSource) -> SecretStore {
        SecretStore {
            source,
            cell: OnceLock::new(),
        }
    }

    /// A store for the settings. A secret file is read (or made) here, so that a path
    /// that does not work stops the program at start rather than at the first write;
    /// the database row waits for the first use, as the database may still be down.
    pub fn open(settings: &SecuritySettings) -> Result<SecretStore, SecretError> {
        let store = SecretStore::new(SecretSource::of(settings));
        if let SecretSource::File(path) = &store.source {
            let secret = load_or_create_file(path)?;
            let _ = store.cell.set(secret);
        }
        Ok(store)
    }

    /// The secret when it has been read already.
    pub fn cached(&self) -> Option<&ServerSecret> {
        self.cell.get()
    }

    /// The secret, made on first use if there is none yet. Call it outside a
    /// transaction: a row inserted in one that then rolls back would leave this process
    /// with a secret no other process has.
    pub fn get(&self, conn: &mut AnyConnection) -> Result<&ServerSecret, SecretError> {
        if let Some(s) = self.cell.get() {
            return Ok(s);
        }
        let secret = match &self.source {
            SecretSource::Database => load_or_create_row(conn)?,
            SecretSource::File(path) => load_or_create_file(path)?,
        };
        // A concurrent first use read the same secret: whichever is kept is the same.
        Ok(self.cell.get_or_init(|| secret))
    }
}

/// Inserts a fresh secret unless the row exists, then reads the row: whoever inserted
/// first, every process reads the same secret.
pub fn load_or_create_row(conn: &mut AnyConnection) -> Result<ServerSecret, SecretError> {
    let fresh = ServerSecret::generate().to_hex();
    let now = chrono::Utc::now().naive_utc();
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::id.eq(1),
            server_secrets::secret_hex.eq(&fresh),
            server_secrets::created_at.eq(now),
        ))
        .on_conflict(server_secrets::id)
        .do_nothing()
        .execute(c))
    .map_err(DbError::from)?;
    let stored: String = server_secrets::table
        .filter(server_secrets::id.eq(1))
        .select(server_secrets::secret_hex)
        .first(conn)
        .map_err(DbError::from)?;
    ServerSecret::from_hex(&stored).ok_or_else(|| SecretError::Malformed("server_secrets".into()))
}

/// Reads the secret file, or makes it: written whole under a temporary name in the same
/// folder (mode 0600), then linked into place only if no file is there yet, so that no
/// process ever reads half a secret and two starting at once keep one.
pub fn load_or_create_file(path: &Path) -> Result<ServerSecret, SecretError> {
    let file_err = |source| SecretError::File {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_file(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_err(e)),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".quota-levy-secret-")
        .tempfile_in(dir)
        .map_err(file_err)?;
    restrict(tmp.as_file()).map_err(file_err)?;
    {
        use std::io::Write;
        let f = tmp.as_file_mut();
        writeln!(f, "{}", ServerSecret::generate().to_hex()).map_err(file_err)?;
        f.sync_all().map_err(file_err)?;
    }
    match tmp.persist_noclobber(path) {
        Ok(_) => {}
        // Another process linked its file first: that one is the secret.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(file_err(e.error)),
    }
    let text = std::fs::read_to_string(path).map_err(file_err)?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<ServerSecret, SecretError> {
    warn_if_readable_by_others(path);
    ServerSecret::from_hex(text).ok_or_else(|| SecretError::Malformed(path.display().to_string()))
}

#[cfg(unix)]
fn restrict(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the server secret file is readable by others than its owner; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_keyed_separated_by_purpose_and_stable() {
        let a = ServerSecret::from_bytes([1; SECRET_LEN]);
        let b = ServerSecret::from_bytes([2; SECRET_LEN]);
        let id = b"41120219800101901X";
        assert_eq!(a.keyed_digest("holder", id), a.keyed_digest("holder", id));
        assert_ne!(a.keyed_digest("holder", id), b.keyed_digest("holder", id));
        assert_ne!(a.keyed_digest("holder", id), a.keyed_digest("body", id));
        assert_eq!(a.keyed_digest("holder", id).len(), 64);
        assert_eq!(format!("{a:?}"), "ServerSecret(***)");
    }

    #[test]
    fn a_secret_file_is_made_once_with_mode_0600_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub-missing-is-an-error").join("secret");
        assert!(matches!(
            load_or_create_file(&path),
            Err(SecretError::File { .. })
        ));
        let path = dir.path().join("secret");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || load_or_create_file(&p).unwrap())
            })
            .collect();
        let secrets: Vec<ServerSecret> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(secrets.windows(2).all(|w| w[0] == w[1]), "one secret");
        assert_eq!(load_or_create_file(&path).unwrap(), secrets[0]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Only the secret file is left: the temporary ones are gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        std::fs::write(&path, "not hex\n").unwrap();
        assert!(matches!(
            load_or_create_file(&path),
            Err(SecretError::Malformed(_))
        ));
    }
}
