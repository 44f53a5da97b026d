//! The settings structs, one per `config/default.toml` section, and their accessors.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::domain::RegionCode;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

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
    /// Collection by the tax bureau: written demands and when the surcharge starts.
    pub collection: CollectionSettings,
    /// `GET /metrics` (Prometheus).
    pub metrics: MetricsSettings,
    /// In-year forecasts and their warnings.
    pub forecast: ForecastSettings,
    /// Warnings about the configuration (a deprecated key in use), to be logged once the
    /// logger is installed: loading happens before there is one.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `[forecast]`: the warnings of in-year forecasts (docs/forecast.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastSettings {
    /// The lines whose crossing is mailed, comma-separated: `below_full_ratio`,
    /// `below_one_percent` (checked at load); empty: no warning.
    pub warn_on: String,
    /// A forecast is warned about only once this many months are entered (1-12).
    pub warn_from_month: u32,
}

impl ForecastSettings {
    /// The lines of `warn_on`.
    pub fn lines(&self) -> Vec<crate::domain::forecast::Line> {
        self.warn_on
            .split(',')
            .map(str::trim)
            .filter_map(crate::domain::forecast::Line::of_warning_point)
            .collect()
    }
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether `GET /metrics` is served at all.
    pub enabled: bool,
    /// The peer addresses it is served to, comma-separated IP addresses (checked at
    /// load).
    pub allow_from: String,
}

impl MetricsSettings {
    /// The addresses of `allow_from`; one that does not parse (refused at load) is left
    /// out.
    pub fn allowed(&self) -> Vec<std::net::IpAddr> {
        self.allow_from
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .filter_map(|a| a.parse().ok())
            .collect()
    }
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
    /// SQLite page cache of each connection, KiB (`PRAGMA cache_size`).
    pub sqlite_cache_kib: u32,
    /// SQLite memory-mapped I/O of each connection, MiB (`PRAGMA mmap_size`); 0 is off.
    pub sqlite_mmap_mib: u32,
    /// Where SQLite keeps its temporary tables and indexes (`PRAGMA temp_store`).
    pub sqlite_temp_store: SqliteTempStore,
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

/// Where SQLite keeps temporary tables and indexes (sorts, `DISTINCT`, transient
/// indexes): `PRAGMA temp_store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteTempStore {
    /// As SQLite was compiled (a file, for the bundled library).
    Default,
    /// Temporary files.
    File,
    /// Memory.
    Memory,
}

impl SqliteTempStore {
    /// The value `PRAGMA temp_store` takes.
    pub fn pragma_value(self) -> &'static str {
        match self {
            SqliteTempStore::Default => "DEFAULT",
            SqliteTempStore::File => "FILE",
            SqliteTempStore::Memory => "MEMORY",
        }
    }
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

/// `[collection]`: the tax bureau's written demands (催缴通知书) and the rule that says
/// when the late-payment surcharge starts (docs/rules.md §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSettings {
    /// Days from the issue of a written demand to its payment deadline (1-90).
    pub demand_deadline_days: u32,
    /// From when the surcharge accrues.
    pub surcharge_from: SurchargeFrom,
}

/// From when the late-payment surcharge accrues (docs/rules.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SurchargeFrom {
    /// From the day after the payment due date.
    DueDate,
    /// Only from the day after the deadline of the first written demand recorded for
    /// the employer and levy year (残疾人就业条例 第二十七条: a warning and a deadline
    /// first); nothing before it, nothing without one.
    WrittenDemand,
}

impl SurchargeFrom {
    /// The setting's spelling, also the statement's `surcharge_trigger`.
    pub fn as_str(self) -> &'static str {
        match self {
            SurchargeFrom::DueDate => "due_date",
            SurchargeFrom::WrittenDemand => "written_demand",
        }
    }
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
    /// How long a password reset link or letter code stays valid, hours.
    pub reset_valid_hours: u32,
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

impl Settings {
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

impl MailSettings {
    /// The template folder, when one is configured.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        let d = self.templates_dir.trim();
        (!d.is_empty()).then(|| PathBuf::from(d))
    }
}
