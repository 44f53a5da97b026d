//! What every web page shares: the layout of `templates/pages/base.html` (the service's
//! name, the zh/en switch, the main landmark, the footer), the one stylesheet
//! (`GET /static/site.css`, compiled into the binary) and the rendering of a page into a
//! response. Templates are askama's: checked when the crate compiles, every value
//! HTML-escaped unless a template says otherwise (none does).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use std::sync::OnceLock;

use super::problem::AppError;
use crate::domain::Language;

/// The stylesheet: the site's own rules, then the table-as-cards rules of the public
/// pages (which those pages also carry inline, so that a saved copy prints alike).
pub const SITE_CSS: &str = concat!(
    include_str!("../../templates/static/site.css"),
    include_str!("../../templates/pages/cards.css")
);

/// The frame of a page: the language of its document and of its chrome (header, switch,
/// footer), which differ on a Chinese legal document read with English chrome.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// The `lang` of `<html>`: what the document itself is written in.
    pub doc_lang: &'static str,
    /// The language of the chrome.
    pub lang: Language,
}

impl Layout {
    /// A page written in `lang`.
    pub fn new(lang: Language) -> Layout {
        Layout {
            doc_lang: tag(lang),
            lang,
        }
    }

    /// A Chinese document (a published notice: its text is the law's language) whose
    /// chrome is in `lang`.
    pub fn chinese_document(lang: Language) -> Layout {
        Layout {
            doc_lang: tag(Language::Zh),
            lang,
        }
    }

    /// The chrome's language tag.
    pub fn chrome_lang(&self) -> &'static str {
        tag(self.lang)
    }

    /// Whether the chrome is English (the switch marks the current language).
    pub fn is_en(&self) -> bool {
        self.lang == Language::En
    }

    /// The service's name, as the header shows it.
    pub fn service_name(&self) -> &'static str {
        self.lang.pick(
            "残疾人就业保障金征收服务",
            "Disabled persons' employment security fund levy service",
        )
    }

    /// The label of the language switch.
    pub fn switch_label(&self) -> &'static str {
        self.lang.pick("语言", "Language")
    }

    /// The link that skips to the content.
    pub fn skip_label(&self) -> &'static str {
        self.lang.pick("跳到正文", "Skip to content")
    }

    /// The footer's line.
    pub fn footer_text(&self) -> &'static str {
        self.lang.pick(
            "依据《残疾人就业条例》和《残疾人就业保障金征收使用管理办法》",
            "Under the Regulations on the Employment of Persons with Disabilities and the fund's levy rules",
        )
    }
}

fn tag(lang: Language) -> &'static str {
    lang.pick("zh-CN", "en")
}

/// The language a page is shown in: `?lang=zh|en` (the layout's switch) wins, else the
/// caller's `Accept-Language`. A value other than those two names the parameter.
pub fn page_lang(req: &HttpRequest, lang: Option<&str>) -> Result<Language, AppError> {
    match lang {
        None => Ok(super::lang_of(req)),
        Some("zh") => Ok(Language::Zh),
        Some("en") => Ok(Language::En),
        Some(_) => Err(AppError::field("/query/lang", "must be zh or en")),
    }
}

/// A template rendered to its HTML text; a failure (a bug, not input) is a 500.
pub fn render<T: Template>(page: &T) -> Result<String, AppError> {
    // A page with a result runs to some 30–50 KB; askama's own estimate is the
    // template's text, so growing to that size would copy the page four times over.
    let mut out = String::with_capacity(PAGE_CAPACITY.max(T::SIZE_HINT));
    page.render_into(&mut out)
        .map_err(|e| AppError::Internal(format!("page could not be rendered: {e}")))?;
    Ok(out)
}

/// What a page's buffer starts with (below the allocator's threshold for mapping
/// memory of its own, so it costs no system call).
const PAGE_CAPACITY: usize = 48 * 1024;

/// The content type of every page.
pub const HTML: &str = "text/html; charset=utf-8";

fn css_etag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let d = hex::encode(Sha256::digest(SITE_CSS.as_bytes()));
        format!("\"{}\"", d.get(..16).unwrap_or(&d))
    })
}

/// The stylesheet. It changes only with the binary: a day in a cache, then revalidated
/// by its digest.
#[get("/static/site.css")]
async fn site_css(req: HttpRequest) -> HttpResponse {
    let tag = css_etag();
    let current = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag);
    let mut r = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    r.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"));
    if current {
        return r.finish();
    }
    r.insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .body(SITE_CSS)
}

/// Registers the stylesheet.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(site_css);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(
        source = "{% extends \"pages/base.html\" %}{% block content %}<p>{{ text }}</p>{% endblock %}",
        ext = "html"
    )]
    struct Sample<'a> {
        layout: Layout,
        text: &'a str,
    }

    #[test]
    fn the_layout_has_its_landmarks_and_escapes_what_it_is_given() {
        let page = render(&Sample {
            layout: Layout::new(Language::En),
            text: "<a href='x'>&\"</a>",
        })
        .unwrap_or_default();
        assert!(
            page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
            "{page}"
        );
        for part in [
            "<link rel=\"stylesheet\" href=\"/static/site.css\">",
            "<main id=\"main\">",
            "<header class=\"site\" lang=\"en\">",
            "<footer class=\"site\" lang=\"en\">",
            "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\" aria-current=\"true\">English</a>",
        ] {
            assert!(page.contains(part), "{part}\n{page}");
        }
        assert!(!page.contains("<a href='x'>"), "{page}");
        assert!(
            page.contains("&#60;a href=&#39;x&#39;&#62;&#38;&#34;"),
            "{page}"
        );
    }

    #[test]
    fn a_chinese_document_keeps_its_language_under_english_chrome() {
        let page = render(&Sample {
            layout: Layout::chinese_document(Language::En),
            text: "",
        })
        .unwrap_or_default();
        assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
        assert!(
            page.contains("<header class=\"site\" lang=\"en\">"),
            "{page}"
        );
    }

    #[test]
    fn the_switch_accepts_two_languages_only() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(page_lang(&req, None).ok(), Some(Language::Zh));
        assert_eq!(page_lang(&req, Some("en")).ok(), Some(Language::En));
        assert!(page_lang(&req, Some("fr")).is_err());
    }
}
