//! The violator list as the inspector reads it: one entry per employer with all its
//! violations, keyset pages in the list's order (amount owed, largest first, then
//! USCC). The form's filters become the stored list's filter
//! (`registry::violator_list`), applied by the database: the region, "employers with a
//! violation of this kind, shown with all theirs", the amount range and public bodies.
//! The cursor is the last employer shown, so a page does not shift when an employer
//! before it drops off the list between two requests.

use super::filters::{Cursor, Filters};
use crate::db::violator_lists::EntryFilter;
use crate::domain::money::to_fen;
use crate::registry::violator_list::{kind_bit, Entry};

/// One employer of the list.
pub type EmployerEntry = Entry;

/// Where `e` stands in the list.
pub fn cursor(e: &Entry) -> Cursor {
    Cursor {
        owed: e.owed,
        uscc: e.uscc.clone(),
    }
}

/// The stored list's filter of the form's filters.
pub fn entry_filter(f: &Filters) -> EntryFilter {
    EntryFilter {
        region_prefix: f.prefix.clone(),
        kind_bit: f.kind.map(kind_bit),
        // Checked to at most two decimals, so whole fen.
        min_fen: f.min.and_then(to_fen),
        max_fen: f.max.and_then(to_fen),
        public_only: f.public_only,
    }
}

/// The cursor as the stored list's keyset: amount owed in fen and USCC.
pub fn keyset(f: &Filters) -> Option<(i64, String)> {
    let c = f.after.as_ref()?;
    Some((to_fen(c.owed)?, c.uscc.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::violations::ViolationKind;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn filters() -> Filters {
        Filters {
            levy_year: 2025,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 30).unwrap_or_default(),
            kind: None,
            prefix: "4112".into(),
            min: None,
            max: None,
            public_only: false,
            after: None,
        }
    }

    #[test]
    fn the_form_becomes_the_database_filter() {
        let f = Filters {
            kind: Some(ViolationKind::NoSocialInsurance),
            min: Some(Decimal::new(150, 2)),
            max: Some(Decimal::new(2000, 0)),
            public_only: true,
            after: Some(Cursor {
                owed: Decimal::new(1150000, 2),
                uscc: "91350100M000100Y43".into(),
            }),
            ..filters()
        };
        let e = entry_filter(&f);
        assert_eq!(e.region_prefix, "4112");
        assert_eq!(
            e.kind_bit,
            Some(1 << 7),
            "the eighth kind of ViolationKind::ALL"
        );
        assert_eq!((e.min_fen, e.max_fen), (Some(150), Some(200_000)));
        assert!(e.public_only);
        assert_eq!(
            keyset(&f),
            Some((1_150_000, "91350100M000100Y43".to_owned()))
        );
        assert_eq!(entry_filter(&filters()).kind_bit, None);
        assert_eq!(keyset(&filters()), None);
    }
}
