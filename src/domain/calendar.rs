//! The calendar people act on: deadlines, due dates, payment dates and notices are
//! Chinese calendar dates (UTC+8, no daylight saving), while timestamps are stored in
//! UTC.

use chrono::{NaiveDate, NaiveDateTime};

/// The calendar date in China (UTC+8) at the UTC time `at`: at 07:00 in Sanmenxia the
/// UTC date is still yesterday's.
pub fn china_date(at: NaiveDateTime) -> NaiveDate {
    (at + chrono::Duration::hours(8)).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_chinese_day_starts_at_16_00_utc() {
        assert_eq!(china_date(at("2026-03-01 15:59")).to_string(), "2026-03-01");
        assert_eq!(china_date(at("2026-03-01 16:00")).to_string(), "2026-03-02");
        assert_eq!(china_date(at("2025-12-31 23:30")).to_string(), "2026-01-01");
    }
}
