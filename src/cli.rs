//! The command line: `serve`, `migrate`, and the batch and admin tools.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};

/// quota-levy: disabled persons' employment quota and levy service.
#[derive(Debug, Parser)]
#[command(name = "quota-levy", version, about, long_about = None)]
pub struct Cli {
    /// A TOML file overriding config/default.toml (only the keys you change).
    /// Environment variables QUOTA_LEVY__SECTION__KEY override both.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first unless
    /// database.migrate_on_start is false).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

/// Exit code for invalid input (the CLI's equivalent of 422).
pub const EXIT_INVALID: u8 = 2;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("quota-levy: {e}");
            return ExitCode::from(78);
        }
    };
    crate::telemetry::init(&settings.log);
    let result = match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("quota-levy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(&settings.database.url)
        .map_err(|m| anyhow::anyhow!("database.url: {m}"))?;
    Ok(Db::new(url, &settings.database)?)
}

fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let db = open_db(settings)?;
    let applied = db.migrate()?;
    if applied.is_empty() {
        println!("database {} is up to date", db.redacted_url());
    } else {
        println!(
            "applied {} migration(s) to {}:",
            applied.len(),
            db.redacted_url()
        );
        for v in applied {
            println!("  {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let db = open_db(&settings)?;
    if settings.database.migrate_on_start {
        let applied = db.migrate()?;
        tracing::info!(count = applied.len(), database = %db.redacted_url(), "migrations applied");
    }
    let host = settings.server.host.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = crate::http::Application::build(settings, db)?;
        tracing::info!(%host, port = app.port(), "listening");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
