//! Email reminders: templates, the MIME message, transports (SMTP, file, memory), the
//! planner that decides what to remind whom of, the check that a queued reminder still
//! has its reason, and the sending pass over the outbox (`crate::db::outbox`). README
//! "Email reminders" describes the whole.

pub mod message;
pub mod plan;
pub mod recheck;
pub mod template;
pub mod transport;
pub mod worker;

pub use message::Sender;
pub use template::{TemplateError, Templates};
pub use transport::{MailTransport, MemoryTransport, SendError, SmtpMailTransport};
pub use worker::{run_pass, Mailer, PassConfig, PassReport};

/// Everything the service needs to send reminders, built from `[mail]` (and the public
/// address of `[server]`, for links): fails at start on a bad template or sender rather
/// than at the first mail.
pub fn mailer_from_settings(settings: &crate::config::Settings) -> Result<Mailer, SendError> {
    Ok(Mailer {
        transport: std::sync::Arc::new(SmtpMailTransport::new(&settings.mail)?),
        sender: Sender::from_settings(settings)?,
    })
}
