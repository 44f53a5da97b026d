//! The command line: `serve`, `migrate`, and the batch and admin tools.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};

// The clap definitions are in `args`, re-exported so that callers name `cli::Cli` as
// before; this file runs the commands.
mod args;
mod funds;
mod impact;
mod receipt;

pub use args::*;

pub use crate::output::EXIT_INVALID;

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
    for w in &settings.warnings {
        tracing::warn!("configuration: {w}");
    }
    let result = match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Token(t) => token(&settings, t),
        Command::User(u) => user(&settings, u),
        Command::Import(c) => crate::import::cli::run(&settings, c),
        Command::Calc { file, lang } => calc(&settings, file, &lang),
        Command::Policy(p) => policy(&settings, p),
        Command::Assess {
            levy_year,
            region,
            join,
            workers,
            prepare,
            chunk_size,
        } => assess(
            &settings,
            AssessArgs {
                levy_year,
                region,
                join,
                workers,
                prepare,
                chunk_size,
            },
        ),
        Command::LevyRoll(LevyRollCommand::Export {
            levy_year,
            region,
            as_of,
            output,
            format,
        }) => levy_roll_export(&settings, levy_year, region, as_of, output, format),
        Command::Reminders(c) => crate::jobs::reminders::run_cli(&settings, c),
        Command::Notices(c) => crate::jobs::notices::run_cli(&settings, c),
        Command::Demo(c) => demo(&settings, c),
        Command::Receipt(ReceiptCommand::Verify { file, public_key }) => {
            receipt::verify(&settings, file, public_key)
        }
        Command::Rewards(c) => funds::rewards(&settings, c),
        Command::Ledger { levy_year, region } => funds::ledger(&settings, levy_year, region),
        Command::Positions(c) => funds::positions(&settings, c),
    };
    match result {
        Ok(code) => code,
        // The reader of standard output stopped reading (`… | head`): it has what it
        // wanted, so this is no failure (see crate::output).
        Err(e) if crate::output::is_broken_pipe(&e) => ExitCode::SUCCESS,
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

/// Reads the server secret, making it if there is none: at first start, not at the
/// first audited write.
fn ensure_secret(settings: &Settings, db: &Db) -> anyhow::Result<()> {
    let store = crate::secret::SecretStore::open(&settings.security)?;
    let mut conn = db.conn()?;
    store.get(&mut conn)?;
    Ok(())
}

fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let db = open_db(settings)?;
    let applied = db.migrate()?;
    ensure_secret(settings, &db)?;
    if applied.is_empty() {
        crate::outln!("database {} is up to date", db.redacted_url());
    } else {
        crate::outln!(
            "applied {} migration(s) to {}:",
            applied.len(),
            db.redacted_url()
        );
        for v in applied {
            crate::outln!("  {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The policy packs: the configured folder, else the compiled-in packs.
fn read_input(file: Option<PathBuf>) -> anyhow::Result<String> {
    use std::io::Read;
    match file {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(&p)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display())),
        _ => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok(s)
        }
    }
}

fn calc(settings: &Settings, file: Option<PathBuf>, lang: &str) -> anyhow::Result<ExitCode> {
    let lang = match lang {
        "zh" => crate::domain::Language::Zh,
        "en" => crate::domain::Language::En,
        other => anyhow::bail!("--lang: expected zh or en, got {other:?}"),
    };
    let book = settings.load_policy()?;
    let text = read_input(file)?;
    match crate::wire::calculate_request_json(&book, &text, lang) {
        Ok(resp) => {
            crate::outln!("{}", serde_json::to_string_pretty(&resp)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            let problem = crate::http::problem::AppError::from(errors).problem();
            crate::outln!("{}", serde_json::to_string_pretty(&problem)?);
            eprintln!("quota-levy: invalid request: {}", problem.detail);
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

fn levy_roll_export(
    settings: &Settings,
    levy_year: i32,
    region: Option<String>,
    as_of: Option<String>,
    output: Option<PathBuf>,
    format: Option<RollFormat>,
) -> anyhow::Result<ExitCode> {
    use crate::registry::roll::{csv_totals, for_each, CSV_HEADER};
    use std::io::Write;
    let is_xlsx_name = output.as_deref().is_some_and(|p| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
    });
    let format = format.unwrap_or(if is_xlsx_name {
        RollFormat::Xlsx
    } else {
        RollFormat::Csv
    });
    let prefix = match region {
        Some(r) => crate::auth::scope_prefix(
            &r.parse::<crate::domain::RegionCode>()
                .map_err(|e| anyhow::anyhow!("--region: {e}"))?,
        )
        .to_owned(),
        None => String::new(),
    };
    let as_of = match as_of {
        Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("--as-of: expected a date YYYY-MM-DD, got {s:?}"))?,
        None => crate::clock::china_today(),
    };
    if format == RollFormat::Xlsx {
        // Checked before the database is opened: a wrong command fails at once.
        let Some(path) = output else {
            anyhow::bail!(
                "--format xlsx needs --output FILE: the workbook is binary and is not \
                 written to standard output"
            );
        };
        let db = open_db(settings)?;
        let mut conn = db.conn()?;
        // Created first so that an unwritable path fails before the roll is read.
        let file = std::fs::File::create(&path)
            .map_err(|e| anyhow::anyhow!("--output {}: {e}", path.display()))?;
        let totals = match crate::registry::roll::xlsx::write_workbook(
            &mut conn,
            levy_year,
            &prefix,
            as_of,
            settings.collection.surcharge_from,
            file,
        ) {
            Ok(t) => t,
            Err(e) => {
                // No half-written workbook is left behind to be mistaken for the roll.
                let _ = std::fs::remove_file(&path);
                return Err(e.into());
            }
        };
        eprintln!(
            "levy roll {levy_year}: {} employers, payable {}, outstanding {}; written to {}",
            totals.employers,
            totals.payable,
            totals.outstanding,
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let db = open_db(settings)?;
    let mut out: Box<dyn Write> = match &output {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write!(out, "\u{feff}{}\r\n", CSV_HEADER.join(","))?;
    let mut conn = db.conn()?;
    let mut line = String::with_capacity(256);
    let sums = for_each(
        &mut conn,
        levy_year,
        &prefix,
        as_of,
        0,
        None,
        true,
        settings.collection.surcharge_from,
        &mut |r| {
            line.clear();
            crate::registry::roll::push_csv_line(&mut line, &r);
            out.write_all(line.as_bytes())
                .map_err(|e| crate::db::DbError::Task(e.to_string()))
        },
    )?;
    let totals = sums.totals();
    out.write_all(csv_totals(&totals).as_bytes())?;
    out.flush()?;
    eprintln!(
        "levy roll {levy_year}: {} employers, payable {}, outstanding {}",
        totals.employers, totals.payable, totals.outstanding
    );
    Ok(ExitCode::SUCCESS)
}

/// The options of `quota-levy assess`.
struct AssessArgs {
    levy_year: Option<i32>,
    region: Option<String>,
    join: Option<i64>,
    workers: usize,
    prepare: bool,
    chunk_size: Option<usize>,
}

fn assess(settings: &Settings, args: AssessArgs) -> anyhow::Result<ExitCode> {
    use crate::jobs::assess::{prepare_sized, work, AssessJob, CHUNK};
    let AssessArgs {
        levy_year,
        region,
        join,
        workers,
        prepare,
        chunk_size,
    } = args;
    if let Some(y) = levy_year {
        if !(2016..=2100).contains(&y) {
            anyhow::bail!("--levy-year: 应为 2016 至 2100 年 / expected a year from 2016 to 2100");
        }
    }
    let chunk_size = chunk_size.unwrap_or(CHUNK as usize);
    if !(100..=100_000).contains(&chunk_size) {
        anyhow::bail!("--chunk-size: 应为 100 至 100000 / expected 100 to 100000 employers");
    }
    let pool = settings.database.pool_size as usize;
    if !(1..=pool).contains(&workers) {
        anyhow::bail!(
            "--workers: 应为 1 至 {pool}（database.pool_size）/ expected 1 to {pool} (database.pool_size)"
        );
    }
    let region = region
        .map(|r| {
            r.parse::<crate::domain::RegionCode>()
                .map_err(|e| anyhow::anyhow!("--region: {e}"))
        })
        .transpose()?;
    let book = settings.load_policy()?;
    let db = open_db(settings)?;
    if workers > 1 && db.backend() == crate::db::Backend::Sqlite {
        anyhow::bail!(
            "--workers: SQLite 只有一个写入者，多个工作线程只会轮流等待；请用 1，或改用 PostgreSQL / \
             SQLite has a single writer, so more workers would only take turns: use 1, or PostgreSQL"
        );
    }
    db.migrate()?;
    let run_id = match join {
        Some(id) => {
            let run = crate::db::assessments::run(&mut *db.conn()?, id)?.ok_or_else(|| {
                anyhow::anyhow!("--join: 没有核定批次 {id} / no assessment run {id}")
            })?;
            if run.status != "running" {
                anyhow::bail!(
                    "--join: 核定批次 {id} 已结束（{}）/ assessment run {id} is not running ({})",
                    run.status,
                    run.status
                );
            }
            id
        }
        None => {
            let job = AssessJob {
                // Present unless --join (clap requires one of them).
                levy_year: levy_year.unwrap_or_default(),
                region,
                actor: "cli:assess".into(),
            };
            prepare_sized(&mut *db.conn()?, &job, chunk_size)?
        }
    };
    if prepare {
        crate::outln!("{run_id}");
        return Ok(ExitCode::SUCCESS);
    }
    let started = std::time::Instant::now();
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} employers  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut committed = 0u64;
    let run = work(&db, &book, run_id, workers, &mut |r| {
        committed += 1;
        bar.set_length(r.total.max(0) as u64);
        bar.set_position(r.processed.max(0) as u64);
    })?;
    let job = AssessJob {
        levy_year: run.levy_year,
        region: run.region.as_deref().and_then(|r| r.parse().ok()),
        actor: "cli:assess".into(),
    };
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    crate::outln!(
        "assessment run {} for levy year {}{}: {}",
        run.id,
        run.levy_year,
        run.region
            .as_deref()
            .map(|r| format!(" in {r}"))
            .unwrap_or_default(),
        run.status
    );
    crate::outln!("  employers with a filed declaration  {}", run.total);
    crate::outln!("  processed                           {}", run.processed);
    crate::outln!("  newly assessed                      {}", run.assessed);
    crate::outln!("  unchanged (already assessed)        {}", run.unchanged);
    crate::outln!("  could not be assessed               {}", run.failed);
    crate::outln!("  chunks committed by this process    {committed} ({workers} worker(s))");
    if run.failed > 0 {
        for w in crate::jobs::assess::waiting(&mut *db.conn()?, &book, &job)? {
            crate::outln!(
                "    waiting ({} employer(s), e.g. {}): {}",
                w.count,
                w.first.join(", "),
                w.reason
            );
        }
    }
    let drafts = crate::jobs::assess::drafts(&mut *db.conn()?, &job)?;
    if drafts.count > 0 {
        crate::outln!(
            "  drafts skipped (not filed)          {} (e.g. {}{}): file them (POST …/declarations/{}/submit, or import with --submit) and run again",
            drafts.count,
            drafts.first.join(", "),
            if drafts.count > drafts.first.len() as i64 { ", …" } else { "" },
            run.levy_year
        );
    }
    crate::outln!("  exempt                              {}", run.exempt);
    crate::outln!("  below quota                         {}", run.below_quota);
    crate::outln!(
        "  total levy payable                  {} yuan",
        crate::domain::money::format_money(crate::domain::money::from_fen(run.payable_total_fen))
    );
    crate::outln!(
        "  elapsed                             {secs:.1} s ({:.0} employers/s)",
        run.processed as f64 / secs.max(1e-9)
    );
    Ok(if run.failed > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

fn demo(settings: &Settings, cmd: DemoCommand) -> anyhow::Result<ExitCode> {
    use crate::db::declarations::Status;
    use crate::jobs::demo::{generate, DemoSpec};
    let DemoCommand::Generate {
        employers,
        levy_year,
        region,
        seed,
        status,
    } = cmd;
    if !(2016..=2100).contains(&levy_year) {
        anyhow::bail!("--levy-year: expected a year from 2016 to 2100");
    }
    let status = match Status::parse(&status) {
        Some(s @ (Status::Draft | Status::Submitted | Status::Certified)) => s,
        _ => anyhow::bail!("--status: expected draft, submitted or certified"),
    };
    let book = settings.load_policy()?;
    let region = crate::registry::employers::check_region(&book, &region)
        .map_err(|e| anyhow::anyhow!("--region: {}", e.message(crate::domain::Language::En)))?;
    let db = open_db(settings)?;
    db.migrate()?;
    let spec = DemoSpec {
        employers,
        levy_year,
        region,
        seed,
        status,
        actor: "cli:demo".into(),
    };
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(employers),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} employers  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = generate(&db, &book, &spec, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    crate::outln!(
        "generated {} employers in {} (levy year {levy_year}, seed {seed}, {}): {} with a roster \
         ({} lines), {} with a certified count; employer ids {}..={}",
        report.employers,
        db.redacted_url(),
        status.as_str(),
        report.with_roster,
        report.roster_lines,
        report.with_count,
        report.id_range.0,
        report.id_range.1,
    );
    crate::outln!(
        "  elapsed {secs:.1} s ({:.0} employers/s)",
        report.employers as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

fn policy(settings: &Settings, cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { dir } => {
            let dir = dir.or_else(|| settings.policy_dir());
            let report = crate::policy::check_report(dir.as_deref());
            crate::out!("{}", report.render_text());
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_INVALID)
            })
        }
        PolicyCommand::Show {
            region,
            as_of,
            data_year,
            json,
        } => {
            let region: crate::domain::RegionCode =
                region.parse().map_err(|e| anyhow::anyhow!("REGION: {e}"))?;
            let as_of = match as_of {
                Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
                    anyhow::anyhow!("--as-of: expected a date YYYY-MM-DD, got {s:?}")
                })?,
                None => crate::clock::china_today(),
            };
            let book = settings.load_policy()?;
            let view = book.view(region, as_of, data_year)?;
            if json {
                crate::outln!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                crate::out!("{}", view.render_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Impact {
            pack,
            region,
            levy_year,
            format,
            lang,
        } => impact::run(settings, &pack, &region, levy_year, format, &lang),
    }
}

fn token(settings: &Settings, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    use crate::auth::Role;
    use crate::domain::ids::UnifiedSocialCreditCode;
    use crate::domain::RegionCode;
    let db = open_db(settings)?;
    db.migrate()?;
    let mut conn = db.conn()?;
    match cmd {
        TokenCommand::Create {
            role,
            employer,
            region,
            label,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let employer = match (role, employer) {
                (Role::Employer, Some(u)) => Some(
                    UnifiedSocialCreditCode::parse(&u)
                        .map_err(|e| anyhow::anyhow!("--employer: {e}"))?
                        .expose()
                        .to_owned(),
                ),
                (Role::Employer, None) => {
                    anyhow::bail!("--employer USCC is required for an employer token")
                }
                (_, Some(_)) => anyhow::bail!("--employer goes only with --role employer"),
                (_, None) => None,
            };
            let region = match (role, region) {
                (Role::Employer, Some(_)) => {
                    anyhow::bail!("--region does not go with --role employer")
                }
                (_, Some(r)) => Some(
                    r.parse::<RegionCode>()
                        .map_err(|e| anyhow::anyhow!("--region: {e}"))?,
                ),
                (_, None) => None,
            };
            let (token, row) = crate::db::tokens::create(
                &mut conn,
                role,
                employer.as_deref(),
                region,
                label.as_deref(),
            )?;
            eprintln!(
                "created token {} (id {}, role {}); it is shown once, store it now:",
                row.prefix, row.id, row.role
            );
            crate::outln!("{token}");
        }
        TokenCommand::Revoke { id_or_prefix } => {
            let n = crate::db::tokens::revoke(&mut conn, &id_or_prefix)?;
            if n == 0 {
                eprintln!("no active token matches {id_or_prefix}");
                return Ok(ExitCode::FAILURE);
            }
            crate::outln!("revoked {n} token(s)");
        }
        TokenCommand::List => {
            for t in crate::db::tokens::list(&mut conn)? {
                crate::outln!(
                    "{:>5}  {}  {:<10} {:<20} {:<8} {}{}",
                    t.id,
                    t.prefix,
                    t.role,
                    t.employer_uscc.as_deref().unwrap_or("-"),
                    t.region.as_deref().unwrap_or("-"),
                    t.label.as_deref().unwrap_or(""),
                    if t.revoked_at.is_some() {
                        "  (revoked)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a new password: on a terminal twice without echo (they must match), else one
/// line of standard input (its line break removed).
fn read_new_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

/// An account error for the command line: faults name the option they came from.
fn account_error(e: crate::registry::accounts::AccountError) -> anyhow::Error {
    use crate::registry::accounts::AccountError;
    match e {
        AccountError::Invalid(faults) => anyhow::anyhow!(
            "{}",
            faults
                .iter()
                .map(|f| {
                    let name = match f.field {
                        "username" => "USERNAME".to_owned(),
                        "password" => "password (standard input)".to_owned(),
                        other => format!("--{}", other.replace('_', "-")),
                    };
                    format!("{name}: {} / {}", f.en, f.zh)
                })
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

fn user(settings: &Settings, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    use crate::registry::accounts;
    let db = open_db(settings)?;
    db.migrate()?;
    let mut conn = db.conn()?;
    let os_user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = format!("cli:user:{os_user}");
    match cmd {
        UserCommand::Create {
            username,
            role,
            employer,
            region,
            display_name,
        } => {
            let role: crate::auth::Role = role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let password = read_new_password()?;
            let account = accounts::NewAccount {
                username,
                display_name,
                role,
                employer,
                region,
            };
            let u =
                accounts::create_user(&mut conn, &account, &password, &settings.accounts, &actor)
                    .map_err(account_error)?;
            crate::outln!("created user {} (id {}, role {})", u.username, u.id, u.role);
        }
        UserCommand::List => {
            for u in crate::db::accounts::list_users(&mut conn)? {
                crate::outln!(
                    "{:>5}  {:<24} {:<10} {:<20} {:<8} {}{}",
                    u.id,
                    u.username,
                    u.role,
                    u.employer_uscc.as_deref().unwrap_or("-"),
                    u.region.as_deref().unwrap_or("-"),
                    u.last_sign_in_at
                        .map(|t| format!("last sign-in {}", t.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_else(|| "never signed in".into()),
                    if u.disabled { "  (disabled)" } else { "" }
                );
            }
        }
        UserCommand::Disable { username } => {
            let ended =
                accounts::disable_user(&mut conn, &username, &actor).map_err(account_error)?;
            crate::outln!("disabled {username}; {ended} session(s) ended");
        }
        UserCommand::ResetPassword {
            username,
            link: true,
        } => {
            let templates = crate::mail::Templates::from_settings(&settings.mail)?;
            let sent = accounts::send_reset(
                &mut conn,
                &settings.accounts,
                &templates,
                &username,
                &actor,
                None,
            )
            .map_err(account_error)?;
            match sent {
                accounts::ResetSent::Mailed {
                    recipient,
                    expires_at,
                } => crate::outln!(
                    "reset link of {username} queued to {recipient}, valid until {expires_at} UTC"
                ),
                accounts::ResetSent::Letter(letter) => {
                    crate::out!("{}", letter.render(&settings.server.public_base_url))
                }
            }
        }
        UserCommand::ResetPassword {
            username,
            link: false,
        } => {
            let password = read_new_password()?;
            let ended = accounts::reset_password(
                &mut conn,
                &username,
                &password,
                &settings.accounts,
                &actor,
            )
            .map_err(account_error)?;
            crate::outln!("password of {username} reset; {ended} session(s) ended");
        }
        UserCommand::ActivationLetter { uscc } => {
            let letter = accounts::activation_letter(&mut conn, &settings.accounts, &uscc, &actor)
                .map_err(account_error)?;
            crate::out!("{}", letter.render(&settings.server.public_base_url));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let policy = std::sync::Arc::new(settings.load_policy()?);
    let db = open_db(&settings)?;
    if settings.database.migrate_on_start {
        let applied = db.migrate()?;
        tracing::info!(count = applied.len(), database = %db.redacted_url(), "migrations applied");
    }
    // A database that is down (or not migrated) leaves the secret to its first use.
    if let Err(e) = ensure_secret(&settings, &db) {
        tracing::warn!(error = %e, "server secret not ready yet");
    }
    let host = settings.server.host.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = crate::http::Application::build(settings, db, policy)?;
        tracing::info!(%host, port = app.port(), "listening");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
