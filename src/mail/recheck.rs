//! Whether a queued reminder still has its reason when its turn to be sent comes.
//!
//! A reminder is rendered when it is planned, and sent later (seconds later, or days
//! later after a mail server outage). Meanwhile the employer may have declared or paid.
//! Just before sending, the worker asks [`check`], which answers from the database with
//! the planner's own definitions (`crate::db::declarations::filed_among`,
//! [`crate::mail::plan::account`]), so that a reminder is never found moot for a reason
//! the planner would not have skipped it for:
//!
//! - `declare`: moot once the declaration of that levy year is filed (submitted,
//!   certified or amended), or once the filing deadline the mail states has passed: it
//!   asks to declare by a date that can no longer be met.
//! - `declare_overdue` (催报): moot once the declaration is filed; it names no date.
//! - `pay`: moot once the due date the mail states has passed (the overdue reminders
//!   take over), and as `overdue` below.
//! - `pay`, `overdue`: moot once nothing is owed on the day of sending (principal paid
//!   and no surcharge outstanding), or nothing is payable (no current assessment, or a
//!   levy of zero). While something is still owed, the mail is superseded when its
//!   figures went stale: a payment the statement counts today was recorded, or the levy
//!   was re-assessed, after the mail was rendered (its `created_at`); or, for an overdue
//!   mail, the surcharge reached its cap since, so that the mail's "grows daily" is no
//!   longer true.
//! - `activation`: moot once its code was used or replaced, or the employer has an
//!   account, and once the code's last day (`act_by`) has passed.
//! - `reserve_position`: moot once the public body has a position reserved (published
//!   and open, or awaiting review), or its assessment counts a disabled employee.
//! - `notice_published` (and any kind this build does not know): never moot.
//!
//! Staleness is judged by what was recorded since the mail was rendered, not by
//! comparing amounts with today's statement: the surcharge grows every day, and an
//! overdue mail states it "as of" its own date, so a mail sent a day late after an
//! outage is still true — but not once a payment it does not show has been made.
//!
//! A superseded mail gives its stage up (see [`crate::db::outbox::mark_cancelled`]).
//! The planner names an overdue stage after the schedule step reached (`overdue-30`
//! from day 30 to day 89 with the default `1, 30, 90`) and queues a stage once; keeping
//! the stage would leave an employer who paid part of an overdue levy without any
//! reminder until the next step, up to 60 days later. Released, the stage is queued
//! again by the next planning pass with today's figures, and still reaches the employer
//! once. The same holds for `pay` mails, which state paid and outstanding amounts too.
//! A moot mail keeps its stage: its reason is gone, and the planner would not queue it.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::plan::{self, LevyFacts};
use crate::config::SurchargeFrom;
use crate::db::outbox::{Reminder, ReminderKind};
use crate::db::{assessments, declarations, payments, positions};
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::Payment;
use crate::domain::money::from_fen;
use crate::domain::ResolvedPolicy;

/// Why a queued reminder is not sent after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moot {
    /// The declaration of the levy year was filed.
    Declared,
    /// The filing deadline the reminder asks to declare by has passed.
    DeadlinePassed(NaiveDate),
    /// The due date the reminder asks to pay by has passed.
    DuePassed(NaiveDate),
    /// Nothing is owed any more: principal and surcharge are paid.
    Paid,
    /// The one-time code of the mail (an activation or a password reset) was used,
    /// replaced or has expired, or its reason is gone (the employer has an account
    /// already, the user was disabled).
    InvitationSpent,
    /// Nothing is payable: no current assessment, or a levy of zero.
    NotPayable,
    /// The public body asked to reserve a position has reserved one (published, or
    /// awaiting review), or its assessment now counts a disabled employee.
    PositionReserved,
    /// Still owed, but the mail's figures are stale: a payment was recorded, or the levy
    /// re-assessed, after it was rendered.
    Superseded,
}

impl Moot {
    /// The text kept in the row's `last_error`.
    pub fn reason(self) -> String {
        match self {
            Moot::Declared => {
                "cancelled: the declaration was filed (submitted, certified or amended)".into()
            }
            Moot::DeadlinePassed(d) => {
                format!(
                    "cancelled: the filing deadline {d} it asks to declare by has passed \
                     (declare_overdue reminders follow while nothing is filed)"
                )
            }
            Moot::DuePassed(d) => format!(
                "cancelled: the due date {d} it asks to pay by has passed \
                 (the overdue reminders take over)"
            ),
            Moot::Paid => "cancelled: paid in full (principal and surcharge)".into(),
            Moot::InvitationSpent => "cancelled: the one-time link was used, replaced or \
                 has expired, or the account it was for exists already or was disabled"
                .into(),
            Moot::NotPayable => {
                "cancelled: no levy is payable (no current assessment, or zero)".into()
            }
            Moot::PositionReserved => "cancelled: a position is reserved (published or \
                 awaiting review), or the assessment now counts a disabled employee"
                .into(),
            Moot::Superseded => "superseded: a payment was recorded, the levy re-assessed \
                 or the surcharge capped after the reminder was queued; the next planning \
                 pass queues it with today's figures"
                .into(),
        }
    }

    /// True when the row gives its stage up so that the planner may queue it again.
    pub fn releases_stage(self) -> bool {
        matches!(self, Moot::Superseded)
    }
}

/// Checks a claimed reminder against the database: `None` means send it. `today` is the
/// date in China at the time of sending (the worker passes `crate::clock::china_today`),
/// given rather than read so that a test can send on any day.
pub fn check(
    conn: &mut AnyConnection,
    r: &Reminder,
    today: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<Option<Moot>, DbError> {
    let kind = ReminderKind::parse(&r.kind);
    if let Some(passed) = passed(kind, r, today) {
        return Ok(Some(passed));
    }
    match kind {
        Some(ReminderKind::Declare | ReminderKind::DeclareOverdue) => {
            let filed = declarations::filed_among(conn, &[r.employer_id], r.levy_year)?;
            Ok(filed.contains(&r.employer_id).then_some(Moot::Declared))
        }
        Some(ReminderKind::Pay | ReminderKind::Overdue) => check_levy(conn, r, today, trigger),
        Some(ReminderKind::Activation) => {
            let id = r
                .stage
                .strip_prefix("activation-")
                .and_then(|s| s.parse().ok());
            let open = match id {
                Some(id) => crate::registry::accounts::invitation_still_open(conn, id)?,
                None => false,
            };
            Ok((!open).then_some(Moot::InvitationSpent))
        }
        Some(ReminderKind::PasswordReset) => {
            let id = r
                .stage
                .strip_prefix("password_reset-")
                .and_then(|s| s.parse().ok());
            let open = match id {
                Some(id) => crate::registry::accounts::reset_still_open(conn, id)?,
                None => false,
            };
            Ok((!open).then_some(Moot::InvitationSpent))
        }
        Some(ReminderKind::ReservePosition) => {
            // The planner's own definitions, on the day of sending.
            let ids = [r.employer_id];
            let still_none =
                positions::public_bodies_without_disabled_among(conn, r.levy_year, &ids)?;
            let reserved = positions::reserved_among(conn, &ids, today)?;
            Ok(
                (!still_none.contains(&r.employer_id) || reserved.contains(&r.employer_id))
                    .then_some(Moot::PositionReserved),
            )
        }
        // The reason stays true once given, even if the employer has already answered.
        Some(
            ReminderKind::NoticePublished
            | ReminderKind::DeclarationReturned
            | ReminderKind::RewardApproved
            | ReminderKind::RewardPaid
            | ReminderKind::ForecastWarning,
        )
        | None => Ok(None),
    }
}

/// Whether the date a reminder asks to act by has passed on `today` (a request is still
/// true on its last day). Needs no database: the date is the row's own.
pub fn passed(kind: Option<ReminderKind>, r: &Reminder, today: NaiveDate) -> Option<Moot> {
    match kind {
        Some(ReminderKind::Declare) => {
            // A row queued before the date was recorded: the packs place every filing
            // deadline in its levy year (a month and day of it), so the year's end is
            // the latest it can be, and a reminder of a past levy year is never true.
            let deadline = r
                .act_by
                .or_else(|| NaiveDate::from_ymd_opt(r.levy_year, 12, 31))?;
            (today > deadline).then_some(Moot::DeadlinePassed(deadline))
        }
        // An old row without a date is checked against its assessment's due date in
        // `check_levy`.
        Some(ReminderKind::Pay) => r.act_by.filter(|due| today > *due).map(Moot::DuePassed),
        Some(ReminderKind::Activation | ReminderKind::PasswordReset) => r
            .act_by
            .filter(|last| today > *last)
            .map(|_| Moot::InvitationSpent),
        _ => None,
    }
}

/// The levy facts as the planner loads them (current assessment, every payment of the
/// year in the statement's order, the snapshot's due date and surcharge rule), then the
/// planner's account on `today`.
fn check_levy(
    conn: &mut AnyConnection,
    r: &Reminder,
    today: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<Option<Moot>, DbError> {
    let Some(current) = assessments::current(conn, r.employer_id, r.levy_year)? else {
        return Ok(Some(Moot::NotPayable));
    };
    let principal = from_fen(current.payable_fen);
    if principal <= Decimal::ZERO {
        return Ok(Some(Moot::NotPayable));
    }
    let rows = payments::for_year(conn, r.employer_id, r.levy_year)?;
    let levy = LevyFacts {
        principal,
        payments: rows
            .iter()
            .map(|p| Payment {
                date: p.paid_on,
                amount: from_fen(p.amount_fen),
            })
            .collect(),
        first_demand_deadline: match trigger {
            SurchargeFrom::DueDate => None,
            SurchargeFrom::WrittenDemand => {
                crate::db::demands::first_deadlines(conn, r.levy_year, &[r.employer_id], today)?
                    .remove(&r.employer_id)
            }
        },
    };
    let json = assessments::snapshot_json(conn, current.policy_snapshot_id)?;
    // Unreadable stored figures prove nothing either way: the mail was right when it was
    // planned, so it goes out as it is rather than being dropped silently.
    let policy: ResolvedPolicy = match serde_json::from_str(&json) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(reminder = r.id, error = %e, "policy snapshot unreadable; reminder sent unchecked");
            return Ok(None);
        }
    };
    let due = policy.payment_due.value;
    if r.act_by.is_none() && r.kind == ReminderKind::Pay.as_str() && today > due {
        return Ok(Some(Moot::DuePassed(due)));
    }
    let Some(account) = plan::account(&levy, due, &policy.surcharge.value, trigger, today) else {
        tracing::warn!(
            reminder = r.id,
            "levy cannot be surcharged; reminder sent unchecked"
        );
        return Ok(None);
    };
    if account.outstanding() <= Decimal::ZERO {
        return Ok(Some(Moot::Paid));
    }
    // At or after: a payment recorded in the very microsecond the planner read the
    // facts may or may not be in the mail, and a needless re-render is harmless.
    let since = r.created_at;
    let reassessed = current.computed_at >= since;
    let paid_since = rows
        .iter()
        .any(|p| p.recorded_at >= since && p.paid_on <= today && p.amount_fen > 0);
    // An overdue mail rendered while the surcharge grew says it grows daily; once the
    // cap is reached that is no longer true, and the capped text must go instead.
    let capped_since = r.kind == ReminderKind::Overdue.as_str()
        && account.position.capped
        && plan::account(
            &levy,
            due,
            &policy.surcharge.value,
            trigger,
            plan::china_date(r.created_at),
        )
        .is_some_and(|then| !then.position.capped);
    Ok((reassessed || paid_since || capped_since).then_some(Moot::Superseded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::assessments::{insert_many, snapshot_id, NewAssessment};
    use crate::db::declarations::{save, set_status, NewVersion, Status};
    use crate::db::outbox::{self, NewReminder};
    use crate::db::payments::{insert as insert_payment, NewPayment};
    use crate::db::Db;
    use crate::domain::PolicyProvider;
    use chrono::{Duration, NaiveDateTime, Utc};

    fn db() -> (tempfile::TempDir, Db) {
        crate::db::test_support::temp_db()
    }

    fn employer(conn: &mut AnyConnection, uscc: &str) -> i64 {
        crate::db::test_support::employer(conn, uscc)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// Queues a reminder at `at` and reads it back as the worker would claim it.
    fn queued(conn: &mut AnyConnection, e: i64, kind: ReminderKind, at: NaiveDateTime) -> Reminder {
        queued_by(conn, e, kind, at, None)
    }

    /// As [`queued`], asking to act by `act_by`.
    fn queued_by(
        conn: &mut AnyConnection,
        e: i64,
        kind: ReminderKind,
        at: NaiveDateTime,
        act_by: Option<NaiveDate>,
    ) -> Reminder {
        let stage = format!("{}-{}", kind.as_str(), at.and_utc().timestamp());
        outbox::enqueue_at(
            conn,
            &NewReminder {
                kind,
                employer_id: e,
                levy_year: 2025,
                stage: stage.clone(),
                recipient: "hr@example.org".into(),
                subject: "s".into(),
                body_zh: "中".into(),
                body_en: "en".into(),
                act_by,
            },
            at,
        )
        .unwrap();
        outbox::all(conn)
            .unwrap()
            .into_iter()
            .find(|r| r.employer_id == e && r.stage == stage)
            .unwrap()
    }

    fn declaration(conn: &mut AnyConnection, e: i64, status: Status) -> declarations::Declaration {
        let existing = declarations::current(conn, e, 2025).unwrap();
        save(
            conn,
            existing.as_ref(),
            NewVersion {
                employer_id: e,
                levy_year: 2025,
                body_json: "{}",
                body_digest: "test",
                status,
                actor: "test",
                roster: Vec::new(),
            },
        )
        .unwrap()
    }

    /// A current assessment of `payable_fen` computed at `at`, under the shipped law of
    /// Sanmenxia (due 2025-12-31, 5‰ a day capped at the principal).
    fn assessed(conn: &mut AnyConnection, e: i64, payable_fen: i64, at: NaiveDateTime) {
        let book = crate::policy::PolicyBook::load_embedded().unwrap();
        let law = book
            .resolve("411200".parse().unwrap(), d("2025-06-30"), 2024)
            .unwrap();
        assert_eq!(law.payment_due.value, d("2025-12-31"));
        let decl = match declarations::current(conn, e, 2025).unwrap() {
            Some(decl) => decl,
            None => declaration(conn, e, Status::Submitted),
        };
        let body = serde_json::to_string(&law).unwrap();
        let snapshot = snapshot_id(conn, "test-snapshot", &body, at).unwrap();
        let old: Vec<i64> = assessments::current(conn, e, 2025)
            .unwrap()
            .map(|a| a.id)
            .into_iter()
            .collect();
        assessments::supersede(conn, &old, at).unwrap();
        insert_many(
            conn,
            &[NewAssessment {
                employer_id: e,
                levy_year: 2025,
                region: "411200".into(),
                kind: "enterprise".into(),
                declaration_id: decl.id,
                declaration_version: decl.version,
                inputs_digest: "test".into(),
                policy_snapshot_id: snapshot,
                as_of: at.date(),
                staff_x12_e4: 0,
                disabled_x12_e4: 0,
                required_e4: 0,
                shortfall_e4: 0,
                average_wage_fen: None,
                wage_used_fen: None,
                fee_due_fen: payable_fen,
                reduction_fen: 0,
                payable_fen,
                over_quota_e4: 0,
                reward_fen: 0,
                exempt: false,
                provisional: false,
                inputs_json: "{}".into(),
                run_id: None,
                computed_at: at,
                superseded_at: None,
                is_current: true,
                registered_on: None,
            }],
        )
        .unwrap();
    }

    fn pay(conn: &mut AnyConnection, e: i64, fen: i64, paid_on: &str, recorded: NaiveDateTime) {
        let key = format!("k-{e}-{fen}-{paid_on}-{}", recorded.and_utc().timestamp());
        insert_payment(
            conn,
            &NewPayment {
                employer_id: e,
                levy_year: 2025,
                amount_fen: fen,
                paid_on: d(paid_on),
                reference: "BANK".into(),
                idempotency_key: key,
                request_digest: "d".into(),
                recorded_by: "test".into(),
                recorded_at: recorded,
            },
        )
        .unwrap();
    }

    #[test]
    fn declare_is_moot_once_the_declaration_is_filed_as_the_planner_defines_it() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let r = queued(
            &mut conn,
            e,
            ReminderKind::Declare,
            t("2025-10-24 01:00:00"),
        );
        let today = d("2025-10-25");
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            None,
            "nothing declared"
        );
        let draft = declaration(&mut conn, e, Status::Draft);
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            None,
            "a draft is not filed"
        );
        let submitted = set_status(&mut conn, &draft, Status::Submitted, "test").unwrap();
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Declared)
        );
        let certified = set_status(&mut conn, &submitted, Status::Certified, "test").unwrap();
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Declared)
        );
        set_status(&mut conn, &certified, Status::Amended, "test").unwrap();
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Declared)
        );
        // The same question the planner asks, with the same answer.
        assert!(declarations::filed_among(&mut conn, &[e], 2025)
            .unwrap()
            .contains(&e));
        assert!(declarations::filed_among(&mut conn, &[e], 2024)
            .unwrap()
            .is_empty());
        // One employer's filing answers its own reminder only.
        let other = employer(&mut conn, "91411200MA44XXXX2B");
        let r2 = queued(
            &mut conn,
            other,
            ReminderKind::Declare,
            t("2025-10-24 01:00:00"),
        );
        assert_eq!(
            check(&mut conn, &r2, today, SurchargeFrom::DueDate).unwrap(),
            None
        );
    }

    #[test]
    fn notice_published_is_never_moot() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        declaration(&mut conn, e, Status::Certified);
        let r = queued(
            &mut conn,
            e,
            ReminderKind::NoticePublished,
            t("2026-01-05 01:00:00"),
        );
        // Declared, never assessed: every other kind would be moot.
        assert_eq!(
            check(&mut conn, &r, d("2026-01-06"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        let mut unknown = r.clone();
        unknown.kind = "newsletter".into();
        assert_eq!(
            check(&mut conn, &unknown, d("2026-01-06"), SurchargeFrom::DueDate).unwrap(),
            None
        );
    }

    #[test]
    fn pay_is_moot_when_paid_in_full_or_nothing_is_payable() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let queued_at = t("2025-12-24 01:00:00");
        let today = d("2025-12-26");
        let r = queued(&mut conn, e, ReminderKind::Pay, queued_at);
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::NotPayable),
            "never assessed"
        );
        assessed(&mut conn, e, 1_000_000, queued_at - Duration::days(30));
        // Part paid before the mail was rendered: in its figures, still owed.
        pay(
            &mut conn,
            e,
            400_000,
            "2025-12-20",
            queued_at - Duration::days(1),
        );
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            None
        );
        // The rest, after: nothing is owed any more.
        pay(
            &mut conn,
            e,
            600_000,
            "2025-12-25",
            queued_at + Duration::days(1),
        );
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Paid)
        );
        // Re-assessed at zero (exempt after all): nothing payable.
        let e2 = employer(&mut conn, "91411200MA44XXXX2B");
        assessed(&mut conn, e2, 500_000, queued_at - Duration::days(30));
        let r2 = queued(&mut conn, e2, ReminderKind::Pay, queued_at);
        assert_eq!(
            check(&mut conn, &r2, today, SurchargeFrom::DueDate).unwrap(),
            None
        );
        assessed(&mut conn, e2, 0, queued_at + Duration::hours(1));
        assert_eq!(
            check(&mut conn, &r2, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::NotPayable)
        );
    }

    #[test]
    fn overdue_is_moot_only_once_the_surcharge_is_paid_too() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        assessed(&mut conn, e, 1_000_000, t("2025-11-01 00:00:00"));
        let queued_at = t("2026-01-30 01:00:00");
        let r = queued(&mut conn, e, ReminderKind::Overdue, queued_at);
        let today = d("2026-02-02");
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            None
        );
        // Principal paid on 2026-01-10, ten days late: 10,000.00 × 5‰ × 10 = 500.00 of
        // surcharge is still owed, so the reminder stays due...
        pay(
            &mut conn,
            e,
            1_000_000,
            "2026-01-10",
            queued_at - Duration::days(1),
        );
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            None
        );
        // ...until that is paid too.
        pay(
            &mut conn,
            e,
            50_000,
            "2026-02-01",
            queued_at + Duration::days(2),
        );
        assert_eq!(
            check(&mut conn, &r, today, SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Paid)
        );
    }

    #[test]
    fn overdue_is_superseded_by_a_payment_or_reassessment_it_does_not_show() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        assessed(&mut conn, e, 1_000_000, t("2025-11-01 00:00:00"));
        let queued_at = t("2026-01-30 01:00:00");
        let r = queued(&mut conn, e, ReminderKind::Overdue, queued_at);
        // Days pass (the server was down): the surcharge grows, but the mail states it
        // as of its own date and no payment is missing from it.
        assert_eq!(
            check(&mut conn, &r, d("2026-02-10"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        // A payment dated after the day of sending is not known on it (the statement's
        // rule): the mail is still true.
        pay(
            &mut conn,
            e,
            100_000,
            "2026-02-20",
            queued_at + Duration::hours(2),
        );
        assert_eq!(
            check(&mut conn, &r, d("2026-02-10"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        // Once that day comes, the mail's outstanding amount is wrong.
        assert_eq!(
            check(&mut conn, &r, d("2026-02-20"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Superseded)
        );
        // A re-assessment after queueing supersedes the mail too.
        let e2 = employer(&mut conn, "91411200MA44XXXX2B");
        assessed(&mut conn, e2, 1_000_000, t("2025-11-01 00:00:00"));
        let r2 = queued(&mut conn, e2, ReminderKind::Overdue, queued_at);
        assert_eq!(
            check(&mut conn, &r2, d("2026-02-01"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        assessed(&mut conn, e2, 900_000, queued_at + Duration::hours(1));
        assert_eq!(
            check(&mut conn, &r2, d("2026-02-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Superseded)
        );
        assert!(Moot::Superseded.releases_stage());
        assert!(!Moot::Paid.releases_stage() && !Moot::Declared.releases_stage());
    }

    #[test]
    fn a_superseded_reminder_gives_its_stage_up_and_the_fresh_one_is_sent() {
        use crate::mail::{run_pass, Mailer, MemoryTransport, PassConfig, Sender};
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        assessed(&mut conn, e, 1_000_000, t("2025-11-01 00:00:00"));
        let overdue = |body: &str| NewReminder {
            kind: ReminderKind::Overdue,
            employer_id: e,
            levy_year: 2025,
            stage: "overdue-30".into(),
            recipient: "hr@example.org".into(),
            subject: "s".into(),
            body_zh: body.into(),
            body_en: body.into(),
            act_by: None,
        };
        let queued_at = Utc::now().naive_utc() - Duration::minutes(5);
        assert!(outbox::enqueue_at(&mut conn, &overdue("10000.00"), queued_at).unwrap());
        pay(
            &mut conn,
            e,
            100_000,
            "2026-01-30",
            queued_at + Duration::minutes(1),
        );

        let settings = crate::config::Settings::load_from(None, Vec::new()).unwrap();
        let memory = MemoryTransport::new();
        let mailer = Mailer {
            transport: Arc::new(memory.clone()),
            sender: Sender::from_settings(&settings).unwrap(),
        };
        let cfg = PassConfig::from_settings(&settings.mail, "test");
        let now = Utc::now().naive_utc();
        let today = || d("2026-01-31");
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || now,
            &today,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!((r.cancelled, r.sent), (1, 0), "{r:?}");
        assert!(memory.sent().is_empty());
        let old = outbox::all(&mut conn).unwrap().remove(0);
        assert_eq!(old.status, outbox::CANCELLED);
        assert_eq!(old.stage, format!("overdue-30~superseded-{}", old.id));
        assert!(old
            .last_error
            .as_deref()
            .is_some_and(|m| m.starts_with("superseded")));

        // The stage is free: the planner's next pass queues it with today's figures,
        // and that one is sent.
        assert!(outbox::enqueue(&mut conn, &overdue("9000.00")).unwrap());
        let later = Utc::now().naive_utc() + Duration::seconds(1);
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || later,
            &today,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!((r.cancelled, r.sent), (0, 1), "{r:?}");
        assert!(memory.sent()[0].raw.contains("9000.00"));
        let c = outbox::counts(&mut conn).unwrap();
        assert_eq!((c.sent, c.cancelled), (1, 1));
    }
    #[test]
    fn a_declare_reminder_is_moot_once_the_deadline_it_states_has_passed() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let deadline = d("2025-10-31");
        let r = queued_by(
            &mut conn,
            e,
            ReminderKind::Declare,
            t("2025-10-24 01:00:00"),
            Some(deadline),
        );
        assert_eq!(r.act_by, Some(deadline), "stored and read back");
        assert_eq!(
            check(&mut conn, &r, d("2025-10-24"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        assert_eq!(
            check(&mut conn, &r, deadline, SurchargeFrom::DueDate).unwrap(),
            None,
            "still true on its last day"
        );
        let moot = check(&mut conn, &r, d("2025-11-01"), SurchargeFrom::DueDate).unwrap();
        assert_eq!(moot, Some(Moot::DeadlinePassed(deadline)));
        let reason = moot.map(Moot::reason).unwrap_or_default();
        assert!(
            reason.starts_with("cancelled") && reason.contains("2025-10-31"),
            "{reason}"
        );
        assert!(moot.is_some_and(|m| !m.releases_stage()));
        // Filed and past the deadline: either reason is true; the date needs no database.
        declaration(&mut conn, e, Status::Submitted);
        assert_eq!(
            check(&mut conn, &r, d("2026-12-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::DeadlinePassed(deadline))
        );
    }

    #[test]
    fn a_pay_reminder_is_moot_once_its_due_date_has_passed_though_still_owed() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let queued_at = t("2025-12-24 01:00:00");
        assessed(&mut conn, e, 1_000_000, queued_at - Duration::days(30));
        let due = d("2025-12-31");
        let r = queued_by(&mut conn, e, ReminderKind::Pay, queued_at, Some(due));
        assert_eq!(
            check(&mut conn, &r, due, SurchargeFrom::DueDate).unwrap(),
            None,
            "owed, due today"
        );
        assert_eq!(
            check(&mut conn, &r, d("2026-01-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::DuePassed(due))
        );
        // An overdue reminder names no date to act by: it stays true while owed.
        let o = queued(
            &mut conn,
            e,
            ReminderKind::Overdue,
            t("2026-01-05 01:00:00"),
        );
        assert_eq!(
            check(&mut conn, &o, d("2026-06-01"), SurchargeFrom::DueDate).unwrap(),
            None
        );
    }

    #[test]
    fn rows_queued_before_the_date_was_stored_are_judged_by_what_the_database_knows() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        // A declaration reminder of 2025 without a date: no filing deadline of 2025 is
        // later than the year's end, so in 2026 it is moot whatever the region's date.
        let r = queued(
            &mut conn,
            e,
            ReminderKind::Declare,
            t("2025-10-24 01:00:00"),
        );
        assert_eq!(
            check(&mut conn, &r, d("2025-12-31"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        assert_eq!(
            check(&mut conn, &r, d("2026-12-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::DeadlinePassed(d("2025-12-31")))
        );
        // A payment reminder without a date: its assessment's due date.
        let queued_at = t("2025-12-24 01:00:00");
        assessed(&mut conn, e, 1_000_000, queued_at - Duration::days(30));
        let p = queued(&mut conn, e, ReminderKind::Pay, queued_at);
        assert_eq!(
            check(&mut conn, &p, d("2025-12-31"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        assert_eq!(
            check(&mut conn, &p, d("2026-01-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::DuePassed(d("2025-12-31")))
        );
    }
    #[test]
    fn declare_overdue_is_moot_once_filed_and_has_no_date_to_pass() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let r = queued(
            &mut conn,
            e,
            ReminderKind::DeclareOverdue,
            t("2025-11-01 01:00:00"),
        );
        // Long after the deadline, and in a later year: still true while not filed.
        assert_eq!(
            check(&mut conn, &r, d("2026-12-01"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        let draft = declaration(&mut conn, e, Status::Draft);
        assert_eq!(
            check(&mut conn, &r, d("2026-12-01"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        set_status(&mut conn, &draft, Status::Submitted, "test").unwrap();
        assert_eq!(
            check(&mut conn, &r, d("2026-12-01"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Declared)
        );
    }
    #[test]
    fn an_overdue_mail_rendered_before_the_cap_is_superseded_once_it_is_reached() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        assessed(&mut conn, e, 1_000_000, t("2025-11-01 00:00:00"));
        // Due 2025-12-31: 5‰ a day reaches the principal on day 200, 2026-07-19; from
        // the next day the cap cuts it (the statement's `surcharge_capped`).
        let r = queued(
            &mut conn,
            e,
            ReminderKind::Overdue,
            t("2026-07-10 01:00:00"),
        );
        assert_eq!(
            check(&mut conn, &r, d("2026-07-19"), SurchargeFrom::DueDate).unwrap(),
            None
        );
        assert_eq!(
            check(&mut conn, &r, d("2026-07-20"), SurchargeFrom::DueDate).unwrap(),
            Some(Moot::Superseded)
        );
        // Rendered once capped: its text is the capped one, and stays true.
        let capped = queued(
            &mut conn,
            e,
            ReminderKind::Overdue,
            t("2026-07-21 01:00:00"),
        );
        assert_eq!(
            check(&mut conn, &capped, d("2026-08-30"), SurchargeFrom::DueDate).unwrap(),
            None
        );
    }
}
