//! `quota-levy policy impact`: a draft pack previewed over the register of a region and
//! levy year (registry::impact), printed as tables, CSV lines or JSON.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config::Settings;
use crate::domain::money::{format_money, from_fen};
use crate::domain::{Language, LevyYear, RegionCode};
use crate::registry::impact::{self, draft_fault, EmployerChange, Group, ImpactJob, ImpactReport};

use super::{open_db, ImpactFormat, EXIT_INVALID};

/// Runs the command.
pub fn run(
    settings: &Settings,
    pack: &Path,
    region: &str,
    levy_year: i32,
    format: ImpactFormat,
    lang: &str,
) -> anyhow::Result<ExitCode> {
    let lang = match lang {
        "zh" => Language::Zh,
        "en" => Language::En,
        other => anyhow::bail!("--lang: expected zh or en, got {other:?}"),
    };
    let region: RegionCode = region
        .parse()
        .map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let levy_year = LevyYear::new(i64::from(levy_year))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--levy-year: expected a year from {} to {}",
                LevyYear::FIRST,
                LevyYear::LAST
            )
        })?
        .get();
    let src = std::fs::read_to_string(pack)
        .map_err(|e| anyhow::anyhow!("--pack {}: {e}", pack.display()))?;
    let book = settings.load_policy()?;
    let name = pack.file_name().map(|n| n.to_string_lossy().into_owned());
    let draft = match book.with_draft(name.as_deref(), &src) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "{}",
                lang.pick(
                    "草案政策包无效，未作预览：",
                    "the draft pack is invalid; nothing was previewed:"
                )
            );
            for i in &e.issues {
                eprintln!("  {}", draft_fault(i, lang));
            }
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    if let Err(said) = impact::check_draft_region(region, draft.region) {
        eprintln!("quota-levy: --pack: {}", said.get(lang));
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let db = open_db(settings)?;
    let mut conn = db.conn()?;
    let job = ImpactJob {
        levy_year,
        region,
        today: &book,
        draft: &draft,
        lang,
    };
    let started = std::time::Instant::now();
    let report = match format {
        ImpactFormat::Csv => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write!(out, "\u{feff}{}\r\n", impact::csv_header(lang).join(","))?;
            let mut line = String::with_capacity(256);
            let report = impact::run(&mut conn, &job, &mut |e: &EmployerChange| {
                if !e.changed() {
                    return Ok(());
                }
                line.clear();
                impact::push_csv_line(&mut line, e, lang);
                out.write_all(line.as_bytes())
                    .map_err(|e| crate::db::DbError::Task(e.to_string()))
            })?;
            out.write_all(impact::csv_totals(&report, lang).as_bytes())?;
            out.flush()?;
            report
        }
        ImpactFormat::Json => {
            let report = impact::run(&mut conn, &job, &mut |_| Ok(()))?;
            crate::outln!("{}", serde_json::to_string_pretty(&report)?);
            report
        }
        ImpactFormat::Table => {
            let report = impact::run(&mut conn, &job, &mut |_| Ok(()))?;
            crate::out!("{}", render_text(&report, lang));
            report
        }
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "policy impact {levy_year} {region}: {} employers compared in {secs:.1} s ({:.0} employers/s); nothing written",
        report.employers,
        report.employers as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

fn m(fen: i64) -> String {
    format_money(from_fen(fen))
}

fn mo(fen: Option<i64>) -> String {
    fen.map(m).unwrap_or_else(|| "-".into())
}

fn groups(out: &mut String, title: &str, rows: &[Group], lang: Language) {
    out.push_str(&format!("\n{title}\n"));
    out.push_str(&format!(
        "  {:<24} {:>8} {:>16} {:>16} {:>16} {:>7} {:>7} {:>7}\n",
        "",
        lang.pick("单位数", "employers"),
        lang.pick("现行应缴", "today"),
        lang.pick("草案应缴", "draft"),
        lang.pick("差额", "change"),
        lang.pick("减少", "winners"),
        lang.pick("增加", "losers"),
        lang.pick("状态变", "status"),
    ));
    for g in rows {
        out.push_str(&format!(
            "  {:<24} {:>8} {:>16} {:>16} {:>16} {:>7} {:>7} {:>7}\n",
            // A county by code and name; a kind or a size band by its name alone.
            if g.key.bytes().all(|b| b.is_ascii_digit()) && g.key != g.name {
                format!("{} {}", g.key, g.name)
            } else {
                g.name.clone()
            },
            g.employers,
            m(g.today_payable),
            m(g.draft_payable),
            m(g.change),
            g.winners,
            g.losers,
            g.status_changes
        ));
    }
}

fn employer_line(e: &EmployerChange, lang: Language) -> String {
    format!(
        "  {} {}  {} → {}  {} → {} ({})  [{}]\n",
        e.uscc,
        e.name,
        e.today_status.name(lang),
        e.draft_status.name(lang),
        mo(e.today_payable),
        mo(e.draft_payable),
        m(e.change),
        e.moved.join(" ")
    )
}

/// The report as text.
pub fn render_text(r: &ImpactReport, lang: Language) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} · {} {} · {} {}{}\n",
        lang.pick("征收年度", "levy year"),
        r.levy_year,
        lang.pick("地区", "region"),
        r.region,
        lang.pick("草案", "draft"),
        r.draft_file,
        if r.draft_replaces {
            lang.pick("（替换现行政策包）", " (replaces the pack in force)")
        } else {
            lang.pick("（新增政策包）", " (adds a pack)")
        }
    ));
    out.push_str(&format!(
        "{}: {}\n{}: {}  {}: {}  {}: {}\n{}: {}  {}: {}\n{}: {} ({})  {}: {} (+{})  {}: {}\n",
        lang.pick("单位数", "employers"),
        r.employers,
        lang.pick("现行应缴合计", "payable today"),
        m(r.today_payable),
        lang.pick("草案应缴合计", "payable under the draft"),
        m(r.draft_payable),
        lang.pick("差额", "change"),
        m(r.change),
        lang.pick("现行奖励", "rewards today"),
        m(r.today_reward),
        lang.pick("草案奖励", "rewards under the draft"),
        m(r.draft_reward),
        lang.pick("少缴单位", "paying less"),
        r.winners.count,
        m(r.winners.sum),
        lang.pick("多缴单位", "paying more"),
        r.losers.count,
        m(r.losers.sum),
        lang.pick("无变化", "unchanged"),
        r.unchanged,
    ));
    out.push_str(&format!("\n{}\n", lang.pick("状态", "Status")));
    for s in &r.statuses {
        out.push_str(&format!(
            "  {:<16} {:>8} → {:>8}\n",
            s.status.name(lang),
            s.today,
            s.draft
        ));
    }
    if !r.transitions.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            lang.pick("状态变化", "Changes of status")
        ));
        for t in &r.transitions {
            out.push_str(&format!(
                "  {} → {}: {}\n",
                t.from.name(lang),
                t.to.name(lang),
                t.count
            ));
        }
    }
    groups(
        &mut out,
        lang.pick("按区县", "By county"),
        &r.by_county,
        lang,
    );
    groups(
        &mut out,
        lang.pick("按单位类型", "By employer kind"),
        &r.by_kind,
        lang,
    );
    groups(
        &mut out,
        lang.pick("按规模（在职职工人数）", "By size (in-service staff)"),
        &r.by_size,
        lang,
    );
    if !r.largest.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            lang.pick("变化最大的单位", "Largest changes")
        ));
        for e in &r.largest {
            out.push_str(&employer_line(e, lang));
            for s in &e.steps {
                out.push_str(&format!(
                    "      {}: {} → {}\n",
                    s.step,
                    s.today.as_deref().unwrap_or("-"),
                    s.draft.as_deref().unwrap_or("-")
                ));
            }
        }
    }
    if !r.status_changes.is_empty() {
        out.push_str(&format!(
            "\n{} ({})\n",
            lang.pick("状态改变的单位", "Employers changing status"),
            r.status_changes_total
        ));
        for e in &r.status_changes {
            out.push_str(&employer_line(e, lang));
        }
        if r.status_list_cut() {
            out.push_str(&format!(
                "  … {}\n",
                lang.pick("其余见 --format csv", "the others: --format csv")
            ));
        }
    }
    for n in &r.not_assessable {
        out.push_str(&format!(
            "{} ({}): {} — {}\n",
            lang.pick("无法核定", "not assessable"),
            n.side,
            n.count,
            n.reason
        ));
    }
    out
}
