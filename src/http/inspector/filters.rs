//! The filters of the violator list as the inspector's form sends them: every value
//! optional text, checked here so that a wrong one is shown beside its field (the page
//! answers 422 with the form kept as typed) instead of a bare 400.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;

use crate::auth::{region_covers, scope_prefix, Principal};
use crate::domain::{Language, LevyYear, RegionCode};
use crate::registry::violations::ViolationKind;

/// `GET /inspector` and its downloads, as sent.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Levy year; the current one when empty.
    pub levy_year: Option<String>,
    /// The date the list is judged on; today when empty.
    pub as_of: Option<String>,
    /// A violation kind (API spelling): employers with at least one.
    pub kind: Option<String>,
    /// A region (county or city) inside the inspector's scope.
    pub county: Option<String>,
    /// Least amount the employer owes, yuan.
    pub min: Option<String>,
    /// Most amount the employer owes, yuan.
    pub max: Option<String>,
    /// `1`: government agencies and public institutions only.
    pub public: Option<String>,
    /// The keyset cursor: the last employer of the page before.
    pub after: Option<String>,
    /// `zh` or `en`.
    pub lang: Option<String>,
}

/// The filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    /// Levy year.
    pub levy_year: i32,
    /// As-of date.
    pub as_of: NaiveDate,
    /// Kind of violation.
    pub kind: Option<ViolationKind>,
    /// Region prefix to list under (the scope's when no county was asked).
    pub prefix: String,
    /// Least owed.
    pub min: Option<Decimal>,
    /// Most owed.
    pub max: Option<Decimal>,
    /// Public bodies only.
    pub public_only: bool,
    /// Employers after this one in the list's order.
    pub after: Option<Cursor>,
}

/// A place in the list: the list runs by amount owed (largest first), then USCC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The employer's amount owed.
    pub owed: Decimal,
    /// Its USCC.
    pub uscc: String,
}

impl Cursor {
    /// The cursor as a query value: `AMOUNT~USCC`.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.owed, self.uscc)
    }

    fn decode(s: &str) -> Option<Cursor> {
        let (owed, uscc) = s.split_once('~')?;
        // Whole fen, as the list stores amounts owed.
        let owed = Decimal::from_str(owed)
            .ok()
            .filter(|d| crate::domain::money::to_fen(*d).is_some())?;
        let ok = (1..=18).contains(&uscc.len()) && uscc.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Cursor {
            owed,
            uscc: uscc.to_owned(),
        })
    }
}

/// A fault of one field of the form: its name and the message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The field.
    pub field: &'static str,
    /// Chinese.
    pub zh: &'static str,
    /// English.
    pub en: &'static str,
}

impl Fault {
    /// The message in `lang`.
    pub fn message(&self, lang: Language) -> &'static str {
        lang.pick(self.zh, self.en)
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn money(v: &Option<String>, field: &'static str, faults: &mut Vec<Fault>) -> Option<Decimal> {
    let s = given(v)?;
    match Decimal::from_str(s) {
        Ok(d) if d >= Decimal::ZERO && d.scale() <= 2 => Some(d),
        _ => {
            faults.push(Fault {
                field,
                zh: "请输入不小于 0 的金额（元，最多两位小数）",
                en: "enter an amount of at least 0 (yuan, at most two decimals)",
            });
            None
        }
    }
}

impl ListQuery {
    /// The filters for `who` on `today`, or the faults of the fields.
    pub fn check(&self, who: &Principal, today: NaiveDate) -> Result<Filters, Vec<Fault>> {
        let mut faults = Vec::new();
        let levy_year = match given(&self.levy_year) {
            None => today.year(),
            Some(s) => match LevyYear::parse(s) {
                Some(y) => y.get(),
                None => {
                    faults.push(Fault {
                        field: "levy_year",
                        zh: "征收年度须为 2016 至 2100 之间的年份",
                        en: "the levy year must be a year from 2016 to 2100",
                    });
                    today.year()
                }
            },
        };
        let as_of = match given(&self.as_of) {
            None => today,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
                faults.push(Fault {
                    field: "as_of",
                    zh: "请输入日期（年-月-日）",
                    en: "enter a date (YYYY-MM-DD)",
                });
                today
            }),
        };
        let kind = given(&self.kind).and_then(|s| {
            let k = ViolationKind::parse(s);
            if k.is_none() {
                faults.push(Fault {
                    field: "kind",
                    zh: "请从列表中选择违规类型",
                    en: "choose a kind of violation from the list",
                });
            }
            k
        });
        let scope = who.region;
        let prefix = match given(&self.county).map(RegionCode::from_str) {
            None => scope
                .map(|s| scope_prefix(&s).to_owned())
                .unwrap_or_default(),
            Some(Ok(r)) if scope.is_none_or(|s| region_covers(&s, &r)) => {
                scope_prefix(&r).to_owned()
            }
            Some(Ok(_)) => {
                faults.push(Fault {
                    field: "county",
                    zh: "该行政区划不在您的权限范围内",
                    en: "this region is outside your scope",
                });
                String::new()
            }
            Some(Err(_)) => {
                faults.push(Fault {
                    field: "county",
                    zh: "请输入六位行政区划代码，如 411202",
                    en: "enter a six-digit region code, such as 411202",
                });
                String::new()
            }
        };
        let min = money(&self.min, "min", &mut faults);
        let max = money(&self.max, "max", &mut faults);
        if let (Some(a), Some(b)) = (min, max) {
            if a > b {
                faults.push(Fault {
                    field: "max",
                    zh: "最高金额不能小于最低金额",
                    en: "the highest amount cannot be below the lowest",
                });
            }
        }
        let after = given(&self.after).and_then(Cursor::decode);
        if faults.is_empty() {
            Ok(Filters {
                levy_year,
                as_of,
                kind,
                prefix,
                min,
                max,
                public_only: given(&self.public).is_some(),
                after,
            })
        } else {
            Err(faults)
        }
    }

    /// The query string of these filters (without the cursor), for the page's links:
    /// the next page, the downloads, the language switch.
    pub fn to_query(&self, with_lang: bool) -> String {
        let mut parts: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("levy_year", &self.levy_year),
            ("as_of", &self.as_of),
            ("kind", &self.kind),
            ("county", &self.county),
            ("min", &self.min),
            ("max", &self.max),
            ("public", &self.public),
        ] {
            if let Some(v) = given(v) {
                parts.push((k, v));
            }
        }
        if with_lang {
            if let Some(l @ ("zh" | "en")) = self.lang.as_deref() {
                parts.push(("lang", l));
            }
        }
        encode_query(&parts)
    }
}

/// `k=v&…` with every value percent-encoded.
pub fn encode_query(parts: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    parts
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Credential, Role};

    fn inspector(region: Option<&str>) -> Principal {
        Principal {
            credential: Credential::User(1),
            role: Role::Inspector,
            employer_uscc: None,
            region: region.and_then(|r| r.parse().ok()),
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 30).unwrap_or_default()
    }

    #[test]
    fn a_county_outside_the_scope_is_a_fault_of_that_field() {
        let q = ListQuery {
            county: Some("410100".into()),
            ..ListQuery::default()
        };
        let faults = q.check(&inspector(Some("411200")), day()).unwrap_err();
        assert_eq!(faults[0].field, "county");
        let q = ListQuery {
            county: Some("411202".into()),
            ..ListQuery::default()
        };
        let f = q.check(&inspector(Some("411200")), day()).unwrap();
        assert_eq!(f.prefix, "411202");
        let f = ListQuery::default()
            .check(&inspector(Some("411200")), day())
            .unwrap();
        assert_eq!(f.prefix, "4112");
        assert_eq!(f.levy_year, 2026);
    }

    #[test]
    fn amounts_are_exact_and_ordered() {
        let q = ListQuery {
            min: Some("100.50".into()),
            max: Some("99".into()),
            ..ListQuery::default()
        };
        let faults = q.check(&inspector(None), day()).unwrap_err();
        assert_eq!(faults[0].field, "max");
        let q = ListQuery {
            min: Some("1.234".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            q.check(&inspector(None), day()).unwrap_err()[0].field,
            "min"
        );
    }

    #[test]
    fn the_cursor_reads_back_and_odd_ones_are_ignored() {
        let c = Cursor {
            owed: Decimal::new(1150000, 2),
            uscc: "91350100M000100Y43".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("x~y z"), None);
        let q = ListQuery {
            kind: Some("overdue".into()),
            public: Some("1".into()),
            lang: Some("en".into()),
            ..ListQuery::default()
        };
        assert_eq!(q.to_query(true), "kind=overdue&public=1&lang=en");
        assert_eq!(q.to_query(false), "kind=overdue&public=1");
    }
}
