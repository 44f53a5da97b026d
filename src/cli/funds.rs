//! `rewards export`, `ledger` and `positions remind`: the rewards roll, the fund's
//! account and the reserved-position reminders from the command line.

use std::io::Write;
use std::process::ExitCode;

use super::args::{PositionsCommand, RewardsCommand};
use super::open_db;
use crate::config::Settings;

fn prefix(region: Option<String>) -> anyhow::Result<String> {
    Ok(match region {
        Some(r) => crate::auth::scope_prefix(
            &r.parse::<crate::domain::RegionCode>()
                .map_err(|e| anyhow::anyhow!("--region: {e}"))?,
        )
        .to_owned(),
        None => String::new(),
    })
}

/// `rewards export`.
pub fn rewards(settings: &Settings, c: RewardsCommand) -> anyhow::Result<ExitCode> {
    use crate::registry::rewards::{cells, for_each, total_cells, CSV_HEADER};
    let RewardsCommand::Export {
        levy_year,
        region,
        output,
    } = c;
    let prefix = prefix(region)?;
    let db = open_db(settings)?;
    let mut conn = db.conn()?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let sums = for_each(&mut conn, levy_year, &prefix, 0, None, &mut |r| {
        rows.push(cells(&r).to_vec());
        Ok(())
    })?;
    let totals = sums.totals();
    rows.push(total_cells(&totals).to_vec());
    let xlsx = output.as_deref().is_some_and(|p| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
    });
    let bytes = if xlsx {
        crate::registry::sheet::workbook("超比例奖励", &CSV_HEADER, &rows, &[4, 5, 9, 10])?
    } else {
        let mut out = format!("\u{feff}{}", crate::registry::csv::line(&CSV_HEADER));
        for r in &rows {
            let refs: Vec<&str> = r.iter().map(String::as_str).collect();
            out.push_str(&crate::registry::csv::line(&refs));
        }
        out.into_bytes()
    };
    match output {
        Some(path) => std::fs::write(&path, bytes)
            .map_err(|e| anyhow::anyhow!("--output {}: {e}", path.display()))?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    eprintln!(
        "rewards {levy_year}: {} employers, reward {}, approved {}, paid {}",
        totals.employers, totals.reward, totals.approved, totals.paid
    );
    Ok(ExitCode::SUCCESS)
}

/// `ledger`.
pub fn ledger(
    settings: &Settings,
    levy_year: i32,
    region: Option<String>,
) -> anyhow::Result<ExitCode> {
    use crate::registry::ledger::{account, rows, CSV_HEADER};
    let prefix = prefix(region)?;
    let db = open_db(settings)?;
    let mut conn = db.conn()?;
    let l = account(&mut conn, levy_year, &prefix, crate::clock::china_today())?;
    let mut out = format!("\u{feff}{}", crate::registry::csv::line(&CSV_HEADER));
    for r in rows(&l) {
        let refs: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&crate::registry::csv::line(&refs));
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `positions remind`.
pub fn positions(settings: &Settings, c: PositionsCommand) -> anyhow::Result<ExitCode> {
    let PositionsCommand::Remind { levy_year, region } = c;
    let prefix = prefix(region)?;
    let templates = crate::mail::template::Templates::from_settings(&settings.mail)?;
    let db = open_db(settings)?;
    let mut conn = db.conn()?;
    let n = crate::registry::positions::remind_public_bodies(
        &mut conn,
        &templates,
        levy_year,
        &prefix,
        crate::clock::china_today(),
    )?;
    println!("reserve-position reminders queued: {n}");
    Ok(ExitCode::SUCCESS)
}
