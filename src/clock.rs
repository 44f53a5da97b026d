//! Today, as the service's users count days; and the clock that says it.

use chrono::{Datelike, NaiveDate, Utc};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

/// Today in China (UTC+8): the default as-of date of statements, rolls and lists, the
/// latest payment date accepted, the publication date of notices. Reading the UTC date
/// instead would, from 00:00 to 08:00 in Sanmenxia, refuse a payment made today as
/// "in the future" and show yesterday's surcharge.
pub fn china_today() -> NaiveDate {
    crate::domain::calendar::china_date(Utc::now().naive_utc())
}

/// Where the business date comes from: the system clock in China time in service, or a
/// date a test sets, so that a whole levy year can be walked without waiting for it.
/// Only the date is moved: timestamps (audit, queue leases, `recorded_at`) stay real.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// [`china_today`].
    #[default]
    System,
    /// The date last set on the shared [`FixedClock`].
    Fixed(FixedClock),
}

impl Clock {
    /// Today, as the business rules count it.
    pub fn today(&self) -> NaiveDate {
        match self {
            Clock::System => china_today(),
            Clock::Fixed(f) => f.today(),
        }
    }
}

impl From<FixedClock> for Clock {
    fn from(f: FixedClock) -> Clock {
        Clock::Fixed(f)
    }
}

/// A date that stays where it is set; clones share it, so that a test holding one moves
/// the date of the app it gave the other to.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<AtomicI32>);

impl FixedClock {
    /// A clock standing on `date`.
    pub fn new(date: NaiveDate) -> FixedClock {
        FixedClock(Arc::new(AtomicI32::new(date.num_days_from_ce())))
    }

    /// The date it stands on.
    pub fn today(&self) -> NaiveDate {
        let days = self.0.load(Ordering::SeqCst);
        // Only ever stored from a valid date, so the fallback is never taken.
        NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN)
    }

    /// Moves it to `date` (forwards or back).
    pub fn set(&self, date: NaiveDate) {
        self.0.store(date.num_days_from_ce(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_is_shared_by_its_clones_and_moves_when_set() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let fixed = FixedClock::new(d("2025-01-01"));
        let clock = Clock::from(fixed.clone());
        assert_eq!(clock.today(), d("2025-01-01"));
        fixed.set(d("2025-12-31"));
        assert_eq!(clock.today(), d("2025-12-31"));
        fixed.set(d("2024-02-29"));
        assert_eq!(clock.clone().today(), d("2024-02-29"));
    }

    #[test]
    fn the_system_clock_reads_the_date_in_china() {
        let before = china_today();
        let t = Clock::System.today();
        assert!(t >= before && t <= china_today());
    }
}
