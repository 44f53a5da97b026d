//! Turns an outbox row into a MIME message: `multipart/alternative` with an English
//! `text/plain` part and a Chinese `text/plain` part, each with its `Content-Language`.
//!
//! Order: RFC 2046 §5.1.4 says the parts of `multipart/alternative` go from least to
//! most preferred, and mail clients show the LAST part they can display. Chinese is what
//! the employer must read (docs/architecture.md, Conventions: "Language"), so it is the last part; English is the
//! alternative a client may offer instead.

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::transport::SendError;
use crate::config::Settings;
use crate::db::outbox::Reminder;

/// The sender of every reminder, from `[mail]`, and the public address its links are
/// made absolute with.
#[derive(Debug, Clone)]
pub struct Sender {
    from: Mailbox,
    domain: String,
    public_base_url: String,
}

impl Sender {
    /// From `mail.from_name`, `mail.from_address` and `server.public_base_url`.
    pub fn from_settings(settings: &Settings) -> Result<Sender, SendError> {
        let mail = &settings.mail;
        let address: lettre::Address = mail
            .from_address
            .trim()
            .parse()
            .map_err(|e| SendError::Invalid(format!("mail.from_address: {e}")))?;
        let domain = address.domain().to_owned();
        let name = mail.from_name.trim();
        Ok(Sender {
            from: Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address),
            domain,
            public_base_url: settings.server.public_base_url.clone(),
        })
    }

    /// The Message-ID of outbox row `id`: derived from the row, so that a message sent
    /// twice (a worker died between sending and recording it) carries the same ID and a
    /// receiver can drop the copy.
    pub fn message_id(&self, id: i64) -> String {
        format!("<reminder-{id}@{}>", self.domain)
    }

    /// Builds the message of an outbox row, its links made absolute under the public
    /// address of this process (see [`super::plan::deferred_link`]).
    pub fn build(&self, r: &Reminder) -> Result<Message, SendError> {
        let linked = |text: &str| super::plan::resolve_links(text, &self.public_base_url);
        let to: Mailbox = r
            .recipient
            .trim()
            .parse()
            .map_err(|e| SendError::Invalid(format!("recipient is not an address: {e}")))?;
        let part = |lang: &'static str, text: &str| {
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentLanguage(lang))
                .body(text.to_owned())
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(linked(&r.subject))
            .message_id(Some(self.message_id(r.id)))
            .date_now()
            .multipart(
                MultiPart::alternative()
                    .singlepart(part("en", &linked(&r.body_en)))
                    .singlepart(part("zh-CN", &linked(&r.body_zh))),
            )
            .map_err(|e| SendError::Invalid(format!("cannot build the message: {e}")))
    }
}

/// `Content-Language` (RFC 3282), which lettre has no type for.
#[derive(Debug, Clone)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(_s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Err("Content-Language is only written".into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        crate::config::Settings::load_from(None, Vec::new()).unwrap()
    }

    fn row() -> Reminder {
        let now = chrono::Utc::now().naive_utc();
        Reminder {
            id: 42,
            kind: "pay".into(),
            employer_id: 1,
            levy_year: 2025,
            stage: "due-7d".into(),
            recipient: "hr@example.org".into(),
            subject: "【残疾人就业保障金】应缴12345.67元 / levy due".into(),
            body_zh: "应缴金额：12345.67 元\n".into(),
            body_en: "Levy payable: 12345.67 yuan\n".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            locked_by: None,
            locked_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            act_by: None,
        }
    }

    #[test]
    fn builds_multipart_alternative_with_both_languages_and_a_stable_id() {
        let sender = Sender::from_settings(&settings()).unwrap();
        let m = sender.build(&row()).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(
            raw.contains("Message-ID: <reminder-42@example.org>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let en = raw.find("Content-Language: en").unwrap();
        let zh = raw.find("Content-Language: zh-CN").unwrap();
        assert!(en < zh, "Chinese is the preferred (last) part");
        assert_eq!(m.envelope().to()[0].to_string(), "hr@example.org");
    }

    #[test]
    fn queued_links_take_the_public_address_of_the_sending_process() {
        let mut settings = settings();
        settings.server.public_base_url = "https://levy.example.gov.cn".into();
        let sender = Sender::from_settings(&settings).unwrap();
        let mut r = row();
        // ASCII bodies, so that the raw message shows them unencoded.
        r.body_zh = format!(
            "Notice: {}\n",
            crate::mail::plan::deferred_link("/notices/9")
        );
        r.body_en = r.body_zh.clone();
        let m = sender.build(&r).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(
            raw.contains("https://levy.example.gov.cn/notices/9"),
            "{raw}"
        );
        assert!(!raw.contains('\u{2}'), "{raw}");
    }

    #[test]
    fn a_bad_recipient_is_undeliverable() {
        let sender = Sender::from_settings(&settings()).unwrap();
        let mut r = row();
        r.recipient = "not an address".into();
        assert!(matches!(sender.build(&r), Err(SendError::Invalid(_))));
    }
}
