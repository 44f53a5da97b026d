//! What the outer layers show: the parameters in force for a region (`policy show`,
//! `GET /api/v1/policies/{region}`) and the validation summary (`policy check`).

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use super::{outcome_dir, outcome_embedded, LoadOutcome, PolicyBook, PolicyIssue};
use crate::domain::money::format_money;
use crate::domain::{
    Cited, ExemptionRule, PolicyLookupError, PolicyProvider, RegionCode, RewardPersons, RewardRule,
};

/// The parameters in force for one region and date, each with its source. Serializes to
/// the JSON of `GET /api/v1/policies/{region}`: decimals and money are strings.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    /// The region asked for.
    pub region: RegionCode,
    /// Its Chinese name, when it has a pack.
    pub region_name: Option<String>,
    /// Its English name, when it has a pack.
    pub region_name_en: Option<String>,
    /// The date the rules are resolved for.
    pub as_of: NaiveDate,
    /// Levy year whose deadlines are shown.
    pub levy_year: i32,
    /// Data year whose wage figures are shown (levy year − 1).
    pub data_year: i32,
    /// The region chain, nearest first, and which links have a pack.
    pub chain: Vec<ChainLink>,
    /// Every parameter, in a fixed order.
    pub parameters: Vec<ParameterView>,
    /// Notes in force (gaps, regions without a pack, regional remarks).
    pub notes: Vec<String>,
    /// True when any parameter shown is provisional.
    pub provisional: bool,
}

/// One link of the region chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    /// The code.
    pub region: RegionCode,
    /// Chinese name, when the region has a pack.
    pub name: Option<String>,
    /// English name, when the region has a pack.
    pub name_en: Option<String>,
    /// Whether the region has a pack of its own.
    pub has_pack: bool,
}

/// One parameter in force.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterView {
    /// Stable key (`quota_ratio`, `minimum_wage_monthly`, …).
    pub key: String,
    /// The part of the data year a monthly value covers (`2024-01..2024-12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The value; `null` when not in force or not found.
    pub value: Value,
    /// The value as text, for people.
    pub text: String,
    /// The legal source; `null` when nothing is in force.
    pub citation: Option<String>,
    /// True when the value is unconfirmed.
    pub provisional: bool,
    /// The region whose pack supplied the value.
    pub region: Option<RegionCode>,
}

fn dec(d: Decimal) -> String {
    d.normalize().to_string()
}

fn pct(d: Decimal) -> String {
    format!("{}%", dec(d * Decimal::ONE_HUNDRED))
}

fn kinds(k: &[crate::domain::EmployerKind]) -> Vec<&'static str> {
    k.iter().map(|k| k.as_str()).collect()
}

fn persons(p: RewardPersons) -> &'static str {
    match p {
        RewardPersons::Fractional => "fractional",
        RewardPersons::Whole => "whole",
    }
}

fn param<T>(key: &str, c: &Cited<T>, value: Value, text: String) -> ParameterView {
    ParameterView {
        key: key.to_owned(),
        period: None,
        value,
        text,
        citation: Some(c.citation.clone()),
        provisional: c.provisional,
        region: Some(c.region),
    }
}

fn absent(key: &str, text: &str) -> ParameterView {
    ParameterView {
        key: key.to_owned(),
        period: None,
        value: Value::Null,
        text: text.to_owned(),
        citation: None,
        provisional: false,
        region: None,
    }
}

fn exemption_json(e: &ExemptionRule) -> (Value, String) {
    match e {
        ExemptionRule::None => (
            json!({ "kind": "none" }),
            "no small-employer exemption".into(),
        ),
        ExemptionRule::SmallEnterprise {
            max_staff,
            max_years_since_registration,
        } => {
            let text = match max_years_since_registration {
                Some(y) => format!(
                    "enterprises with ≤ {max_staff} staff, within {y} years of registration"
                ),
                None => format!("enterprises with ≤ {max_staff} staff"),
            };
            (
                json!({
                    "kind": "small_enterprise",
                    "max_staff": max_staff,
                    "max_years_since_registration": max_years_since_registration,
                }),
                text,
            )
        }
    }
}

fn reward_json(r: &RewardRule) -> (Value, String) {
    match r {
        RewardRule::None { note } => (
            json!({ "kind": "none", "note": note }),
            format!("none: {note}"),
        ),
        RewardRule::MinimumWageMultiple {
            multiple,
            persons: p,
            severe_counted_once,
            min_excess,
            max_years,
            eligible_kinds,
        } => {
            let mut text = format!(
                "{} persons × {} × monthly minimum wage",
                persons(*p),
                dec(*multiple)
            );
            if let Some(m) = min_excess {
                let _ = write!(text, "; excess ≥ {}", dec(*m));
            }
            if *severe_counted_once {
                text.push_str("; severe counted once");
            }
            if let Some(y) = max_years {
                let _ = write!(text, "; at most {y} years");
            }
            if !eligible_kinds.is_empty() {
                let _ = write!(text, "; only {}", kinds(eligible_kinds).join(", "));
            }
            (
                json!({
                    "kind": "minimum_wage_multiple",
                    "multiple": dec(*multiple),
                    "persons": persons(*p),
                    "severe_counted_once": severe_counted_once,
                    "min_excess": min_excess.map(dec),
                    "max_years": max_years,
                    "eligible_kinds": kinds(eligible_kinds),
                }),
                text,
            )
        }
        RewardRule::FixedPerPerson {
            amount,
            cap,
            persons: p,
            eligible_kinds,
        } => {
            let mut text = format!(
                "{} yuan per {} extra person",
                format_money(*amount),
                persons(*p)
            );
            if let Some(c) = cap {
                let _ = write!(text, "; at most {} per employer", format_money(*c));
            }
            if !eligible_kinds.is_empty() {
                let _ = write!(text, "; only {}", kinds(eligible_kinds).join(", "));
            }
            (
                json!({
                    "kind": "fixed_per_person",
                    "amount": format_money(*amount),
                    "cap": cap.map(format_money),
                    "persons": persons(*p),
                    "eligible_kinds": kinds(eligible_kinds),
                }),
                text,
            )
        }
    }
}

impl PolicyBook {
    /// The parameters in force for `region` on `as_of`, with wage figures of `data_year`
    /// (default: the year before `as_of`'s year, i.e. as-of date in its own levy year).
    pub fn view(
        &self,
        region: RegionCode,
        as_of: NaiveDate,
        data_year: Option<i32>,
    ) -> Result<PolicyView, PolicyLookupError> {
        let data_year = data_year.unwrap_or(as_of.year() - 1);
        let levy_year = data_year + 1;
        let r = self.resolve(region, as_of, data_year)?;
        let chain = self.chain_packs(region)?;
        let mut ps: Vec<ParameterView> = Vec::new();

        ps.push(param(
            "quota_ratio",
            &r.quota_ratio,
            json!(dec(r.quota_ratio.value)),
            pct(r.quota_ratio.value),
        ));
        ps.push(match &r.wage_cap_multiple {
            Some(c) => param(
                "wage_cap_multiple",
                c,
                json!(dec(c.value)),
                format!("{} × social average wage", dec(c.value)),
            ),
            None => match super::resolve::nearest(&chain, as_of, |p| &p.wage_cap_multiple) {
                Some((p, e)) => ParameterView {
                    key: "wage_cap_multiple".into(),
                    period: None,
                    value: Value::Null,
                    text: "no wage cap".into(),
                    citation: Some(e.citation.clone()),
                    provisional: e.provisional,
                    region: Some(p.code),
                },
                None => absent("wage_cap_multiple", "no wage cap"),
            },
        });
        ps.push(match self.series(&chain, as_of) {
            Some((p, e)) => ParameterView {
                key: "average_wage_series".into(),
                period: None,
                value: json!(e.value.as_str()),
                text: e.value.as_str().into(),
                citation: Some(e.citation.clone()),
                provisional: e.provisional,
                region: Some(p.code),
            },
            None => absent("average_wage_series", "no series selected"),
        });
        if let Some((p, e)) =
            super::resolve::nearest(&chain, as_of, |p| &p.average_wage_fallback_series)
        {
            ps.push(ParameterView {
                key: "average_wage_fallback_series".into(),
                period: None,
                value: json!(e.value.as_str()),
                text: format!(
                    "{} (used only where the selected series has no figure)",
                    e.value.as_str()
                ),
                citation: Some(e.citation.clone()),
                provisional: e.provisional,
                region: Some(p.code),
            });
        }
        let mut saw = match &r.social_average_wage {
            Some(c) => param(
                "social_average_wage",
                c,
                json!(format_money(c.value)),
                format!(
                    "{} yuan/year (data year {data_year})",
                    format_money(c.value)
                ),
            ),
            None => absent(
                "social_average_wage",
                &format!("not found for data year {data_year}: the calculation asks for it"),
            ),
        };
        saw.period = Some(data_year.to_string());
        ps.push(saw);

        // Months with the same value and source are shown as one line.
        let mut m = 0;
        while m < 12 {
            let cur = &r.minimum_wage_by_month[m];
            let mut end = m;
            while end + 1 < 12 && r.minimum_wage_by_month[end + 1] == *cur {
                end += 1;
            }
            let period = format!("{data_year}-{:02}..{data_year}-{:02}", m + 1, end + 1);
            let mut pv = match cur {
                Some(c) => param(
                    "minimum_wage_monthly",
                    c,
                    json!(format_money(c.value)),
                    format!("{} yuan/month", format_money(c.value)),
                ),
                None => absent(
                    "minimum_wage_monthly",
                    "not found: the calculation asks for it",
                ),
            };
            pv.period = Some(period);
            ps.push(pv);
            m = end + 1;
        }

        let (v, t) = exemption_json(&r.exemption.value);
        ps.push(param("exemption", &r.exemption, v, t));
        ps.push(match &r.reduction_tiers {
            Some(c) => param(
                "reduction_tiers",
                c,
                json!({
                    "threshold": dec(c.value.threshold),
                    "share_at_or_above": dec(c.value.share_at_or_above),
                    "share_below": dec(c.value.share_below),
                }),
                format!(
                    "pay {} at ratio ≥ {}, else {}",
                    pct(c.value.share_at_or_above),
                    pct(c.value.threshold),
                    pct(c.value.share_below)
                ),
            ),
            None => match super::resolve::nearest(&chain, as_of, |p| &p.reduction_tiers) {
                Some((p, e)) => ParameterView {
                    key: "reduction_tiers".into(),
                    period: None,
                    value: Value::Null,
                    text: "no reduction tiers".into(),
                    citation: Some(e.citation.clone()),
                    provisional: e.provisional,
                    region: Some(p.code),
                },
                None => absent("reduction_tiers", "no reduction tiers"),
            },
        });
        ps.push(param(
            "fresh_graduate_full_year",
            &r.fresh_graduate_full_year,
            json!(r.fresh_graduate_full_year.value),
            if r.fresh_graduate_full_year.value {
                "a fresh graduate counted more than 6 months counts 12".into()
            } else {
                "no".into()
            },
        ));
        let (v, t) = reward_json(&r.reward.value);
        ps.push(param("reward", &r.reward, v, t));
        ps.push(param(
            "surcharge",
            &r.surcharge,
            json!({
                "daily_rate": dec(r.surcharge.value.daily_rate),
                "capped_at_principal": r.surcharge.value.capped_at_principal,
            }),
            format!(
                "{}‰ per day{}",
                dec(r.surcharge.value.daily_rate * Decimal::ONE_THOUSAND),
                if r.surcharge.value.capped_at_principal {
                    ", at most the principal"
                } else {
                    ""
                }
            ),
        ));
        ps.push(param(
            "filing_deadline",
            &r.filing_deadline,
            json!(r.filing_deadline.value.to_string()),
            r.filing_deadline.value.to_string(),
        ));
        ps.push(param(
            "payment_due",
            &r.payment_due,
            json!(r.payment_due.value.to_string()),
            r.payment_due.value.to_string(),
        ));
        // docs/rules.md §4.3: only where the region counts employees of working age.
        if let Some(w) = &r.working_age {
            ps.push(param(
                "working_age_required",
                &w.required,
                json!(w.required.value),
                "disabled employees count only while of working age".into(),
            ));
            if let Some(a) = w.ages_by_month[11].as_ref() {
                let sched = |s: &crate::domain::RetirementSchedule| match s.delay_from {
                    Some((y, m)) => format!(
                        "{} (+1 month per {} birth months from {y}-{m:02}, at most +{})",
                        s.base_years, s.delay_every_months, s.max_delay_months
                    ),
                    None => s.base_years.to_string(),
                };
                ps.push(param(
                    "retirement_age",
                    a,
                    json!({
                        "minimum_age": a.value.minimum_age,
                        "male": a.value.male.base_years,
                        "female_worker": a.value.female_worker.base_years,
                        "female_cadre": a.value.female_cadre.base_years,
                    }),
                    format!(
                        "from {}; men {}; women workers {}; women cadres {}",
                        a.value.minimum_age,
                        sched(&a.value.male),
                        sched(&a.value.female_worker),
                        sched(&a.value.female_cadre)
                    ),
                ));
            }
            ps.push(param(
                "retirement_default_track",
                &w.default_track,
                json!(w.default_track.value.as_str()),
                format!(
                    "{} (a woman's line without retirement_track)",
                    w.default_track.value.as_str()
                ),
            ));
        }
        ps.push(match self.certification_window(&chain, as_of) {
            Some(c) => {
                let opens = c.value.opens.in_year(levy_year).map(|d| d.to_string());
                let closes = c.value.closes.in_year(levy_year).map(|d| d.to_string());
                param(
                    "certification_window",
                    &c,
                    json!({ "opens": opens, "closes": closes }),
                    format!(
                        "{} to {}",
                        opens.unwrap_or_default(),
                        closes.unwrap_or_default()
                    ),
                )
            }
            None => absent("certification_window", "none configured"),
        });
        for (kind, c) in &r.public_body_thresholds {
            ps.push(param(
                &format!("public_body_threshold.{}", kind.as_str()),
                c,
                json!(c.value),
                format!(
                    "{} ({}) with an establishment of ≥ {}",
                    kind.name_zh(),
                    kind.as_str(),
                    c.value
                ),
            ));
        }

        let links = region
            .chain()
            .into_iter()
            .map(|code| {
                let p = self.pack(code);
                ChainLink {
                    region: code,
                    name: p.map(|p| p.name.clone()),
                    name_en: p.map(|p| p.name_en.clone()),
                    has_pack: p.is_some(),
                }
            })
            .collect();
        let own = self.pack(region);
        Ok(PolicyView {
            region,
            region_name: own.map(|p| p.name.clone()),
            region_name_en: own.map(|p| p.name_en.clone()),
            as_of,
            levy_year,
            data_year,
            chain: links,
            provisional: ps.iter().any(|p| p.provisional),
            parameters: ps,
            notes: r
                .social_average_wage_stand_in
                .into_iter()
                .filter(|_| r.wage_cap_multiple.is_some())
                .chain(r.notes)
                .collect(),
        })
    }
}

impl PolicyView {
    /// Plain-text rendering for `quota-levy policy show`.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let name = match (&self.region_name, &self.region_name_en) {
            (Some(n), Some(e)) => format!(" {n} ({e})"),
            _ => " (no pack of its own)".into(),
        };
        let _ = writeln!(
            out,
            "Policy for {}{name}, as of {} (levy year {}, data year {})",
            self.region, self.as_of, self.levy_year, self.data_year
        );
        let chain: Vec<String> = self
            .chain
            .iter()
            .map(|l| match &l.name {
                Some(n) => format!("{} {n}", l.region),
                None => format!("{} (no pack)", l.region),
            })
            .collect();
        let _ = writeln!(out, "Chain: {}", chain.join(" → "));
        let _ = writeln!(out);
        for p in &self.parameters {
            let key = match &p.period {
                Some(per) => format!("{} [{per}]", p.key),
                None => p.key.clone(),
            };
            let flag = if p.provisional { " (provisional)" } else { "" };
            let _ = writeln!(out, "{key}: {}{flag}", p.text);
            match (&p.region, &p.citation) {
                (Some(r), Some(c)) => {
                    let _ = writeln!(out, "    from {r}: {c}");
                }
                _ => {
                    let _ = writeln!(out, "    not in any pack of the chain");
                }
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes:");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        let prov = self.parameters.iter().filter(|p| p.provisional).count();
        let _ = writeln!(
            out,
            "\n{prov} of {} values shown are provisional (secondary or recalled source, or a choice).",
            self.parameters.len()
        );
        // One table of what is still provisional and why: the source that makes it so.
        if prov > 0 {
            let _ = writeln!(out, "\nStill provisional, and why:");
            let _ = writeln!(out, "| parameter | value | region | why (source) |");
            let _ = writeln!(out, "|---|---|---|---|");
            for p in self.parameters.iter().filter(|p| p.provisional) {
                let key = match &p.period {
                    Some(per) => format!("{} [{per}]", p.key),
                    None => p.key.clone(),
                };
                let cell = |t: &str| t.replace('|', "/");
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&key),
                    cell(&p.text),
                    p.region
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into()),
                    cell(
                        p.citation
                            .as_deref()
                            .unwrap_or("not in any pack of the chain")
                    ),
                );
            }
        }
        out
    }
}

/// `quota-levy policy show REGION [--as-of DATE]`: every parameter in force, with value,
/// citation, provisional flag and supplying region. Without a date, today is used.
pub fn show(
    book: &PolicyBook,
    region: RegionCode,
    as_of: Option<NaiveDate>,
) -> Result<String, PolicyLookupError> {
    let as_of = as_of.unwrap_or_else(crate::clock::china_today);
    Ok(book.view(region, as_of, None)?.render_text())
}

/// The summary of `quota-levy policy check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The folder checked, or "embedded".
    pub source: String,
    /// Pack files read.
    pub files: usize,
    /// Regions loaded (files without errors that stop them loading).
    pub regions: usize,
    /// Provinces among them (31 for mainland China).
    pub provinces: usize,
    /// Dated values and figures in all loaded packs.
    pub values: usize,
    /// How many of those are provisional.
    pub provisional: usize,
    /// Every problem found, with file and line.
    pub issues: Vec<PolicyIssue>,
}

impl CheckReport {
    /// True when there is nothing to fix.
    pub fn is_ok(&self) -> bool {
        self.issues.is_empty()
    }

    /// Plain-text rendering: one line per problem (`file:line: key: message`), then the
    /// summary.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for i in &self.issues {
            let _ = writeln!(out, "error: {i}");
        }
        let _ =
            writeln!(
            out,
            "{}: {} file(s), {} region(s) ({} provinces), {} dated value(s), {} provisional; {}",
            self.source,
            self.files,
            self.regions,
            self.provinces,
            self.values,
            self.provisional,
            if self.is_ok() { "OK".to_owned() } else { format!("{} error(s)", self.issues.len()) }
        );
        out
    }
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render_text())
    }
}

impl From<LoadOutcome> for CheckReport {
    fn from(o: LoadOutcome) -> Self {
        let (values, provisional) = o
            .packs
            .values()
            .map(|p| p.counts())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        CheckReport {
            source: o.source,
            files: o.files,
            regions: o.packs.len(),
            provinces: o
                .packs
                .keys()
                .filter(|c| !c.is_national() && c.province() == **c)
                .count(),
            values,
            provisional,
            issues: o.issues,
        }
    }
}

/// `quota-levy policy check`: validates every pack in `dir` (or the embedded packs when
/// `None`) and reports all problems, not just the first.
pub fn check_report(dir: Option<&Path>) -> CheckReport {
    match dir {
        Some(d) => outcome_dir(d).into(),
        None => outcome_embedded().into(),
    }
}
