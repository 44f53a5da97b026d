//! The levy years the service accepts, in one place: the modelled rules start with the
//! 2015-10-01 measures (docs/rules.md), so the first levy year is 2016; the last one
//! bounds what a typo can ask for.

use std::fmt;

/// A levy year within [`LevyYear::FIRST`]..=[`LevyYear::LAST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LevyYear(i32);

impl LevyYear {
    /// The first levy year the service computes.
    pub const FIRST: i32 = 2016;
    /// The last levy year the service accepts.
    pub const LAST: i32 = 2100;

    /// The year, when it is within range.
    pub fn new(year: i64) -> Option<LevyYear> {
        i32::try_from(year)
            .ok()
            .filter(|y| (Self::FIRST..=Self::LAST).contains(y))
            .map(LevyYear)
    }

    /// The year written in `s` (digits only), when it is within range.
    pub fn parse(s: &str) -> Option<LevyYear> {
        s.parse::<i32>().ok().and_then(|y| Self::new(y.into()))
    }

    /// The year as a number.
    pub fn get(self) -> i32 {
        self.0
    }

    /// What a field holding a levy year must be, for error messages.
    pub fn expected() -> String {
        format!("must be a year from {} to {}", Self::FIRST, Self::LAST)
    }
}

impl fmt::Display for LevyYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_inclusive_and_nothing_else_passes() {
        assert_eq!(LevyYear::new(2016).map(LevyYear::get), Some(2016));
        assert_eq!(LevyYear::parse("2100").map(LevyYear::get), Some(2100));
        for bad in ["2015", "2101", "", "20x5", "-2020", "99999999999"] {
            assert_eq!(LevyYear::parse(bad), None, "{bad}");
        }
        assert_eq!(LevyYear::new(i64::MAX), None);
        assert_eq!(LevyYear::expected(), "must be a year from 2016 to 2100");
    }
}
