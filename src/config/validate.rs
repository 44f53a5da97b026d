//! Validation of loaded settings: ranges, addresses and the payment entries, each fault
//! as the dotted key and the form expected.

use super::load::{names, ConfigError};
use super::{AccountSettings, DatabaseUrl, MailSettings, NoticeSettings, Settings};
use crate::domain::RegionCode;

impl Settings {
    pub(super) fn validate(&self, origins: &[(String, String)]) -> Result<(), ConfigError> {
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
        // A page cache below SQLite's own default (2 MiB) only slows it down; above
        // 1 GiB per connection, times the pool, it would outgrow the machine.
        if !(64..=1_048_576).contains(&self.database.sqlite_cache_kib) {
            return fail(
                "database.sqlite_cache_kib",
                "expected a whole number of KiB from 64 to 1048576 (1 GiB)".into(),
            );
        }
        if self.database.sqlite_mmap_mib > 65_536 {
            return fail(
                "database.sqlite_mmap_mib",
                "expected a whole number of MiB from 0 (off) to 65536".into(),
            );
        }
        if let Some(bad) = self
            .metrics
            .allow_from
            .split(',')
            .map(str::trim)
            .find(|a| !a.is_empty() && a.parse::<std::net::IpAddr>().is_err())
        {
            return fail(
                "metrics.allow_from",
                format!(
                    "expected IP addresses separated by commas, e.g. \"127.0.0.1, ::1\"; \
                     {bad:?} is not one"
                ),
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
        if !(1..=90).contains(&self.collection.demand_deadline_days) {
            return fail(
                "collection.demand_deadline_days",
                "expected a whole number from 1 to 90".into(),
            );
        }
        if let Some(bad) =
            self.forecast.warn_on.split(',').map(str::trim).find(|p| {
                !p.is_empty() && crate::domain::forecast::Line::of_warning_point(p).is_none()
            })
        {
            return fail(
                "forecast.warn_on",
                format!("expected below_full_ratio and/or below_one_percent, separated by commas, got {bad:?}"),
            );
        }
        if !(1..=12).contains(&self.forecast.warn_from_month) {
            return fail(
                "forecast.warn_from_month",
                "expected a whole number from 1 to 12".into(),
            );
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
}

impl AccountSettings {
    /// The first bad `[accounts]` value, as (dotted key, expected form).
    fn check(&self) -> Result<(), (&'static str, String)> {
        let ranges: [(&'static str, u32, u32, u32); 6] = [
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
            ("accounts.reset_valid_hours", self.reset_valid_hours, 1, 720),
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

impl NoticeSettings {
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
