//! Reminder passes: planning (which reminders are due today, queued in the outbox) and
//! the background worker of `serve` that plans daily-ish and sends what is due; plus the
//! `quota-levy reminders …` commands.

use chrono::{Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::{ForecastSettings, PaymentDirectory, Settings, SurchargeFrom};
use crate::db::outbox::{self, ReminderKind};
use crate::db::{AnyConnection, Db, DbError};
use crate::domain::money::from_fen;
use crate::domain::{LevyYear, PolicyProvider, RegionCode, ResolvedPolicy};
use crate::mail::plan::{self, EmployerFacts, LevyFacts, RegionTerms, Schedule};
use crate::mail::{Mailer, PassConfig, PassReport, SendError, TemplateError, Templates};
use crate::policy::PolicyBook;

/// Employers planned per transaction.
const CHUNK: i64 = 1_000;

/// Why reminders could not be planned or sent.
#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A template is bad.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The mail settings cannot make a transport or sender.
    #[error(transparent)]
    Mail(#[from] SendError),
}

impl From<diesel::result::Error> for ReminderError {
    fn from(e: diesel::result::Error) -> Self {
        ReminderError::Db(e.into())
    }
}

pub use crate::clock::china_today;
use crate::clock::Clock;

/// What a planning pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanReport {
    /// Employers with a contact address looked at.
    pub employers: u64,
    /// Newly queued, per kind.
    pub queued: BTreeMap<&'static str, u64>,
    /// Due but already queued earlier (no-op).
    pub already_queued: u64,
    /// Regions whose dates could not be resolved (nothing planned there), with why.
    pub unresolved: BTreeMap<String, String>,
}

impl PlanReport {
    /// Newly queued, all kinds.
    pub fn total_queued(&self) -> u64 {
        self.queued.values().sum()
    }
}

fn terms_of(
    book: &PolicyBook,
    code: RegionCode,
    p: &ResolvedPolicy,
    trigger: SurchargeFrom,
) -> RegionTerms {
    let (name_zh, name_en) = book.region_names(code);
    RegionTerms {
        name_zh,
        name_en,
        filing_deadline: p.filing_deadline.value,
        payment_due: p.payment_due.value,
        surcharge: p.surcharge.value.clone(),
        surcharge_from: trigger,
    }
}

/// The dates of a region from the packs in force on `as_of` (declaration reminders).
fn resolve_terms(
    book: &PolicyBook,
    region: &str,
    levy_year: i32,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<RegionTerms, String> {
    let code: RegionCode = region.parse().map_err(|e| format!("{e}"))?;
    let p = book
        .resolve(code, as_of, levy_year - 1)
        .map_err(|e| e.to_string())?;
    Ok(terms_of(book, code, &p, trigger))
}

/// The due date and surcharge rule an assessment used: those of its policy snapshot, as
/// the statement (`crate::registry::payments::statement`) reads them, so that the
/// figures of a mail are the statement's.
fn snapshot_terms(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    snapshot_id: i64,
    trigger: SurchargeFrom,
) -> Result<Result<RegionTerms, String>, DbError> {
    let json = crate::db::assessments::snapshot_json(conn, snapshot_id)?;
    Ok(serde_json::from_str::<ResolvedPolicy>(&json)
        .map(|p| terms_of(book, p.region, &p, trigger))
        .map_err(|e| format!("policy snapshot {snapshot_id} is unreadable: {e}")))
}

/// Plans the reminders of `levy_year` due on `as_of` and queues them, one transaction
/// per chunk of employers. Idempotent: what is already queued stays as it is.
///
/// Payment and overdue figures are the statement's: the principal is the current
/// assessment's levy payable, the payments are those recorded for the year, and the due
/// date and surcharge rule are those of the assessment's policy snapshot, and the
/// surcharge starts as `trigger` (`collection.surcharge_from`) says, as on the statement.
#[allow(clippy::too_many_arguments)]
pub fn plan_reminders(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    templates: &Templates,
    payment: &PaymentDirectory,
    schedule: &Schedule,
    levy_year: i32,
    as_of: NaiveDate,
    trigger: SurchargeFrom,
) -> Result<PlanReport, ReminderError> {
    let mut report = PlanReport::default();
    let mut terms: HashMap<String, Option<RegionTerms>> = HashMap::new();
    let mut snapshots: HashMap<i64, Option<RegionTerms>> = HashMap::new();
    let mut after = 0_i64;
    loop {
        let chunk = crate::db::employers::with_email_after(conn, after, CHUNK)?;
        let Some(last) = chunk.last() else {
            break;
        };
        after = last.id;
        // Before the facts are read: a reminder's `created_at` must not be later than
        // what it was rendered from, or the sender's check would miss a payment recorded
        // in between (crate::mail::recheck).
        let read_at = Utc::now().naive_utc();
        let ids: Vec<i64> = chunk.iter().map(|e| e.id).collect();
        let declared: HashSet<i64> = crate::db::declarations::filed_among(conn, &ids, levy_year)?;
        let levies = crate::db::assessments::current_levies(conn, levy_year, &ids)?;
        let mut paid = crate::db::payments::of_employers(conn, levy_year, &ids, None)?;
        // docs/rules.md §6a: an approved deferral moves the due date (no overdue mail
        // until it passes), an approved reduction lowers the principal.
        let reliefs = crate::registry::hardship::reliefs(conn, levy_year, &ids)?;
        // 岗位预留 (三政〔2016〕23号 §3(1); docs/rules.md §8): a public body whose
        // assessment counts no disabled employee, and that has no position reserved
        // (published and open, or awaiting review), is asked to reserve one.
        let no_disabled =
            crate::db::positions::public_bodies_without_disabled_among(conn, levy_year, &ids)?;
        let reserved = crate::db::positions::reserved_among(conn, &ids, as_of)?;
        let deadlines = match trigger {
            SurchargeFrom::DueDate => HashMap::new(),
            SurchargeFrom::WrittenDemand => {
                crate::db::demands::first_deadlines(conn, levy_year, &ids, as_of)?
            }
        };
        for (snapshot, _) in levies.values() {
            if !snapshots.contains_key(snapshot) {
                let t = match snapshot_terms(conn, book, *snapshot, trigger)? {
                    Ok(t) => Some(t),
                    Err(why) => {
                        report
                            .unresolved
                            .insert(format!("snapshot {snapshot}"), why);
                        None
                    }
                };
                snapshots.insert(*snapshot, t);
            }
        }

        let mut rows = Vec::new();
        for e in &chunk {
            report.employers += 1;
            let levy = levies.get(&e.id);
            let declare_terms = terms
                .entry(e.region.clone())
                .or_insert_with(|| {
                    resolve_terms(book, &e.region, levy_year, as_of, trigger)
                        .map_err(|why| {
                            report.unresolved.insert(e.region.clone(), why);
                        })
                        .ok()
                })
                .clone();
            let relief = reliefs.get(&e.id);
            let levy_terms = levy
                .and_then(|(s, _)| snapshots.get(s).cloned().flatten())
                .map(|mut t| {
                    if let Some(r) = relief {
                        t.payment_due = r.due(t.payment_due);
                    }
                    t
                });
            let facts = EmployerFacts {
                employer_id: e.id,
                uscc: e.uscc.clone(),
                name: e.name.clone(),
                region: e.region.clone(),
                contact_email: e.contact_email.clone(),
                declared: declared.contains(&e.id),
                in_levy_year: e.registered_on.is_none_or(|d| d.year() <= levy_year),
                levy: levy.map(|(_, fen)| LevyFacts {
                    principal: relief.map_or(from_fen(*fen), |r| r.principal(from_fen(*fen))),
                    payments: paid.remove(&e.id).unwrap_or_default(),
                    first_demand_deadline: deadlines.get(&e.id).copied(),
                }),
            };
            for planned in plan::plan_employer(
                schedule,
                as_of,
                &facts,
                declare_terms.as_ref(),
                levy_terms.as_ref(),
            ) {
                let shown = match planned.kind() {
                    ReminderKind::Declare | ReminderKind::DeclareOverdue => declare_terms.as_ref(),
                    _ => levy_terms.as_ref(),
                };
                if let Some(t) = shown {
                    if let Some(r) =
                        plan::render(templates, payment, levy_year, &facts, t, &planned)?
                    {
                        rows.push(r);
                    }
                }
            }
            if no_disabled.contains(&e.id) && !reserved.contains(&e.id) {
                // Once a levy year: the stage is the year's (plan::reserve_position).
                if let Some(r) = plan::reserve_position(templates, e, levy_year)? {
                    rows.push(r);
                }
            }
        }
        let (queued, already) = crate::db::write_transaction(conn, |c| {
            let mut queued: BTreeMap<&'static str, u64> = BTreeMap::new();
            let mut already = 0_u64;
            for r in &rows {
                if outbox::enqueue_at(c, r, read_at)? {
                    *queued.entry(r.kind.as_str()).or_default() += 1;
                } else {
                    already += 1;
                }
            }
            Ok::<_, DbError>((queued, already))
        })?;
        for (k, n) in queued {
            *report.queued.entry(k).or_default() += n;
        }
        report.already_queued += already;
    }
    Ok(report)
}

/// Queues the mails published notices still owe (docs/notices.md, "Mails"): one short
/// query when none does, so the worker runs it at every poll and a notice's mails go out
/// within one poll of its publication.
pub fn plan_notice_mails(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    templates: &Templates,
) -> Result<crate::registry::notices::MailPlan, ReminderError> {
    crate::registry::notices::plan_mails(conn, book, templates, None).map_err(|e| match e {
        crate::registry::notices::PublishError::Db(d) => ReminderError::Db(d),
        other => ReminderError::Db(DbError::Task(format!("notice mails: {other}"))),
    })
}

/// The forecast warning step (docs/forecast.md): the stored forecasts of `year` below a
/// line of `[forecast] warn_on` are mailed, once per employer, year and line.
pub fn warn_forecasts(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    templates: &Templates,
    settings: &ForecastSettings,
    year: i32,
) -> Result<crate::registry::forecasts::WarnReport, ReminderError> {
    crate::registry::forecasts::warn(
        conn,
        book,
        templates,
        &settings.lines(),
        settings.warn_from_month,
        year,
    )
    .map_err(|e| match e {
        crate::registry::forecasts::WarnError::Db(d) => ReminderError::Db(d),
        crate::registry::forecasts::WarnError::Template(t) => ReminderError::Template(t),
    })
}

/// The background worker of `serve`: plans every `plan_interval_secs` (for the current
/// and the previous levy year, whose overdue reminders run into this one) and sends
/// what is due every `poll_interval_secs`, on a thread of its own so that neither diesel
/// nor the blocking SMTP client ever runs on the async executor.
pub struct ReminderWorker {
    stop: Arc<AtomicBool>,
    wake: Arc<(Mutex<()>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReminderWorker {
    /// Starts the worker; fails at once on bad templates or mail settings.
    pub fn start(
        db: Db,
        book: Arc<PolicyBook>,
        settings: &crate::config::Settings,
        clock: Clock,
    ) -> Result<ReminderWorker, ReminderError> {
        let templates = Templates::from_settings(&settings.mail)?;
        let mailer = crate::mail::mailer_from_settings(settings)?;
        Self::start_with(db, book, settings, templates, mailer, clock)
    }

    /// Starts the worker with the given templates and mailer (tests).
    pub fn start_with(
        db: Db,
        book: Arc<PolicyBook>,
        settings: &Settings,
        templates: Templates,
        mailer: Mailer,
        clock: Clock,
    ) -> Result<ReminderWorker, ReminderError> {
        let (mail, trigger) = (&settings.mail, settings.collection.surcharge_from);
        let forecast = settings.forecast.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new((Mutex::new(()), Condvar::new()));
        let cfg = PassConfig::from_settings(mail, "serve").with_surcharge_from(trigger);
        let schedule = Schedule::from_settings(mail);
        let payment = mail.payment.clone();
        let poll = Duration::from_secs(mail.poll_interval_secs);
        let plan_every = Duration::from_secs(mail.plan_interval_secs);
        let (stop2, wake2) = (stop.clone(), wake.clone());
        let thread = std::thread::Builder::new()
            .name("reminders".into())
            .spawn(move || {
                let mut planned_at: Option<Instant> = None;
                tracing::info!(worker = %cfg.worker_id, "reminder worker started");
                while !stop2.load(Ordering::Relaxed) {
                    if planned_at.is_none_or(|t| t.elapsed() >= plan_every) {
                        let today = clock.today();
                        let mut ok = true;
                        for year in [today.year() - 1, today.year()] {
                            let result = db.conn().map_err(ReminderError::from).and_then(|mut c| {
                                plan_reminders(
                                    &mut c, &book, &templates, &payment, &schedule, year, today,
                                    trigger,
                                )
                            });
                            match result {
                                Ok(r) if r.total_queued() > 0 => tracing::info!(
                                    levy_year = year,
                                    queued = r.total_queued(),
                                    "reminders planned"
                                ),
                                Ok(_) => {}
                                Err(e) => {
                                    ok = false;
                                    tracing::warn!(levy_year = year, error = %e, "reminder planning failed");
                                }
                            }
                        }
                        // The in-year forecasts of this year (docs/forecast.md).
                        let warned = db.conn().map_err(ReminderError::from).and_then(|mut c| {
                            warn_forecasts(&mut c, &book, &templates, &forecast, today.year())
                        });
                        match warned {
                            Ok(r) if r.queued > 0 => {
                                tracing::info!(year = today.year(), queued = r.queued, "forecast warnings planned")
                            }
                            Ok(_) => {}
                            Err(e) => {
                                ok = false;
                                tracing::warn!(error = %e, "forecast warnings failed");
                            }
                        }
                        // A failed plan is tried again at the next poll, not a day later.
                        if ok {
                            planned_at = Some(Instant::now());
                        }
                    }
                    let notice_mails = db
                        .conn()
                        .map_err(ReminderError::from)
                        .and_then(|mut c| plan_notice_mails(&mut c, &book, &templates));
                    match notice_mails {
                        Ok(p) if p.queued > 0 => {
                            tracing::info!(notices = p.notices, queued = p.queued, "notice mails planned")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "notice mails failed"),
                    }
                    match crate::mail::run_pass(
                        &db,
                        &mailer,
                        &cfg,
                        &|| Utc::now().naive_utc(),
                        &|| clock.today(),
                        &stop2,
                    ) {
                        Ok(r) if r.claimed > 0 => log_pass(&r),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "reminder pass failed"),
                    }
                    let (lock, cvar) = &*wake2;
                    if let Ok(guard) = lock.lock() {
                        let _ = cvar.wait_timeout_while(guard, poll, |_| {
                            !stop2.load(Ordering::Relaxed)
                        });
                    }
                }
                tracing::info!("reminder worker stopped");
            })
            .map_err(|e| ReminderError::Db(DbError::Task(format!("cannot start the reminder worker: {e}"))))?;
        Ok(ReminderWorker {
            stop,
            wake,
            thread: Some(thread),
        })
    }

    /// Asks the worker to stop and waits for it: the message being sent is finished
    /// and recorded first (blocking; call from a blocking context).
    pub fn stop(mut self) {
        self.signal();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn signal(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let (lock, cvar) = &*self.wake;
        let _guard = lock.lock();
        cvar.notify_all();
    }
}

impl Drop for ReminderWorker {
    fn drop(&mut self) {
        self.signal();
    }
}

fn log_pass(r: &PassReport) {
    tracing::info!(
        claimed = r.claimed,
        sent = r.sent,
        retrying = r.retrying,
        deferred = r.deferred,
        dead = r.dead,
        cancelled = r.cancelled,
        "reminder pass"
    );
}

/// `quota-levy reminders …`
#[derive(Debug, clap::Subcommand)]
pub enum RemindersCommand {
    /// Queue the reminders due on a day for a levy year (declare, declare_overdue, pay,
    /// overdue, reserve_position), as the worker of `serve` does daily, and the mails
    /// published notices still owe (of any levy year). Idempotent: already queued
    /// reminders stay as they are.
    Plan {
        /// The levy year.
        #[arg(long)]
        levy_year: i32,
        /// The day to plan for (YYYY-MM-DD); default today in China.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Queue the warnings of the in-year forecasts of a year whose projection is below a
    /// line of `[forecast] warn_on` (as the worker of `serve` does with its planning).
    /// Idempotent: a warning already queued is not queued again.
    Forecast {
        /// The calendar year of the forecasts; default this year in China.
        #[arg(long)]
        year: Option<i32>,
    },
    /// Queue the mails published notices still owe, then send every due reminder once
    /// (one pass) and print the counts. Exits 1 when the mail server could not be
    /// reached (the reminders stay queued).
    Run,
    /// Count the queued, sent, dead and cancelled reminders.
    Status,
    /// Put dead reminders back in the queue (after fixing, e.g., SMTP credentials).
    RequeueDead,
}

/// Runs a `reminders` subcommand.
pub fn run_cli(settings: &Settings, cmd: RemindersCommand) -> anyhow::Result<ExitCode> {
    let url = crate::db::DatabaseUrl::parse(&settings.database.url)
        .map_err(|m| anyhow::anyhow!("database.url: {m}"))?;
    let db = Db::new(url, &settings.database)?;
    db.migrate()?;
    match cmd {
        RemindersCommand::Plan { levy_year, as_of } => {
            if LevyYear::new(levy_year.into()).is_none() {
                anyhow::bail!(
                    "--levy-year: expected a year from {} to {}",
                    LevyYear::FIRST,
                    LevyYear::LAST
                );
            }
            let as_of = match as_of {
                Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
                    anyhow::anyhow!("--as-of: expected a date YYYY-MM-DD, got {s:?}")
                })?,
                None => china_today(),
            };
            let book = settings.load_policy()?;
            let templates = Templates::from_settings(&settings.mail)?;
            let schedule = Schedule::from_settings(&settings.mail);
            let r = plan_reminders(
                &mut *db.conn()?,
                &book,
                &templates,
                &settings.mail.payment,
                &schedule,
                levy_year,
                as_of,
                settings.collection.surcharge_from,
            )?;
            // Whatever their levy year: a notice's mails are owed from its publication.
            let notice_mails = plan_notice_mails(&mut *db.conn()?, &book, &templates)?;
            crate::outln!("reminders for levy year {levy_year} as of {as_of}:");
            crate::outln!("  employers with a contact address  {}", r.employers);
            for k in ReminderKind::ALL {
                crate::outln!(
                    "  queued {:<27}{}",
                    k.as_str(),
                    r.queued.get(k.as_str()).copied().unwrap_or(0)
                );
            }
            crate::outln!("  already queued before             {}", r.already_queued);
            crate::outln!(
                "  queued notice mails               {} (of {} notice(s), any levy year)",
                notice_mails.queued,
                notice_mails.notices
            );
            for (region, why) in &r.unresolved {
                crate::outln!("  region {region}: not planned: {why}");
            }
        }
        RemindersCommand::Forecast { year } => {
            let year = year.unwrap_or_else(|| china_today().year());
            let book = settings.load_policy()?;
            let templates = Templates::from_settings(&settings.mail)?;
            let r = warn_forecasts(
                &mut *db.conn()?,
                &book,
                &templates,
                &settings.forecast,
                year,
            )?;
            crate::outln!("forecast warnings for {year}:");
            crate::outln!("  forecasts looked at    {}", r.forecasts);
            crate::outln!("  queued                 {}", r.queued);
            crate::outln!("  already queued before  {}", r.already_queued);
            crate::outln!("  could not be projected {}", r.unreadable);
        }
        RemindersCommand::Run => {
            let mailer = crate::mail::mailer_from_settings(settings)?;
            // A notice's mails may still be owed (its publication stopped before they
            // were queued, or nothing else plans them here): queued first, then sent.
            let templates = Templates::from_settings(&settings.mail)?;
            let notice_mails =
                plan_notice_mails(&mut *db.conn()?, &settings.load_policy()?, &templates)?;
            if notice_mails.queued > 0 {
                crate::outln!("queued notice mails {}", notice_mails.queued);
            }
            let cfg = PassConfig::from_settings(&settings.mail, "cli")
                .with_surcharge_from(settings.collection.surcharge_from);
            let r = crate::mail::run_pass(
                &db,
                &mailer,
                &cfg,
                &|| Utc::now().naive_utc(),
                &china_today,
                &AtomicBool::new(false),
            )?;
            crate::outln!("claimed {}", r.claimed);
            crate::outln!("sent {}", r.sent);
            crate::outln!("retrying {}", r.retrying);
            crate::outln!("deferred {}", r.deferred);
            crate::outln!("dead {}", r.dead);
            crate::outln!("cancelled {}", r.cancelled);
            if r.lease_lost > 0 {
                crate::outln!("lease lost {}", r.lease_lost);
            }
            if r.unreachable {
                eprintln!(
                    "quota-levy: the mail server {}:{} could not be reached; the reminders stay queued",
                    settings.mail.smtp_host, settings.mail.smtp_port
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        RemindersCommand::Status => {
            let c = outbox::counts(&mut *db.conn()?)?;
            crate::outln!("pending {}", c.pending);
            crate::outln!("sent {}", c.sent);
            crate::outln!("dead {}", c.dead);
            crate::outln!("cancelled {}", c.cancelled);
        }
        RemindersCommand::RequeueDead => {
            let n = outbox::requeue_dead(&mut *db.conn()?, Utc::now().naive_utc())?;
            crate::outln!("requeued {n} dead reminder(s)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
