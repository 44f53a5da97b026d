//! Parsing and strict validation of pack files.
//!
//! Two passes. Structure (`format.rs` through serde): syntax, unknown keys, missing keys
//! and wrong types. Each dated value is read on its own (`Lenient`), so every malformed
//! value of a file is reported; only a syntax error or a problem outside the dated
//! values (an unknown top-level key, a bad `[region]`) stops the file at that point.
//! Meaning (here): citations, confidence, date ranges, overlaps, value ranges, region
//! codes and the hierarchy between files; every such problem is collected, in every
//! file, so one `policy check` shows them all.

mod retirement;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Days;
use rust_decimal::Decimal;
use toml::Spanned;

use super::format::{
    Confidence, Dec, Entries, Lenient, OrNone, Persons, RawPack, RawReward, RawTiers,
    RawWageFigure, RewardKind,
};
use super::model::{CertificationWindow, Entry, RegionPack, Timeline, WageFigure};
use super::{PolicyIssue, FIRST_MODELLED_DAY};
use crate::domain::{ExemptionRule, ReductionTiers, RegionCode, RewardPersons, RewardRule};

/// Collects the problems of one file, turning byte offsets into line numbers.
struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
    issues: &'a mut Vec<PolicyIssue>,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.src, offset)
    }

    fn err(&mut self, offset: usize, key: impl Into<String>, message: impl Into<String>) {
        let line = self.line(offset);
        self.issues.push(PolicyIssue {
            file: self.file.to_owned(),
            line: Some(line),
            key: Some(key.into()),
            message: message.into(),
        });
    }

    /// Unwraps one entry, or records why it is malformed. The error's line is the line
    /// of the key it names (found in the entry's text), else the entry's first line.
    fn entry<R>(&mut self, key: &str, raw: Spanned<Lenient<R>>) -> Option<(usize, R)> {
        let span = raw.span();
        let line = self.line(span.start);
        match raw.into_inner() {
            Lenient::Ok(r) => Some((line, r)),
            Lenient::Err { path, message } => {
                let named = message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.starts_with("unknown field"))
                    .map(str::to_owned)
                    .or_else(|| path.rsplit(['.', ']']).next().map(str::to_owned))
                    .unwrap_or_default();
                let at = key_offset(self.src, span.clone(), &named).unwrap_or(span.start);
                let full_key = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{key}.{path}")
                };
                self.err(at, full_key, message);
                None
            }
        }
    }
}

/// Offset of `name = ` inside `span` of `src`, if the key is written there.
fn key_offset(src: &str, span: std::ops::Range<usize>, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let text = src.get(span.clone())?;
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let start = from + i;
        let before = text[..start].chars().next_back();
        let after = text[start + name.len()..].trim_start_matches([' ', '\t']);
        let boundary = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if boundary && after.starts_with('=') {
            return Some(span.start + start);
        }
        from = start + name.len();
    }
    None
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Parses and validates one file. Problems go to `issues`; `None` when the file could
/// not be read into a pack at all.
pub(crate) fn parse_pack(
    file: &str,
    file_name: &str,
    src: &str,
    issues: &mut Vec<PolicyIssue>,
) -> Option<RegionPack> {
    let raw: RawPack = match serde_path_to_error::deserialize(toml::Deserializer::new(src)) {
        Ok(raw) => raw,
        Err(e) => {
            let key = super::format::path_string(e.path());
            let inner = e.into_inner();
            issues.push(PolicyIssue {
                file: file.to_owned(),
                line: inner.span().map(|s| line_of(src, s.start)),
                key: if key.is_empty() || key == "." {
                    None
                } else {
                    Some(key)
                },
                message: inner.message().trim().replace('\n', "; "),
            });
            return None;
        }
    };
    let mut cx = Ctx { file, src, issues };
    convert(&mut cx, file_name, raw)
}

fn convert(cx: &mut Ctx<'_>, file_name: &str, raw: RawPack) -> Option<RegionPack> {
    let code_span = raw.region.code.span();
    let code: Option<RegionCode> = match raw.region.code.get_ref().parse() {
        Ok(c) => Some(c),
        Err(e) => {
            cx.err(code_span.start, "region.code", e.to_string());
            None
        }
    };
    if let Some(code) = code {
        // The file name leads with the code so that a directory listing reads like the
        // region tree, and a copied file that kept its old code is caught.
        let prefix = file_name.get(..6);
        if prefix != Some(code.as_str()) || file_name.as_bytes().get(6) != Some(&b'-') {
            cx.err(
                code_span.start,
                "region.code",
                format!(
                    "region code {code} does not match the file name {file_name:?}; \
                     name the file \"{code}-<name>.toml\""
                ),
            );
        }
        let c = code.as_str().as_bytes();
        let ok_level =
            code.is_national() || (c[0] != b'0' && !(c[2..4] == *b"00" && c[4..] != *b"00"));
        if !ok_level {
            cx.err(
                code_span.start,
                "region.code",
                format!("{code} is not a province (xx0000), city (xxxx00) or county code"),
            );
        }
    }
    if raw.region.name.trim().is_empty() || raw.region.name_en.trim().is_empty() {
        cx.err(
            code_span.start,
            "region",
            "region.name and region.name_en must not be empty",
        );
    }

    let pos = |d: &Decimal| *d > Decimal::ZERO;
    let quota_ratio = timeline(cx, "quota_ratio", raw.quota_ratio, |cx, key, v| {
        let d = v.get_ref().0;
        if d > Decimal::ZERO && d < Decimal::ONE {
            Some(d)
        } else {
            cx.err(
                v.span().start,
                key,
                format!(
                    "quota ratio {} must lie strictly between 0 and 1",
                    d.normalize()
                ),
            );
            None
        }
    });
    let wage_cap_multiple = timeline(
        cx,
        "wage_cap_multiple",
        raw.wage_cap_multiple,
        |cx, key, v| match v.get_ref() {
            OrNone::None => Some(None),
            OrNone::Some(Dec(d)) if pos(d) => Some(Some(*d)),
            OrNone::Some(Dec(d)) => {
                cx.err(
                    v.span().start,
                    key,
                    format!("wage cap multiple {d} must be positive"),
                );
                None
            }
        },
    );
    let average_wage_series = timeline(
        cx,
        "average_wage_series",
        raw.average_wage_series,
        |_, _, v| Some(*v.get_ref()),
    );
    let average_wage_fallback_series = timeline(
        cx,
        "average_wage_fallback_series",
        raw.average_wage_fallback_series,
        |_, _, v| Some(*v.get_ref()),
    );
    let social_average_wage = wage_figures(cx, raw.social_average_wage);
    let minimum_wage = timeline(cx, "minimum_wage", raw.minimum_wage, |cx, key, v| {
        positive(cx, key, &v, "minimum wage")
    });
    let minimum_wage_tiers = timeline(
        cx,
        "minimum_wage_tiers",
        raw.minimum_wage_tiers,
        |cx, key, v| {
            if v.get_ref().is_empty() {
                cx.err(v.span().start, key, "a tier table needs at least tier 1");
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for (i, t) in v.get_ref().iter().enumerate() {
                match positive(cx, &format!("{key}[{i}]"), t, "minimum wage") {
                    Some(d) => out.push(d),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        },
    );
    let minimum_wage_tier = timeline(
        cx,
        "minimum_wage_tier",
        raw.minimum_wage_tier,
        |cx, key, v| {
            let t = *v.get_ref();
            if t >= 1 {
                Some(t)
            } else {
                cx.err(v.span().start, key, "tiers are numbered from 1");
                None
            }
        },
    );
    let exemption = timeline(cx, "exemption", raw.exemption, |cx, key, v| {
        match v.get_ref() {
            OrNone::None => Some(ExemptionRule::None),
            OrNone::Some(e) if e.max_staff >= 1 => Some(ExemptionRule::SmallEnterprise {
                max_staff: e.max_staff,
                max_years_since_registration: e.max_years_since_registration,
            }),
            OrNone::Some(_) => {
                cx.err(v.span().start, key, "max_staff must be at least 1");
                None
            }
        }
    });
    let reduction_tiers = timeline(
        cx,
        "reduction_tiers",
        raw.reduction_tiers,
        |cx, key, v| match v.get_ref() {
            OrNone::None => Some(None),
            OrNone::Some(t) => tiers(cx, key, v.span().start, t).map(Some),
        },
    );
    let fresh_graduate_full_year = timeline(
        cx,
        "fresh_graduate_full_year",
        raw.fresh_graduate_full_year,
        |_, _, v| Some(*v.get_ref()),
    );
    let reward = timeline(cx, "reward", raw.reward, reward_rule);
    let surcharge_daily_rate = timeline(
        cx,
        "surcharge_daily_rate",
        raw.surcharge_daily_rate,
        |cx, key, v| {
            let d = v.get_ref().0;
            if d > Decimal::ZERO && d < Decimal::ONE {
                Some(d)
            } else {
                cx.err(
                    v.span().start,
                    key,
                    format!(
                        "daily rate {} must lie strictly between 0 and 1",
                        d.normalize()
                    ),
                );
                None
            }
        },
    );
    let surcharge_capped_at_principal = timeline(
        cx,
        "surcharge_capped_at_principal",
        raw.surcharge_capped_at_principal,
        |_, _, v| Some(*v.get_ref()),
    );
    let filing_deadline = timeline(cx, "filing_deadline", raw.filing_deadline, |_, _, v| {
        Some(*v.get_ref())
    });
    let payment_due = timeline(cx, "payment_due", raw.payment_due, |_, _, v| {
        Some(*v.get_ref())
    });
    let certification_window = timeline(
        cx,
        "certification_window",
        raw.certification_window,
        |cx, key, v| {
            let w = v.get_ref();
            if w.opens <= w.closes {
                Some(CertificationWindow {
                    opens: w.opens,
                    closes: w.closes,
                })
            } else {
                cx.err(
                    v.span().start,
                    key,
                    format!("window opens {} after it closes {}", w.opens, w.closes),
                );
                None
            }
        },
    );
    let working_age_required = timeline(
        cx,
        "working_age_required",
        raw.working_age_required,
        |_, _, v| Some(*v.get_ref()),
    );
    let retirement_age = timeline(cx, "retirement_age", raw.retirement_age, |cx, key, v| {
        let at = v.span().start;
        retirement::retirement_ages(cx, key, at, v.get_ref())
    });
    let retirement_default_track = timeline(
        cx,
        "retirement_default_track",
        raw.retirement_default_track,
        |_, _, v| Some(*v.get_ref()),
    );
    let count = |cx: &mut Ctx<'_>, key: &str, v: Spanned<u32>| {
        let n = *v.get_ref();
        if n >= 1 {
            Some(n)
        } else {
            cx.err(
                v.span().start,
                key,
                "an establishment threshold must be at least 1",
            );
            None
        }
    };
    let threshold_government_agency = timeline(
        cx,
        "public_body_threshold.government_agency",
        raw.public_body_threshold.government_agency,
        count,
    );
    let threshold_public_institution = timeline(
        cx,
        "public_body_threshold.public_institution",
        raw.public_body_threshold.public_institution,
        count,
    );
    let notes = timeline(cx, "note", raw.note, |cx, key, v| {
        if v.get_ref().trim().is_empty() {
            cx.err(v.span().start, key, "a note must not be empty");
            None
        } else {
            Some(v.into_inner())
        }
    });

    Some(RegionPack {
        code: code?,
        name: raw.region.name,
        name_en: raw.region.name_en,
        file: cx.file.to_owned(),
        region_line: cx.line(code_span.start),
        quota_ratio,
        wage_cap_multiple,
        average_wage_series,
        average_wage_fallback_series,
        social_average_wage,
        minimum_wage,
        minimum_wage_tiers,
        minimum_wage_tier,
        exemption,
        reduction_tiers,
        fresh_graduate_full_year,
        reward,
        surcharge_daily_rate,
        surcharge_capped_at_principal,
        filing_deadline,
        payment_due,
        certification_window,
        working_age_required,
        retirement_age,
        retirement_default_track,
        threshold_government_agency,
        threshold_public_institution,
        notes,
    })
}

fn positive(cx: &mut Ctx<'_>, key: &str, v: &Spanned<Dec>, what: &str) -> Option<Decimal> {
    let d = v.get_ref().0;
    if d > Decimal::ZERO {
        Some(d)
    } else {
        cx.err(v.span().start, key, format!("{what} {d} must be positive"));
        None
    }
}

fn tiers(cx: &mut Ctx<'_>, key: &str, at: usize, t: &RawTiers) -> Option<ReductionTiers> {
    let (th, hi, lo) = (t.threshold.0, t.share_at_or_above.0, t.share_below.0);
    let unit = |d: Decimal| d >= Decimal::ZERO && d <= Decimal::ONE;
    if th > Decimal::ZERO && th < Decimal::ONE && unit(hi) && unit(lo) {
        Some(ReductionTiers {
            threshold: th,
            share_at_or_above: hi,
            share_below: lo,
        })
    } else {
        cx.err(
            at,
            key,
            "threshold must lie strictly between 0 and 1 and both shares between 0 and 1",
        );
        None
    }
}

fn reward_rule(cx: &mut Ctx<'_>, key: &str, v: Spanned<RawReward>) -> Option<RewardRule> {
    let at = v.span().start;
    let r = v.into_inner();
    // Keys that belong to another kind are errors: a Guizhou-style `cap` on a Hunan-style
    // multiple would otherwise be silently ignored.
    let allowed: &[&str] = match r.kind {
        RewardKind::None => &["note"],
        RewardKind::MinimumWageMultiple => &[
            "multiple",
            "persons",
            "severe_counted_once",
            "min_excess",
            "max_years",
            "eligible_kinds",
        ],
        RewardKind::FixedPerPerson => &["amount", "cap", "persons", "eligible_kinds"],
    };
    let present: [(&str, Option<usize>); 9] = [
        ("note", r.note.as_ref().map(|s| s.span().start)),
        ("multiple", r.multiple.as_ref().map(|s| s.span().start)),
        ("amount", r.amount.as_ref().map(|s| s.span().start)),
        ("cap", r.cap.as_ref().map(|s| s.span().start)),
        ("persons", r.persons.as_ref().map(|s| s.span().start)),
        (
            "severe_counted_once",
            r.severe_counted_once.as_ref().map(|s| s.span().start),
        ),
        ("min_excess", r.min_excess.as_ref().map(|s| s.span().start)),
        ("max_years", r.max_years.as_ref().map(|s| s.span().start)),
        (
            "eligible_kinds",
            r.eligible_kinds.as_ref().map(|s| s.span().start),
        ),
    ];
    let mut ok = true;
    for (name, span) in present {
        if let Some(s) = span {
            if !allowed.contains(&name) {
                cx.err(
                    s,
                    format!("{key}.{name}"),
                    format!("`{name}` does not apply to this kind of reward rule"),
                );
                ok = false;
            }
        }
    }
    let mut need = |cx: &mut Ctx<'_>, name: &str, present: bool| {
        if !present {
            cx.err(
                at,
                format!("{key}.{name}"),
                format!("this kind of reward rule needs `{name}`"),
            );
            ok = false;
        }
    };
    let persons = r.persons.as_ref().map(|p| match p.get_ref() {
        Persons::Fractional => RewardPersons::Fractional,
        Persons::Whole => RewardPersons::Whole,
    });
    let kinds = r.eligible_kinds.map(|k| k.into_inner()).unwrap_or_default();
    let rule = match r.kind {
        RewardKind::None => {
            need(cx, "note", r.note.is_some());
            RewardRule::None {
                note: r.note.map(|n| n.into_inner()).unwrap_or_default(),
            }
        }
        RewardKind::MinimumWageMultiple => {
            need(cx, "multiple", r.multiple.is_some());
            need(cx, "persons", persons.is_some());
            RewardRule::MinimumWageMultiple {
                multiple: r
                    .multiple
                    .as_ref()
                    .map(|m| m.get_ref().0)
                    .unwrap_or_default(),
                persons: persons.unwrap_or(RewardPersons::Whole),
                severe_counted_once: r
                    .severe_counted_once
                    .map(|s| s.into_inner())
                    .unwrap_or(false),
                min_excess: r.min_excess.as_ref().map(|m| m.get_ref().0),
                max_years: r.max_years.map(|m| m.into_inner()),
                eligible_kinds: kinds,
            }
        }
        RewardKind::FixedPerPerson => {
            need(cx, "amount", r.amount.is_some());
            need(cx, "persons", persons.is_some());
            RewardRule::FixedPerPerson {
                amount: r.amount.as_ref().map(|m| m.get_ref().0).unwrap_or_default(),
                cap: r.cap.as_ref().map(|m| m.get_ref().0),
                persons: persons.unwrap_or(RewardPersons::Whole),
                eligible_kinds: kinds,
            }
        }
    };
    for (name, d) in [
        ("multiple", &r.multiple),
        ("amount", &r.amount),
        ("cap", &r.cap),
    ] {
        if let Some(d) = d {
            if d.get_ref().0 <= Decimal::ZERO {
                cx.err(
                    d.span().start,
                    format!("{key}.{name}"),
                    format!("{name} must be positive"),
                );
                ok = false;
            }
        }
    }
    if let Some(d) = &r.min_excess {
        if d.get_ref().0 < Decimal::ZERO {
            cx.err(
                d.span().start,
                format!("{key}.min_excess"),
                "min_excess must not be negative",
            );
            ok = false;
        }
    }
    ok.then_some(rule)
}

/// Validates the dated entries of one parameter and orders them into a timeline.
fn timeline<R, T>(
    cx: &mut Ctx<'_>,
    name: &str,
    raws: Entries<R>,
    mut conv: impl FnMut(&mut Ctx<'_>, &str, Spanned<R>) -> Option<T>,
) -> Timeline<T> {
    let mut entries: Vec<Entry<T>> = Vec::new();
    for (i, raw) in raws.into_iter().enumerate() {
        let key = format!("{name}[{i}]");
        let Some((line, r)) = cx.entry(&key, raw) else {
            continue;
        };
        let meta = meta(cx, &key, &r.citation, &r.confidence, r.provisional.as_ref());
        let from = r.from.get_ref().0;
        let to = r.to.as_ref().map(|t| t.get_ref().0);
        let mut ok = meta.is_some();
        if let (Some(t), Some(ts)) = (to, r.to.as_ref()) {
            if t < from {
                cx.err(
                    ts.span().start,
                    format!("{key}.to"),
                    format!("`to` {t} is before `from` {from}"),
                );
                ok = false;
            }
        }
        let value = conv(cx, &format!("{key}.value"), r.value);
        if let (true, Some(value), Some((citation, confidence, provisional))) = (ok, value, meta) {
            entries.push(Entry {
                from,
                to,
                until: to,
                value,
                citation,
                confidence,
                provisional,
                line,
            });
        }
    }
    entries.sort_by_key(|e| e.from);
    // A value without `to` lasts until the next one starts; an explicit `to` that reaches
    // into the next range is an overlap (two values in force on one day).
    let mut kept: Vec<Entry<T>> = Vec::with_capacity(entries.len());
    for e in entries {
        if let Some(prev) = kept.last_mut() {
            let clash = prev.from == e.from || prev.to.is_some_and(|t| t >= e.from);
            if clash {
                let prev_range = match prev.to {
                    Some(t) => format!("{} to {t}", prev.from),
                    None => format!("from {}", prev.from),
                };
                let (file, line) = (cx.file.to_owned(), e.line);
                cx.issues.push(PolicyIssue {
                    file,
                    line: Some(line),
                    key: Some(name.to_owned()),
                    message: format!(
                        "dates overlap: the value from {} overlaps the one at line {} ({prev_range})",
                        e.from, prev.line
                    ),
                });
                continue;
            }
            if prev.until.is_none() {
                prev.until = e.from.checked_sub_days(Days::new(1));
            }
        }
        kept.push(e);
    }
    Timeline(kept)
}

/// Checks citation, confidence and the provisional flag of one value.
fn meta(
    cx: &mut Ctx<'_>,
    key: &str,
    citation: &Spanned<String>,
    confidence: &Spanned<Confidence>,
    provisional: Option<&Spanned<bool>>,
) -> Option<(String, Confidence, bool)> {
    let mut ok = true;
    if citation.get_ref().trim().is_empty() {
        cx.err(
            citation.span().start,
            format!("{key}.citation"),
            "citation must not be empty",
        );
        ok = false;
    }
    let conf = *confidence.get_ref();
    let prov = match provisional {
        // Only an official source may be shown as settled; anything else is provisional
        // whether or not the file says so.
        Some(p) if !*p.get_ref() && !conf.is_official() => {
            cx.err(
                p.span().start,
                format!("{key}.provisional"),
                format!(
                    "provisional = false needs confidence = \"S\" (this value is {:?})",
                    conf.as_str()
                ),
            );
            ok = false;
            true
        }
        Some(p) => *p.get_ref(),
        None => !conf.is_official(),
    };
    ok.then(|| (citation.get_ref().trim().to_owned(), conf, prov))
}

fn wage_figures(cx: &mut Ctx<'_>, raws: Vec<Spanned<Lenient<RawWageFigure>>>) -> Vec<WageFigure> {
    let mut out: Vec<WageFigure> = Vec::new();
    let mut seen: HashMap<(i32, super::format::WageSeries), usize> = HashMap::new();
    for (i, raw) in raws.into_iter().enumerate() {
        let key = format!("social_average_wage[{i}]");
        let Some((line, r)) = cx.entry(&key, raw) else {
            continue;
        };
        let meta = meta(cx, &key, &r.citation, &r.confidence, r.provisional.as_ref());
        let year = *r.data_year.get_ref();
        let mut ok = meta.is_some();
        if !(1990..=2100).contains(&year) {
            cx.err(
                r.data_year.span().start,
                format!("{key}.data_year"),
                format!("data year {year} is implausible"),
            );
            ok = false;
        }
        let value = r.value.get_ref().0;
        if value <= Decimal::ZERO {
            cx.err(
                r.value.span().start,
                format!("{key}.value"),
                format!("average wage {value} must be positive"),
            );
            ok = false;
        }
        if let Some(prev) = seen.get(&(year, r.series)) {
            cx.err(
                r.data_year.span().start,
                format!("{key}.data_year"),
                format!(
                    "a {} figure for data year {year} is already given at line {prev}",
                    r.series.as_str()
                ),
            );
            ok = false;
        }
        if let (true, Some((citation, confidence, provisional))) = (ok, meta) {
            seen.insert((year, r.series), line);
            out.push(WageFigure {
                data_year: year,
                series: r.series,
                value,
                citation,
                confidence,
                provisional,
                line,
            });
        }
    }
    out
}

/// Checks that concern several files: duplicates, the region tree, and that the national
/// pack covers every required parameter from 2015-10-01 without a gap.
pub(crate) fn check_book(
    packs: Vec<RegionPack>,
    broken: &HashSet<RegionCode>,
    issues: &mut Vec<PolicyIssue>,
) -> BTreeMap<RegionCode, RegionPack> {
    let mut book: BTreeMap<RegionCode, RegionPack> = BTreeMap::new();
    for p in packs {
        if let Some(first) = book.get(&p.code) {
            issues.push(PolicyIssue {
                file: p.file.clone(),
                line: Some(region_line(&p)),
                key: Some("region.code".into()),
                message: format!("region {} is already defined in {}", p.code, first.file),
            });
            continue;
        }
        book.insert(p.code, p);
    }
    for p in book.values() {
        if p.code.is_national() {
            continue;
        }
        let mut parents = vec![p.code.province()];
        if p.code.city() != p.code && p.code.city() != p.code.province() {
            parents.insert(0, p.code.city());
        }
        for parent in parents {
            if parent != p.code && !book.contains_key(&parent) && !broken.contains(&parent) {
                issues.push(PolicyIssue {
                    file: p.file.clone(),
                    line: Some(region_line(p)),
                    key: Some("region.code".into()),
                    message: format!(
                        "region {} needs a pack for {parent}, which is missing (a region resolves \
                         through its city and province)",
                        p.code
                    ),
                });
            }
        }
    }
    match book.get(&RegionCode::NATIONAL) {
        None if broken.contains(&RegionCode::NATIONAL) => {}
        None => issues.push(PolicyIssue {
            file: "(policy packs)".into(),
            line: None,
            key: None,
            message: "no national pack (region code 000000): every chain ends there".into(),
        }),
        Some(n) => national_coverage(n, issues),
    }
    book
}

fn region_line(p: &RegionPack) -> usize {
    p.region_line
}

fn national_coverage(n: &RegionPack, issues: &mut Vec<PolicyIssue>) {
    fn cover<T>(n: &RegionPack, key: &str, t: &Timeline<T>, issues: &mut Vec<PolicyIssue>) {
        let mut msg = None;
        match t.0.first() {
            None => {
                msg = Some(format!(
                    "the national pack must give {key} from {FIRST_MODELLED_DAY}"
                ))
            }
            Some(first) if first.from > FIRST_MODELLED_DAY => {
                msg = Some(format!(
                    "{key} starts {} but must start by {FIRST_MODELLED_DAY}",
                    first.from
                ));
            }
            _ => {}
        }
        for w in t.0.windows(2) {
            let next_day = w[0].until.and_then(|u| u.checked_add_days(Days::new(1)));
            if next_day != Some(w[1].from) {
                msg = Some(format!(
                    "{key} has a gap between line {} and line {}: the national pack must cover every day",
                    w[0].line, w[1].line
                ));
            }
        }
        if let Some(last) = t.0.last() {
            if let Some(u) = last.until {
                msg = Some(format!(
                    "{key} ends {u}; the last national value must be open-ended (no `to`)"
                ));
            }
        }
        if let Some(message) = msg {
            issues.push(PolicyIssue {
                file: n.file.clone(),
                // A parameter the pack does not give (or gives only in values that were
                // refused) has no line of its own: its `code` line names the pack.
                line: Some(t.0.first().map_or(region_line(n), |e| e.line)),
                key: Some(key.to_owned()),
                message,
            });
        }
    }
    cover(n, "quota_ratio", &n.quota_ratio, issues);
    cover(n, "wage_cap_multiple", &n.wage_cap_multiple, issues);
    cover(n, "average_wage_series", &n.average_wage_series, issues);
    cover(n, "exemption", &n.exemption, issues);
    cover(n, "reduction_tiers", &n.reduction_tiers, issues);
    cover(
        n,
        "fresh_graduate_full_year",
        &n.fresh_graduate_full_year,
        issues,
    );
    cover(n, "reward", &n.reward, issues);
    cover(n, "surcharge_daily_rate", &n.surcharge_daily_rate, issues);
    cover(
        n,
        "surcharge_capped_at_principal",
        &n.surcharge_capped_at_principal,
        issues,
    );
    cover(n, "filing_deadline", &n.filing_deadline, issues);
    cover(n, "payment_due", &n.payment_due, issues);
}
