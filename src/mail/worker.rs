//! One sending pass over the outbox: claim due reminders, send each, record the outcome,
//! until nothing is due.
//!
//! - Before sending, each reminder is checked against the database
//!   ([`super::recheck::check`]) on the day in China: one whose reason is gone (declared,
//!   paid, figures stale, the date it asks to act by passed) is marked cancelled, not
//!   sent. A check that fails (the database) puts the
//!   reminder back without counting an attempt, as an unreachable server does.
//! - Sent: recorded at once, one row at a time, so that a crash re-sends at most the
//!   message in flight (which then carries the same Message-ID).
//! - The server is unreachable: this reminder and the rest of the batch go back to
//!   pending, due again after `backoff_base_secs`, without counting an attempt, and the
//!   pass ends: an outage of any length loses nothing.
//! - The server refuses: the attempt counts; the reminder is retried after
//!   `backoff_base_secs × 2^(attempts−1)` (at most `backoff_max_secs`), and is dead
//!   after `max_attempts`.
//! - Undeliverable (not an address): dead at once.
//!
//! Blocking (diesel and the SMTP client): run it on a thread of its own or through
//! `spawn_blocking`, never on the async executor.

use chrono::{NaiveDate, NaiveDateTime};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::message::Sender;
use super::transport::{MailTransport, SendError};
use crate::config::MailSettings;
use crate::db::outbox;
use crate::db::{Db, DbError};

/// A transport and the sender identity: what a worker sends with.
#[derive(Clone)]
pub struct Mailer {
    /// Where messages go.
    pub transport: Arc<dyn MailTransport>,
    /// From address and Message-ID domain.
    pub sender: Sender,
}

/// How a pass behaves, from `[mail]`.
#[derive(Debug, Clone)]
pub struct PassConfig {
    /// This worker's name in `locked_by` (unique per process and thread).
    pub worker_id: String,
    /// Reminders claimed at a time.
    pub batch: i64,
    /// Lease of a claim.
    pub lease: chrono::Duration,
    /// Counted attempts before dead.
    pub max_attempts: i32,
    /// First retry delay.
    pub backoff_base: chrono::Duration,
    /// Longest retry delay.
    pub backoff_max: chrono::Duration,
    /// When the surcharge starts (`collection.surcharge_from`), for the check of a pay
    /// or overdue mail before it is sent: what is still owed is the statement's.
    pub surcharge_from: crate::config::SurchargeFrom,
}

impl PassConfig {
    /// From settings, with a worker name made unique by host, process id and a random
    /// suffix (two threads of one process each need their own).
    pub fn from_settings(mail: &MailSettings, label: &str) -> PassConfig {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        PassConfig {
            worker_id: format!(
                "{label}@{host}:{}:{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            batch: i64::from(mail.batch_size),
            lease: secs(mail.lease_secs),
            max_attempts: i32::try_from(mail.max_attempts).unwrap_or(i32::MAX),
            backoff_base: secs(mail.backoff_base_secs),
            backoff_max: secs(mail.backoff_max_secs),
            surcharge_from: crate::config::SurchargeFrom::DueDate,
        }
    }

    /// The same, checking pay and overdue mails under `trigger` (from `[collection]`,
    /// which the mail settings do not hold).
    pub fn with_surcharge_from(mut self, trigger: crate::config::SurchargeFrom) -> PassConfig {
        self.surcharge_from = trigger;
        self
    }

    /// The retry delay after `attempts` counted attempts (≥ 1).
    pub fn backoff(&self, attempts: i32) -> chrono::Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let delay = self
            .backoff_base
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.backoff_max);
        delay.min(self.backoff_max)
    }
}

fn secs(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Reminders claimed.
    pub claimed: u64,
    /// Accepted by the server.
    pub sent: u64,
    /// Refused, to be retried later.
    pub retrying: u64,
    /// Put back without counting an attempt: the server was unreachable, or the check
    /// before sending could not read the database.
    pub deferred: u64,
    /// Not sent because the reason was gone (marked cancelled).
    pub cancelled: u64,
    /// Given up.
    pub dead: u64,
    /// Sent, but the lease had passed to another worker before it was recorded.
    pub lease_lost: u64,
    /// The server could not be reached (the pass stopped early).
    pub unreachable: bool,
}

/// Runs one pass: claims and sends until nothing is due, the server is unreachable, or
/// `stop` is set. `now` is the clock of the queue (UTC: leases, retries); `today` the
/// date in China the checks before sending judge by (`crate::clock::china_today` in
/// service). Both are given so that tests can move them: rows queued now can be sent
/// "on" a day of the levy year they test.
pub fn run_pass(
    db: &Db,
    mailer: &Mailer,
    cfg: &PassConfig,
    now: &dyn Fn() -> NaiveDateTime,
    today: &dyn Fn() -> NaiveDate,
    stop: &AtomicBool,
) -> Result<PassReport, DbError> {
    let mut report = PassReport::default();
    let mut conn = db.conn()?;
    while !stop.load(Ordering::Relaxed) {
        let batch = outbox::claim(&mut conn, &cfg.worker_id, cfg.batch, cfg.lease, now())?;
        if batch.is_empty() {
            break;
        }
        report.claimed += batch.len() as u64;
        for (i, r) in batch.iter().enumerate() {
            match super::recheck::check(&mut conn, r, today(), cfg.surcharge_from) {
                Ok(None) => {}
                Ok(Some(moot)) => {
                    if outbox::mark_cancelled(
                        &mut conn,
                        r,
                        &cfg.worker_id,
                        &moot.reason(),
                        moot.releases_stage(),
                    )? {
                        report.cancelled += 1;
                        tracing::info!(reminder = r.id, kind = %r.kind, reason = ?moot, "reminder cancelled: its reason is gone");
                    }
                    continue;
                }
                Err(e) => {
                    // Not counted, and only this reminder: the message is not at fault,
                    // and the next one may be checked fine. If the database is gone, the
                    // retry below fails too and the pass ends; the leases then expire,
                    // and the reminders are taken again.
                    tracing::warn!(reminder = r.id, error = %e, "check before sending failed; reminder kept for later");
                    let at = now() + cfg.backoff_base;
                    let why = format!("check before sending failed: {e}");
                    if outbox::mark_retry(&mut conn, r.id, &cfg.worker_id, r.attempts, at, &why)? {
                        report.deferred += 1;
                    }
                    continue;
                }
            }
            let result = mailer
                .sender
                .build(r)
                .and_then(|m| mailer.transport.send(&m));
            match result {
                Ok(()) => {
                    if outbox::mark_sent(&mut conn, r.id, &cfg.worker_id, now())? {
                        report.sent += 1;
                    } else {
                        report.lease_lost += 1;
                        tracing::warn!(
                            reminder = r.id,
                            "reminder sent after its lease passed to another worker"
                        );
                    }
                }
                Err(SendError::Unreachable(e)) => {
                    tracing::warn!(error = %e, "mail server unreachable; reminders kept for later");
                    let at = now() + cfg.backoff_base;
                    for rest in &batch[i..] {
                        // Not counted: the message is not at fault.
                        if outbox::mark_retry(
                            &mut conn,
                            rest.id,
                            &cfg.worker_id,
                            rest.attempts,
                            at,
                            &e,
                        )? {
                            report.deferred += 1;
                        }
                    }
                    report.unreachable = true;
                    return Ok(report);
                }
                Err(SendError::Refused(e)) => {
                    let attempts = r.attempts.saturating_add(1);
                    if attempts >= cfg.max_attempts {
                        tracing::warn!(reminder = r.id, attempts, error = %e, "reminder dead after refusals");
                        if outbox::mark_dead(&mut conn, r.id, &cfg.worker_id, attempts, &e)? {
                            report.dead += 1;
                        }
                    } else {
                        let at = now() + cfg.backoff(attempts);
                        tracing::info!(reminder = r.id, attempts, error = %e, retry_at = %at, "reminder refused; will retry");
                        if outbox::mark_retry(&mut conn, r.id, &cfg.worker_id, attempts, at, &e)? {
                            report.retrying += 1;
                        }
                    }
                }
                Err(SendError::Invalid(e)) => {
                    tracing::warn!(reminder = r.id, error = %e, "reminder undeliverable");
                    if outbox::mark_dead(&mut conn, r.id, &cfg.worker_id, r.attempts, &e)? {
                        report.dead += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::outbox::{NewReminder, ReminderKind};
    use crate::mail::transport::MemoryTransport;
    use chrono::Utc;

    /// The day the checks before sending judge by: the queued rows are declaration
    /// reminders of 2025, true until its filing deadline.
    fn season() -> NaiveDate {
        "2025-10-20".parse().unwrap()
    }

    fn setup(n: usize) -> (tempfile::TempDir, Db, MemoryTransport, Mailer, PassConfig) {
        let (dir, db) = crate::db::test_support::temp_db();
        let settings = crate::config::Settings::load_from(None, Vec::new()).unwrap();
        let mut conn = db.conn().unwrap();
        let e_id = crate::db::test_support::employer(&mut conn, "91411200MA44XXXX1A");
        for i in 0..n {
            outbox::enqueue(
                &mut conn,
                &NewReminder {
                    kind: ReminderKind::Declare,
                    employer_id: e_id,
                    levy_year: 2025,
                    stage: format!("s{i}"),
                    recipient: "hr@example.org".into(),
                    subject: "subject".into(),
                    body_zh: "中文".into(),
                    body_en: "English".into(),
                    act_by: None,
                },
            )
            .unwrap();
        }
        let memory = MemoryTransport::new();
        let mailer = Mailer {
            transport: Arc::new(memory.clone()),
            sender: Sender::from_settings(&settings).unwrap(),
        };
        let mut cfg = PassConfig::from_settings(&settings.mail, "test");
        cfg.batch = 2;
        cfg.max_attempts = 3;
        (dir, db, memory, mailer, cfg)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = crate::config::Settings::load_from(None, Vec::new()).unwrap();
        let cfg = PassConfig::from_settings(&s.mail, "t");
        assert_eq!(cfg.backoff(1).num_seconds(), 60);
        assert_eq!(cfg.backoff(2).num_seconds(), 120);
        assert_eq!(cfg.backoff(5).num_seconds(), 960);
        assert_eq!(cfg.backoff(40).num_seconds(), 21600);
    }

    #[test]
    fn sends_everything_due_in_batches() {
        let (_d, db, memory, mailer, cfg) = setup(5);
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &|| Utc::now().naive_utc(),
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!((r.claimed, r.sent), (5, 5));
        assert_eq!(memory.sent().len(), 5);
        let again = run_pass(
            &db,
            &mailer,
            &cfg,
            &|| Utc::now().naive_utc(),
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(again.claimed, 0);
    }

    #[test]
    fn unreachable_server_defers_without_counting_then_delivers() {
        let (_d, db, memory, mailer, cfg) = setup(3);
        memory.fail_with(Some(SendError::Unreachable("connection refused".into())));
        let t0 = Utc::now().naive_utc();
        let clock = move || t0;
        let r = run_pass(&db, &mailer, &cfg, &clock, &season, &AtomicBool::new(false)).unwrap();
        assert!(r.unreachable);
        assert_eq!((r.claimed, r.deferred, r.sent), (2, 2, 0));
        let rows = outbox::all(&mut db.conn().unwrap()).unwrap();
        assert!(rows
            .iter()
            .all(|r| r.status == outbox::PENDING && r.attempts == 0 && r.locked_by.is_none()));
        memory.fail_with(None);
        let later = t0 + cfg.backoff_base;
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || later,
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(r.sent, 3);
        assert_eq!(memory.sent().len(), 3);
    }

    fn employer_of_the_queue(db: &Db) -> i64 {
        outbox::all(&mut db.conn().unwrap()).unwrap()[0].employer_id
    }

    #[test]
    fn reminders_whose_reason_is_gone_are_cancelled_not_sent() {
        let (_d, db, memory, mailer, cfg) = setup(2);
        let declared = employer_of_the_queue(&db);
        let mut conn = db.conn().unwrap();
        // A second employer, still undeclared: its reminder is the control.
        let now = Utc::now().naive_utc();
        let undeclared = crate::db::employers::insert(
            &mut conn,
            &crate::db::employers::NewEmployer {
                uscc: "91411200MA44XXXX2B".into(),
                name: "未申报单位".into(),
                kind: "enterprise".into(),
                region: "411200".into(),
                registered_on: None,
                contact_email: Some("late@example.org".into()),
                establishment_size: None,
                committee_member: false,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .unwrap()
        .unwrap()
        .id;
        outbox::enqueue(
            &mut conn,
            &NewReminder {
                kind: ReminderKind::Declare,
                employer_id: undeclared,
                levy_year: 2025,
                stage: "s0".into(),
                recipient: "late@example.org".into(),
                subject: "subject".into(),
                body_zh: "中文".into(),
                body_en: "English".into(),
                act_by: None,
            },
        )
        .unwrap();
        // The first employer declares after its reminders were queued.
        crate::db::declarations::save(
            &mut conn,
            None,
            crate::db::declarations::NewVersion {
                employer_id: declared,
                levy_year: 2025,
                body_json: "{}",
                body_digest: "test",
                status: crate::db::declarations::Status::Submitted,
                actor: "test",
                roster: Vec::new(),
            },
        )
        .unwrap();

        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &|| Utc::now().naive_utc(),
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!((r.claimed, r.cancelled, r.sent), (3, 2, 1), "{r:?}");
        let sent = memory.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].to,
            vec!["late@example.org".to_owned()],
            "only the control"
        );
        for row in outbox::all(&mut conn).unwrap() {
            if row.employer_id == declared {
                assert_eq!(row.status, outbox::CANCELLED);
                assert!(row.sent_at.is_none());
                assert!(row
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("declaration was filed")));
                assert!(
                    row.stage.starts_with('s') && !row.stage.contains("superseded"),
                    "a moot reminder keeps its stage: {}",
                    row.stage
                );
            } else {
                assert_eq!(row.status, outbox::SENT);
            }
        }
        let c = outbox::counts(&mut conn).unwrap();
        assert_eq!((c.pending, c.sent, c.dead, c.cancelled), (0, 1, 0, 2));
        // Final: neither sent later nor requeued.
        assert_eq!(outbox::requeue_dead(&mut conn, now).unwrap(), 0);
        let later = Utc::now().naive_utc() + chrono::Duration::days(1);
        let again = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || later,
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(again.claimed, 0);
    }

    #[test]
    fn a_check_that_cannot_read_the_database_keeps_the_reminder_for_later() {
        let (_d, db, memory, mailer, cfg) = setup(1);
        let mut conn = db.conn().unwrap();
        use diesel::RunQueryDsl;
        // The check reads declarations; without the table its query fails as it would
        // with the database in trouble, while the outbox itself still works.
        diesel::sql_query("ALTER TABLE declarations RENAME TO declarations_away")
            .execute(&mut *conn)
            .unwrap();
        let t0 = Utc::now().naive_utc();
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || t0,
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!((r.claimed, r.deferred, r.sent, r.cancelled), (1, 1, 0, 0));
        assert!(memory.sent().is_empty());
        let row = &outbox::all(&mut conn).unwrap()[0];
        assert_eq!(row.status, outbox::PENDING);
        assert_eq!(row.attempts, 0, "not the message's fault");
        assert!(row.locked_by.is_none());
        assert_eq!(row.next_attempt_at, t0 + cfg.backoff_base);
        assert!(row
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("check before sending failed")));

        diesel::sql_query("ALTER TABLE declarations_away RENAME TO declarations")
            .execute(&mut *conn)
            .unwrap();
        let later = t0 + cfg.backoff_base;
        let r = run_pass(
            &db,
            &mailer,
            &cfg,
            &move || later,
            &season,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(r.sent, 1);
        assert_eq!(memory.sent().len(), 1);
    }

    #[test]
    fn refusals_back_off_and_die_after_max_attempts() {
        let (_d, db, memory, mailer, cfg) = setup(1);
        memory.fail_with(Some(SendError::Refused("451 busy".into())));
        let mut t = Utc::now().naive_utc();
        let stop = AtomicBool::new(false);
        for attempt in 1..=3 {
            let at = t;
            let r = run_pass(&db, &mailer, &cfg, &move || at, &season, &stop).unwrap();
            let row = &outbox::all(&mut db.conn().unwrap()).unwrap()[0];
            assert_eq!(row.attempts, attempt);
            if attempt < 3 {
                assert_eq!(r.retrying, 1);
                assert_eq!(row.next_attempt_at, t + cfg.backoff(attempt));
                // Not before its time.
                let early = t + cfg.backoff(attempt) - chrono::Duration::seconds(1);
                let r = run_pass(&db, &mailer, &cfg, &move || early, &season, &stop).unwrap();
                assert_eq!(r.claimed, 0);
                t += cfg.backoff(attempt);
            } else {
                assert_eq!(r.dead, 1);
                assert_eq!(row.status, outbox::DEAD);
                assert_eq!(row.last_error.as_deref(), Some("451 busy"));
            }
        }
    }
}
