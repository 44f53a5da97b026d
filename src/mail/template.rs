//! Mail templates: one file per kind and language (`templates/mail/<kind>.<lang>.txt`),
//! a `Subject: …` line, a blank line, then the text, with `{{name}}` placeholders. An
//! overdue reminder has a text per state of the account ([`Variant`]), so that which
//! words fit which figures is decided in the templates, not in code. A passage that
//! several mails share (how to pay) is a [`Part`]: a file of text alone, rendered into
//! a placeholder of the mails.
//!
//! The renderer is strict: a placeholder it has no value for is an error, and every
//! template is rendered with its kind's full set of values when loaded, so a typo in a
//! template stops the service at start instead of mailing `{{amuont}}` to employers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::db::outbox::ReminderKind;
use crate::domain::Language;

/// Why templates could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A template file could not be read.
    #[error("cannot read mail template {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A template is malformed or names an unknown placeholder.
    #[error("mail template {name}: {message}")]
    Invalid {
        /// `<kind>.<lang>.txt`.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// One parsed template.
#[derive(Debug, Clone)]
struct Template {
    name: String,
    subject: String,
    body: String,
}

/// A rendered text in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Text.
    pub body: String,
}

/// The templates of every kind in both languages.
#[derive(Debug, Clone)]
pub struct Templates {
    by_key: BTreeMap<(ReminderKind, Variant, &'static str), Template>,
    parts: BTreeMap<(Part, &'static str), Template>,
}

/// A passage put into mails rather than a mail: a file of text with no subject line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// How and where to pay, from the region's `[mail.payment]` entry:
    /// `how_to_pay.<lang>.txt`, the value of `{{how_to_pay}}` in pay and overdue mails.
    HowToPay,
    /// No entry covers the employer's region: `how_to_pay.unconfigured.<lang>.txt`,
    /// which must not invent an account; the shipped one says to ask the tax office.
    HowToPayUnconfigured,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 2] = [Part::HowToPay, Part::HowToPayUnconfigured];

    /// Its file in `lang`.
    pub fn file_name(self, lang: Language) -> String {
        let code = lang_code(lang);
        match self {
            Part::HowToPay => format!("how_to_pay.{code}.txt"),
            Part::HowToPayUnconfigured => format!("how_to_pay.unconfigured.{code}.txt"),
        }
    }

    /// The placeholders it may use (all are always given).
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Part::HowToPay => &[
                "region",
                "payee",
                "bank",
                "account",
                "etax_url",
                "tax_office",
                "tax_office_address",
                "tax_office_phone",
            ],
            Part::HowToPayUnconfigured => &["region"],
        }
    }
}

/// The kinds whose mails must say how and where to pay, in `{{how_to_pay}}`.
fn asks_for_money(kind: ReminderKind) -> bool {
    matches!(kind, ReminderKind::Pay | ReminderKind::Overdue)
}

/// Which text of a kind a mail is: most kinds have one; an overdue reminder has one per
/// state of the account, as the statement tells them apart (`surcharge_capped`, the
/// principal outstanding), since what is true differs: a capped surcharge does not grow
/// daily, and once the principal is paid only the surcharge is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// The kind's text, `<kind>.<lang>.txt`; for an overdue reminder, the principal is
    /// unpaid and the surcharge still grows.
    Standard,
    /// Overdue, principal unpaid, the surcharge at its cap: `overdue.capped.<lang>.txt`.
    Capped,
    /// Overdue, principal paid, only surcharge owed: `overdue.surcharge_only.<lang>.txt`.
    SurchargeOnly,
    /// Overdue, but under the written demand rule no surcharge has started (no demand,
    /// or its deadline not passed): `overdue.not_surcharged.<lang>.txt`.
    NotSurcharged,
    /// A pay reminder under the written demand rule, which starts the surcharge after a
    /// demand's deadline, not after the due date: `pay.on_demand.<lang>.txt`.
    OnDemand,
}

impl Variant {
    /// The variants of a kind, each a pair of files that must exist.
    pub fn of(kind: ReminderKind) -> &'static [Variant] {
        match kind {
            ReminderKind::Overdue => &[
                Variant::Standard,
                Variant::Capped,
                Variant::SurchargeOnly,
                Variant::NotSurcharged,
            ],
            ReminderKind::Pay => &[Variant::Standard, Variant::OnDemand],
            _ => &[Variant::Standard],
        }
    }

    /// The file name of `kind`'s text of this variant in `lang`.
    pub fn file_name(self, kind: ReminderKind, lang: Language) -> String {
        let code = lang_code(lang);
        match self {
            Variant::Standard => format!("{}.{code}.txt", kind.as_str()),
            Variant::Capped => format!("{}.capped.{code}.txt", kind.as_str()),
            Variant::SurchargeOnly => format!("{}.surcharge_only.{code}.txt", kind.as_str()),
            Variant::NotSurcharged => format!("{}.not_surcharged.{code}.txt", kind.as_str()),
            Variant::OnDemand => format!("{}.on_demand.{code}.txt", kind.as_str()),
        }
    }
}

/// The templates compiled into the binary, so that it runs from any directory.
const EMBEDDED: [(&str, &str); 36] = [
    (
        "declare.zh.txt",
        include_str!("../../templates/mail/declare.zh.txt"),
    ),
    (
        "declare.en.txt",
        include_str!("../../templates/mail/declare.en.txt"),
    ),
    (
        "declare_overdue.zh.txt",
        include_str!("../../templates/mail/declare_overdue.zh.txt"),
    ),
    (
        "declare_overdue.en.txt",
        include_str!("../../templates/mail/declare_overdue.en.txt"),
    ),
    (
        "pay.zh.txt",
        include_str!("../../templates/mail/pay.zh.txt"),
    ),
    (
        "pay.en.txt",
        include_str!("../../templates/mail/pay.en.txt"),
    ),
    (
        "overdue.zh.txt",
        include_str!("../../templates/mail/overdue.zh.txt"),
    ),
    (
        "overdue.en.txt",
        include_str!("../../templates/mail/overdue.en.txt"),
    ),
    (
        "overdue.capped.zh.txt",
        include_str!("../../templates/mail/overdue.capped.zh.txt"),
    ),
    (
        "overdue.capped.en.txt",
        include_str!("../../templates/mail/overdue.capped.en.txt"),
    ),
    (
        "overdue.surcharge_only.zh.txt",
        include_str!("../../templates/mail/overdue.surcharge_only.zh.txt"),
    ),
    (
        "overdue.not_surcharged.zh.txt",
        include_str!("../../templates/mail/overdue.not_surcharged.zh.txt"),
    ),
    (
        "overdue.not_surcharged.en.txt",
        include_str!("../../templates/mail/overdue.not_surcharged.en.txt"),
    ),
    (
        "pay.on_demand.zh.txt",
        include_str!("../../templates/mail/pay.on_demand.zh.txt"),
    ),
    (
        "pay.on_demand.en.txt",
        include_str!("../../templates/mail/pay.on_demand.en.txt"),
    ),
    (
        "overdue.surcharge_only.en.txt",
        include_str!("../../templates/mail/overdue.surcharge_only.en.txt"),
    ),
    (
        "how_to_pay.zh.txt",
        include_str!("../../templates/mail/how_to_pay.zh.txt"),
    ),
    (
        "how_to_pay.en.txt",
        include_str!("../../templates/mail/how_to_pay.en.txt"),
    ),
    (
        "how_to_pay.unconfigured.zh.txt",
        include_str!("../../templates/mail/how_to_pay.unconfigured.zh.txt"),
    ),
    (
        "how_to_pay.unconfigured.en.txt",
        include_str!("../../templates/mail/how_to_pay.unconfigured.en.txt"),
    ),
    (
        "notice_published.zh.txt",
        include_str!("../../templates/mail/notice_published.zh.txt"),
    ),
    (
        "notice_published.en.txt",
        include_str!("../../templates/mail/notice_published.en.txt"),
    ),
    (
        "activation.zh.txt",
        include_str!("../../templates/mail/activation.zh.txt"),
    ),
    (
        "activation.en.txt",
        include_str!("../../templates/mail/activation.en.txt"),
    ),
    (
        "password_reset.zh.txt",
        include_str!("../../templates/mail/password_reset.zh.txt"),
    ),
    (
        "password_reset.en.txt",
        include_str!("../../templates/mail/password_reset.en.txt"),
    ),
    (
        "declaration_returned.zh.txt",
        include_str!("../../templates/mail/declaration_returned.zh.txt"),
    ),
    (
        "declaration_returned.en.txt",
        include_str!("../../templates/mail/declaration_returned.en.txt"),
    ),
    (
        "reward_approved.zh.txt",
        include_str!("../../templates/mail/reward_approved.zh.txt"),
    ),
    (
        "reward_approved.en.txt",
        include_str!("../../templates/mail/reward_approved.en.txt"),
    ),
    (
        "reward_paid.zh.txt",
        include_str!("../../templates/mail/reward_paid.zh.txt"),
    ),
    (
        "reward_paid.en.txt",
        include_str!("../../templates/mail/reward_paid.en.txt"),
    ),
    (
        "reserve_position.zh.txt",
        include_str!("../../templates/mail/reserve_position.zh.txt"),
    ),
    (
        "reserve_position.en.txt",
        include_str!("../../templates/mail/reserve_position.en.txt"),
    ),
    (
        "forecast_warning.zh.txt",
        include_str!("../../templates/mail/forecast_warning.zh.txt"),
    ),
    (
        "forecast_warning.en.txt",
        include_str!("../../templates/mail/forecast_warning.en.txt"),
    ),
];

fn lang_code(lang: Language) -> &'static str {
    match lang {
        Language::Zh => "zh",
        Language::En => "en",
    }
}

/// The placeholders each kind's templates may use (all are always given; `cap` is empty
/// when the region's rule has none; `how_to_pay` is a rendered [`Part`], which pay and
/// overdue texts must contain). The shipped texts state dates, not `days_left`: a
/// reminder held back by a mail-server outage would otherwise arrive with a wrong count.
pub fn placeholders(kind: ReminderKind) -> &'static [&'static str] {
    const COMMON: [&str; 4] = ["employer_name", "uscc", "levy_year", "region"];
    match kind {
        ReminderKind::Declare => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "deadline",
            "days_left",
        ],
        ReminderKind::DeclareOverdue => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "deadline",
            "as_of",
            "days_overdue",
            "status",
        ],
        ReminderKind::Pay => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "principal",
            "paid",
            "outstanding",
            "due_date",
            "days_left",
            "daily_rate_permille",
            "how_to_pay",
        ],
        ReminderKind::Overdue => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "principal",
            "paid",
            "surcharge",
            "outstanding",
            "outstanding_principal",
            "outstanding_surcharge",
            "cap",
            "due_date",
            "as_of",
            "days_overdue",
            "daily_rate_permille",
            "surcharge_from",
            "surcharge_trigger",
            "how_to_pay",
        ],
        ReminderKind::NoticePublished => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "notice_id",
            "status",
            "published_on",
            "objection_until",
            "url",
        ],
        // No levy year: an account is not of a year.
        ReminderKind::Activation => &[COMMON[0], COMMON[1], "url", "expires_on"],
        ReminderKind::PasswordReset => &[COMMON[0], COMMON[1], "username", "url", "expires_on"],
        ReminderKind::DeclarationReturned => {
            &[COMMON[0], COMMON[1], COMMON[2], "reason", "returned_on"]
        }
        ReminderKind::RewardApproved => &[COMMON[0], COMMON[1], COMMON[2], "amount", "citation"],
        ReminderKind::RewardPaid => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            "amount",
            "paid_on",
            "reference",
        ],
        ReminderKind::ReservePosition => &[COMMON[0], COMMON[1], COMMON[2], "url"],
        ReminderKind::ForecastWarning => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            "year",
            "months_entered",
            "line",
            "ratio",
            "payable",
            "url",
        ],
    }
}

impl Templates {
    /// The compiled-in templates.
    pub fn embedded() -> Result<Templates, TemplateError> {
        Self::build(|name| {
            EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| (*text).to_owned())
                .ok_or_else(|| TemplateError::Invalid {
                    name: name.to_owned(),
                    message: "missing from the binary".into(),
                })
        })
    }

    /// The templates of a folder: every `<kind>.<lang>.txt` must be there, and each
    /// variant of a kind ([`Variant::file_name`]).
    pub fn load_dir(dir: &Path) -> Result<Templates, TemplateError> {
        Self::build(|name| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| TemplateError::Read { path, source })
        })
    }

    /// The configured folder, else the compiled-in templates.
    pub fn from_settings(mail: &crate::config::MailSettings) -> Result<Templates, TemplateError> {
        match mail.templates_dir() {
            Some(d) => Self::load_dir(&d),
            None => Self::embedded(),
        }
    }

    fn build(
        mut read: impl FnMut(&str) -> Result<String, TemplateError>,
    ) -> Result<Templates, TemplateError> {
        let mut by_key = BTreeMap::new();
        for kind in ReminderKind::ALL {
            for (variant, lang) in Variant::of(kind)
                .iter()
                .flat_map(|v| [(*v, Language::Zh), (*v, Language::En)])
            {
                let code = lang_code(lang);
                let name = variant.file_name(kind, lang);
                let t = parse(&name, &read(&name)?)?;
                // Rendered once with every value, so unknown placeholders fail here.
                let sample: Vec<(&str, String)> = placeholders(kind)
                    .iter()
                    .map(|p| (*p, format!("\u{0}{p}\u{0}")))
                    .collect();
                render_text(&t.name, &t.subject, &sample)?;
                let body = render_text(&t.name, &t.body, &sample)?;
                if asks_for_money(kind) && !body.contains("\u{0}how_to_pay\u{0}") {
                    return Err(TemplateError::Invalid {
                        name,
                        message: "the text must contain {{how_to_pay}}: every pay and \
                                  overdue mail says how and where to pay"
                            .into(),
                    });
                }
                by_key.insert((kind, variant, code), t);
            }
        }
        let mut parts = BTreeMap::new();
        for part in Part::ALL {
            for lang in [Language::Zh, Language::En] {
                let name = part.file_name(lang);
                let t = parse_part(&name, &read(&name)?)?;
                let sample: Vec<(&str, String)> = part
                    .placeholders()
                    .iter()
                    .map(|p| (*p, String::new()))
                    .collect();
                render_text(&t.name, &t.body, &sample)?;
                parts.insert((part, lang_code(lang)), t);
            }
        }
        Ok(Templates { by_key, parts })
    }

    /// Renders `part` in `lang` with `values`: the text, without a final line break,
    /// to go into a mail's placeholder.
    pub fn render_part(
        &self,
        part: Part,
        lang: Language,
        values: &[(&str, String)],
    ) -> Result<String, TemplateError> {
        let t = self
            .parts
            .get(&(part, lang_code(lang)))
            .ok_or_else(|| TemplateError::Invalid {
                name: part.file_name(lang),
                message: "not loaded".into(),
            })?;
        Ok(render_text(&t.name, &t.body, values)?.trim_end().to_owned())
    }

    /// Renders `kind` in `lang` with `values`.
    pub fn render(
        &self,
        kind: ReminderKind,
        lang: Language,
        values: &[(&str, String)],
    ) -> Result<Rendered, TemplateError> {
        self.render_variant(kind, Variant::Standard, lang, values)
    }

    /// Renders `kind`'s text `variant` in `lang` with `values`.
    pub fn render_variant(
        &self,
        kind: ReminderKind,
        variant: Variant,
        lang: Language,
        values: &[(&str, String)],
    ) -> Result<Rendered, TemplateError> {
        let t = self
            .by_key
            .get(&(kind, variant, lang_code(lang)))
            .ok_or_else(|| TemplateError::Invalid {
                name: variant.file_name(kind, lang),
                message: "not loaded".into(),
            })?;
        Ok(Rendered {
            subject: render_text(&t.name, &t.subject, values)?,
            body: render_text(&t.name, &t.body, values)?,
        })
    }
}

fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
    let invalid = |message: &str| TemplateError::Invalid {
        name: name.to_owned(),
        message: message.to_owned(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let subject = first
        .trim_end_matches('\r')
        .strip_prefix("Subject:")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("the first line must be `Subject: …`"))?;
    let body = rest.trim_start_matches(['\r', '\n']).trim_end();
    if body.is_empty() {
        return Err(invalid("the text after the subject line is empty"));
    }
    Ok(Template {
        name: name.to_owned(),
        subject: subject.to_owned(),
        body: format!("{body}\n"),
    })
}

fn parse_part(name: &str, text: &str) -> Result<Template, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text.trim_start_matches(['\r', '\n']).trim_end();
    if body.is_empty() {
        return Err(TemplateError::Invalid {
            name: name.to_owned(),
            message: "the text is empty".into(),
        });
    }
    Ok(Template {
        name: name.to_owned(),
        subject: String::new(),
        body: body.to_owned(),
    })
}

/// Replaces every `{{name}}` with its value.
fn render_text(
    template: &str,
    text: &str,
    values: &[(&str, String)],
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| TemplateError::Invalid {
            name: template.to_owned(),
            message: "a `{{` is not closed by `}}`".into(),
        })?;
        let key = after[..end].trim();
        let value = values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| TemplateError::Invalid {
                name: template.to_owned(),
                message: format!("unknown placeholder {{{{{key}}}}}"),
            })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_load_and_render() {
        let t = Templates::embedded().unwrap();
        let values: Vec<(&str, String)> = placeholders(ReminderKind::Pay)
            .iter()
            .map(|p| (*p, format!("<{p}>")))
            .collect();
        let zh = t.render(ReminderKind::Pay, Language::Zh, &values).unwrap();
        assert!(zh.subject.contains("<outstanding>"), "{}", zh.subject);
        assert!(zh.body.contains("应缴金额：<principal> 元"), "{}", zh.body);
        assert!(!zh.body.contains("{{"));
        let en = t.render(ReminderKind::Pay, Language::En, &values).unwrap();
        assert!(en.body.contains("<principal> yuan"), "{}", en.body);
    }

    #[test]
    fn unknown_or_unclosed_placeholders_are_errors() {
        let v = [("a", "1".to_owned())];
        assert_eq!(render_text("t", "x{{a}}y{{ a }}", &v).unwrap(), "x1y1");
        let e = render_text("t", "{{amuont}}", &v).unwrap_err().to_string();
        assert!(e.contains("{{amuont}}"), "{e}");
        assert!(render_text("t", "{{a", &v).is_err());
    }

    #[test]
    fn a_folder_must_have_every_template_and_only_known_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in EMBEDDED {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        assert!(Templates::load_dir(dir.path()).is_ok());
        std::fs::write(
            dir.path().join("pay.en.txt"),
            "Subject: pay {{amount}}\n\ntext\n",
        )
        .unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("pay.en.txt") && e.contains("{{amount}}"), "{e}");
        std::fs::write(dir.path().join("pay.en.txt"), "no subject\n").unwrap();
        assert!(Templates::load_dir(dir.path()).is_err());
        std::fs::remove_file(dir.path().join("declare.zh.txt")).unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("declare.zh.txt"), "{e}");
    }

    #[test]
    fn money_mails_must_say_how_to_pay_and_the_parts_are_checked_too() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in EMBEDDED {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        assert!(Templates::load_dir(dir.path()).is_ok());
        let without = EMBEDDED
            .iter()
            .find(|(n, _)| *n == "overdue.surcharge_only.zh.txt")
            .map(|(_, t)| t.replace("{{how_to_pay}}", ""))
            .unwrap();
        std::fs::write(dir.path().join("overdue.surcharge_only.zh.txt"), without).unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("overdue.surcharge_only.zh.txt") && e.contains("{{how_to_pay}}"),
            "{e}"
        );
        for (name, text) in EMBEDDED {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("how_to_pay.en.txt"), "Pay {{iban}}\n").unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("how_to_pay.en.txt") && e.contains("{{iban}}"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("how_to_pay.en.txt")).unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("how_to_pay.en.txt"), "{e}");
        // A part goes inside a mail's text: no line break of its own at the end.
        let t = Templates::embedded().unwrap();
        let r = t
            .render_part(
                Part::HowToPayUnconfigured,
                Language::Zh,
                &[("region", "三门峡市".to_owned())],
            )
            .unwrap();
        assert!(r.starts_with("缴款方式") && !r.ends_with('\n'), "{r:?}");
    }

    #[test]
    fn every_variant_of_a_kind_is_required_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in EMBEDDED {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        std::fs::write(
            dir.path().join("overdue.capped.en.txt"),
            "Subject: capped\n\n{{cap}} {{outstanding_surcharge}} {{capp}}\n",
        )
        .unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("overdue.capped.en.txt") && e.contains("{{capp}}"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("overdue.capped.en.txt")).unwrap();
        let e = Templates::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("overdue.capped.en.txt"), "{e}");
        let t = Templates::embedded().unwrap();
        let values: Vec<(&str, String)> = placeholders(ReminderKind::Overdue)
            .iter()
            .map(|p| (*p, format!("<{p}>")))
            .collect();
        for v in Variant::of(ReminderKind::Overdue) {
            for lang in [Language::Zh, Language::En] {
                let r = t
                    .render_variant(ReminderKind::Overdue, *v, lang, &values)
                    .unwrap();
                assert!(!r.body.contains("{{"), "{v:?} {lang:?}: {}", r.body);
            }
        }
        assert!(Variant::of(ReminderKind::Pay) == [Variant::Standard, Variant::OnDemand]);
        let values: Vec<(&str, String)> = placeholders(ReminderKind::Pay)
            .iter()
            .map(|p| (*p, format!("<{p}>")))
            .collect();
        for v in Variant::of(ReminderKind::Pay) {
            for lang in [Language::Zh, Language::En] {
                let r = t
                    .render_variant(ReminderKind::Pay, *v, lang, &values)
                    .unwrap();
                assert!(!r.body.contains("{{"), "{v:?} {lang:?}: {}", r.body);
            }
        }
    }
}
