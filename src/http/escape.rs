//! The HTML escaper of the templates (`askama.toml`). It writes the entities askama's own
//! escaper writes (`&#34;`, `&#38;`, `&#39;`, `&#60;`, `&#62;`), but finds the five
//! characters with `memchr`, many bytes at a time: askama's reads one byte after
//! another, and a result page is some 20 KB of escaped text, mostly Chinese, in which
//! there is little to escape (it was a tenth of the calculator page's time).

use std::fmt::{self, Write};

/// The escaper named in `askama.toml`.
#[derive(Debug, Clone, Copy)]
pub struct Html;

fn entity(b: u8) -> &'static str {
    match b {
        b'"' => "&#34;",
        b'&' => "&#38;",
        b'\'' => "&#39;",
        b'<' => "&#60;",
        _ => "&#62;",
    }
}

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        let find_tags = |from: usize| {
            bytes
                .get(from..)
                .and_then(|r| memchr::memchr3(b'<', b'>', b'&', r))
                .map(|i| i + from)
        };
        let find_quotes = |from: usize| {
            bytes
                .get(from..)
                .and_then(|r| memchr::memchr2(b'"', b'\'', r))
                .map(|i| i + from)
        };
        // The next of each kind, each searched again only once it is used.
        let (mut tag, mut quote) = (find_tags(0), find_quotes(0));
        let mut last = 0;
        loop {
            let at = match (tag, quote) {
                (Some(t), Some(q)) => t.min(q),
                (Some(i), None) | (None, Some(i)) => i,
                (None, None) => break,
            };
            // The five are ASCII, so `at` and `at + 1` are character boundaries.
            dest.write_str(s.get(last..at).unwrap_or_default())?;
            dest.write_str(entity(bytes[at]))?;
            last = at + 1;
            if tag == Some(at) {
                tag = find_tags(last);
            } else {
                quote = find_quotes(last);
            }
        }
        dest.write_str(s.get(last..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::Html;
    use askama::filters::Escaper;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, s)
            .unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn it_writes_what_askamas_own_escaper_writes() {
        for s in [
            "",
            "plain",
            "纯中文，没有要转义的字符。",
            "<script>alert('x')</script>",
            "a & b \"quoted\" 'single' <tag> & 中文 > 末尾",
            "&&&''\"\"<<>>",
            "ends with <",
            ">starts",
            "{\n  \"region\": \"411200\",\n  \"levy_year\": 2025\n}",
        ] {
            let mut theirs = String::new();
            askama::filters::Html
                .write_escaped_str(&mut theirs, s)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(escaped(s), theirs, "{s}");
        }
    }

    #[test]
    fn a_template_escapes_its_text_and_attributes() {
        use askama::Template;
        #[derive(Template)]
        #[template(source = "<p title=\"{{ t }}\">{{ t }}</p>", ext = "html")]
        struct T<'a> {
            t: &'a str,
        }
        let html = T { t: "<b>&'\"" }
            .render()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            html,
            "<p title=\"&#60;b&#62;&#38;&#39;&#34;\">&#60;b&#62;&#38;&#39;&#34;</p>"
        );
    }
}
