//! `quota-levy notices publish|list`: the same publication as `POST /api/v1/notices`,
//! for the federation's operators at the console.

use clap::Subcommand;
use std::process::ExitCode;

use crate::clock::china_today;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::{LevyYear, RegionCode};
use crate::mail::Templates;
use crate::registry::notices::{
    plan_mails, preview, publish, NoticeMail, PublishError, PublishRequest, DEFAULT_OBJECTION_DAYS,
    MAX_OBJECTION_DAYS,
};

/// `notices` subcommands.
#[derive(Debug, Subcommand)]
pub enum NoticesCommand {
    /// Publish a compliance notice (公示) of a region and levy year: a frozen snapshot
    /// of every employer's status with its digest; records the mail owed to each
    /// employer named, queued after it by `notices mail`, `reminders plan`, `reminders
    /// run` or the reminder worker of `serve`. Prints the notice number, address and
    /// digest.
    Publish {
        /// GB/T 2260 region code; the notice covers it and the regions below it.
        #[arg(long, value_name = "CODE")]
        region: String,
        /// The levy year.
        #[arg(long)]
        levy_year: i32,
        /// Days from today to the end of the objection period.
        #[arg(long, default_value_t = DEFAULT_OBJECTION_DAYS)]
        objection_days: i64,
        /// Publish a correction of this notice (which then shows as superseded).
        #[arg(long, value_name = "ID", requires = "reason")]
        replaces: Option<i64>,
        /// Why the corrected notice was wrong (required with --replaces).
        #[arg(long, requires = "replaces")]
        reason: Option<String>,
        /// Check and show what would be published today, and publish nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Queue the mails that published notices still owe their employers (one to each
    /// employer named with a contact address), as `reminders plan`, `reminders run` and
    /// the reminder worker also do. Idempotent: a mail already queued is not queued
    /// again.
    Mail {
        /// Only this notice's.
        #[arg(long, value_name = "ID")]
        notice: Option<i64>,
    },
    /// List published notices, newest first.
    List {
        /// Only this region and those below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// Only this levy year.
        #[arg(long)]
        levy_year: Option<i32>,
    },
}

/// Runs a `notices` subcommand.
pub fn run_cli(settings: &Settings, cmd: NoticesCommand) -> anyhow::Result<ExitCode> {
    let url = crate::db::DatabaseUrl::parse(&settings.database.url)
        .map_err(|m| anyhow::anyhow!("database.url: {m}"))?;
    let db = Db::new(url, &settings.database)?;
    db.migrate()?;
    match cmd {
        NoticesCommand::Publish {
            region,
            levy_year,
            objection_days,
            replaces,
            reason,
            dry_run,
        } => {
            let region: RegionCode = region
                .parse()
                .map_err(|e| anyhow::anyhow!("--region: {e}"))?;
            if LevyYear::new(levy_year.into()).is_none() {
                anyhow::bail!(
                    "--levy-year: expected a year from {} to {}",
                    LevyYear::FIRST,
                    LevyYear::LAST
                );
            }
            if !(1..=MAX_OBJECTION_DAYS).contains(&objection_days) {
                anyhow::bail!("--objection-days: expected 1 to {MAX_OBJECTION_DAYS}");
            }
            let reason = reason.map(|r| r.trim().to_owned());
            if reason
                .as_ref()
                .is_some_and(|r| r.is_empty() || r.chars().count() > 500)
            {
                anyhow::bail!("--reason: expected 1 to 500 characters");
            }
            let book = settings.load_policy()?;
            // Queued whatever mail.enabled says: that setting only starts the worker in
            // `serve`, and `reminders run` sends the outbox just the same.
            let templates = Templates::from_settings(&settings.mail)?;
            let mail = NoticeMail {
                templates: &templates,
            };
            let req = PublishRequest {
                region,
                levy_year,
                objection_days,
                replaces: replaces.zip(reason),
            };
            if dry_run {
                return match preview(
                    &mut *db.conn()?,
                    &book,
                    &settings.notices,
                    &req,
                    china_today(),
                    &mut |_, _| Ok(()),
                ) {
                    Ok(p) => {
                        let s = &p.content.summary;
                        crate::outln!("would publish (nothing was written)");
                        crate::outln!("  title            {}", p.content.title);
                        crate::outln!("  objections until {}", p.content.objection_until);
                        crate::outln!("  sha256 if today  {}", p.sha256);
                        crate::outln!(
                            "  employers        {} (compliant {}, below quota {}, exempt {}, not declared {})",
                            s.employers, s.compliant, s.below_quota, s.exempt, s.not_declared
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(PublishError::Db(e)) => Err(e.into()),
                    Err(e) => {
                        eprintln!("quota-levy: could not be published: {e}");
                        Ok(ExitCode::from(crate::output::EXIT_INVALID))
                    }
                };
            }
            let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            let actor = format!("cli:{user}");
            match publish(
                &mut *db.conn()?,
                &book,
                &settings.notices,
                &req,
                china_today(),
                Some(&mail),
                &actor,
                None,
            ) {
                Ok(p) => {
                    let s = &p.content.summary;
                    crate::outln!("published notice {}", p.row.id);
                    crate::outln!(
                        "  address          {}",
                        crate::mail::plan::notice_url(&settings.server.public_base_url, p.row.id)
                    );
                    crate::outln!("  title            {}", p.content.title);
                    crate::outln!("  published on     {}", p.row.published_on);
                    crate::outln!("  objections until {}", p.row.objection_until);
                    crate::outln!("  sha256           {}", p.row.content_sha256);
                    crate::outln!(
                        "  employers        {} (compliant {}, below quota {}, exempt {}, not declared {})",
                        s.employers, s.compliant, s.below_quota, s.exempt, s.not_declared
                    );
                    if p.mails_owed {
                        crate::outln!(
                            "  mails            owed to the employers named with an address; \
                             queued by `quota-levy notices mail` (or `reminders run`, or the \
                             reminder worker of `serve`)"
                        );
                    }
                }
                Err(PublishError::Db(e)) => return Err(e.into()),
                Err(e) => {
                    eprintln!("quota-levy: not published: {e}");
                    return Ok(ExitCode::from(crate::output::EXIT_INVALID));
                }
            }
        }
        NoticesCommand::Mail { notice } => {
            let book = settings.load_policy()?;
            let templates = Templates::from_settings(&settings.mail)?;
            match plan_mails(&mut *db.conn()?, &book, &templates, notice) {
                Ok(p) => {
                    crate::outln!("notices planned  {}", p.notices);
                    crate::outln!("mails queued     {}", p.queued);
                }
                Err(PublishError::Db(e)) => return Err(e.into()),
                Err(e) => return Err(anyhow::anyhow!("notice mails: {e}")),
            }
        }
        NoticesCommand::List { region, levy_year } => {
            let prefix = match region {
                Some(r) => crate::auth::scope_prefix(
                    &r.parse::<RegionCode>()
                        .map_err(|e| anyhow::anyhow!("--region: {e}"))?,
                )
                .to_owned(),
                None => String::new(),
            };
            let mut conn = db.conn()?;
            let (rows, total) = crate::db::notices::list(&mut conn, &prefix, levy_year, 0, 1000)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let successors = crate::db::notices::successors(&mut conn, &ids)?;
            crate::outln!("{total} notice(s)");
            for r in rows {
                let state = successors
                    .iter()
                    .find(|s| s.0 == r.id)
                    .map_or("in force".to_owned(), |s| format!("superseded by {}", s.1));
                crate::outln!(
                    "  {:>6}  {}  {}  published {}  objections until {}  {} employers  {}  {}",
                    r.id,
                    r.region,
                    r.levy_year,
                    r.published_on,
                    r.objection_until,
                    r.entries,
                    state,
                    r.content_sha256
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
