//! `quota-levy import employers FILE` and `quota-levy import declarations --levy-year Y
//! FILE`: exit 0 when every row was imported, 2 when any row was invalid (with
//! `--partial` the valid ones were still written), 1 on any other failure.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::{Encoding, Format, ImportKind, Input, Options, Phase, Progress, Report};
use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};
use crate::domain::Language;

/// `import` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Register employers from a CSV or XLSX file, one employer per row (columns: uscc
    /// 统一社会信用代码, name 单位名称, kind 单位类型, region 行政区划代码, registered_on
    /// 成立日期, contact_email 联系邮箱, establishment_size 编制人数, committee_member
    /// 残工委成员单位).
    Employers(FileArgs),
    /// Create or amend the declarations of a levy year from a CSV or XLSX file: one row
    /// per employer (uscc, m01…m12 or average_headcount, total_wages or average_wage,
    /// disabled_count), then optional roster rows with the same uscc (certificate_no,
    /// months, …).
    Declarations {
        /// The levy year (the data year is the year before).
        #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(2015..=2100))]
        levy_year: i32,
        /// File the declarations: submit each one imported (or found unchanged) that is
        /// a draft or an amendment, so that the assessment run takes it.
        #[arg(long)]
        submit: bool,
        /// The file and how to read it.
        #[command(flatten)]
        file: FileArgs,
    },
    /// Record the payments of a levy year from a bank's CSV or XLSX file, one payment
    /// per row (columns: uscc 统一社会信用代码, amount 缴款金额, paid_on 缴款日期,
    /// bank_reference 银行流水号). A bank reference already recorded for the employer
    /// is reported as already recorded, never recorded twice.
    Payments {
        /// The levy year the payments are for.
        #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(2015..=2100))]
        levy_year: i32,
        /// The file and how to read it.
        #[command(flatten)]
        file: FileArgs,
    },
}

/// The file argument and options shared by both imports.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The CSV or XLSX file.
    pub file: PathBuf,
    /// Write the valid rows even when some rows are invalid (default: write nothing
    /// unless every row is valid).
    #[arg(long)]
    pub partial: bool,
    /// Text encoding of a CSV file: utf-8 or gbk (default: detected).
    #[arg(long, value_name = "ENCODING", value_parser = parse_encoding)]
    pub encoding: Option<Encoding>,
    /// csv or xlsx (default: from the content and the file name).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Language of the report: zh or en.
    #[arg(long, default_value = "zh", value_parser = parse_lang)]
    pub lang: Language,
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    s.parse()
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_lang(s: &str) -> Result<Language, String> {
    s.parse()
}

/// Runs an import command.
pub fn run(settings: &Settings, cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    let (kind, levy_year, submit, args) = match cmd {
        ImportCommand::Employers(a) => (ImportKind::Employers, None, false, a),
        ImportCommand::Declarations {
            levy_year,
            submit,
            file,
        } => (ImportKind::Declarations, Some(levy_year), submit, file),
        ImportCommand::Payments { levy_year, file } => {
            (ImportKind::Payments, Some(levy_year), false, file)
        }
    };
    let limits = super::Limits::from(&settings.import);
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    // Not even loaded: the whole file would be in memory before any other check.
    let too_large = size > limits.max_uncompressed_bytes;
    let bytes = if too_large {
        Vec::new()
    } else {
        std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?
    };
    let policy = settings.load_policy()?;
    let url = DatabaseUrl::parse(&settings.database.url)
        .map_err(|m| anyhow::anyhow!("database.url: {m}"))?;
    let db = Db::new(url, &settings.database)?;
    db.migrate()?;
    let mut conn = db.conn()?;
    let secret = crate::secret::SecretStore::open(&settings.security)?
        .get(&mut conn)?
        .clone();

    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let opts = Options {
        partial: args.partial,
        actor: format!("cli:import:{user}"),
        import_id: super::new_import_id(),
        scope: None,
        lang: args.lang,
        secret,
        submit,
        today: crate::clock::china_today(),
        invitations: crate::registry::accounts::Invitations::from_settings(settings)?,
    };
    let file_name = args.file.file_name().and_then(|n| n.to_str());
    let input = Input {
        bytes: &bytes,
        format: args.format,
        encoding: args.encoding.unwrap_or_default(),
        file_name,
        limits,
    };
    let bar = Bar::new();
    let report = if too_large {
        let format = super::reader::detect_format(&[], args.format, file_name);
        Ok(super::too_large_report(
            kind, levy_year, format, limits, &opts,
        ))
    } else {
        match (kind, levy_year) {
            (ImportKind::Declarations, Some(y)) => {
                super::declarations::import_declarations(&mut conn, &policy, y, &input, &opts, &bar)
            }
            (ImportKind::Payments, Some(y)) => {
                super::payments::import_payments(&mut conn, y, &input, &opts, &bar)
            }
            _ => super::employers::import_employers(&mut conn, &policy, &input, &opts, &bar),
        }
    };
    bar.0.finish_and_clear();
    let report = report?;

    crate::out!("{}", render(&report, &args.file, args.lang));
    if let Some(path) = &args.report_json {
        write_json(path, &report)?;
    }
    Ok(if report.rows.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::output::EXIT_INVALID)
    })
}

/// The report as printed: summary, hint, table.
pub fn render(report: &Report, file: &Path, lang: Language) -> String {
    let mut out = format!("{}\n", report.summary(lang));
    let c = &report.counts;
    let valid_left = match report.kind {
        ImportKind::Employers | ImportKind::Payments => c.rows.saturating_sub(c.invalid_rows),
        ImportKind::Declarations => c
            .declarations
            .unwrap_or(0)
            .saturating_sub(c.invalid_declarations.unwrap_or(0)),
    };
    if !report.committed && !report.rows.is_empty() && valid_left > 0 {
        out.push_str(&match lang {
            Language::Zh => format!("改正后重新导入，或加 --partial 先导入其余 {valid_left} 条有效数据。\n"),
            Language::En => {
                format!("Fix the rows and import again, or add --partial to import the {valid_left} valid one(s) now.\n")
            }
        });
    }
    out.push_str(&match lang {
        Language::Zh => format!("文件：{}；导入编号：{}\n", file.display(), report.import_id),
        Language::En => format!(
            "file: {}; import id: {}\n",
            file.display(),
            report.import_id
        ),
    });
    let table = report.render_table(lang);
    if !table.is_empty() {
        out.push('\n');
        out.push_str(&table);
    }
    out
}

fn write_json(path: &Path, report: &Report) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// A progress bar on standard error, hidden when it is not a terminal (so that logs and
/// CI output stay clean).
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        if std::io::stderr().is_terminal() {
            Bar(ProgressBar::with_draw_target(
                None,
                ProgressDrawTarget::stderr(),
            ))
        } else {
            Bar(ProgressBar::hidden())
        }
    }
}

impl Progress for Bar {
    fn phase(&self, phase: Phase, total: u64) {
        let name = match phase {
            Phase::Reading => "reading",
            Phase::Validating => "validating",
            Phase::Writing => "writing",
        };
        if total == 0 {
            self.0.set_style(ProgressStyle::default_spinner());
            self.0.enable_steady_tick(Duration::from_millis(120));
        } else {
            self.0.disable_steady_tick();
            let style =
                ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {rate} ETA {eta}")
                    .map(|s| {
                        s.progress_chars("=> ").with_key(
                            "rate",
                            |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                                let _ = write!(w, "{:.0}/s", st.per_sec());
                            },
                        )
                    })
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            self.0.set_style(style);
            self.0.set_length(total);
            self.0.set_position(0);
        }
        self.0.set_message(name);
    }

    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
}
