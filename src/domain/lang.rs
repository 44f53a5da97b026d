//! The language of texts people read (docs/architecture.md, Conventions: "Language": Chinese by default, English
//! on request). Codes, API fields and stable identifiers are never translated.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Language of explanation texts, warnings and validation messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Simplified Chinese (the default: employers, officers and the public read Chinese).
    #[default]
    Zh,
    /// English.
    En,
}

impl Language {
    /// Picks the text for this language.
    #[inline]
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Language::Zh => zh,
            Language::En => en,
        }
    }

    /// The API spelling: `zh` or `en`.
    pub fn as_str(self) -> &'static str {
        self.pick("zh", "en")
    }
}

impl FromStr for Language {
    type Err = String;

    /// Accepts `zh`, `en` and region-qualified tags such as `zh-CN` or `en-US`
    /// (case-insensitive), so an `Accept-Language` value can be passed through.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.split(['-', '_']).next().unwrap_or("").trim();
        if primary.eq_ignore_ascii_case("zh") {
            Ok(Language::Zh)
        } else if primary.eq_ignore_ascii_case("en") {
            Ok(Language::En)
        } else {
            Err("unsupported language; expected \"zh\" or \"en\"".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags() {
        assert_eq!("zh".parse::<Language>(), Ok(Language::Zh));
        assert_eq!("zh-CN".parse::<Language>(), Ok(Language::Zh));
        assert_eq!("EN-us".parse::<Language>(), Ok(Language::En));
        assert!("fr".parse::<Language>().is_err());
        assert_eq!(Language::default(), Language::Zh);
    }
}

/// A sentence in both languages: an error's message, shown in the language of the
/// answer that carries it. Built from an English `String` alone (a message formed from a
/// library's text, which has no Chinese), it reads the same in both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    zh: std::borrow::Cow<'static, str>,
    en: std::borrow::Cow<'static, str>,
}

impl Said {
    /// The sentence in Chinese and in English.
    pub fn new(
        zh: impl Into<std::borrow::Cow<'static, str>>,
        en: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Said {
        Said {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The sentence in `lang`.
    pub fn get(&self, lang: Language) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl std::fmt::Display for Said {
    /// English: what logs and `to_string` read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl From<String> for Said {
    fn from(en: String) -> Said {
        Said {
            zh: en.clone().into(),
            en: en.into(),
        }
    }
}

impl From<&'static str> for Said {
    fn from(en: &'static str) -> Said {
        Said {
            zh: en.into(),
            en: en.into(),
        }
    }
}
