//! The violator list as the inspector reads it: one entry per employer with all its
//! violations, the filters the registry does not apply, and keyset pages in the list's
//! order (amount owed, largest first, then USCC).
//!
//! `registry::violations::load` decides the violations of every employer of a region
//! in one pass and filters by kind of row only; the amount range, the public-body
//! filter and "employers with a violation of this kind, shown with all theirs" are
//! applied here to what it returns, so that the registry's reading of the law stays
//! in one place. The cursor is the last employer shown, so a page does not shift when
//! an employer before it drops off the list between two requests.

use rust_decimal::Decimal;
use std::collections::HashMap;

use super::filters::{Cursor, Filters};
use crate::domain::EmployerKind;
use crate::registry::violations::ViolationRow;

/// One employer of the list.
#[derive(Debug, Clone)]
pub struct EmployerEntry {
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind (API spelling).
    pub kind: String,
    /// Region code.
    pub region: String,
    /// All it owes for the year.
    pub owed: Decimal,
    /// Its violations, in the registry's order.
    pub violations: Vec<ViolationRow>,
}

impl EmployerEntry {
    /// Where this entry stands in the list.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            owed: self.owed,
            uscc: self.uscc.clone(),
        }
    }

    fn is_after(&self, c: &Cursor) -> bool {
        self.owed < c.owed || (self.owed == c.owed && self.uscc > c.uscc)
    }

    fn is_public_body(&self) -> bool {
        self.kind
            .parse::<EmployerKind>()
            .is_ok_and(|k| k.is_public_body())
    }

    /// True when the entry passes the filters (not the cursor).
    pub fn matches(&self, f: &Filters) -> bool {
        f.kind
            .is_none_or(|k| self.violations.iter().any(|v| v.violation == k))
            && f.min.is_none_or(|m| self.owed >= m)
            && f.max.is_none_or(|m| self.owed <= m)
            && (!f.public_only || self.is_public_body())
    }
}

/// The rows of the violator list grouped per employer, in the list's order.
pub fn group(rows: Vec<ViolationRow>) -> Vec<EmployerEntry> {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<EmployerEntry> = Vec::new();
    for r in rows {
        match at.get(&r.uscc) {
            Some(&i) => {
                if let Some(e) = out.get_mut(i) {
                    e.violations.push(r);
                }
            }
            None => {
                at.insert(r.uscc.clone(), out.len());
                out.push(EmployerEntry {
                    uscc: r.uscc.clone(),
                    name: r.name.clone(),
                    kind: r.kind.clone(),
                    region: r.region.clone(),
                    owed: r.outstanding_value,
                    violations: vec![r],
                });
            }
        }
    }
    out.sort_by(|a, b| b.owed.cmp(&a.owed).then_with(|| a.uscc.cmp(&b.uscc)));
    out
}

/// The employers passing the filters.
pub fn filtered(rows: Vec<ViolationRow>, f: &Filters) -> Vec<EmployerEntry> {
    group(rows).into_iter().filter(|e| e.matches(f)).collect()
}

/// One page: up to `per_page` entries after the filters' cursor, and the cursor of the
/// next page when there is one.
pub fn page(
    entries: Vec<EmployerEntry>,
    f: &Filters,
    per_page: usize,
) -> (Vec<EmployerEntry>, Option<Cursor>) {
    let mut rest = entries
        .into_iter()
        .filter(|e| f.after.as_ref().is_none_or(|c| e.is_after(c)));
    let shown: Vec<EmployerEntry> = rest.by_ref().take(per_page).collect();
    let next = match rest.next() {
        Some(_) => shown.last().map(EmployerEntry::cursor),
        None => None,
    };
    (shown, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::violations::ViolationKind;
    use chrono::NaiveDate;

    fn row(uscc: &str, kind: &str, v: ViolationKind, owed: i64) -> ViolationRow {
        let owed = Decimal::new(owed, 0);
        ViolationRow {
            uscc: uscc.into(),
            name: format!("单位{uscc}"),
            kind: kind.into(),
            region: "411202".into(),
            violation: v,
            why_zh: "事由".into(),
            why_en: "why".into(),
            citation: "依据".into(),
            outstanding: "0.00".into(),
            employer_outstanding: format!("{owed}.00"),
            outstanding_value: owed,
        }
    }

    fn filters() -> Filters {
        Filters {
            levy_year: 2025,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 30).unwrap_or_default(),
            kind: None,
            prefix: String::new(),
            min: None,
            max: None,
            public_only: false,
            after: None,
        }
    }

    fn rows() -> Vec<ViolationRow> {
        vec![
            row("A", "enterprise", ViolationKind::Overdue, 500),
            row("B", "public_institution", ViolationKind::ShortContract, 0),
            row("A", "enterprise", ViolationKind::NoSocialInsurance, 500),
            row("C", "government_agency", ViolationKind::NotDeclared, 0),
        ]
    }

    #[test]
    fn one_entry_per_employer_with_all_its_violations() {
        let g = group(rows());
        let ids: Vec<&str> = g.iter().map(|e| e.uscc.as_str()).collect();
        assert_eq!(ids, ["A", "B", "C"]);
        assert_eq!(g[0].violations.len(), 2);
        let f = Filters {
            kind: Some(ViolationKind::NoSocialInsurance),
            ..filters()
        };
        let only = filtered(rows(), &f);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].violations.len(), 2, "shown with all its violations");
    }

    #[test]
    fn amount_and_public_body_filters() {
        let f = Filters {
            min: Some(Decimal::new(1, 0)),
            ..filters()
        };
        assert_eq!(filtered(rows(), &f).len(), 1);
        let f = Filters {
            max: Some(Decimal::ZERO),
            public_only: true,
            ..filters()
        };
        let ids: Vec<String> = filtered(rows(), &f).into_iter().map(|e| e.uscc).collect();
        assert_eq!(ids, ["B", "C"]);
    }

    #[test]
    fn pages_follow_the_cursor() {
        let (first, next) = page(group(rows()), &filters(), 2);
        assert_eq!(first.len(), 2);
        let next = next.expect("a second page");
        assert_eq!(next.uscc, "B");
        let f = Filters {
            after: Some(next),
            ..filters()
        };
        let (second, more) = page(group(rows()), &f, 2);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].uscc, "C");
        assert!(more.is_none());
    }
}
