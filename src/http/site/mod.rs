//! The public web pages: the home page (`/`: what the levy is, a way in for each kind of
//! user, the region's deadlines) and the self-check calculator (`/calculator`), on the
//! layout of [`super::pages`]. Server-rendered, usable without JavaScript, Chinese by
//! default with English by `?lang=en` or `Accept-Language`.

pub mod calculator;
pub mod form;
pub mod home;
pub(crate) mod page;
pub(crate) mod result;

use actix_web::web;
use chrono::{Datelike, NaiveDate};
use std::sync::Arc;

use crate::domain::{Language, RegionCode};
use crate::policy::PolicyBook;

/// The region the pages show when none is chosen: Sanmenxia, whose packs are the most
/// complete.
pub const DEFAULT_REGION: &str = "411200";

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home::home)
        .service(calculator::calculator_get)
        .service(calculator::calculator_post);
}

/// One region in a select.
#[derive(Debug, Clone)]
pub struct RegionOption {
    /// Its code (the value sent).
    pub code: String,
    /// What the option reads: the province, a city, or a county after its city.
    pub label: String,
}

/// The regions of one province, for an `<optgroup>`.
#[derive(Debug, Clone)]
pub struct RegionGroup {
    /// The province's name.
    pub label: String,
    /// The province, its cities, their counties, in code order.
    pub options: Vec<RegionOption>,
}

/// The region select of the pages in both languages, put together once when the server
/// starts: the packs do not change while it runs, and naming and grouping every region
/// on each request cost the calculator page more than its result did.
#[derive(Debug)]
pub struct RegionMenu {
    zh: Arc<[RegionGroup]>,
    en: Arc<[RegionGroup]>,
}

impl RegionMenu {
    /// The menu of `book`'s regions.
    pub fn new(book: &PolicyBook) -> RegionMenu {
        RegionMenu {
            zh: region_groups(book, Language::Zh).into(),
            en: region_groups(book, Language::En).into(),
        }
    }

    /// The groups in `lang` (the template marks the chosen option by its code).
    pub fn groups(&self, lang: Language) -> Arc<[RegionGroup]> {
        match lang {
            Language::Zh => self.zh.clone(),
            Language::En => self.en.clone(),
        }
    }
}

/// Every region the packs know, grouped by province (the national pack is not a region
/// an employer is in).
fn region_groups(book: &PolicyBook, lang: Language) -> Vec<RegionGroup> {
    let name = |code: RegionCode| {
        let (zh, en) = book.region_names(code);
        match lang {
            Language::Zh => zh,
            Language::En => en,
        }
    };
    let mut groups: Vec<RegionGroup> = Vec::new();
    for pack in book.packs().filter(|p| !p.code.is_national()) {
        let code = pack.code;
        let province = code.province();
        let label = if code == province {
            name(code)
        } else if code == code.city() {
            format!("{} · {}", name(province), name(code))
        } else {
            format!("{} · {}", name(code.city()), name(code))
        };
        let option = RegionOption {
            code: code.to_string(),
            label,
        };
        match groups.last_mut() {
            Some(g)
                if g.options
                    .first()
                    .is_some_and(|o| o.code.get(..2) == code.as_str().get(..2)) =>
            {
                g.options.push(option)
            }
            _ => groups.push(RegionGroup {
                label: name(province),
                options: vec![option],
            }),
        }
    }
    groups
}

/// A date as a person reads it.
pub fn date_text(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::Zh => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Language::En => d.format("%-d %B %Y").to_string(),
    }
}

/// What a query value keeps unencoded: letters, digits and the marks RFC 3986 leaves
/// free in a query, less those that delimit one (`&`, `=`, `+`, `#`).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',')
    .remove(b':');

/// A query value as it goes into a link.
pub fn query_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string()
}

/// The two links of the language switch for a page at `path` whose other query
/// parameters are `rest` (already encoded, `a=b&c=d`), so that switching keeps them.
pub fn switch_links(path: &str, rest: &str) -> (String, String) {
    let with = |lang: &str| {
        if rest.is_empty() {
            format!("{path}?lang={lang}")
        } else {
            format!("{path}?{rest}&lang={lang}")
        }
    };
    (with("zh"), with("en"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_grouped_by_province_with_counties_after_their_city() {
        let book = PolicyBook::load_embedded().unwrap_or_else(|e| panic!("{e}"));
        let groups = RegionMenu::new(&book).groups(Language::Zh);
        let henan = groups
            .iter()
            .find(|g| g.label == "河南省")
            .unwrap_or_else(|| panic!("no Henan group"));
        let labels: Vec<&str> = henan.options.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"河南省"));
        assert!(labels.contains(&"河南省 · 三门峡市"), "{labels:?}");
        assert!(labels.contains(&"三门峡市 · 湖滨区"), "{labels:?}");
        let english = RegionMenu::new(&book).groups(Language::En);
        assert!(english
            .iter()
            .flat_map(|g| &g.options)
            .any(|o| o.label.contains("Sanmenxia")));
        assert!(groups
            .iter()
            .flat_map(|g| &g.options)
            .all(|o| o.code != "000000"));
        // Every option sits in the group of its own province.
        for g in groups.iter() {
            let first = g.options[0].code.get(..2);
            assert!(
                g.options.iter().all(|o| o.code.get(..2) == first),
                "{}",
                g.label
            );
        }
    }

    #[test]
    fn dates_read_in_each_language() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 31).unwrap_or_default();
        assert_eq!(date_text(d, Language::Zh), "2025年10月31日");
        assert_eq!(date_text(d, Language::En), "31 October 2025");
    }

    #[test]
    fn the_switch_keeps_the_other_parameters() {
        assert_eq!(
            switch_links("/", "region=411202"),
            (
                "/?region=411202&lang=zh".into(),
                "/?region=411202&lang=en".into()
            )
        );
        assert_eq!(switch_links("/calculator", "").1, "/calculator?lang=en");
    }
}
