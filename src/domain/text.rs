//! Which characters a text of the service may hold.
//!
//! Names, references, notes and every other text a caller sends end up in the database,
//! in CSV and XLSX files, in notices and mails. A NUL cannot be stored by PostgreSQL;
//! other control characters corrupt files and terminals; the Unicode bidirectional
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the directional marks make
//! a text display in another order than it is stored ("Trojan Source"), so a name could
//! read differently on a notice than in the register. None of them has a place in the
//! data of a levy, so they are refused where text comes in, never silently removed.

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    /// A control character (C0 other than the allowed line breaks, DEL, C1).
    Control,
    /// A bidirectional override, embedding, isolate or mark.
    Bidi,
}

impl TextFault {
    /// The stable code of the fault in a problem document.
    pub fn code(self) -> &'static str {
        match self {
            TextFault::Control => "control_character",
            TextFault::Bidi => "bidi_character",
        }
    }

    /// What is wrong, for a person (Chinese, then English), without repeating the text.
    pub fn message(self) -> &'static str {
        match self {
            TextFault::Control => {
                "不得包含控制字符 (must not contain control characters such as NUL)"
            }
            TextFault::Bidi => {
                "不得包含双向文本控制字符 (must not contain bidirectional override, isolate or mark characters, U+202A–U+202E, U+2066–U+2069)"
            }
        }
    }
}

/// True for the bidirectional formatting characters: embeddings and overrides
/// (U+202A–U+202E), isolates (U+2066–U+2069) and the marks LRM, RLM and ALM.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The first fault of a one-line text (a name, a code, a reference): no control
/// character at all, no bidirectional control.
pub fn check_line(s: &str) -> Result<(), TextFault> {
    check(s, false)
}

/// The first fault of a free text (a note, a reason): as [`check_line`], but tab and
/// line breaks are allowed.
pub fn check_text(s: &str) -> Result<(), TextFault> {
    check(s, true)
}

fn check(s: &str, multiline: bool) -> Result<(), TextFault> {
    for c in s.chars() {
        if is_bidi_control(c) {
            return Err(TextFault::Bidi);
        }
        if c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r')) {
            return Err(TextFault::Control);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_chinese_and_english_pass() {
        assert_eq!(
            check_line("三门峡市湖滨区 Lake Co., Ltd. (分公司) №1"),
            Ok(())
        );
        assert_eq!(check_text("第一行\n第二行\tend\r\n"), Ok(()));
    }

    #[test]
    fn controls_are_refused() {
        for s in [
            "a\u{0}b",
            "\u{7}",
            "x\u{7f}",
            "\u{85}",
            "\u{9f}y",
            "tab\there",
        ] {
            assert_eq!(check_line(s), Err(TextFault::Control), "{s:?}");
        }
        assert_eq!(check_text("a\u{0}"), Err(TextFault::Control));
        assert_eq!(check_line("a\nb"), Err(TextFault::Control));
    }

    #[test]
    fn every_bidi_control_is_refused() {
        let bidi = ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200E}', '\u{200F}', '\u{061C}']);
        for c in bidi {
            let s = format!("name{c}x");
            assert_eq!(check_line(&s), Err(TextFault::Bidi), "U+{:04X}", c as u32);
            assert_eq!(check_text(&s), Err(TextFault::Bidi), "U+{:04X}", c as u32);
        }
        // Neighbours that are ordinary punctuation stay allowed.
        assert_eq!(check_line("\u{2070}\u{2010}\u{2065}"), Ok(()));
    }
}
