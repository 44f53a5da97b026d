//! A draft pack over the packs in force: one file in the format of
//! `config/policies/*.toml`, validated exactly as a shipped pack is (the same parser,
//! the same checks of the region tree and of national coverage), then put in place of
//! the pack of its region (or beside the others, for a region without one). Nothing is
//! written anywhere: the result is a book of its own, for a preview of what the draft
//! would change (docs/impact.md).

use std::collections::HashSet;

use super::{load, PolicyBook, PolicyIssue, PolicyLoadError};
use crate::domain::RegionCode;

/// Largest draft accepted, in bytes: the biggest shipped pack is a few kilobytes.
pub const DRAFT_MAX_BYTES: usize = 256 * 1024;

/// A book with a draft pack in place, and what the draft is.
#[derive(Debug, Clone)]
pub struct DraftBook {
    /// The packs in force with the draft in place.
    pub book: PolicyBook,
    /// The region of the draft pack.
    pub region: RegionCode,
    /// True when the draft replaces a pack in force, false when it adds one.
    pub replaces: bool,
    /// The file name the draft was checked under.
    pub file_name: String,
}

/// The `region.code` a pack's text names, read leniently (the strict parse reports
/// any fault of it); used to name a pasted draft that has no file name.
fn named_code(src: &str) -> Option<String> {
    let v: toml::Table = src.parse().ok()?;
    let code = v.get("region")?.get("code")?.as_str()?;
    code.parse::<RegionCode>().ok().map(|c| c.to_string())
}

fn one(file: &str, message: impl Into<String>) -> PolicyLoadError {
    PolicyLoadError {
        issues: vec![PolicyIssue {
            file: file.to_owned(),
            line: None,
            key: None,
            message: message.into(),
        }],
    }
}

impl PolicyBook {
    /// This book with the draft pack `src` in place of the pack of its region.
    /// `file_name` is the draft's name when it has one (an uploaded or named file: it
    /// must follow `<code>-<name>.toml`, as a shipped pack's must); a pasted draft is
    /// named after the code it declares. Every fault is returned, with line and key.
    pub fn with_draft(
        &self,
        file_name: Option<&str>,
        src: &str,
    ) -> Result<DraftBook, PolicyLoadError> {
        let name = match file_name.map(str::trim).filter(|n| !n.is_empty()) {
            // Only the last part of a path: the check is of the name.
            Some(n) => n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned(),
            None => match named_code(src) {
                Some(code) => format!("{code}-draft.toml"),
                None => "draft.toml".to_owned(),
            },
        };
        if src.len() > DRAFT_MAX_BYTES {
            return Err(one(
                &name,
                format!("the draft pack is larger than {DRAFT_MAX_BYTES} bytes"),
            ));
        }
        if src.trim().is_empty() {
            return Err(one(&name, "the draft pack is empty"));
        }
        let mut issues = Vec::new();
        let Some(draft) = load::parse_pack(&name, &name, src, &mut issues) else {
            return Err(PolicyLoadError { issues });
        };
        if !issues.is_empty() {
            return Err(PolicyLoadError { issues });
        }
        let region = draft.code;
        let replaces = self.packs.contains_key(&region);
        let packs: Vec<_> = self
            .packs
            .values()
            .filter(|p| p.code != region)
            .cloned()
            .chain(std::iter::once(draft))
            .collect();
        let packs = load::check_book(packs, &HashSet::new(), &mut issues);
        if !issues.is_empty() {
            return Err(PolicyLoadError { issues });
        }
        Ok(DraftBook {
            book: PolicyBook {
                packs,
                source: format!("{} + draft {name}", self.source),
                resolved: super::resolve::Resolutions::default(),
            },
            region,
            replaces,
            file_name: name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HENAN: &str = include_str!("../../config/policies/410000-henan.toml");

    fn book() -> PolicyBook {
        PolicyBook::load_embedded().unwrap_or_else(|e| panic!("shipped packs: {e}"))
    }

    #[test]
    fn a_valid_draft_takes_the_place_of_its_regions_pack() {
        let changed = HENAN.replacen("value = \"1.6%\"", "value = \"1.7%\"", 1);
        let d = book()
            .with_draft(None, &changed)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.region.as_str(), "410000");
        assert!(d.replaces);
        assert_eq!(d.file_name, "410000-draft.toml");
        let pack = d.book.pack(d.region).map(|p| p.file.clone());
        assert_eq!(pack.as_deref(), Some("410000-draft.toml"));
        assert_eq!(d.book.packs().count(), book().packs().count());
    }

    #[test]
    fn a_draft_is_checked_as_a_shipped_pack_every_fault_with_its_key() {
        // A binary float, and a file name that does not match the code.
        let bad = HENAN.replacen("value = \"1.6%\"", "value = 0.016", 1);
        let e = book()
            .with_draft(Some("dir/410100-henan.toml"), &bad)
            .err()
            .map(|e| e.issues)
            .unwrap_or_default();
        assert!(
            e.iter().any(|i| i
                .key
                .as_deref()
                .is_some_and(|k| k.starts_with("quota_ratio[0]"))),
            "{e:?}"
        );
        assert!(
            e.iter().any(|i| i.key.as_deref() == Some("region.code")
                && i.message.contains("410100-henan.toml")),
            "{e:?}"
        );
        // A county without its city's pack fails the region tree, as in a folder.
        let county = "[region]\ncode = \"419999\"\nname = \"某县\"\nname_en = \"Some county\"\n";
        let e = book()
            .with_draft(None, county)
            .err()
            .map(|e| e.issues)
            .unwrap_or_default();
        assert!(e.iter().any(|i| i.message.contains("419900")), "{e:?}");
        assert!(book().with_draft(None, "  ").is_err());
    }
}
