//! The transactional outbox of email reminders.
//!
//! A reminder is a row, queued with [`enqueue`] inside the transaction of the event that
//! causes it, so that it exists exactly when the event does. Workers take rows with
//! [`claim`], which leases them (`locked_by`, `locked_until`) so that two workers, in
//! one process or in two `serve` processes on one PostgreSQL, never hold the same row:
//! PostgreSQL picks rows with `FOR UPDATE SKIP LOCKED`; SQLite has one writer at a time,
//! so the same `UPDATE … RETURNING` inside an IMMEDIATE transaction is enough. A worker
//! that dies mid-send leaves its lease to expire, and the row is taken again.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::outbox;
use super::{AnyConnection, DbError};

/// Row status: waiting to be sent (or retried).
pub const PENDING: &str = "pending";
/// Row status: accepted by the SMTP server.
pub const SENT: &str = "sent";
/// Row status: given up after too many refusals, or undeliverable.
pub const DEAD: &str = "dead";
/// Row status: not sent because its reason was gone when its turn came (the declaration
/// was filed, the levy paid, its figures changed, or the date it asks to act by passed);
/// `last_error` says which. Final:
/// [`requeue_dead`] leaves it alone.
pub const CANCELLED: &str = "cancelled";

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderKind {
    /// Declare before the filing deadline.
    Declare,
    /// Still not declared after the filing deadline (催报).
    DeclareOverdue,
    /// Pay before the due date.
    Pay,
    /// Overdue, with the surcharge so far.
    Overdue,
    /// A public notice naming the employer was published.
    NoticePublished,
    /// An employer registered with a contact address: a one-time link to choose the
    /// password of its account.
    Activation,
    /// The federation returned a submitted declaration to the employer, with a reason.
    DeclarationReturned,
    /// The federation approved the employer's over-quota reward (docs/rules.md §7).
    RewardApproved,
    /// The over-quota reward was paid out.
    RewardPaid,
    /// A public body without a disabled employee is asked to reserve a position
    /// (岗位预留, 三政〔2016〕23号 §3(1)).
    ReservePosition,
    /// The in-year forecast of an employer fell below a line it is warned about
    /// (docs/forecast.md).
    ForecastWarning,
    /// An administrator sent the employer's user a one-time link to choose a new
    /// password.
    PasswordReset,
}

impl ReminderKind {
    /// Every kind.
    pub const ALL: [ReminderKind; 12] = [
        ReminderKind::Declare,
        ReminderKind::DeclareOverdue,
        ReminderKind::Pay,
        ReminderKind::Overdue,
        ReminderKind::NoticePublished,
        ReminderKind::Activation,
        ReminderKind::DeclarationReturned,
        ReminderKind::RewardApproved,
        ReminderKind::RewardPaid,
        ReminderKind::ReservePosition,
        ReminderKind::ForecastWarning,
        ReminderKind::PasswordReset,
    ];

    /// The stored name (also the template name).
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Declare => "declare",
            ReminderKind::DeclareOverdue => "declare_overdue",
            ReminderKind::Pay => "pay",
            ReminderKind::Overdue => "overdue",
            ReminderKind::NoticePublished => "notice_published",
            ReminderKind::Activation => "activation",
            ReminderKind::DeclarationReturned => "declaration_returned",
            ReminderKind::RewardApproved => "reward_approved",
            ReminderKind::RewardPaid => "reward_paid",
            ReminderKind::ReservePosition => "reserve_position",
            ReminderKind::ForecastWarning => "forecast_warning",
            ReminderKind::PasswordReset => "password_reset",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<ReminderKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A reminder to queue: who gets what, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    /// What it is about.
    pub kind: ReminderKind,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// The step (`due-30d`, `overdue-1`, `notice-17`): with the employer, kind and year,
    /// it identifies the reminder; queueing the same one again does nothing.
    pub stage: String,
    /// The address.
    pub recipient: String,
    /// Subject line (Chinese, then English).
    pub subject: String,
    /// Chinese text.
    pub body_zh: String,
    /// English text.
    pub body_en: String,
    /// The date the text asks the employer to act by (a filing deadline, a payment due
    /// date), if it names one: once it has passed, the sender cancels the reminder
    /// rather than send a request that can no longer be met (`crate::mail::recheck`).
    pub act_by: Option<NaiveDate>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct InsertRow<'a> {
    kind: &'a str,
    employer_id: i64,
    levy_year: i32,
    stage: &'a str,
    recipient: &'a str,
    subject: &'a str,
    body_zh: &'a str,
    body_en: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    act_by: Option<NaiveDate>,
}

/// A stored reminder.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct Reminder {
    /// Row id (also the basis of the Message-ID).
    pub id: i64,
    /// `declare`, `declare_overdue`, `pay`, `overdue`, `notice_published`.
    pub kind: String,
    /// Employer row id.
    pub employer_id: i64,
    /// Levy year.
    pub levy_year: i32,
    /// Step.
    pub stage: String,
    /// Address.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Chinese text.
    pub body_zh: String,
    /// English text.
    pub body_en: String,
    /// `pending`, `sent`, `dead`, `cancelled`.
    pub status: String,
    /// Counted refusals so far.
    pub attempts: i32,
    /// Not to be sent before this (UTC).
    pub next_attempt_at: NaiveDateTime,
    /// The worker holding it.
    pub locked_by: Option<String>,
    /// Until when it is held (UTC).
    pub locked_until: Option<NaiveDateTime>,
    /// The last failure, or why the reminder was cancelled.
    pub last_error: Option<String>,
    /// Queued (UTC).
    pub created_at: NaiveDateTime,
    /// Accepted by the SMTP server (UTC).
    pub sent_at: Option<NaiveDateTime>,
    /// The date the text asks the employer to act by, if any ([`NewReminder::act_by`];
    /// `None` too on rows queued before it was recorded).
    pub act_by: Option<NaiveDate>,
}

/// Queues a reminder, due now. Call it inside the transaction of the event that causes
/// it. Returns false when the same reminder (employer, kind, levy year, stage) is
/// already queued or sent: that is a no-op, not an error.
pub fn enqueue(conn: &mut AnyConnection, r: &NewReminder) -> Result<bool, DbError> {
    enqueue_at(conn, r, Utc::now().naive_utc())
}

/// As [`enqueue`], at a given time.
pub fn enqueue_at(
    conn: &mut AnyConnection,
    r: &NewReminder,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let row = InsertRow {
        kind: r.kind.as_str(),
        employer_id: r.employer_id,
        levy_year: r.levy_year,
        stage: &r.stage,
        recipient: &r.recipient,
        subject: &r.subject,
        body_zh: &r.body_zh,
        body_en: &r.body_en,
        status: PENDING,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        act_by: r.act_by,
    };
    // Upserts do not compile on the MultiBackend; the same statement per backend does.
    let inserted = crate::per_backend!(&mut *conn, |c| diesel::insert_into(outbox::table)
        .values(&row)
        .on_conflict((
            outbox::employer_id,
            outbox::kind,
            outbox::levy_year,
            outbox::stage,
        ))
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Queues many reminders, due `now`, as [`enqueue_at`] queues one, and returns how many
/// were new (those already queued or sent are left as they are). On PostgreSQL several
/// rows a statement; on SQLite one cached prepared statement re-bound per row.
pub fn enqueue_many_at(
    conn: &mut AnyConnection,
    rows: &[NewReminder],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let insert_rows: Vec<InsertRow<'_>> = rows
        .iter()
        .map(|r| InsertRow {
            kind: r.kind.as_str(),
            employer_id: r.employer_id,
            levy_year: r.levy_year,
            stage: &r.stage,
            recipient: &r.recipient,
            subject: &r.subject,
            body_zh: &r.body_zh,
            body_en: &r.body_en,
            status: PENDING,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            act_by: r.act_by,
        })
        .collect();
    let mut inserted = 0;
    match conn {
        AnyConnection::Sqlite(c) => {
            for row in &insert_rows {
                inserted += diesel::insert_into(outbox::table)
                    .values(row)
                    .on_conflict((
                        outbox::employer_id,
                        outbox::kind,
                        outbox::levy_year,
                        outbox::stage,
                    ))
                    .do_nothing()
                    .execute(c)?;
            }
        }
        AnyConnection::Postgresql(c) => {
            for chunk in insert_rows.chunks(OUTBOX_ROWS_PER_STATEMENT) {
                inserted += diesel::insert_into(outbox::table)
                    .values(chunk)
                    .on_conflict((
                        outbox::employer_id,
                        outbox::kind,
                        outbox::levy_year,
                        outbox::stage,
                    ))
                    .do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(inserted)
}

/// Rows per multi-row insert into the outbox: 13 values each, far below PostgreSQL's
/// limit of bound parameters.
const OUTBOX_ROWS_PER_STATEMENT: usize = 500;

const RETURNED: &str = "id, kind, employer_id, levy_year, stage, recipient, subject, body_zh, \
     body_en, status, attempts, next_attempt_at, locked_by, locked_until, last_error, \
     created_at, sent_at, act_by";

/// Leases up to `batch` due reminders to `worker_id` until `now + lease`, oldest due
/// first. A row is due when pending, its time has come and no live lease holds it.
pub fn claim(
    conn: &mut AnyConnection,
    worker_id: &str,
    batch: i64,
    lease: chrono::Duration,
    now: NaiveDateTime,
) -> Result<Vec<Reminder>, DbError> {
    let until = now + lease;
    let mut rows = match conn {
        AnyConnection::Postgresql(c) => {
            // SKIP LOCKED: a concurrent claimer skips the rows this statement is taking
            // instead of waiting for them; a row it reaches after this one committed is
            // re-checked against the WHERE (now leased) and left out.
            let sql = format!(
                "UPDATE outbox SET locked_by = $1, locked_until = $2 \
                 WHERE id IN (SELECT id FROM outbox \
                     WHERE status = 'pending' AND next_attempt_at <= $3 \
                       AND (locked_until IS NULL OR locked_until <= $3) \
                     ORDER BY next_attempt_at, id LIMIT $4 \
                     FOR UPDATE SKIP LOCKED) \
                 RETURNING {RETURNED}"
            );
            diesel::sql_query(sql)
                .bind::<Text, _>(worker_id)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(batch)
                .load::<Reminder>(c)?
        }
        AnyConnection::Sqlite(c) => {
            // IMMEDIATE takes the write lock first (waiting up to the busy timeout), so
            // no other writer can change the rows between the SELECT and the UPDATE.
            let sql = format!(
                "UPDATE outbox SET locked_by = ?1, locked_until = ?2 \
                 WHERE id IN (SELECT id FROM outbox \
                     WHERE status = 'pending' AND next_attempt_at <= ?3 \
                       AND (locked_until IS NULL OR locked_until <= ?3) \
                     ORDER BY next_attempt_at, id LIMIT ?4) \
                 RETURNING {RETURNED}"
            );
            c.immediate_transaction(|c| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(worker_id)
                    .bind::<Timestamp, _>(until)
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(batch)
                    .load::<Reminder>(c)
            })?
        }
    };
    // RETURNING gives no order.
    rows.sort_by_key(|a| (a.next_attempt_at, a.id));
    Ok(rows)
}

/// The row `$id` while `$worker` still holds it: a change only lands while the lease
/// does.
macro_rules! held {
    ($id:expr, $worker:expr) => {
        outbox::table
            .filter(outbox::id.eq($id))
            .filter(outbox::locked_by.eq($worker))
            .filter(outbox::status.eq(PENDING))
    };
}

/// Marks a reminder sent. False when `worker_id` no longer holds it (its lease ran out
/// and another worker took it over).
pub fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    worker_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(held!(id, worker_id))
        .set((
            outbox::status.eq(SENT),
            outbox::sent_at.eq(Some(now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Puts a reminder back for a later attempt, releasing the lease. `attempts` is the new
/// count (unchanged when the server could not be reached).
pub fn mark_retry(
    conn: &mut AnyConnection,
    id: i64,
    worker_id: &str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(held!(id, worker_id))
        .set((
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::locked_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(clip(error))),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives a reminder up.
pub fn mark_dead(
    conn: &mut AnyConnection,
    id: i64,
    worker_id: &str,
    attempts: i32,
    error: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(held!(id, worker_id))
        .set((
            outbox::status.eq(DEAD),
            outbox::attempts.eq(attempts),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(clip(error))),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Cancels a reminder whose reason is gone, with `reason` kept in `last_error`. False
/// when `worker_id` no longer holds it.
///
/// With `release_stage`, the row also gives up its stage (it becomes
/// `STAGE~superseded-ID`), so that the planner may queue the same stage again: for a
/// reminder whose figures went stale, the employer still gets that stage once, with
/// figures that are true, instead of nothing until the next stage.
pub fn mark_cancelled(
    conn: &mut AnyConnection,
    r: &Reminder,
    worker_id: &str,
    reason: &str,
    release_stage: bool,
) -> Result<bool, DbError> {
    let stage = if release_stage {
        format!("{}~superseded-{}", r.stage, r.id)
    } else {
        r.stage.clone()
    };
    let n = diesel::update(held!(r.id, worker_id))
        .set((
            outbox::status.eq(CANCELLED),
            outbox::stage.eq(stage),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(clip(reason))),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Puts every dead reminder back to pending with no attempts, due now (after the cause,
/// such as wrong SMTP credentials, was fixed). Returns how many.
pub fn requeue_dead(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::update(outbox::table.filter(outbox::status.eq(DEAD)))
            .set((
                outbox::status.eq(PENDING),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::locked_by.eq(None::<String>),
                outbox::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    )
}

/// Number of reminders per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Waiting (or retrying).
    pub pending: i64,
    /// Sent.
    pub sent: i64,
    /// Given up.
    pub dead: i64,
    /// Not sent: the reason was gone.
    pub cancelled: i64,
}

/// Counts reminders by status.
pub fn counts(conn: &mut AnyConnection) -> Result<StatusCounts, DbError> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut c = StatusCounts::default();
    for (status, n) in rows {
        match status.as_str() {
            PENDING => c.pending = n,
            SENT => c.sent = n,
            DEAD => c.dead = n,
            CANCELLED => c.cancelled = n,
            _ => {}
        }
    }
    Ok(c)
}

/// Every reminder, in id order (tests and diagnostics; the table is small per year).
pub fn all(conn: &mut AnyConnection) -> Result<Vec<Reminder>, DbError> {
    Ok(outbox::table
        .order(outbox::id.asc())
        .select(Reminder::as_select())
        .load(conn)?)
}

/// Keeps stored errors short: an SMTP transcript can be long.
fn clip(error: &str) -> String {
    const MAX: usize = 500;
    if error.len() <= MAX {
        return error.to_owned();
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn db() -> (tempfile::TempDir, Db) {
        crate::db::test_support::temp_db()
    }

    fn employer(conn: &mut AnyConnection, uscc: &str) -> i64 {
        crate::db::test_support::employer(conn, uscc)
    }

    fn reminder(employer_id: i64, stage: &str) -> NewReminder {
        NewReminder {
            kind: ReminderKind::Pay,
            employer_id,
            levy_year: 2025,
            stage: stage.into(),
            recipient: "hr@example.org".into(),
            subject: "s".into(),
            body_zh: "中".into(),
            body_en: "en".into(),
            act_by: None,
        }
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn kinds_round_trip() {
        for k in ReminderKind::ALL {
            assert_eq!(ReminderKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ReminderKind::parse("spam"), None);
    }

    #[test]
    fn enqueue_is_idempotent_per_stage() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        assert!(enqueue(&mut conn, &reminder(e, "due-30d")).unwrap());
        assert!(!enqueue(&mut conn, &reminder(e, "due-30d")).unwrap());
        assert!(enqueue(&mut conn, &reminder(e, "due-7d")).unwrap());
        assert_eq!(all(&mut conn).unwrap().len(), 2);
    }

    #[test]
    fn enqueue_rolls_back_with_the_callers_transaction() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let r: Result<(), DbError> = crate::db::write_transaction(&mut conn, |c| {
            enqueue(c, &reminder(e, "due-30d"))?;
            Err(DbError::Task("the event failed".into()))
        });
        assert!(r.is_err());
        assert!(all(&mut conn).unwrap().is_empty());
    }

    #[test]
    fn claim_leases_and_respects_time_and_leases() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let t0 = t("2025-12-01 08:00:00");
        for s in ["a", "b", "c"] {
            enqueue_at(&mut conn, &reminder(e, s), t0).unwrap();
        }
        let lease = chrono::Duration::seconds(60);
        // Not yet due.
        assert!(claim(&mut conn, "w1", 10, lease, t0 - lease)
            .unwrap()
            .is_empty());
        let got = claim(&mut conn, "w1", 2, lease, t0).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|r| r.locked_by.as_deref() == Some("w1")));
        // The third only: the first two are leased.
        let other = claim(&mut conn, "w2", 10, lease, t0).unwrap();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].stage, "c");
        // w1's lease expires: w2 takes the rows over, and w1 can no longer mark them.
        let later = t0 + lease + chrono::Duration::seconds(1);
        let taken = claim(&mut conn, "w2", 10, lease, later).unwrap();
        assert_eq!(taken.len(), 3, "every lease has expired");
        assert!(!mark_sent(&mut conn, got[0].id, "w1", later).unwrap());
        assert!(mark_sent(&mut conn, got[0].id, "w2", later).unwrap());
        assert!(mark_retry(
            &mut conn,
            got[1].id,
            "w2",
            1,
            later + lease * 10,
            "451 try later"
        )
        .unwrap());
        assert!(mark_dead(&mut conn, other[0].id, "w2", 3, "550 no such user").unwrap());
        assert_eq!(
            counts(&mut conn).unwrap(),
            StatusCounts {
                pending: 1,
                sent: 1,
                dead: 1,
                cancelled: 0
            }
        );
        // Sent and dead rows are never claimed; the retry waits for its time.
        assert!(claim(&mut conn, "w3", 10, lease, later).unwrap().is_empty());
        assert_eq!(
            claim(&mut conn, "w3", 10, lease, later + lease * 10)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(requeue_dead(&mut conn, later).unwrap(), 1);
        assert_eq!(counts(&mut conn).unwrap().dead, 0);
    }

    #[test]
    fn cancelling_is_final_and_needs_the_lease() {
        let (_dir, db) = db();
        let mut conn = db.conn().unwrap();
        let e = employer(&mut conn, "91411200MA44XXXX1A");
        let t0 = t("2026-01-01 00:00:00");
        for s in ["moot", "stale"] {
            enqueue_at(&mut conn, &reminder(e, s), t0).unwrap();
        }
        let lease = chrono::Duration::seconds(60);
        let got = claim(&mut conn, "w1", 10, lease, t0).unwrap();
        assert!(!mark_cancelled(&mut conn, &got[0], "w2", "paid", false).unwrap());
        assert!(mark_cancelled(&mut conn, &got[0], "w1", "paid", false).unwrap());
        assert!(mark_cancelled(&mut conn, &got[1], "w1", "superseded", true).unwrap());
        let rows = all(&mut conn).unwrap();
        assert_eq!(rows[0].stage, "moot");
        assert_eq!(rows[0].last_error.as_deref(), Some("paid"));
        assert_eq!(rows[1].stage, format!("stale~superseded-{}", rows[1].id));
        assert!(rows.iter().all(|r| r.status == CANCELLED));
        assert_eq!(
            counts(&mut conn).unwrap(),
            StatusCounts {
                pending: 0,
                sent: 0,
                dead: 0,
                cancelled: 2
            }
        );
        // The moot one keeps its stage (queueing it again is a no-op); the stale one
        // gave it up.
        assert!(!enqueue_at(&mut conn, &reminder(e, "moot"), t0).unwrap());
        assert!(enqueue_at(&mut conn, &reminder(e, "stale"), t0).unwrap());
        assert_eq!(requeue_dead(&mut conn, t0).unwrap(), 0);
        let later = t0 + lease * 2;
        let again = claim(&mut conn, "w3", 10, lease, later).unwrap();
        assert_eq!(again.len(), 1, "only the fresh one");
        assert_eq!(again[0].stage, "stale");
    }

    #[test]
    fn long_errors_are_clipped_on_a_char_boundary() {
        let long = "错".repeat(400);
        let c = clip(&long);
        assert!(c.len() <= 504 && c.ends_with('…'));
    }
}

/// The outbox at a glance, for `GET /metrics`.
#[derive(Debug, Clone, Default)]
pub struct OutboxHealth {
    /// Reminders by status (`pending`, `sent`, `dead`).
    pub by_status: Vec<(String, i64)>,
    /// When the oldest pending reminder was queued.
    pub oldest_pending: Option<NaiveDateTime>,
    /// Refusals by the mail server so far of the reminders pending or given up.
    pub failed_attempts: i64,
}

/// Counts the outbox by status, the oldest pending reminder and the failed attempts of
/// those not sent: three aggregate statements (the pending ones by `outbox_due`).
pub fn health(conn: &mut AnyConnection) -> Result<OutboxHealth, DbError> {
    use diesel::dsl::{count_star, min, sum};
    let by_status: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, count_star()))
        .load(conn)?;
    let oldest_pending: Option<NaiveDateTime> = outbox::table
        .filter(outbox::status.eq(PENDING))
        .select(min(outbox::created_at))
        .first(conn)?;
    let failed: Option<i64> = outbox::table
        .filter(outbox::status.ne(SENT))
        .select(sum(outbox::attempts))
        .first(conn)?;
    Ok(OutboxHealth {
        by_status,
        oldest_pending,
        failed_attempts: failed.unwrap_or(0),
    })
}
