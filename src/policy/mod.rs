//! Loads and validates `config/policies/*.toml` into domain policy types.
//!
//! The packs are the law as data: one file per region (national, province, city,
//! county), each parameter a list of dated values with a citation, a confidence level and
//! a provisional flag. `PolicyBook` holds them all and implements
//! [`PolicyProvider`](crate::domain::PolicyProvider) by resolving along the region chain.
//! The file format is described in `config/policies/README.md`.
//!
//! Entry points for the outer layers:
//! - [`PolicyBook::load`] (a configured folder, else the packs compiled into the binary);
//! - [`check_report`] for `quota-levy policy check`;
//! - [`PolicyBook::view`] / [`show`] for `GET /api/v1/policies/{region}` and
//!   `quota-levy policy show`.

mod draft;
mod embedded;
mod format;
mod load;
mod model;
mod resolve;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::RegionCode;

pub use draft::{DraftBook, DRAFT_MAX_BYTES};
pub use format::{Confidence, MonthDay, WageSeries};
pub use model::{CertificationWindow, Entry, RegionPack, Timeline, WageFigure};
pub(crate) use resolve::Resolutions;
pub use view::{check_report, show, ChainLink, CheckReport, ParameterView, PolicyView};

/// The first day modelled: 财税〔2015〕72号 took effect on 2015-10-01 (docs/rules.md §1).
pub const FIRST_MODELLED_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2015, 10, 1) {
    Some(d) => d,
    None => panic!("2015-10-01 is a date"),
};

/// One problem found in a pack, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyIssue {
    /// The file, as given to the loader (`config/policies/410000-henan.toml`).
    pub file: String,
    /// 1-based line, when the problem has a position.
    pub line: Option<usize>,
    /// The key at fault (`quota_ratio[1].citation`), when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The packs could not be loaded; every problem in every file is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyLoadError {
    /// All problems, in file order.
    pub issues: Vec<PolicyIssue>,
}

impl fmt::Display for PolicyLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the policy packs:", self.issues.len())?;
        for i in &self.issues {
            write!(f, "\n  {i}")?;
        }
        Ok(())
    }
}

/// Every region's pack, validated; resolves parameters for the calculation.
#[derive(Debug, Clone)]
pub struct PolicyBook {
    packs: BTreeMap<RegionCode, RegionPack>,
    source: String,
    resolved: resolve::Resolutions,
}

/// What a load read, whether or not it succeeded (for `policy check`).
pub(crate) struct LoadOutcome {
    pub source: String,
    pub files: usize,
    pub packs: BTreeMap<RegionCode, RegionPack>,
    pub issues: Vec<PolicyIssue>,
}

impl PolicyBook {
    /// Loads the packs from `dir` when given, else the packs compiled into the binary.
    /// This is what the service and the CLI call with the `[policy] dir` setting.
    pub fn load(dir: Option<&Path>) -> Result<PolicyBook, PolicyLoadError> {
        match dir {
            Some(d) => Self::load_dir(d),
            None => Self::load_embedded(),
        }
    }

    /// Loads every `*.toml` in `dir` (other files, such as README.md, are skipped).
    pub fn load_dir(dir: &Path) -> Result<PolicyBook, PolicyLoadError> {
        Self::finish(outcome_dir(dir))
    }

    /// Loads the packs of `config/policies/` compiled into the binary, so that it runs
    /// from any directory.
    pub fn load_embedded() -> Result<PolicyBook, PolicyLoadError> {
        Self::finish(outcome_embedded())
    }

    /// Loads packs from in-memory `(file name, contents)` pairs (tests, tools).
    pub fn load_sources(files: &[(&str, &str)]) -> Result<PolicyBook, PolicyLoadError> {
        Self::finish(outcome_sources(
            "(memory)",
            files
                .iter()
                .map(|(n, s)| (n.to_string(), n.to_string(), s.to_string())),
        ))
    }

    fn finish(o: LoadOutcome) -> Result<PolicyBook, PolicyLoadError> {
        if o.issues.is_empty() {
            Ok(PolicyBook {
                packs: o.packs,
                source: o.source,
                resolved: resolve::Resolutions::default(),
            })
        } else {
            Err(PolicyLoadError { issues: o.issues })
        }
    }

    /// Where the packs came from (a folder, or "embedded").
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every pack, by region code.
    pub fn packs(&self) -> impl Iterator<Item = &RegionPack> {
        self.packs.values()
    }

    /// The pack of exactly this region, if there is one.
    pub fn pack(&self, region: RegionCode) -> Option<&RegionPack> {
        self.packs.get(&region)
    }

    /// The names (Chinese, English) to show for a region: those of the nearest pack up
    /// the chain (a county without a pack of its own shows its city), else the code.
    pub fn region_names(&self, code: RegionCode) -> (String, String) {
        code.chain()
            .into_iter()
            .filter(|c| !c.is_national())
            .find_map(|c| self.pack(c))
            .map(|p| (p.name.clone(), p.name_en.clone()))
            .unwrap_or_else(|| (code.to_string(), code.to_string()))
    }

    /// Number of dated values and figures in all packs, and how many are provisional.
    pub fn counts(&self) -> (usize, usize) {
        self.packs
            .values()
            .map(RegionPack::counts)
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// Reads a folder; unreadable folders and files become issues.
pub(crate) fn outcome_dir(dir: &Path) -> LoadOutcome {
    let source = dir.display().to_string();
    let mut issues = Vec::new();
    let mut files: Vec<(String, String, String)> = Vec::new();
    match std::fs::read_dir(dir) {
        Err(e) => issues.push(PolicyIssue {
            file: source.clone(),
            line: None,
            key: None,
            message: format!("cannot read the policy folder: {e}"),
        }),
        Ok(rd) => {
            let mut names: Vec<std::path::PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            names.sort();
            for path in names {
                let label = path.display().to_string();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match std::fs::read_to_string(&path) {
                    Ok(s) => files.push((label, name, s)),
                    Err(e) => issues.push(PolicyIssue {
                        file: label,
                        line: None,
                        key: None,
                        message: format!("cannot read the file: {e}"),
                    }),
                }
            }
        }
    }
    let mut o = outcome_sources(&source, files.into_iter());
    issues.append(&mut o.issues);
    o.issues = issues;
    o
}

/// The packs compiled into the binary.
pub(crate) fn outcome_embedded() -> LoadOutcome {
    outcome_sources(
        "embedded",
        embedded::FILES
            .iter()
            .map(|(n, s)| (format!("config/policies/{n}"), n.to_string(), s.to_string())),
    )
}

/// Parses `(label, file name, contents)` triples and checks them together.
pub(crate) fn outcome_sources(
    source: &str,
    files: impl Iterator<Item = (String, String, String)>,
) -> LoadOutcome {
    let mut issues = Vec::new();
    let mut packs = Vec::new();
    let mut count = 0;
    // Files that could not be read into a pack still count as present for the region
    // tree (by their file name), so one broken city file is one error, not one per county.
    let mut broken = std::collections::HashSet::new();
    for (label, name, src) in files {
        count += 1;
        let named = name.get(..6).and_then(|c| c.parse::<RegionCode>().ok());
        match load::parse_pack(&label, &name, &src, &mut issues) {
            // A pack whose code is not the one its file name says (an error of its own)
            // still stands for that region, as a broken file does.
            Some(p) => {
                if let Some(code) = named.filter(|c| *c != p.code) {
                    broken.insert(code);
                }
                packs.push(p);
            }
            None => {
                if let Some(code) = named {
                    broken.insert(code);
                }
            }
        }
    }
    let packs = load::check_book(packs, &broken, &mut issues);
    LoadOutcome {
        source: source.to_owned(),
        files: count,
        packs,
        issues,
    }
}

#[cfg(test)]
mod fuzz;
