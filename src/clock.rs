//! Today, as the service's users count days.

use chrono::{NaiveDate, Utc};

/// Today in China (UTC+8): the default as-of date of statements, rolls and lists, the
/// latest payment date accepted, the publication date of notices. Reading the UTC date
/// instead would, from 00:00 to 08:00 in Sanmenxia, refuse a payment made today as
/// "in the future" and show yesterday's surcharge.
pub fn china_today() -> NaiveDate {
    crate::domain::calendar::china_date(Utc::now().naive_utc())
}
