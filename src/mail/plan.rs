//! What to remind whom of, on a given day: a pure function of the employer's facts, the
//! region's dates and the configured schedule, with no I/O (the loader is in
//! `crate::jobs::reminders`).
//!
//! Each schedule entry is a stage. On any day an employer gets at most the LATEST stage
//! reached per kind, so a first planning run late in the season sends one reminder, not
//! every missed one; the outbox's unique key makes planning again the same day a no-op.
//!
//! The figures are those of the statement: the principal is the assessment's levy
//! payable, payments reduce it first, and the surcharge is
//! [`crate::domain::levy::surcharge`] — the same function — up to and including the
//! as-of date, which the mail states.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::template::{TemplateError, Templates};
use crate::db::outbox::{NewReminder, ReminderKind};
use crate::domain::levy::{surcharge, Payment, SurchargeResult};
use crate::domain::money::format_money;
use crate::domain::policy::SurchargeRule;
use crate::domain::Language;

/// The reminder schedule, from `[mail]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Days before the filing deadline.
    pub declare_days_before: Vec<u32>,
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
    /// Where reminders go; none: nothing is planned.
    pub contact_email: Option<String>,
    /// A declaration was submitted (or certified) for the year.
    pub declared: bool,
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
        /// Daily surcharge rate.
        daily_rate: Decimal,
    },
}

impl Planned {
    /// The kind.
    pub fn kind(&self) -> ReminderKind {
        match self {
            Planned::Declare { .. } => ReminderKind::Declare,
            Planned::Pay { .. } => ReminderKind::Pay,
            Planned::Overdue { .. } => ReminderKind::Overdue,
        }
    }

    /// The stage.
    pub fn stage(&self) -> &str {
        match self {
            Planned::Declare { stage, .. }
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
}

impl Account {
    /// Principal and surcharge still owed.
    pub fn outstanding(&self) -> Decimal {
        self.position.outstanding_principal + self.position.outstanding_surcharge
    }
}

/// The account of `levy`, due on `due` under `rule`, on `as_of`. Payments dated after
/// `as_of` are not known on it (the statement's rule). `None` when the stored figures
/// cannot be surcharged (a negative principal): nothing can be said about them.
pub fn account(
    levy: &LevyFacts,
    due: NaiveDate,
    rule: &SurchargeRule,
    as_of: NaiveDate,
) -> Option<Account> {
    let known: Vec<Payment> = levy
        .payments
        .iter()
        .copied()
        .filter(|p| p.date <= as_of && p.amount > Decimal::ZERO)
        .collect();
    let position = surcharge(rule, levy.principal, due, &known, as_of).ok()?;
    Some(Account {
        paid: known.iter().map(|p| p.amount).sum(),
        position,
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
    if let (false, Some(t)) = (facts.declared, declare_terms) {
        if let Some(d) = stage_before(as_of, t.filing_deadline, &schedule.declare_days_before) {
            out.push(Planned::Declare {
                stage: format!("due-{d}d"),
                deadline: t.filing_deadline,
                days_left: (t.filing_deadline - as_of).num_days(),
            });
        }
    }
    let (Some(levy), Some(t)) = (&facts.levy, levy_terms) else {
        return out;
    };
    if levy.principal <= Decimal::ZERO {
        return out;
    }
    let Some(Account { paid, position: s }) = account(levy, t.payment_due, &t.surcharge, as_of)
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
                daily_rate: t.surcharge.daily_rate,
            });
        }
    }
    out
}

/// "5" for 0.005: the rate as the law states it, per mille.
fn per_mille(rate: Decimal) -> String {
    (rate * Decimal::from(1000)).normalize().to_string()
}

/// Renders a planned reminder into an outbox row.
pub fn render(
    templates: &Templates,
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
    match planned {
        Planned::Declare {
            deadline,
            days_left,
            ..
        } => {
            values.push(("deadline", deadline.to_string()));
            values.push(("days_left", days_left.to_string()));
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
            daily_rate,
            ..
        } => {
            values.push(("principal", format_money(*principal)));
            values.push(("paid", format_money(*paid)));
            values.push(("surcharge", format_money(*surcharge)));
            values.push(("outstanding", format_money(*outstanding)));
            values.push(("due_date", due.to_string()));
            values.push(("as_of", as_of.to_string()));
            values.push(("days_overdue", days_overdue.to_string()));
            values.push(("daily_rate_permille", per_mille(*daily_rate)));
        }
    }
    bilingual(
        templates,
        planned.kind(),
        values,
        (&terms.name_zh, &terms.name_en),
        |subject, body_zh, body_en| NewReminder {
            kind: planned.kind(),
            employer_id: facts.employer_id,
            levy_year,
            stage: planned.stage().to_owned(),
            recipient: recipient.to_owned(),
            subject,
            body_zh,
            body_en,
        },
    )
    .map(Some)
}

/// Renders both languages with the region name of each; the subject is the Chinese one
/// followed by the English one.
fn bilingual(
    templates: &Templates,
    kind: ReminderKind,
    mut values: Vec<(&str, String)>,
    region: (&str, &str),
    make: impl FnOnce(String, String, String) -> NewReminder,
) -> Result<NewReminder, TemplateError> {
    values.push(("region", region.0.to_owned()));
    let zh = templates.render(kind, Language::Zh, &values)?;
    if let Some(v) = values.iter_mut().find(|(k, _)| *k == "region") {
        v.1 = region.1.to_owned();
    }
    let en = templates.render(kind, Language::En, &values)?;
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

/// The "a notice naming you was published" reminder of one employer; `None` when it has
/// no contact address. Queue it with [`crate::db::outbox::enqueue`] in the transaction
/// that publishes the notice:
///
/// ```ignore
/// let templates = Templates::from_settings(&settings.mail)?;
/// for employer in named {
///     if let Some(r) = plan::notice_published(&templates, &employer, &facts)? {
///         outbox::enqueue(conn, &r)?;
///     }
/// }
/// ```
pub fn notice_published(
    templates: &Templates,
    employer: &crate::db::employers::Employer,
    notice: &NoticeFacts,
) -> Result<Option<NewReminder>, TemplateError> {
    let Some(recipient) = employer
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let (status_zh, status_en) = status_text(&notice.status);
    let mut values: Vec<(&str, String)> = vec![
        ("employer_name", employer.name.clone()),
        ("uscc", employer.uscc.clone()),
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
        employer_id: employer.id,
        levy_year: notice.levy_year,
        stage: format!("notice-{}", notice.notice_id),
        recipient: recipient.to_owned(),
        subject: format!("{} / {}", zh.subject, en.subject),
        body_zh: zh.body,
        body_en: en.body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn schedule() -> Schedule {
        Schedule {
            declare_days_before: vec![30, 7],
            pay_days_before: vec![30, 7],
            overdue_days_after: vec![1, 30, 90],
        }
    }

    fn terms() -> RegionTerms {
        RegionTerms {
            name_zh: "三门峡市".into(),
            name_en: "Sanmenxia".into(),
            filing_deadline: d("2025-10-31"),
            payment_due: d("2025-10-31"),
            surcharge: SurchargeRule {
                daily_rate: dec!(0.005),
                capped_at_principal: true,
            },
        }
    }

    fn facts(declared: bool, principal: Option<Decimal>) -> EmployerFacts {
        EmployerFacts {
            employer_id: 7,
            uscc: "91411200MA44XXXX1A".into(),
            name: "三门峡测试有限公司".into(),
            contact_email: Some("hr@example.org".into()),
            declared,
            levy: principal.map(|p| LevyFacts {
                principal: p,
                payments: Vec::new(),
            }),
        }
    }

    fn plan(as_of: &str, f: &EmployerFacts) -> Vec<Planned> {
        let t = terms();
        plan_employer(&schedule(), d(as_of), f, Some(&t), Some(&t))
    }

    fn stages(p: &[Planned]) -> Vec<(ReminderKind, String)> {
        p.iter().map(|p| (p.kind(), p.stage().to_owned())).collect()
    }

    #[test]
    fn declare_stages_take_the_latest_reached() {
        let f = facts(false, None);
        assert!(plan("2025-09-30", &f).is_empty());
        assert_eq!(
            stages(&plan("2025-10-01", &f)),
            vec![(ReminderKind::Declare, "due-30d".into())]
        );
        assert_eq!(
            stages(&plan("2025-10-23", &f)),
            vec![(ReminderKind::Declare, "due-30d".into())]
        );
        assert_eq!(
            stages(&plan("2025-10-24", &f))[0].1,
            "due-7d",
            "7 days before"
        );
        assert_eq!(stages(&plan("2025-10-31", &f))[0].1, "due-7d");
        assert!(plan("2025-11-01", &f).is_empty(), "past the deadline");
        assert!(
            plan("2025-10-24", &facts(true, None)).is_empty(),
            "declared"
        );
    }

    #[test]
    fn no_address_no_reminder() {
        let mut f = facts(false, Some(dec!(100)));
        f.contact_email = Some("  ".into());
        assert!(plan("2025-10-24", &f).is_empty());
        f.contact_email = None;
        assert!(plan("2025-11-30", &f).is_empty());
    }

    #[test]
    fn pay_reminders_need_an_outstanding_levy() {
        let f = facts(true, Some(dec!(12345.67)));
        let p = plan("2025-10-24", &f);
        assert_eq!(
            p,
            vec![Planned::Pay {
                stage: "due-7d".into(),
                due: d("2025-10-31"),
                days_left: 7,
                principal: dec!(12345.67),
                paid: dec!(0),
                outstanding: dec!(12345.67),
                daily_rate: dec!(0.005),
            }]
        );
        assert!(plan("2025-10-24", &facts(true, Some(dec!(0)))).is_empty());
        let mut paid = facts(true, Some(dec!(100)));
        if let Some(l) = paid.levy.as_mut() {
            l.payments.push(Payment {
                date: d("2025-10-20"),
                amount: dec!(100),
            });
        }
        assert!(plan("2025-10-24", &paid).is_empty());
    }

    #[test]
    fn overdue_carries_the_statement_surcharge() {
        // levy-rules §10: 10,000.00 due 2025-10-31, 30 days later → 1,500.00.
        let f = facts(true, Some(dec!(10000.00)));
        let p = plan("2025-11-30", &f);
        assert_eq!(
            p,
            vec![Planned::Overdue {
                stage: "overdue-30".into(),
                due: d("2025-10-31"),
                as_of: d("2025-11-30"),
                days_overdue: 30,
                principal: dec!(10000.00),
                paid: dec!(0),
                surcharge: dec!(1500.00),
                outstanding: dec!(11500.00),
                daily_rate: dec!(0.005),
            }]
        );
        assert_eq!(stages(&plan("2025-11-01", &f))[0].1, "overdue-1");
        assert_eq!(stages(&plan("2026-06-01", &f))[0].1, "overdue-90");
        assert!(plan("2025-10-31", &f)
            .iter()
            .all(|p| p.kind() != ReminderKind::Overdue));
        // Principal paid late: the surcharge is still owed, and reminded.
        let mut late = f.clone();
        if let Some(l) = late.levy.as_mut() {
            l.payments.push(Payment {
                date: d("2025-11-10"),
                amount: dec!(10000.00),
            });
            // Known only after the as-of date: ignored, as the statement does.
            l.payments.push(Payment {
                date: d("2025-12-31"),
                amount: dec!(500.00),
            });
        }
        match &plan("2025-11-30", &late)[0] {
            Planned::Overdue {
                surcharge,
                outstanding,
                paid,
                ..
            } => {
                assert_eq!(*surcharge, dec!(500.00));
                assert_eq!(*outstanding, dec!(500.00));
                assert_eq!(*paid, dec!(10000.00));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rendering_puts_the_api_formatted_amounts_in_both_languages() {
        let templates = Templates::embedded().unwrap();
        let f = facts(true, Some(dec!(10000)));
        let t = terms();
        let p = plan("2025-11-30", &f);
        let r = render(&templates, 2025, &f, &t, &p[0]).unwrap().unwrap();
        assert_eq!(r.kind, ReminderKind::Overdue);
        assert_eq!(r.stage, "overdue-30");
        assert_eq!(r.recipient, "hr@example.org");
        assert!(
            r.body_zh.contains("滞纳金（截至2025-11-30）：1500.00 元"),
            "{}",
            r.body_zh
        );
        assert!(r.body_zh.contains("应缴金额：10000.00 元"), "{}", r.body_zh);
        assert!(r.body_zh.contains("三门峡") || r.body_zh.contains("91411200MA44XXXX1A"));
        assert!(r.body_en.contains("1500.00 yuan"), "{}", r.body_en);
        assert!(r.body_en.contains("5 per mille"), "{}", r.body_en);
        assert!(r.subject.contains("11500.00") && r.subject.contains(" / "));
        let dp = render(
            &templates,
            2025,
            &facts(false, None),
            &t,
            &plan("2025-10-24", &facts(false, None))[0],
        )
        .unwrap()
        .unwrap();
        assert!(
            dp.body_zh.contains("三门峡市的申报截止日期为2025-10-31"),
            "{}",
            dp.body_zh
        );
        assert!(
            dp.body_en.contains("in Sanmenxia is 2025-10-31"),
            "{}",
            dp.body_en
        );
    }

    #[test]
    fn notice_reminder_is_one_per_notice() {
        let templates = Templates::embedded().unwrap();
        let n = NoticeFacts {
            notice_id: 17,
            levy_year: 2025,
            region: ("三门峡市".into(), "Sanmenxia".into()),
            status: "below_quota".into(),
            published_on: d("2025-12-01"),
            objection_until: d("2025-12-08"),
            url: "https://levy.example.org/notices/17".into(),
        };
        let now = chrono::Utc::now().naive_utc();
        let mut employer = crate::db::employers::Employer {
            id: 7,
            uscc: "91411200MA44XXXX1A".into(),
            name: "三门峡测试有限公司".into(),
            kind: "enterprise".into(),
            region: "411200".into(),
            registered_on: None,
            contact_email: Some("hr@example.org".into()),
            establishment_size: None,
            committee_member: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let r = notice_published(&templates, &employer, &n)
            .unwrap()
            .unwrap();
        assert_eq!(r.employer_id, 7);
        assert_eq!(r.stage, "notice-17");
        assert!(r.body_zh.contains("未达到规定比例"), "{}", r.body_zh);
        assert!(r.body_en.contains("below the quota"), "{}", r.body_en);
        assert!(r.body_en.contains("https://levy.example.org/notices/17"));
        employer.contact_email = None;
        assert!(notice_published(&templates, &employer, &n)
            .unwrap()
            .is_none());
        assert_eq!(
            notice_url("https://levy.example.org/", 17),
            "https://levy.example.org/notices/17"
        );
    }

    #[test]
    fn deferred_links_take_the_base_in_force_when_resolved() {
        let text = format!(
            "公示全文：{}\nand {}",
            deferred_link("/notices/3"),
            deferred_link("/x")
        );
        assert_eq!(
            resolve_links(&text, "https://a.example.org/levy/"),
            "公示全文：https://a.example.org/levy/notices/3\nand https://a.example.org/levy/x"
        );
        assert_eq!(
            resolve_links(&text, "http://b.example.org"),
            "公示全文：http://b.example.org/notices/3\nand http://b.example.org/x"
        );
        assert_eq!(
            resolve_links("plain http://old/notices/1", "http://new"),
            "plain http://old/notices/1"
        );
        assert_eq!(resolve_links("a\u{2}/p", "http://h"), "ahttp://h/p");
    }
}
