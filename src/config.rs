//! Layered configuration: the compiled-in `config/default.toml`, an optional file, then
//! `QUOTA_LEVY__SECTION__KEY` environment variables. Every failure names the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::domain::RegionCode;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment variables that override settings.
pub const ENV_PREFIX: &str = "QUOTA_LEVY__";

/// All settings of the service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// Policy packs.
    pub policy: PolicySettings,
    /// Email reminders.
    pub mail: MailSettings,
    /// The server secret.
    pub security: SecuritySettings,
    /// Bulk import.
    pub import: ImportSettings,
    /// Public compliance notices.
    pub notices: NoticeSettings,
    /// Accounts of people: sessions, sign-in throttling, activation.
    pub accounts: AccountSettings,
    /// Warnings about the configuration (a deprecated key in use), to be logged once the
    /// logger is installed: loading happens before there is one.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub host: String,
    /// Listen port; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest request body in bytes.
    pub body_limit_bytes: usize,
    /// Largest bulk-import upload in bytes.
    pub upload_limit_bytes: usize,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_timeout_secs: u64,
    /// The address the public reaches the service at (no trailing slash once loaded):
    /// links in notice pages and mails are made from it when they are rendered.
    pub public_base_url: String,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path`, a plain path, or `postgres://…`.
    pub url: String,
    /// Pool size.
    pub pool_size: u32,
    /// Wait for a pooled connection, seconds.
    pub connect_timeout_secs: u64,
    /// SQLite busy timeout, milliseconds.
    pub sqlite_busy_timeout_ms: u32,
    /// Run migrations when serving.
    pub migrate_on_start: bool,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter when `RUST_LOG` is unset.
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// `[policy]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// Folder of packs; empty = compiled-in packs.
    pub dir: String,
}

/// `[security]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// File holding the server secret; empty = the `server_secrets` table.
    pub secret_file: String,
}

impl SecuritySettings {
    /// The secret file, when one is configured.
    pub fn secret_file(&self) -> Option<PathBuf> {
        let f = self.secret_file.trim();
        (!f.is_empty()).then(|| PathBuf::from(f))
    }
}

/// `[import]`: what an imported file may unpack to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    /// Largest size a file may unpack to, bytes.
    pub max_uncompressed_bytes: u64,
    /// Largest number of data rows.
    pub max_rows: usize,
}

/// `[accounts]`: people's sign-in (API tokens are for machines).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// A session unused this long ends, minutes.
    pub session_idle_minutes: u32,
    /// A session ends this long after sign-in however active, hours.
    pub session_absolute_hours: u32,
    /// Failed sign-ins (per username, per client address) before a lockout.
    pub sign_in_max_failures: u32,
    /// How long a lockout lasts, and the window the failures are counted in, minutes.
    pub sign_in_lockout_minutes: u32,
    /// How long an activation link or letter code stays valid, days.
    pub activation_valid_days: u32,
    /// Mail an activation link to an employer registered with a contact address.
    pub invite_on_registration: bool,
    /// Shortest password accepted, characters.
    pub password_min_length: usize,
}

/// `[notices]`: who issues the notices of a region and where objections go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettings {
    /// `[notices.issuer."CODE"]`: the issuing body of a region (and those below it
    /// without an entry of their own), by six-digit region code.
    #[serde(default)]
    pub issuer: BTreeMap<String, IssuerSettings>,
}

/// The issuing body (发布单位) of a region's notices and its objection contact (异议受理).
/// Empty contact fields are not set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    /// Its name, as it signs the notice.
    pub name: String,
    /// Postal address where written objections are received.
    #[serde(default)]
    pub objection_address: String,
    /// Telephone for objections.
    #[serde(default)]
    pub objection_phone: String,
    /// E-mail address for objections.
    #[serde(default)]
    pub objection_email: String,
}

impl NoticeSettings {
    /// The issuer of a notice of `region`: the entry of the region itself, else of its
    /// city, else of its province, with the code of the entry used. The national level
    /// answers only for a national notice: the national federation does not sign a
    /// province's notices.
    pub fn issuer_for(&self, region: RegionCode) -> Option<(RegionCode, &IssuerSettings)> {
        region
            .chain()
            .into_iter()
            .filter(|c| *c == region || !c.is_national())
            .find_map(|c| self.issuer.get(c.as_str()).map(|i| (c, i)))
    }

    /// The first bad entry, as (dotted key, expected form).
    fn check(&self) -> Result<(), (String, String)> {
        for (code, entry) in &self.issuer {
            let key = |field: &str| format!("notices.issuer.{code}.{field}");
            if code.parse::<RegionCode>().is_err() {
                return Err((
                    format!("notices.issuer.{code}"),
                    "expected a six-digit region code (GB/T 2260) as the table name, e.g. \
                     [notices.issuer.\"411200\"]"
                        .into(),
                ));
            }
            let line = |s: &str, max: usize| {
                crate::domain::text::check_line(s).is_ok() && s.trim().chars().count() <= max
            };
            if entry.name.trim().is_empty() || !line(&entry.name, 100) {
                return Err((
                    key("name"),
                    "expected the issuing body's name, one line of at most 100 characters, \
                     e.g. 三门峡市残疾人联合会"
                        .into(),
                ));
            }
            if !line(&entry.objection_address, 200) {
                return Err((
                    key("objection_address"),
                    "expected one line of at most 200 characters".into(),
                ));
            }
            let phone = entry.objection_phone.trim();
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let phone_char = |c: char| c.is_ascii_digit() || " +-()（）、,，/转".contains(c);
            if !phone.is_empty()
                && (digits < 5 || phone.chars().count() > 60 || !phone.chars().all(phone_char))
            {
                return Err((
                    key("objection_phone"),
                    "expected a telephone number: digits, spaces, + - ( ), 、 between numbers \
                     and 转 before an extension, at most 60 characters"
                        .into(),
                ));
            }
            let email = entry.objection_email.trim();
            if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
                return Err((
                    key("objection_email"),
                    "expected an email address such as objections@example.org".into(),
                ));
            }
        }
        Ok(())
    }
}

/// `[mail]`: the SMTP server, the sender, the outbox worker and the reminder schedule.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// Run the reminder worker inside `serve`.
    pub enabled: bool,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// Transport security.
    pub smtp_tls: SmtpTls,
    /// SMTP login; empty = no authentication.
    pub smtp_username: String,
    /// SMTP password; empty = none.
    pub smtp_password: String,
    /// Timeout of one SMTP conversation, seconds.
    pub smtp_timeout_secs: u64,
    /// PEM file of extra trusted root certificates (an in-house CA); empty = none.
    pub smtp_ca_file: String,
    /// Sender address.
    pub from_address: String,
    /// Sender display name.
    pub from_name: String,
    /// The old name of `server.public_base_url`, read only when that is not set;
    /// empty = not set.
    pub public_base_url: String,
    /// Template folder; empty = compiled-in templates.
    pub templates_dir: String,
    /// Worker poll interval, seconds.
    pub poll_interval_secs: u64,
    /// Planning interval, seconds.
    pub plan_interval_secs: u64,
    /// Reminders claimed at a time.
    pub batch_size: u32,
    /// Claim lease, seconds.
    pub lease_secs: u64,
    /// Counted attempts before a reminder is dead.
    pub max_attempts: u32,
    /// First retry delay, seconds (doubles per attempt).
    pub backoff_base_secs: u64,
    /// Longest retry delay, seconds.
    pub backoff_max_secs: u64,
    /// Declaration reminder stages: days before the filing deadline.
    pub declare_days_before: Vec<u32>,
    /// Overdue-declaration (催报) stages: days after the filing deadline.
    pub declare_overdue_days_after: Vec<u32>,
    /// Payment reminder stages: days before the due date.
    pub pay_days_before: Vec<u32>,
    /// Overdue reminder stages: days after the due date.
    pub overdue_days_after: Vec<u32>,
    /// How and where to pay, per region code (`[mail.payment.<region>]`).
    pub payment: PaymentDirectory,
}

/// `[mail.payment]`: the payment instructions of each configured region, by region code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct PaymentDirectory(pub BTreeMap<String, PaymentInstructions>);

impl PaymentDirectory {
    /// The instructions that cover `region`: its own entry, else its city's, else its
    /// province's (the national level has no tax office to pay). `None` when none is
    /// configured: the mail then says to ask the local tax office, rather than print
    /// the instructions of somewhere else.
    pub fn for_region(&self, region: &str) -> Option<&PaymentInstructions> {
        let code: crate::domain::RegionCode = region.parse().ok()?;
        code.chain()
            .into_iter()
            .filter(|c| !c.is_national())
            .find_map(|c| self.0.get(c.as_str()))
    }
}

/// `[mail.payment.<region>]`: how and where the employers of a region pay the levy, as
/// its tax office publishes it. Every key is required: a pay or overdue mail prints
/// them all, and one missing would send an employer half an answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentInstructions {
    /// 收款单位: the payee, as it must be written on a transfer.
    pub payee: String,
    /// 开户银行: the payee's bank and branch.
    pub bank: String,
    /// 账号: the payee's account number.
    pub account: String,
    /// 电子税务局: the address of the e-tax service where the levy is paid online.
    pub etax_url: String,
    /// 主管税务机关: the tax office's name.
    pub tax_office: String,
    /// The tax office's address.
    pub tax_office_address: String,
    /// The tax office's phone number.
    pub tax_office_phone: String,
}

impl PaymentInstructions {
    /// Each key with its value, in the order of `config/default.toml`.
    pub fn fields(&self) -> [(&'static str, &str); 7] {
        [
            ("payee", &self.payee),
            ("bank", &self.bank),
            ("account", &self.account),
            ("etax_url", &self.etax_url),
            ("tax_office", &self.tax_office),
            ("tax_office_address", &self.tax_office_address),
            ("tax_office_phone", &self.tax_office_phone),
        ]
    }
}

// Written by hand so that the SMTP password never reaches a log line or a panic message.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("enabled", &self.enabled)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field(
                "smtp_password",
                &if self.smtp_password.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("poll_interval_secs", &self.poll_interval_secs)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a local relay, tests).
    None,
    /// STARTTLS, required.
    Starttls,
    /// Implicit TLS (SMTPS, port 465).
    Tls,
}

/// A setting that is missing, unknown or of the wrong form.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `--config` file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("configuration file {origin} is not valid TOML: {message}")]
    Syntax {
        /// File name.
        origin: String,
        /// Parser message (with line and column).
        message: String,
    },
    /// A key has a bad value or is unknown.
    #[error("invalid setting `{key}` (from {origin}): {message}")]
    Invalid {
        /// Dotted key, e.g. `database.url`.
        key: String,
        /// Where the value came from: a file or an environment variable.
        origin: String,
        /// What form was expected.
        message: String,
    },
}

impl Settings {
    /// Loads the defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut merged = parse_toml(DEFAULT_TOML, "config/default.toml (built in)")?;
        let mut origins: Vec<(String, String)> = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let origin = path.display().to_string();
            let overlay = parse_toml(&text, &origin)?;
            merge_file(&mut merged, overlay, "", &origin, &mut origins)?;
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env.sort();
        for (name, raw) in env {
            apply_env(&mut merged, &name, &raw)?;
            origins.push((env_key(&name), format!("environment variable {name}")));
        }
        let mut settings: Settings = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let origin = origins
                .iter()
                .rev()
                .find(|(k, _)| names(k, &key))
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| "configuration".into());
            ConfigError::Invalid {
                key,
                origin,
                message: e.into_inner().to_string(),
            }
        })?;
        settings.validate(&origins)?;
        settings.resolve_public_base_url(&origins);
        Ok(settings)
    }

    /// Puts the public address in `server.public_base_url`, taking the old key
    /// `mail.public_base_url` when only that one is set, so that a configuration written
    /// for an earlier version keeps its links; either way a set old key is warned about.
    fn resolve_public_base_url(&mut self, origins: &[(String, String)]) {
        let new_set = origins.iter().any(|(k, _)| k == "server.public_base_url");
        let legacy = self.mail.public_base_url.trim().to_owned();
        if !legacy.is_empty() {
            if new_set {
                self.warnings.push(format!(
                    "mail.public_base_url is ignored: server.public_base_url ({}) is set; \
                     remove mail.public_base_url",
                    self.server.public_base_url.trim()
                ));
            } else {
                self.warnings.push(format!(
                    "mail.public_base_url is deprecated: rename it to \
                     server.public_base_url (using {legacy} meanwhile)"
                ));
                self.server.public_base_url = legacy;
            }
        }
        self.server.public_base_url = self
            .server
            .public_base_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
    }

    fn validate(&self, origins: &[(String, String)]) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| {
            // A table (an issuer entry) comes from where its fields were set.
            let origin = origins
                .iter()
                .rev()
                .find(|(k, _)| names(k, key))
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| "config/default.toml".into());
            Err(ConfigError::Invalid {
                key: key.into(),
                origin,
                message,
            })
        };
        if let Err(message) = DatabaseUrl::parse(&self.database.url) {
            return fail("database.url", message);
        }
        if self.database.pool_size == 0 || self.database.pool_size > 1000 {
            return fail(
                "database.pool_size",
                "expected a whole number from 1 to 1000".into(),
            );
        }
        if self.server.body_limit_bytes < 1024 {
            return fail(
                "server.body_limit_bytes",
                "expected at least 1024 bytes".into(),
            );
        }
        if self.server.upload_limit_bytes < self.server.body_limit_bytes {
            return fail(
                "server.upload_limit_bytes",
                format!(
                    "expected at least server.body_limit_bytes ({})",
                    self.server.body_limit_bytes
                ),
            );
        }
        if self.server.host.trim().is_empty() {
            return fail(
                "server.host",
                "expected an address such as 127.0.0.1".into(),
            );
        }
        if let Err(message) = check_base_url(&self.server.public_base_url) {
            return fail("server.public_base_url", message);
        }
        if !self.mail.public_base_url.trim().is_empty() {
            if let Err(message) = check_base_url(&self.mail.public_base_url) {
                return fail("mail.public_base_url", message);
            }
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return fail(
                "log.level",
                format!("expected a tracing filter such as \"info\": {e}"),
            );
        }
        // Below 1 MiB the bound would refuse ordinary files of a few hundred rows: it is
        // a typo, not a policy.
        if !(1 << 20..=1 << 40).contains(&self.import.max_uncompressed_bytes) {
            return fail(
                "import.max_uncompressed_bytes",
                "expected a number of bytes from 1048576 (1 MiB) to 1099511627776 (1 TiB)".into(),
            );
        }
        if !(1..=100_000_000).contains(&self.import.max_rows) {
            return fail(
                "import.max_rows",
                "expected a whole number from 1 to 100000000".into(),
            );
        }
        if let Err((key, message)) = self.accounts.check() {
            return fail(key, message);
        }
        if let Err((key, message)) = self.mail.check() {
            return fail(key, message);
        }
        if let Err((key, message)) = self.mail.check_payment() {
            return fail(&key, message);
        }
        if let Err((key, message)) = self.notices.check() {
            return fail(&key, message);
        }
        Ok(())
    }

    /// The policy folder, when one is configured.
    pub fn policy_dir(&self) -> Option<PathBuf> {
        let d = self.policy.dir.trim();
        (!d.is_empty()).then(|| PathBuf::from(d))
    }

    /// The policy packs these settings name (the built-in ones, then `policy.dir`'s),
    /// every fault of an invalid pack in the error.
    pub fn load_policy(&self) -> anyhow::Result<crate::policy::PolicyBook> {
        crate::policy::PolicyBook::load(self.policy_dir().as_deref())
            .map_err(|e| anyhow::anyhow!("policy packs are invalid:\n{e}"))
    }
}

impl AccountSettings {
    /// The first bad `[accounts]` value, as (dotted key, expected form).
    fn check(&self) -> Result<(), (&'static str, String)> {
        let ranges: [(&'static str, u32, u32, u32); 5] = [
            (
                "accounts.session_idle_minutes",
                self.session_idle_minutes,
                1,
                1440,
            ),
            (
                "accounts.session_absolute_hours",
                self.session_absolute_hours,
                1,
                720,
            ),
            (
                "accounts.sign_in_max_failures",
                self.sign_in_max_failures,
                1,
                100,
            ),
            (
                "accounts.sign_in_lockout_minutes",
                self.sign_in_lockout_minutes,
                1,
                1440,
            ),
            (
                "accounts.activation_valid_days",
                self.activation_valid_days,
                1,
                90,
            ),
        ];
        for (key, v, lo, hi) in ranges {
            if !(lo..=hi).contains(&v) {
                return Err((key, format!("expected a whole number from {lo} to {hi}")));
            }
        }
        if !(8..=128).contains(&self.password_min_length) {
            return Err((
                "accounts.password_min_length",
                "expected a whole number from 8 to 128".into(),
            ));
        }
        Ok(())
    }
}

impl MailSettings {
    /// The first bad `[mail]` value, as (dotted key, expected form).
    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.smtp_host.trim().is_empty() {
            return Err((
                "mail.smtp_host",
                "expected a host name such as smtp.example.org".into(),
            ));
        }
        if self.smtp_port == 0 {
            return Err(("mail.smtp_port", "expected a port from 1 to 65535".into()));
        }
        if self.smtp_username.is_empty() != self.smtp_password.is_empty() {
            let key = if self.smtp_username.is_empty() {
                "mail.smtp_username"
            } else {
                "mail.smtp_password"
            };
            return Err((
                key,
                "smtp_username and smtp_password go together: set both or neither".into(),
            ));
        }
        if !(1..=600).contains(&self.smtp_timeout_secs) {
            return Err(("mail.smtp_timeout_secs", "expected 1 to 600 seconds".into()));
        }
        let ca = self.smtp_ca_file.trim();
        if !ca.is_empty() {
            // Checked at start, not at the first mail: a wrong path must not surface
            // hours later as reminders that never leave.
            match std::fs::read_to_string(ca) {
                Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {}
                Ok(_) => {
                    return Err((
                        "mail.smtp_ca_file",
                        format!("{ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
                    ))
                }
                Err(e) => {
                    return Err((
                        "mail.smtp_ca_file",
                        format!("expected a readable PEM file of CA certificates: {ca}: {e}"),
                    ))
                }
            }
        }
        if self.from_address.parse::<lettre::Address>().is_err() {
            return Err((
                "mail.from_address",
                "expected an email address such as levy@example.org".into(),
            ));
        }
        if self.from_name.contains(['\r', '\n']) {
            return Err(("mail.from_name", "expected one line of text".into()));
        }
        if self.poll_interval_secs == 0 {
            return Err((
                "mail.poll_interval_secs",
                "expected at least 1 second".into(),
            ));
        }
        if self.plan_interval_secs < 60 {
            return Err((
                "mail.plan_interval_secs",
                "expected at least 60 seconds".into(),
            ));
        }
        if !(1..=1000).contains(&self.batch_size) {
            return Err((
                "mail.batch_size",
                "expected a whole number from 1 to 1000".into(),
            ));
        }
        // A lease shorter than one SMTP conversation would let a second worker take over
        // a reminder that is still being sent, and send it twice.
        if self.lease_secs < 2 * self.smtp_timeout_secs {
            return Err((
                "mail.lease_secs",
                format!(
                    "expected at least twice mail.smtp_timeout_secs ({} seconds)",
                    2 * self.smtp_timeout_secs
                ),
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err((
                "mail.max_attempts",
                "expected a whole number from 1 to 100".into(),
            ));
        }
        if self.backoff_base_secs == 0 {
            return Err((
                "mail.backoff_base_secs",
                "expected at least 1 second".into(),
            ));
        }
        if self.backoff_max_secs < self.backoff_base_secs {
            return Err((
                "mail.backoff_max_secs",
                "expected at least mail.backoff_base_secs".into(),
            ));
        }
        for (key, days) in [
            ("mail.declare_days_before", &self.declare_days_before),
            (
                "mail.declare_overdue_days_after",
                &self.declare_overdue_days_after,
            ),
            ("mail.pay_days_before", &self.pay_days_before),
            ("mail.overdue_days_after", &self.overdue_days_after),
        ] {
            if days.iter().any(|d| *d > 366) {
                return Err((
                    key,
                    "expected a list of days from 0 to 366, e.g. [30, 7]".into(),
                ));
            }
        }
        if self.overdue_days_after.contains(&0) {
            return Err((
                "mail.overdue_days_after",
                "expected days from 1 (the due date itself is not overdue)".into(),
            ));
        }
        if self.declare_overdue_days_after.contains(&0) {
            return Err((
                "mail.declare_overdue_days_after",
                "expected days from 1 (on the deadline itself a declaration is not late)".into(),
            ));
        }
        Ok(())
    }

    /// The first bad `[mail.payment.<region>]` entry, as (dotted key, expected form).
    fn check_payment(&self) -> Result<(), (String, String)> {
        for (region, p) in &self.payment.0 {
            let key = |field: &str| format!("mail.payment.{region}.{field}");
            match region.parse::<crate::domain::RegionCode>() {
                Ok(code) if !code.is_national() => {}
                _ => {
                    return Err((
                        format!("mail.payment.{region}"),
                        "expected a region code of six digits (GB/T 2260), such as 411200 \
                         for a city or 411202 for a county; not 000000, which no tax office \
                         collects for"
                            .into(),
                    ))
                }
            }
            for (field, value) in p.fields() {
                if value.trim().is_empty() || value.contains(['\r', '\n']) || value.len() > 300 {
                    return Err((
                        key(field),
                        "expected one line of text, up to 300 bytes".into(),
                    ));
                }
            }
            let url = p.etax_url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                return Err((
                    key("etax_url"),
                    "expected an http:// or https:// URL".into(),
                ));
            }
            let digits_and = |v: &str, extra: &[char]| {
                v.chars().any(|c| c.is_ascii_digit())
                    && v.chars().all(|c| c.is_ascii_digit() || extra.contains(&c))
            };
            if !digits_and(p.account.trim(), &[' ', '-']) {
                return Err((
                    key("account"),
                    "expected an account number: digits, grouped with spaces or hyphens if \
                     wished"
                        .into(),
                ));
            }
            if !digits_and(p.tax_office_phone.trim(), &[' ', '-', '+', '(', ')', '/']) {
                return Err((
                    key("tax_office_phone"),
                    "expected a phone number such as 0398-1234567".into(),
                ));
            }
        }
        Ok(())
    }

    /// The template folder, when one is configured.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        let d = self.templates_dir.trim();
        (!d.is_empty()).then(|| PathBuf::from(d))
    }
}

/// True when a value set at `set` is, or is inside, the setting `key`: an error about a
/// whole entry (a missing key of `mail.payment.411200`) names where its keys came from.
fn names(set: &str, key: &str) -> bool {
    set == key || set.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
}

/// A public base address: `http://` or `https://`, a host, an optional port and path, and
/// nothing a link could not carry (no space, quote, angle bracket, query or fragment: the
/// notice path is appended to it).
fn check_base_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let expected = "expected an http:// or https:// address such as https://levy.example.org \
                    (a path prefix may follow; no query or fragment)";
    let Some(rest) = rest else {
        return Err(expected.into());
    };
    let host = rest.split('/').next().unwrap_or("");
    let bad = |c: char| c.is_whitespace() || c.is_control() || "\"'<>`\\?#{}|^".contains(c);
    if host.is_empty() || host.starts_with(':') || url.chars().any(bad) {
        return Err(expected.into());
    }
    Ok(())
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, ConfigError> {
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::Syntax {
            origin: origin.into(),
            message: e.to_string(),
        })
}

/// Tables whose keys the operator names (region codes) rather than the defaults: a new
/// key there is an entry, not a typo, and the entry's own keys are checked by its type
/// (`PaymentInstructions` refuses unknown ones).
const OPEN_TABLES: [&str; 2] = ["mail.payment", "notices.issuer"];

fn under_open_table(path: &str) -> bool {
    OPEN_TABLES
        .iter()
        .any(|t| path == *t || path.strip_prefix(t).is_some_and(|r| r.starts_with('.')))
}

/// Records where every value of a new entry came from, so that an error names its file.
fn record_origins(
    value: &toml::Value,
    key: &str,
    origin: &str,
    origins: &mut Vec<(String, String)>,
) {
    origins.push((key.to_owned(), origin.to_owned()));
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            record_origins(v, &format!("{key}.{k}"), origin, origins);
        }
    }
}

/// Overlays a file onto the defaults, refusing keys the defaults do not have so that a
/// typo is an error rather than a silently ignored line.
fn merge_file(
    base: &mut toml::Value,
    overlay: toml::Value,
    prefix: &str,
    origin: &str,
    origins: &mut Vec<(String, String)>,
) -> Result<(), ConfigError> {
    let (toml::Value::Table(base), toml::Value::Table(overlay)) = (base, overlay) else {
        return Ok(());
    };
    for (k, v) in overlay {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match base.get_mut(&k) {
            None if under_open_table(prefix) => {
                record_origins(&v, &key, origin, origins);
                base.insert(k, v);
            }
            None => {
                return Err(ConfigError::Invalid {
                    key,
                    origin: origin.into(),
                    message: "unknown setting (see config/default.toml for every key)".into(),
                })
            }
            Some(existing @ toml::Value::Table(_)) => {
                if !v.is_table() {
                    return Err(ConfigError::Invalid {
                        key,
                        origin: origin.into(),
                        message: "expected a section (table)".into(),
                    });
                }
                merge_file(existing, v, &key, origin, origins)?;
            }
            Some(slot) => {
                *slot = v;
                origins.push((key, origin.into()));
            }
        }
    }
    Ok(())
}

fn env_key(name: &str) -> String {
    name[ENV_PREFIX.len()..]
        .split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// Sets one value from an environment variable, typed after the default it replaces
/// (every key has a default, so the type is always known).
fn apply_env(base: &mut toml::Value, name: &str, raw: &str) -> Result<(), ConfigError> {
    let key = env_key(name);
    let invalid = |message: String| ConfigError::Invalid {
        key: key.clone(),
        origin: format!("environment variable {name}"),
        message,
    };
    let parts: Vec<&str> = key.split('.').collect();
    let mut slot = base;
    for (i, part) in parts.iter().enumerate() {
        // An entry of an open table is made as its keys arrive; its values are text
        // (a wrong shape is refused when the entry is read).
        if let toml::Value::Table(t) = &mut *slot {
            if under_open_table(&parts[..i].join(".")) && !t.contains_key(*part) {
                let fresh = if i + 1 == parts.len() {
                    toml::Value::String(String::new())
                } else {
                    toml::Value::Table(toml::Table::new())
                };
                t.insert((*part).to_owned(), fresh);
            }
        }
        slot = slot.get_mut(*part).ok_or_else(|| {
            invalid("unknown setting (see config/default.toml for every key)".into())
        })?;
    }
    let value = match slot {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("expected a whole number, got {raw:?}")))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(invalid(format!("expected true or false, got {raw:?}"))),
        }),
        // Lists of numbers (the reminder schedule) are written comma-separated: "30,7".
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<i64>().map(toml::Value::Integer).map_err(|_| {
                        invalid(format!(
                            "expected whole numbers separated by commas, got {raw:?}"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        toml::Value::Table(_) => return Err(invalid("names a section, not a setting".into())),
        _ => {
            return Err(invalid(
                "this setting cannot be set from the environment".into(),
            ))
        }
    };
    *slot = value;
    Ok(())
}

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://path`, `sqlite:path` or a plain path), or `:memory:`.
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL; the error says which forms are accepted.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || (path.contains("://") && !url.starts_with("sqlite")) {
            return Err(
                "expected sqlite://PATH, a file path, or postgres://USER@HOST/DB".to_owned(),
            );
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// A form safe to log: the password of a PostgreSQL URL is hidden.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact_password(u),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.database.url, "sqlite://data/quota-levy.db");
        assert_eq!(s.log.format, LogFormat::Text);
        assert!(s.policy_dir().is_none());
    }

    #[test]
    fn environment_overrides_with_types() {
        let s = Settings::load_from(
            None,
            env(&[
                ("QUOTA_LEVY__SERVER__PORT", "9000"),
                ("QUOTA_LEVY__DATABASE__URL", "postgres://u@localhost/x"),
                ("QUOTA_LEVY__LOG__FORMAT", "json"),
                ("QUOTA_LEVY__DATABASE__MIGRATE_ON_START", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.database.url, "postgres://u@localhost/x");
        assert_eq!(s.log.format, LogFormat::Json);
        assert!(!s.database.migrate_on_start);
    }

    #[test]
    fn bad_values_name_the_key_and_origin() {
        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "eighty")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("server.port") && e.contains("QUOTA_LEVY__SERVER__PORT"),
            "{e}"
        );

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "70000")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.port"), "{e}");

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__LOG__FORMAT", "xml")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.format"), "{e}");

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__DATABASE__URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");

        let e = Settings::load_from(
            None,
            env(&[("QUOTA_LEVY__SERVER__UPLOAD_LIMIT_BYTES", "1024")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("server.upload_limit_bytes"), "{e}");

        let e = Settings::load_from(
            None,
            env(&[("QUOTA_LEVY__MAIL__SMTP_CA_FILE", "/nonexistent/ca.pem")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mail.smtp_ca_file"), "{e}");
        let not_pem = std::env::temp_dir().join(format!("ql-not-pem-{}", std::process::id()));
        std::fs::write(&not_pem, "hello").unwrap();
        let e = Settings::load_from(
            None,
            env(&[("QUOTA_LEVY__MAIL__SMTP_CA_FILE", &not_pem.to_string_lossy())]),
        )
        .unwrap_err()
        .to_string();
        let _ = std::fs::remove_file(&not_pem);
        assert!(
            e.contains("mail.smtp_ca_file") && e.contains("no PEM"),
            "{e}"
        );

        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PROT", "1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.prot") && e.contains("unknown"), "{e}");
    }

    #[test]
    fn mail_settings_load_and_validate_naming_keys() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert!(!s.mail.enabled);
        assert_eq!(s.mail.smtp_tls, SmtpTls::Starttls);
        assert_eq!(s.mail.declare_days_before, vec![30, 7]);
        assert_eq!(s.mail.declare_overdue_days_after, vec![1, 15, 30]);
        let s = Settings::load_from(
            None,
            env(&[
                ("QUOTA_LEVY__MAIL__SMTP_TLS", "none"),
                ("QUOTA_LEVY__MAIL__DECLARE_DAYS_BEFORE", "14, 3"),
                ("QUOTA_LEVY__MAIL__OVERDUE_DAYS_AFTER", ""),
                ("QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER", "3,10"),
                ("QUOTA_LEVY__MAIL__SMTP_PASSWORD", "secret"),
                ("QUOTA_LEVY__MAIL__SMTP_USERNAME", "me"),
            ]),
        )
        .unwrap();
        assert_eq!(s.mail.smtp_tls, SmtpTls::None);
        assert_eq!(s.mail.declare_days_before, vec![14, 3]);
        assert!(s.mail.overdue_days_after.is_empty());
        assert_eq!(s.mail.declare_overdue_days_after, vec![3, 10]);
        assert!(!format!("{:?}", s.mail).contains("secret"));
        for (var, value, key) in [
            ("QUOTA_LEVY__MAIL__SMTP_TLS", "ssl", "mail.smtp_tls"),
            (
                "QUOTA_LEVY__MAIL__FROM_ADDRESS",
                "not an address",
                "mail.from_address",
            ),
            ("QUOTA_LEVY__MAIL__SMTP_PASSWORD", "x", "mail.smtp_username"),
            ("QUOTA_LEVY__MAIL__LEASE_SECS", "10", "mail.lease_secs"),
            (
                "QUOTA_LEVY__MAIL__BACKOFF_BASE_SECS",
                "0",
                "mail.backoff_base_secs",
            ),
            (
                "QUOTA_LEVY__MAIL__PAY_DAYS_BEFORE",
                "30,x",
                "mail.pay_days_before",
            ),
            (
                "QUOTA_LEVY__MAIL__OVERDUE_DAYS_AFTER",
                "0",
                "mail.overdue_days_after",
            ),
            (
                "QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER",
                "1,0",
                "mail.declare_overdue_days_after",
            ),
            (
                "QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER",
                "400",
                "mail.declare_overdue_days_after",
            ),
        ] {
            let e = Settings::load_from(None, env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{var}={value}: {e}");
        }
    }

    fn payment_env(region: &str, skip: &str) -> Vec<(String, String)> {
        [
            ("PAYEE", "国家税务总局测试市税务局"),
            ("BANK", "测试银行测试支行"),
            ("ACCOUNT", "1234 5678 9012 3456"),
            ("ETAX_URL", "https://etax.example.org/"),
            ("TAX_OFFICE", "国家税务总局测试市税务局"),
            ("TAX_OFFICE_ADDRESS", "测试市测试路1号"),
            ("TAX_OFFICE_PHONE", "0398-1234567"),
        ]
        .into_iter()
        .filter(|(k, _)| *k != skip)
        .map(|(k, v)| {
            (
                format!("QUOTA_LEVY__MAIL__PAYMENT__{region}__{k}"),
                v.to_owned(),
            )
        })
        .collect()
    }

    #[test]
    fn payment_instructions_are_keyed_by_region_and_resolved_up_the_chain() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert!(s.mail.payment.0.is_empty(), "nothing invented by default");
        assert_eq!(s.mail.payment.for_region("411200"), None);

        let mut vars = payment_env("411200", "");
        vars.extend(payment_env("410000", ""));
        vars.push((
            "QUOTA_LEVY__MAIL__PAYMENT__410000__PAYEE".into(),
            "国家税务总局测试省税务局".into(),
        ));
        let s = Settings::load_from(None, vars).unwrap();
        assert_eq!(s.mail.payment.0.len(), 2);
        let city = s.mail.payment.for_region("411200").unwrap();
        assert_eq!(city.account, "1234 5678 9012 3456");
        assert_eq!(city.payee, "国家税务总局测试市税务局");
        // A county of the city: the city's entry.
        assert_eq!(s.mail.payment.for_region("411202"), Some(city));
        // Another city of the province: the province's.
        let province = s.mail.payment.for_region("411300").unwrap();
        assert_eq!(province.payee, "国家税务总局测试省税务局");
        // Another province: none, and no national fallback.
        assert_eq!(s.mail.payment.for_region("110000"), None);
        assert_eq!(s.mail.payment.for_region("not a code"), None);

        // From a file, the same; a county's own entry wins over its city's.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pay.toml");
        std::fs::write(
            &file,
            "[mail.payment.411202]\npayee = \"湖滨区\"\nbank = \"b\"\naccount = \"1\"\n\
             etax_url = \"https://e.example.org\"\ntax_office = \"t\"\n\
             tax_office_address = \"a\"\ntax_office_phone = \"1\"\n",
        )
        .unwrap();
        let s = Settings::load_from(Some(&file), payment_env("411200", "")).unwrap();
        assert_eq!(s.mail.payment.for_region("411202").unwrap().payee, "湖滨区");
        assert_eq!(
            s.mail.payment.for_region("411203").unwrap().payee,
            "国家税务总局测试市税务局"
        );
    }

    #[test]
    fn payment_instructions_refuse_unknown_missing_and_malformed_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("typo.toml");
        std::fs::write(&file, "[mail.payment.411200]\nbankk = \"x\"\n").unwrap();
        let e = Settings::load_from(Some(&file), payment_env("411200", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mail.payment.411200") && e.contains("bankk") && e.contains("typo.toml"),
            "{e}"
        );
        let mut typo = payment_env("411200", "");
        typo.push((
            "QUOTA_LEVY__MAIL__PAYMENT__411200__BANKK".into(),
            "x".into(),
        ));
        let e = Settings::load_from(None, typo).unwrap_err().to_string();
        assert!(
            e.contains("mail.payment.411200") && e.contains("bankk"),
            "{e}"
        );
        let e = Settings::load_from(None, payment_env("411200", "ACCOUNT"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mail.payment.411200") && e.contains("account"),
            "{e}"
        );

        for (field, value, key) in [
            (
                "ETAX_URL",
                "etax.example.org",
                "mail.payment.411200.etax_url",
            ),
            ("ACCOUNT", "see the notice", "mail.payment.411200.account"),
            (
                "TAX_OFFICE_PHONE",
                "call us",
                "mail.payment.411200.tax_office_phone",
            ),
            ("PAYEE", "  ", "mail.payment.411200.payee"),
            ("BANK", "a\nb", "mail.payment.411200.bank"),
        ] {
            let mut vars = payment_env("411200", field);
            let var = format!("QUOTA_LEVY__MAIL__PAYMENT__411200__{field}");
            vars.push((var.clone(), value.into()));
            let e = Settings::load_from(None, vars).unwrap_err().to_string();
            assert!(
                e.contains(key) && e.contains(&var),
                "{field}={value:?}: {e}"
            );
        }
        for region in ["000000", "4112", "41120a"] {
            let e = Settings::load_from(None, payment_env(region, ""))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("mail.payment.{}", region.to_ascii_lowercase()))
                    && e.contains("region code"),
                "{region}: {e}"
            );
        }
        let e = Settings::load_from(None, env(&[("QUOTA_LEVY__MAIL__PAYMENT__411200", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("mail.payment.411200"), "{e}");
    }

    #[test]
    fn import_bounds_load_and_validate_naming_keys() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.import.max_uncompressed_bytes, 200 << 20);
        assert_eq!(s.import.max_rows, 200_000);
        let s = Settings::load_from(
            None,
            env(&[
                ("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", "1048576"),
                ("QUOTA_LEVY__IMPORT__MAX_ROWS", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (s.import.max_uncompressed_bytes, s.import.max_rows),
            (1 << 20, 1)
        );
        for (var, value, key) in [
            (
                "QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES",
                "1048575",
                "import.max_uncompressed_bytes",
            ),
            (
                "QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES",
                "-1",
                "import.max_uncompressed_bytes",
            ),
            ("QUOTA_LEVY__IMPORT__MAX_ROWS", "0", "import.max_rows"),
            (
                "QUOTA_LEVY__IMPORT__MAX_ROWS",
                "100000001",
                "import.max_rows",
            ),
            ("QUOTA_LEVY__IMPORT__MAX_ROWS", "many", "import.max_rows"),
        ] {
            let e = Settings::load_from(None, env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key) && e.contains(var), "{var}={value}: {e}");
        }
    }

    #[test]
    fn public_base_url_takes_the_old_key_with_a_warning() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.public_base_url, "http://127.0.0.1:8080");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let s = Settings::load_from(
            None,
            env(&[(
                "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                " https://levy.example.gov.cn/ ",
            )]),
        )
        .unwrap();
        assert_eq!(s.server.public_base_url, "https://levy.example.gov.cn");
        assert!(s.warnings.is_empty());

        // Only the old key: it is used, and the warning names both keys.
        let s = Settings::load_from(
            None,
            env(&[(
                "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
                "https://old.example.org/",
            )]),
        )
        .unwrap();
        assert_eq!(s.server.public_base_url, "https://old.example.org");
        assert_eq!(s.warnings.len(), 1);
        assert!(
            s.warnings[0].contains("mail.public_base_url")
                && s.warnings[0].contains("server.public_base_url"),
            "{:?}",
            s.warnings
        );

        // Both: the new key wins, and the old one is said to be ignored.
        let s = Settings::load_from(
            None,
            env(&[
                (
                    "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
                    "https://old.example.org",
                ),
                (
                    "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                    "https://new.example.org",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.public_base_url, "https://new.example.org");
        assert!(s.warnings[0].contains("ignored"), "{:?}", s.warnings);

        for (var, value, key) in [
            (
                "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                "levy.example.org",
                "server.public_base_url",
            ),
            (
                "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                "https://levy.example.org/?a=1",
                "server.public_base_url",
            ),
            (
                "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                "https:///x",
                "server.public_base_url",
            ),
            (
                "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
                "ftp://x",
                "mail.public_base_url",
            ),
        ] {
            let e = Settings::load_from(None, env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key) && e.contains(var), "{var}={value}: {e}");
        }
    }

    #[test]
    fn notice_issuers_come_from_file_and_environment_and_resolve_up_the_chain() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert!(s.notices.issuer.is_empty(), "shipped without any contact");
        let code = |c: &str| c.parse::<RegionCode>().unwrap();
        assert!(s.notices.issuer_for(code("411202")).is_none());

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuers.toml");
        std::fs::write(
            &file,
            "[notices.issuer.\"411200\"]\nname = \"示例市残疾人联合会\"\n\
             objection_phone = \"0000-0000000\"\n\
             [notices.issuer.\"410000\"]\nname = \"示例省残疾人联合会\"\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&file),
            env(&[
                (
                    "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_EMAIL",
                    "objections@example.org",
                ),
                (
                    "QUOTA_LEVY__NOTICES__ISSUER__411221__NAME",
                    "示例县残疾人联合会",
                ),
            ]),
        )
        .unwrap();
        let city = &s.notices.issuer["411200"];
        assert_eq!(city.name, "示例市残疾人联合会");
        assert_eq!(city.objection_phone, "0000-0000000");
        assert_eq!(city.objection_email, "objections@example.org");
        assert!(city.objection_address.is_empty());
        let (from, i) = s.notices.issuer_for(code("411221")).unwrap();
        assert_eq!(
            (from.as_str(), i.name.as_str()),
            ("411221", "示例县残疾人联合会")
        );
        let (from, _) = s.notices.issuer_for(code("411202")).unwrap();
        assert_eq!(
            from.as_str(),
            "411200",
            "a county without an entry takes its city's"
        );
        let (from, _) = s.notices.issuer_for(code("410300")).unwrap();
        assert_eq!(from.as_str(), "410000", "then its province's");
        assert!(s.notices.issuer_for(code("420000")).is_none());

        let bad = |pairs: &[(&str, &str)]| {
            Settings::load_from(None, env(pairs))
                .unwrap_err()
                .to_string()
        };
        for (var, value, key) in [
            (
                "QUOTA_LEVY__NOTICES__ISSUER__4112__NAME",
                "x",
                "notices.issuer.4112",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__NAME",
                " ",
                "notices.issuer.411200.name",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_PHONE",
                "call us",
                "notices.issuer.411200.objection_phone",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_EMAIL",
                "nobody",
                "notices.issuer.411200.objection_email",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_ADDRESS",
                "a\u{202e}b",
                "notices.issuer.411200.objection_address",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200",
                "x",
                "notices.issuer.411200",
            ),
        ] {
            let mut pairs = vec![(var, value)];
            if var.contains("__OBJECTION_") {
                pairs.push(("QUOTA_LEVY__NOTICES__ISSUER__411200__NAME", "示例"));
            }
            let e = bad(&pairs);
            assert!(e.contains(key), "{var}={value}: {e}");
            assert!(e.contains(var), "names where it came from: {e}");
        }
        // No name: an entry is a body, and a body has a name.
        let e = bad(&[(
            "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_PHONE",
            "0000-0000000",
        )]);
        assert!(
            e.contains("notices.issuer.411200") && e.contains("name"),
            "{e}"
        );
        // A field that does not exist, from the file or the environment.
        let e = bad(&[
            ("QUOTA_LEVY__NOTICES__ISSUER__411200__NAME", "示例"),
            ("QUOTA_LEVY__NOTICES__ISSUER__411200__PHONE", "0000-0000000"),
        ]);
        assert!(e.contains("phone") && e.contains("unknown"), "{e}");
        let typo = dir.path().join("typo.toml");
        std::fs::write(
            &typo,
            "[notices.issuer.\"411200\"]\nname = \"示例\"\nobjection_mail = \"a@b.org\"\n",
        )
        .unwrap();
        let e = Settings::load_from(Some(&typo), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("objection_mail") && e.contains("typo.toml"),
            "{e}"
        );
        let e = bad(&[("QUOTA_LEVY__NOTICES__ISSUERS__411200__NAME", "示例")]);
        assert!(
            e.contains("notices.issuers") && e.contains("unknown"),
            "{e}"
        );
    }

    #[test]
    fn file_overlay_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[server]\nport = 9100\n").unwrap();
        let s = Settings::load_from(Some(&good), env(&[])).unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.server.host, "127.0.0.1");

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[database]\nurll = \"x\"\n").unwrap();
        let e = Settings::load_from(Some(&bad), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.urll") && e.contains("bad.toml"), "{e}");

        let typed = dir.path().join("typed.toml");
        std::fs::write(&typed, "[database]\npool_size = \"many\"\n").unwrap();
        let e = Settings::load_from(Some(&typed), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("database.pool_size") && e.contains("typed.toml"),
            "{e}"
        );
    }
}
