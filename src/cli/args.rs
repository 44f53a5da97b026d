//! The clap definitions of the command line: the commands, their options and help.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts of people who sign in on the pages: create, list, disable, reset a
    /// password, print an employer's activation letter.
    #[command(subcommand)]
    User(UserCommand),
    /// Bulk import of employers or declarations from CSV or XLSX files.
    #[command(subcommand)]
    Import(crate::import::cli::ImportCommand),
    /// Calculate the levy for one request: the JSON of POST /api/v1/levy/calculate, from
    /// FILE or standard input; prints the response. Invalid input prints the problem
    /// document and exits 2.
    Calc {
        /// The request file; standard input when absent or "-".
        file: Option<PathBuf>,
        /// Language of the explanation when the request has no "language": zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
    },
    /// Validate the policy packs or show what is in force.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The levy roll of a region and levy year for the tax bureau.
    #[command(subcommand)]
    LevyRoll(LevyRollCommand),
    /// Assess every employer with a filed declaration for a levy year (the job behind
    /// POST /api/v1/assessment-runs). Interrupted, it resumes where it stopped. Several
    /// processes (on one host or several) may work one run together on PostgreSQL:
    /// start each with the same --levy-year and --region, or with --join RUN_ID.
    Assess {
        /// The levy year (its data year is the year before).
        #[arg(long, required_unless_present = "join")]
        levy_year: Option<i32>,
        /// Only employers in this region (GB/T 2260) and below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// Work the unfinished run RUN_ID (as printed by --prepare or by another
        /// worker) instead of finding or starting the run of a year and region.
        #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["levy_year", "region", "prepare", "chunk_size"])]
        join: Option<i64>,
        /// Worker threads in this process, each on its own database connection (1 to
        /// database.pool_size). Above 1 on PostgreSQL only: SQLite has one writer.
        #[arg(long, value_name = "N", default_value_t = 1)]
        workers: usize,
        /// Only prepare the run (create it and cut it into chunks), print its id and
        /// exit; workers then take it with --join.
        #[arg(long)]
        prepare: bool,
        /// Employers per chunk (and per transaction) when the run is created, 100 to
        /// 100000; a run joined or resumed keeps its chunks.
        #[arg(long, value_name = "N")]
        chunk_size: Option<usize>,
    },
    /// Public compliance notices (公示): publish one, list them.
    #[command(subcommand)]
    Notices(crate::jobs::notices::NoticesCommand),
    /// Email reminders: plan what is due, send one pass, show the outbox.
    #[command(subcommand)]
    Reminders(crate::jobs::reminders::RemindersCommand),
    /// Synthetic data for demos and benchmarks.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Signed computation receipts: check one.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Over-quota rewards: export the rewards roll of a region and year.
    #[command(subcommand)]
    Rewards(RewardsCommand),
    /// The fund's account of a region and year (levy, collected, refunds, rewards,
    /// balance), as CSV on standard output.
    Ledger {
        /// The levy year.
        #[arg(long)]
        levy_year: i32,
        /// Only employers in this region (GB/T 2260) and below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
    },
    /// Reserved positions (岗位预留): remind public bodies without a disabled employee
    /// and without an open reserved position to reserve one.
    #[command(subcommand)]
    Positions(PositionsCommand),
}

/// `receipt` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt file (as `GET …/assessments/{year}/receipt` gives it): its digest
    /// against its content, its signature against the key. Offline with --public-key
    /// (as published at /api/v1/receipt-key); else the key of the configured
    /// deployment. Exits 0 when valid, 1 when not, 2 when the file is unreadable.
    Verify {
        /// The receipt file; standard input when "-".
        file: PathBuf,
        /// The deployment's public key, 64 hex digits.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

/// `rewards` subcommands.
#[derive(Debug, Subcommand)]
pub enum RewardsCommand {
    /// Write the rewards roll as CSV (standard output or --output) or XLSX (--output).
    Export {
        /// The levy year.
        #[arg(long)]
        levy_year: i32,
        /// Only employers in this region (GB/T 2260) and below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// Output file; an XLSX workbook when it ends in .xlsx.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `positions` subcommands.
#[derive(Debug, Subcommand)]
pub enum PositionsCommand {
    /// Queue the reminders (once a levy year each).
    Remind {
        /// The levy year whose assessments say who employs no disabled person.
        #[arg(long)]
        levy_year: i32,
        /// Only employers in this region (GB/T 2260) and below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
    },
}

/// `demo` subcommands.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Generate employers with valid codes and one declaration each (realistic sizes,
    /// kinds, wages and rosters), written in bulk with one audit entry. The same seed
    /// gives the same data on a fresh database.
    Generate {
        /// How many employers.
        #[arg(long)]
        employers: u64,
        /// Levy year of the declarations.
        #[arg(long)]
        levy_year: i32,
        /// Region (GB/T 2260): employers are spread over its counties.
        #[arg(long, value_name = "CODE", default_value = "411200")]
        region: String,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Declaration status: draft, submitted or certified.
        #[arg(long, default_value = "submitted")]
        status: String,
    },
}

/// `levy-roll` subcommands.
#[derive(Debug, Subcommand)]
pub enum LevyRollCommand {
    /// Write the roll as CSV (UTF-8 with BOM, Chinese headers, a totals row), streamed,
    /// or as an XLSX workbook (one sheet, figures as numbers, a totals row), written in
    /// constant memory.
    Export {
        /// The levy year.
        #[arg(long)]
        levy_year: i32,
        /// Only employers in this region (GB/T 2260) and below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// Surcharges and payments up to this date (YYYY-MM-DD); default today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Output file; standard output when absent (CSV only).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// csv or xlsx. Default: xlsx when --output ends in .xlsx, else csv. An XLSX
        /// workbook is binary and needs --output.
        #[arg(long, value_enum)]
        format: Option<RollFormat>,
    },
}

/// File formats of `levy-roll export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RollFormat {
    /// UTF-8 with BOM, for Chinese Excel.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// `policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate every pack (unknown keys, overlaps, missing citations…); errors name
    /// file and line. Exits 2 when any pack is invalid.
    Check {
        /// Folder of packs; default: policy.dir, else the packs compiled in.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print every parameter in force for a region on a date, with citations.
    Show {
        /// GB/T 2260 region code, e.g. 411200.
        region: String,
        /// The as-of date (YYYY-MM-DD); default today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Data year for wage figures; default the year before the as-of date.
        #[arg(long)]
        data_year: Option<i32>,
        /// Print JSON (as GET /api/v1/policies/{region}) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Preview a draft pack: every filed declaration of a region and levy year computed
    /// under the packs in force and under the draft (in place of the pack of its
    /// region), nothing written. Prints the report (table or JSON) or one CSV line per
    /// employer whose status, levy or reward changes. An invalid draft prints every
    /// fault with line and key and exits 2.
    Impact {
        /// The draft pack, a TOML file in the format of config/policies/*.toml, named
        /// `<code>-<name>.toml`.
        #[arg(long, value_name = "FILE")]
        pack: PathBuf,
        /// The region previewed (GB/T 2260) and everything below it.
        #[arg(long, value_name = "CODE")]
        region: String,
        /// The levy year (its data year is the year before).
        #[arg(long)]
        levy_year: i32,
        /// table, csv or json.
        #[arg(long, value_enum, default_value = "table")]
        format: ImpactFormat,
        /// Language of names, statuses and explanations: zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
    },
}

/// Output formats of `policy impact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImpactFormat {
    /// The report as text tables.
    Table,
    /// One line per employer whose status, levy or reward changes, then a totals line.
    Csv,
    /// The report as JSON (as POST /api/v1/policy-impact answers).
    Json,
}

/// `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its digest is stored).
    Create {
        /// admin, federation, tax, inspector or employer.
        #[arg(long)]
        role: String,
        /// For employer tokens: the employer's unified social credit code.
        #[arg(long, value_name = "USCC")]
        employer: Option<String>,
        /// For officer tokens: limit to this region (GB/T 2260) and everything below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// A note to recognise the token by.
        #[arg(long)]
        label: Option<String>,
    },
    /// Revoke a token by id or by its printed prefix.
    Revoke {
        /// Token id or prefix (as shown by `token list`).
        id_or_prefix: String,
    },
    /// List tokens (never the tokens themselves).
    List,
}

/// `user` subcommands. Passwords are read from standard input, never from an
/// argument: with a prompt without echo on a terminal, else one line.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (the first administrator: `user create admin --role admin`).
    Create {
        /// The username (3-64 characters: letters, digits, . _ - @).
        username: String,
        /// admin, federation, tax, inspector or employer.
        #[arg(long)]
        role: String,
        /// For employer users: the employer's unified social credit code.
        #[arg(long, value_name = "USCC")]
        employer: Option<String>,
        /// For officers: limit to this region (GB/T 2260) and everything below it.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// The name shown on the pages.
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
    },
    /// List users (never their passwords).
    List,
    /// Disable a user: it can no longer sign in, and its sessions end at once.
    Disable {
        /// The username.
        username: String,
    },
    /// Set a new password for a user (read from standard input); its sessions end. With
    /// `--link`, send the user a one-time link to choose one instead.
    ResetPassword {
        /// The username.
        username: String,
        /// Send a reset link (valid `accounts.reset_valid_hours`): mailed to the contact
        /// address of an employer's user, else the letter with its code printed here.
        #[arg(long)]
        link: bool,
    },
    /// Print the activation letter of an employer without e-mail: an address and a
    /// one-time code with which it chooses its password (replaces any earlier code).
    ActivationLetter {
        /// The employer's unified social credit code.
        uscc: String,
    },
}
