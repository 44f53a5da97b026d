//! What to remind whom of, on a given day: a pure function of the employer's facts, the
//! region's dates and the configured schedule, with no I/O (the loader is in
//! `crate::jobs::reminders`).
//!
//! Each schedule entry is a stage. On any day an employer gets at most the LATEST stage
//! reached per kind, so a first planning run late in the season sends one reminder, not
//! every missed one; the outbox's unique key makes planning again the same day a no-op.
//!
//! The figures are those of the statement: the principal is the assessment's levy
//! payable, payments reduce it first, and the surcharge is reckoned by the statement's
//! own function, [`crate::registry::payments::reckon_levy`], started as
//! `collection.surcharge_from` says (after the due date, or after a written demand's
//! deadline), up to and including the as-of date, which the mail states.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::template::{Part, TemplateError, Templates, Variant};
use crate::config::PaymentDirectory;
use crate::config::SurchargeFrom;
use crate::db::outbox::{NewReminder, ReminderKind};
use crate::domain::levy::{Payment, SurchargeResult};
use crate::domain::money::format_money;
use crate::domain::policy::SurchargeRule;
use crate::domain::Language;
use crate::registry::payments::{reckon_levy, trigger_text, SurchargeTerms};

/// The reminder schedule, from `[mail]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Days before the filing deadline.
    pub declare_days_before: Vec<u32>,
    /// Days after the filing deadline, while still undeclared (催报).
    pub declare_overdue_days_after: Vec<u32>,
    /// Days before the payment due date.
    pub pay_days_before: Vec<u32>,
    /// Days after the due date.
    pub overdue_days_after: Vec<u32>,
}

impl Schedule {
    /// From settings.
    pub fn from_settings(mail: &crate::config::MailSettings) -> Schedule {
        Schedule {
            declare_days_before: mail.declare_days_before.clone(),
            declare_overdue_days_after: mail.declare_overdue_days_after.clone(),
            pay_days_before: mail.pay_days_before.clone(),
            overdue_days_after: mail.overdue_days_after.clone(),
        }
    }
}

/// A region's dates and surcharge rule for the levy year.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionTerms {
    /// Region name in Chinese (三门峡市).
    pub name_zh: String,
    /// Region name in English.
    pub name_en: String,
    /// Declaration deadline.
    pub filing_deadline: NaiveDate,
    /// Payment due date.
    pub payment_due: NaiveDate,
    /// Surcharge rule.
    pub surcharge: SurchargeRule,
    /// When the surcharge starts (`collection.surcharge_from`): the statement's rule.
    pub surcharge_from: SurchargeFrom,
}

/// What is known of one employer for the levy year.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployerFacts {
    /// Row id.
    pub employer_id: i64,
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Region code where it is registered: its tax office's payment instructions go in
    /// pay and overdue mails.
    pub region: String,
    /// Where reminders go; none: nothing is planned.
    pub contact_email: Option<String>,
    /// A declaration was submitted (or certified) for the year.
    pub declared: bool,
    /// Registered by the end of the levy year, or on an unknown date: the employers a
    /// notice of the year lists (`crate::registry::notices`). One registered later did
    /// not exist in the year and owes no declaration for it.
    pub in_levy_year: bool,
    /// The current assessment, if any.
    pub levy: Option<LevyFacts>,
}

/// The levy and what was paid towards it.
#[derive(Debug, Clone, PartialEq)]
pub struct LevyFacts {
    /// Levy payable (the statement's principal), yuan.
    pub principal: Decimal,
    /// Payments so far.
    pub payments: Vec<Payment>,
    /// The deadline of the first written demand issued on or before the day (read only
    /// under the written demand rule).
    pub first_demand_deadline: Option<NaiveDate>,
}

/// The figures of a reminder, before rendering.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// Declare by `deadline`.
    Declare {
        /// Stage: `due-{d}d`.
        stage: String,
        /// Filing deadline.
        deadline: NaiveDate,
        /// Days from the as-of date to the deadline.
        days_left: i64,
    },
    /// Not declared though the filing deadline has passed (催报).
    DeclareOverdue {
        /// Stage: `overdue-{d}`.
        stage: String,
        /// Filing deadline.
        deadline: NaiveDate,
        /// The day the mail says the declaration was still missing on.
        as_of: NaiveDate,
        /// Days past the deadline.
        days_overdue: i64,
    },
    /// Pay by `due`.
    Pay {
        /// Stage: `due-{d}d`.
        stage: String,
        /// Due date.
        due: NaiveDate,
        /// Days from the as-of date to the due date.
        days_left: i64,
        /// Levy payable.
        principal: Decimal,
        /// Paid so far.
        paid: Decimal,
        /// Principal still owed.
        outstanding: Decimal,
        /// Daily surcharge rate.
        daily_rate: Decimal,
        /// When the surcharge would start: after the due date, or after a written
        /// demand's deadline.
        trigger: SurchargeFrom,
    },
    /// Overdue since `due`.
    Overdue {
        /// Stage: `overdue-{d}`.
        stage: String,
        /// Due date.
        due: NaiveDate,
        /// The as-of date of the figures.
        as_of: NaiveDate,
        /// Days past the due date.
        days_overdue: i64,
        /// Levy payable.
        principal: Decimal,
        /// Paid so far (principal first, then surcharge).
        paid: Decimal,
        /// Surcharge accrued up to and including `as_of`.
        surcharge: Decimal,
        /// Principal and surcharge still owed.
        outstanding: Decimal,
        /// Principal still owed (the statement's `outstanding_principal`).
        outstanding_principal: Decimal,
        /// Surcharge still owed (the statement's `outstanding_surcharge`).
        outstanding_surcharge: Decimal,
        /// The most the surcharge may reach (the statement's `surcharge_cap`).
        cap: Option<Decimal>,
        /// The cap stopped the surcharge (the statement's `surcharge_capped`).
        capped: bool,
        /// Daily surcharge rate.
        daily_rate: Decimal,
        /// The first surcharged day (the statement's `surcharge_from`); `None` while
        /// the written demand rule lets nothing accrue.
        surcharge_from: Option<NaiveDate>,
        /// The rule that starts the surcharge.
        trigger: SurchargeFrom,
        /// The first written demand's deadline, if one was issued.
        first_deadline: Option<NaiveDate>,
    },
}

impl Planned {
    /// The kind.
    pub fn kind(&self) -> ReminderKind {
        match self {
            Planned::Declare { .. } => ReminderKind::Declare,
            Planned::DeclareOverdue { .. } => ReminderKind::DeclareOverdue,
            Planned::Pay { .. } => ReminderKind::Pay,
            Planned::Overdue { .. } => ReminderKind::Overdue,
        }
    }

    /// The date the mail asks the employer to act by, which the sender checks again
    /// (`crate::mail::recheck`): the filing deadline, the due date; the overdue mails
    /// name none (they ask to declare or pay now).
    pub fn act_by(&self) -> Option<NaiveDate> {
        match self {
            Planned::Declare { deadline, .. } => Some(*deadline),
            Planned::Pay { due, .. } => Some(*due),
            Planned::DeclareOverdue { .. } | Planned::Overdue { .. } => None,
        }
    }

    /// Which text of its kind the mail is: an overdue mail is worded after the account
    /// — principal unpaid and the surcharge growing, the surcharge at its cap, only
    /// surcharge left once the principal is paid (which also stops it growing), or no
    /// surcharge yet because the written demand rule has not started it; a pay mail
    /// after the rule that will start the surcharge.
    pub fn variant(&self) -> Variant {
        match self {
            Planned::Pay {
                trigger: SurchargeFrom::WrittenDemand,
                ..
            } => Variant::OnDemand,
            Planned::Overdue {
                outstanding_principal,
                ..
            } if *outstanding_principal <= Decimal::ZERO => Variant::SurchargeOnly,
            Planned::Overdue {
                surcharge_from: None,
                ..
            } => Variant::NotSurcharged,
            Planned::Overdue { capped: true, .. } => Variant::Capped,
            _ => Variant::Standard,
        }
    }

    /// The stage.
    pub fn stage(&self) -> &str {
        match self {
            Planned::Declare { stage, .. }
            | Planned::DeclareOverdue { stage, .. }
            | Planned::Pay { stage, .. }
            | Planned::Overdue { stage, .. } => stage,
        }
    }
}

/// A levy's account on a day: what [`plan_employer`] puts in pay and overdue mails, and
/// what the sender checks again before sending one (`crate::mail::recheck`), so that
/// "still owed" means the same to both.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Payments known on the day.
    pub paid: Decimal,
    /// Principal and surcharge on the day, by the statement's function.
    pub position: SurchargeResult,
    /// The first surcharged day; `None` while nothing may accrue.
    pub surcharge_from: Option<NaiveDate>,
}

impl Account {
    /// Principal and surcharge still owed.
    pub fn outstanding(&self) -> Decimal {
        self.position.outstanding_principal + self.position.outstanding_surcharge
    }
}

/// The account of `levy`, due on `due` under `rule`, its surcharge started as `trigger`
/// says, on `as_of` — reckoned by the statement's own function
/// ([`crate::registry::payments::reckon_levy`]). Payments dated after `as_of` are not
/// known on it (the statement's rule). `None` when the stored figures cannot be
/// surcharged (a negative principal): nothing can be said about them.
pub fn account(
    levy: &LevyFacts,
    due: NaiveDate,
    rule: &SurchargeRule,
    trigger: SurchargeFrom,
    as_of: NaiveDate,
) -> Option<Account> {
    let known: Vec<Payment> = levy
        .payments
        .iter()
        .copied()
        .filter(|p| p.date <= as_of && p.amount > Decimal::ZERO)
        .collect();
    let terms = SurchargeTerms {
        rule,
        due,
        trigger,
        first_deadline: levy.first_demand_deadline,
        // The planner has applied an approved decision to the principal and due date.
        relief: None,
    };
    let p = reckon_levy(&terms, levy.principal, &known, as_of).ok()?;
    Some(Account {
        paid: known.iter().map(|p| p.amount).sum(),
        surcharge_from: p.surcharge_from(),
        position: p.result,
    })
}

pub use crate::domain::calendar::china_date;

/// The latest "N days before" stage reached on `as_of`, while `as_of` is not past the
/// deadline: the smallest N with `deadline − N ≤ as_of`.
fn stage_before(as_of: NaiveDate, deadline: NaiveDate, days: &[u32]) -> Option<u32> {
    if as_of > deadline {
        return None;
    }
    let left = (deadline - as_of).num_days();
    days.iter().copied().filter(|d| i64::from(*d) >= left).min()
}

/// The latest "N days after" stage reached on `as_of`: the largest N with
/// `due + N ≤ as_of`.
fn stage_after(as_of: NaiveDate, due: NaiveDate, days: &[u32]) -> Option<u32> {
    let past = (as_of - due).num_days();
    days.iter().copied().filter(|d| i64::from(*d) <= past).max()
}

/// The reminders due for one employer on `as_of`. `declare_terms` are the dates of the
/// employer's region; `levy_terms` those of the region its assessment was made for.
pub fn plan_employer(
    schedule: &Schedule,
    as_of: NaiveDate,
    facts: &EmployerFacts,
    declare_terms: Option<&RegionTerms>,
    levy_terms: Option<&RegionTerms>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    if facts
        .contact_email
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
    {
        return out;
    }
    if let (false, true, Some(t)) = (facts.declared, facts.in_levy_year, declare_terms) {
        if let Some(d) = stage_before(as_of, t.filing_deadline, &schedule.declare_days_before) {
            out.push(Planned::Declare {
                stage: format!("due-{d}d"),
                deadline: t.filing_deadline,
                days_left: (t.filing_deadline - as_of).num_days(),
            });
        }
        if let Some(d) = stage_after(
            as_of,
            t.filing_deadline,
            &schedule.declare_overdue_days_after,
        ) {
            out.push(Planned::DeclareOverdue {
                stage: format!("overdue-{d}"),
                deadline: t.filing_deadline,
                as_of,
                days_overdue: (as_of - t.filing_deadline).num_days(),
            });
        }
    }
    let (Some(levy), Some(t)) = (&facts.levy, levy_terms) else {
        return out;
    };
    if levy.principal <= Decimal::ZERO {
        return out;
    }
    let Some(Account {
        paid,
        position: s,
        surcharge_from,
    }) = account(levy, t.payment_due, &t.surcharge, t.surcharge_from, as_of)
    else {
        return out;
    };
    if let Some(d) = stage_before(as_of, t.payment_due, &schedule.pay_days_before) {
        if s.outstanding_principal > Decimal::ZERO {
            out.push(Planned::Pay {
                stage: format!("due-{d}d"),
                due: t.payment_due,
                days_left: (t.payment_due - as_of).num_days(),
                principal: levy.principal,
                paid,
                outstanding: s.outstanding_principal,
                daily_rate: t.surcharge.daily_rate,
                trigger: t.surcharge_from,
            });
        }
    }
    if let Some(d) = stage_after(as_of, t.payment_due, &schedule.overdue_days_after) {
        let outstanding = s.outstanding_principal + s.outstanding_surcharge;
        if outstanding > Decimal::ZERO {
            out.push(Planned::Overdue {
                stage: format!("overdue-{d}"),
                due: t.payment_due,
                as_of,
                days_overdue: (as_of - t.payment_due).num_days(),
                principal: levy.principal,
                paid,
                surcharge: s.accrued,
                outstanding,
                outstanding_principal: s.outstanding_principal,
                outstanding_surcharge: s.outstanding_surcharge,
                cap: s.cap,
                capped: s.capped,
                daily_rate: t.surcharge.daily_rate,
                surcharge_from,
                trigger: t.surcharge_from,
                first_deadline: levy.first_demand_deadline,
            });
        }
    }
    out
}

/// "5" for 0.005: the rate as the law states it, per mille.
fn per_mille(rate: Decimal) -> String {
    (rate * Decimal::from(1000)).normalize().to_string()
}

/// Renders a planned reminder into an outbox row. Pay and overdue mails say how and
/// where to pay: the `payment` entry that covers the employer's region, else that the
/// local tax office will say.
pub fn render(
    templates: &Templates,
    payment: &PaymentDirectory,
    levy_year: i32,
    facts: &EmployerFacts,
    terms: &RegionTerms,
    planned: &Planned,
) -> Result<Option<NewReminder>, TemplateError> {
    let Some(recipient) = facts
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let mut values: Vec<(&str, String)> = vec![
        ("employer_name", facts.name.clone()),
        ("uscc", facts.uscc.clone()),
        ("levy_year", levy_year.to_string()),
    ];
    let mut localized = vec![("region", terms.name_zh.clone(), terms.name_en.clone())];
    match planned {
        Planned::Declare {
            deadline,
            days_left,
            ..
        } => {
            values.push(("deadline", deadline.to_string()));
            values.push(("days_left", days_left.to_string()));
        }
        Planned::DeclareOverdue {
            deadline,
            as_of,
            days_overdue,
            ..
        } => {
            values.push(("deadline", deadline.to_string()));
            values.push(("as_of", as_of.to_string()));
            values.push(("days_overdue", days_overdue.to_string()));
            // The notice's words for an employer that has not declared.
            let (zh, en) = status_text("not_declared");
            localized.push(("status", zh, en));
        }
        Planned::Pay {
            due,
            days_left,
            principal,
            paid,
            outstanding,
            daily_rate,
            ..
        } => {
            values.push(("principal", format_money(*principal)));
            values.push(("paid", format_money(*paid)));
            values.push(("outstanding", format_money(*outstanding)));
            values.push(("due_date", due.to_string()));
            values.push(("days_left", days_left.to_string()));
            values.push(("daily_rate_permille", per_mille(*daily_rate)));
        }
        Planned::Overdue {
            due,
            as_of,
            days_overdue,
            principal,
            paid,
            surcharge,
            outstanding,
            outstanding_principal,
            outstanding_surcharge,
            cap,
            daily_rate,
            surcharge_from,
            trigger,
            first_deadline,
            ..
        } => {
            values.push(("principal", format_money(*principal)));
            values.push(("paid", format_money(*paid)));
            values.push(("surcharge", format_money(*surcharge)));
            values.push((
                "surcharge_from",
                surcharge_from.map(|d| d.to_string()).unwrap_or_default(),
            ));
            // The statement's own sentence on what started the surcharge, or why none
            // has accrued yet.
            localized.push((
                "surcharge_trigger",
                trigger_text(*trigger, *first_deadline, *as_of, Language::Zh),
                trigger_text(*trigger, *first_deadline, *as_of, Language::En),
            ));
            values.push(("outstanding", format_money(*outstanding)));
            values.push((
                "outstanding_principal",
                format_money(*outstanding_principal),
            ));
            values.push((
                "outstanding_surcharge",
                format_money(*outstanding_surcharge),
            ));
            values.push(("cap", cap.map(format_money).unwrap_or_default()));
            values.push(("due_date", due.to_string()));
            values.push(("as_of", as_of.to_string()));
            values.push(("days_overdue", days_overdue.to_string()));
            values.push(("daily_rate_permille", per_mille(*daily_rate)));
        }
    }
    if matches!(planned, Planned::Pay { .. } | Planned::Overdue { .. }) {
        let (zh, en) = how_to_pay(templates, payment.for_region(&facts.region), terms)?;
        localized.push(("how_to_pay", zh, en));
    }
    bilingual(
        templates,
        (planned.kind(), planned.variant()),
        values,
        &localized,
        |subject, body_zh, body_en| NewReminder {
            kind: planned.kind(),
            employer_id: facts.employer_id,
            levy_year,
            stage: planned.stage().to_owned(),
            recipient: recipient.to_owned(),
            subject,
            body_zh,
            body_en,
            act_by: planned.act_by(),
        },
    )
    .map(Some)
}

/// The how-to-pay passage in Chinese and English: the configured instructions, or, with
/// none, the passage that sends the employer to its tax office.
fn how_to_pay(
    templates: &Templates,
    instructions: Option<&crate::config::PaymentInstructions>,
    terms: &RegionTerms,
) -> Result<(String, String), TemplateError> {
    let (part, mut values): (Part, Vec<(&str, String)>) = match instructions {
        Some(p) => (
            Part::HowToPay,
            p.fields()
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_owned()))
                .collect(),
        ),
        None => (Part::HowToPayUnconfigured, Vec::new()),
    };
    values.push(("region", terms.name_zh.clone()));
    let zh = templates.render_part(part, Language::Zh, &values)?;
    if let Some(v) = values.iter_mut().find(|(k, _)| *k == "region") {
        v.1 = terms.name_en.clone();
    }
    let en = templates.render_part(part, Language::En, &values)?;
    Ok((zh, en))
}

/// Renders both languages, each `localized` value (the region name, a status) in the
/// language of its text; the subject is the Chinese one followed by the English one.
fn bilingual(
    templates: &Templates,
    (kind, variant): (ReminderKind, Variant),
    mut values: Vec<(&str, String)>,
    localized: &[(&'static str, String, String)],
    make: impl FnOnce(String, String, String) -> NewReminder,
) -> Result<NewReminder, TemplateError> {
    let common = values.len();
    values.extend(localized.iter().map(|(k, zh, _)| (*k, zh.clone())));
    let zh = templates.render_variant(kind, variant, Language::Zh, &values)?;
    values.truncate(common);
    values.extend(localized.iter().map(|(k, _, en)| (*k, en.clone())));
    let en = templates.render_variant(kind, variant, Language::En, &values)?;
    Ok(make(
        format!("{} / {}", zh.subject, en.subject),
        zh.body,
        en.body,
    ))
}

/// A published notice that names an employer, for [`notice_published`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeFacts {
    /// Notice id (one reminder per notice: a correction is a new notice and a new mail).
    pub notice_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Region names (Chinese, English).
    pub region: (String, String),
    /// The employer's status in the notice: `compliant`, `below_quota`, `exempt`,
    /// `not_declared` (other values are shown as they are).
    pub status: String,
    /// Publication date.
    pub published_on: NaiveDate,
    /// Last day of the objection period.
    pub objection_until: NaiveDate,
    /// Public address of the notice.
    pub url: String,
}

/// A notice status in the mail's words, Chinese and English: the Chinese is the
/// notice's own (a test holds the two together).
pub(crate) fn status_text(status: &str) -> (String, String) {
    let (zh, en) = match status {
        "compliant" => ("已达到规定比例", "meets the quota"),
        "below_quota" => ("未达到规定比例", "below the quota"),
        "exempt" => ("依规定免征", "exempt"),
        "not_declared" => ("未申报", "not declared"),
        other => (other, other),
    };
    (zh.to_owned(), en.to_owned())
}

/// The path of notice `notice_id` under the public base address.
pub fn notice_path(notice_id: i64) -> String {
    format!("/notices/{notice_id}")
}

/// The public address of notice `notice_id` under `base` (`server.public_base_url`).
pub fn notice_url(base: &str, notice_id: i64) -> String {
    format!(
        "{}{}",
        base.trim().trim_end_matches('/'),
        notice_path(notice_id)
    )
}

/// Opens a link of a queued mail whose base address is filled in when it is sent.
const LINK_START: char = '\u{2}';
/// Closes it.
const LINK_END: char = '\u{3}';

/// A link to `path` for a mail that is queued now and sent later: the outbox keeps the
/// path between two control characters, and [`resolve_links`] puts the public base
/// address in force at sending time in front of it, so a mail never carries an address
/// the service has since left. No text that comes in can hold these characters
/// (`crate::domain::text` refuses control characters), so no name can forge a link.
pub fn deferred_link(path: &str) -> String {
    format!("{LINK_START}{path}{LINK_END}")
}

/// `text` with every [`deferred_link`] made absolute under `base`. Text without one
/// (mails queued by an earlier version, with the address of their day) comes back as it
/// is; an unclosed link keeps its path and loses the stray marker.
pub fn resolve_links(text: &str, base: &str) -> String {
    if !text.contains(LINK_START) {
        return text.to_owned();
    }
    let base = base.trim().trim_end_matches('/');
    let mut out = String::with_capacity(text.len() + 4 * base.len());
    let mut rest = text;
    while let Some(i) = rest.find(LINK_START) {
        out.push_str(&rest[..i]);
        let after = &rest[i + LINK_START.len_utf8()..];
        match after.find(LINK_END) {
            Some(j) => {
                out.push_str(base);
                out.push_str(&after[..j]);
                rest = &after[j + LINK_END.len_utf8()..];
            }
            None => {
                out.push_str(base);
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Who a notice's mail goes to: the employer as the notice names it, and its address.
#[derive(Debug, Clone, Copy)]
pub struct NoticeAddressee<'a> {
    /// Employer row id.
    pub employer_id: i64,
    /// USCC.
    pub uscc: &'a str,
    /// Name.
    pub name: &'a str,
    /// Contact address, if any.
    pub contact_email: Option<&'a str>,
}

/// The "a notice naming you was published" reminder of one employer; `None` when it has
/// no contact address. The notice's mails are queued by
/// `crate::registry::notices::plan_mails` after the publication, a chunk at a time.
pub fn notice_published(
    templates: &Templates,
    employer: &crate::db::employers::Employer,
    notice: &NoticeFacts,
) -> Result<Option<NewReminder>, TemplateError> {
    notice_mail(
        templates,
        &NoticeAddressee {
            employer_id: employer.id,
            uscc: &employer.uscc,
            name: &employer.name,
            contact_email: employer.contact_email.as_deref(),
        },
        notice,
    )
}

/// [`notice_published`] for an addressee given by its parts.
pub fn notice_mail(
    templates: &Templates,
    to: &NoticeAddressee<'_>,
    notice: &NoticeFacts,
) -> Result<Option<NewReminder>, TemplateError> {
    let Some(recipient) = to.contact_email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let (status_zh, status_en) = status_text(&notice.status);
    let mut values: Vec<(&str, String)> = vec![
        ("employer_name", to.name.to_owned()),
        ("uscc", to.uscc.to_owned()),
        ("levy_year", notice.levy_year.to_string()),
        ("notice_id", notice.notice_id.to_string()),
        ("status", status_zh),
        ("published_on", notice.published_on.to_string()),
        ("objection_until", notice.objection_until.to_string()),
        ("url", notice.url.clone()),
    ];
    values.push(("region", notice.region.0.clone()));
    let zh = templates.render(ReminderKind::NoticePublished, Language::Zh, &values)?;
    for v in values.iter_mut() {
        match v.0 {
            "region" => v.1 = notice.region.1.clone(),
            "status" => v.1 = status_en.clone(),
            _ => {}
        }
    }
    let en = templates.render(ReminderKind::NoticePublished, Language::En, &values)?;
    Ok(Some(NewReminder {
        kind: ReminderKind::NoticePublished,
        employer_id: to.employer_id,
        levy_year: notice.levy_year,
        stage: format!("notice-{}", notice.notice_id),
        recipient: recipient.to_owned(),
        subject: format!("{} / {}", zh.subject, en.subject),
        body_zh: zh.body,
        body_en: en.body,
        act_by: None,
    }))
}

/// The "please reserve a position for a disabled person" reminder of a public body that
/// employs no disabled person and has no open reserved position (岗位预留, 三政〔2016〕23号
/// §3(1)); once a levy year. `None` when it has no contact address.
pub fn reserve_position(
    templates: &Templates,
    employer: &crate::db::employers::Employer,
    levy_year: i32,
) -> Result<Option<NewReminder>, TemplateError> {
    let Some(recipient) = employer
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let values: Vec<(&str, String)> = vec![
        ("employer_name", employer.name.clone()),
        ("uscc", employer.uscc.clone()),
        ("levy_year", levy_year.to_string()),
        ("url", deferred_link("/my")),
    ];
    let zh = templates.render(ReminderKind::ReservePosition, Language::Zh, &values)?;
    let en = templates.render(ReminderKind::ReservePosition, Language::En, &values)?;
    Ok(Some(NewReminder {
        kind: ReminderKind::ReservePosition,
        employer_id: employer.id,
        levy_year,
        stage: format!("reserve-{levy_year}"),
        recipient: recipient.to_owned(),
        subject: format!("{} / {}", zh.subject, en.subject),
        body_zh: zh.body,
        body_en: en.body,
        act_by: None,
    }))
}

/// What a forecast warning says (docs/forecast.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastFacts {
    /// The calendar year of the forecast (the data year of levy year `year + 1`).
    pub year: i32,
    /// Months entered so far.
    pub months_entered: u8,
    /// The warning point: `below_one_percent` or `below_full_ratio`.
    pub point: &'static str,
    /// The projected employment ratio (a fraction), `None` without staff.
    pub ratio: Option<Decimal>,
    /// The projected levy payable.
    pub payable: Decimal,
}

/// The warning that an employer's in-year forecast is below a line; one per employer,
/// year and point (the stage). `None` when it has no contact address.
pub fn forecast_warning(
    templates: &Templates,
    employer: &crate::db::employers::Employer,
    f: &ForecastFacts,
) -> Result<Option<NewReminder>, TemplateError> {
    let Some(recipient) = employer
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let ratio = f.ratio.map_or_else(
        || "-".to_owned(),
        |r| {
            format!(
                "{}%",
                crate::domain::money::round2(r * Decimal::ONE_HUNDRED)
            )
        },
    );
    let (zh_line, en_line) = match f.point {
        "below_one_percent" => ("1%", "1 %"),
        _ => ("规定比例", "the full quota ratio"),
    };
    let mut values: Vec<(&str, String)> = vec![
        ("employer_name", employer.name.clone()),
        ("uscc", employer.uscc.clone()),
        ("levy_year", (f.year + 1).to_string()),
        ("year", f.year.to_string()),
        ("months_entered", f.months_entered.to_string()),
        ("line", zh_line.to_owned()),
        ("ratio", ratio),
        ("payable", crate::domain::money::format_money(f.payable)),
        (
            "url",
            deferred_link(&format!("/my/{}/forecast", employer.uscc)),
        ),
    ];
    let zh = templates.render(ReminderKind::ForecastWarning, Language::Zh, &values)?;
    for v in values.iter_mut() {
        if v.0 == "line" {
            v.1 = en_line.to_owned();
        }
    }
    let en = templates.render(ReminderKind::ForecastWarning, Language::En, &values)?;
    Ok(Some(NewReminder {
        kind: ReminderKind::ForecastWarning,
        employer_id: employer.id,
        levy_year: f.year + 1,
        stage: format!("forecast-{}-{}", f.year, f.point),
        recipient: recipient.to_owned(),
        subject: format!("{} / {}", zh.subject, en.subject),
        body_zh: zh.body,
        body_en: en.body,
        act_by: None,
    }))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
