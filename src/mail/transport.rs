//! Where mails go: SMTP (lettre, blocking: the worker runs on its own thread), a folder
//! of `.eml` files, or memory (tests).

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::{MailSettings, SmtpTls};

/// Why a message was not sent. The worker treats the kinds differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server could not be reached (connection refused, timeout, TLS handshake): not
    /// the message's fault, so it is retried without counting an attempt.
    #[error("mail server unreachable: {0}")]
    Unreachable(String),
    /// The server refused (a 4xx or 5xx reply) or the conversation failed: counted;
    /// retried with back-off up to `mail.max_attempts`.
    #[error("mail server refused: {0}")]
    Refused(String),
    /// The message can never be sent (e.g. the recipient is not an email address).
    #[error("undeliverable: {0}")]
    Invalid(String),
}

/// Sends one message.
pub trait MailTransport: Send + Sync {
    /// Sends `message`; blocking.
    fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// SMTP through lettre, configured by `[mail]`.
pub struct SmtpMailTransport {
    inner: SmtpTransport,
}

impl SmtpMailTransport {
    /// Builds the transport from settings (no connection is made yet).
    pub fn new(mail: &MailSettings) -> Result<SmtpMailTransport, SendError> {
        let host = mail.smtp_host.trim();
        let ca = mail.smtp_ca_file.trim();
        let roots = if ca.is_empty() {
            None
        } else {
            let pem = std::fs::read(ca)
                .map_err(|e| SendError::Invalid(format!("mail.smtp_ca_file {ca}: {e}")))?;
            Some(
                Certificate::from_pem(&pem)
                    .map_err(|e| SendError::Invalid(format!("mail.smtp_ca_file {ca}: {e}")))?,
            )
        };
        // Called in one match arm only, so it may consume the certificates.
        let tls = move |required: bool| {
            let mut params = TlsParameters::builder(host.to_owned());
            if let Some(cert) = roots {
                params = params.add_root_certificate(cert);
            }
            params
                .build()
                .map(|p| {
                    if required {
                        Tls::Required(p)
                    } else {
                        Tls::Wrapper(p)
                    }
                })
                .map_err(|e| SendError::Invalid(format!("TLS setup for {host}: {e}")))
        };
        let tls = match mail.smtp_tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => tls(true)?,
            SmtpTls::Tls => tls(false)?,
        };
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(mail.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(mail.smtp_timeout_secs)));
        if !mail.smtp_username.is_empty() {
            builder = builder.credentials(Credentials::new(
                mail.smtp_username.clone(),
                mail.smtp_password.clone(),
            ));
        }
        Ok(SmtpMailTransport {
            inner: builder.build(),
        })
    }
}

impl MailTransport for SmtpMailTransport {
    fn send(&self, message: &Message) -> Result<(), SendError> {
        self.inner.send(message).map(|_| ()).map_err(|e| {
            // Replies (4xx/5xx), unparsable replies and client faults concern this
            // conversation; everything else (connect, network, TLS, timeout) is the
            // server being out of reach.
            if e.is_transient() || e.is_permanent() || e.is_response() || e.is_client() {
                SendError::Refused(e.to_string())
            } else {
                SendError::Unreachable(e.to_string())
            }
        })
    }
}

/// A message captured by [`MemoryTransport`].
#[derive(Debug, Clone)]
pub struct Captured {
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The whole message as sent (RFC 5322).
    pub raw: String,
}

/// Keeps messages in memory; can be told to fail (unit tests).
#[derive(Clone, Default)]
pub struct MemoryTransport {
    sent: Arc<Mutex<Vec<Captured>>>,
    fail: Arc<Mutex<Option<SendError>>>,
}

impl MemoryTransport {
    /// An empty, working transport.
    pub fn new() -> MemoryTransport {
        MemoryTransport::default()
    }

    /// Every message sent so far.
    pub fn sent(&self) -> Vec<Captured> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Makes every later send fail with `error` (`None`: work again).
    pub fn fail_with(&self, error: Option<SendError>) {
        if let Ok(mut f) = self.fail.lock() {
            *f = error;
        }
    }
}

impl MailTransport for MemoryTransport {
    fn send(&self, message: &Message) -> Result<(), SendError> {
        if let Some(e) = self.fail.lock().ok().and_then(|f| f.clone()) {
            return Err(e);
        }
        let captured = Captured {
            to: recipients(message.envelope()),
            raw: String::from_utf8_lossy(&message.formatted()).into_owned(),
        };
        self.sent
            .lock()
            .map_err(|_| SendError::Unreachable("memory transport poisoned".into()))?
            .push(captured);
        Ok(())
    }
}

/// Writes each message to `<dir>/<message id>.eml` (development without a mail server).
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    /// Writes into `dir`, created when missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<FileTransport> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(FileTransport { dir })
    }
}

impl MailTransport for FileTransport {
    fn send(&self, message: &Message) -> Result<(), SendError> {
        let id = message
            .headers()
            .get_raw("Message-ID")
            .unwrap_or("message")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '@' | '_'))
            .collect::<String>();
        let path = self.dir.join(format!("{id}.eml"));
        std::fs::write(&path, message.formatted())
            .map_err(|e| SendError::Unreachable(format!("cannot write {}: {e}", path.display())))
    }
}

fn recipients(envelope: &Envelope) -> Vec<String> {
    envelope.to().iter().map(|a| a.to_string()).collect()
}
