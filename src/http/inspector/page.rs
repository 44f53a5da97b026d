//! `GET /inspector`: the filter form and one page of the list.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::filters::{encode_query, Filters, ListQuery};
use super::kind_label;
use super::list::{cursor, entry_filter, keyset, EmployerEntry};
use crate::auth::Role;
use crate::domain::{EmployerKind, Language};
use crate::http::page_kit::{self, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::registry::violations::ViolationKind;
use crate::registry::violator_list::{count, current, newest, page, Newest, Refresh};

/// Employers per page.
const PER_PAGE: i64 = 50;

/// One violation as a row shows it.
pub struct ViolationView {
    /// Kind, in the page's language.
    pub label: &'static str,
    /// The figures, in Chinese (the list's language).
    pub why_zh: String,
    /// The figures in English, on an English page.
    pub why_en: Option<String>,
    /// The rule.
    pub citation: String,
}

/// One employer as the list shows it.
pub struct RowView {
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind, in the page's language.
    pub kind: String,
    /// Region code.
    pub region: String,
    /// Amount owed.
    pub owed: String,
    /// The shared employer page.
    pub href: String,
    /// Its violations.
    pub violations: Vec<ViolationView>,
}

/// An option of the kind select.
pub struct KindOption {
    /// API spelling.
    pub value: &'static str,
    /// Label.
    pub label: &'static str,
    /// Chosen.
    pub selected: bool,
}

/// What the list page shows.
pub struct ListPage {
    /// The form as typed.
    pub q: ListQuery,
    /// Kinds to choose from.
    pub kinds: Vec<KindOption>,
    /// Faults beside fields.
    pub faults: Vec<(&'static str, &'static str)>,
    /// The rows of this page.
    pub rows: Vec<RowView>,
    /// Employers passing the filters.
    pub total: i64,
    /// The next page.
    pub next_href: Option<String>,
    /// The first page, when this is a later one.
    pub first_href: Option<String>,
    /// Downloads.
    pub csv_href: String,
    /// Downloads.
    pub xlsx_href: String,
    /// The language switch, filters kept.
    pub switch_zh: String,
    /// The language switch, filters kept.
    pub switch_en: String,
    /// What the inspector may see.
    pub scope: String,
    /// Levy year and date judged on.
    pub heading: String,
    /// When the list shown was decided (China time), if the register changed since and
    /// a newer one is being decided.
    pub stale_since: Option<String>,
}

impl ListPage {
    /// The fault of `field`, if any.
    pub fn err(&self, field: &str) -> Option<&str> {
        self.faults.iter().find(|f| f.0 == field).map(|f| f.1)
    }

    /// The typed value of a text field.
    pub fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "pages/inspector/list.html")]
struct ListView {
    layout: Layout,
    page: ListPage,
}

fn row_view(e: EmployerEntry, lang: Language, signed: &SignedIn) -> RowView {
    let kind = e
        .kind
        .parse::<EmployerKind>()
        .map(|k| lang.pick(k.name_zh(), k.as_str()).to_owned())
        .unwrap_or_else(|_| e.kind.clone());
    RowView {
        href: signed.link(&format!("/officer/employers/{}", e.uscc)),
        uscc: e.uscc,
        name: e.name,
        kind,
        region: e.region,
        owed: crate::registry::violations::grouped(e.owed),
        violations: e
            .violations
            .into_iter()
            .map(|v| ViolationView {
                label: kind_label(v.violation, lang),
                why_zh: v.why_zh,
                why_en: (lang == Language::En).then_some(v.why_en),
                citation: v.citation,
            })
            .collect(),
    }
}

/// One page of the employers of the filters from the newest stored list, how many pass
/// them, the cursor of the next page, and when the list was decided if the register
/// changed since. A stale list answers at once while one background task decides the
/// next (docs/architecture.md, "The violator list"); with none stored yet, the list is
/// decided on the request.
pub(super) async fn entries(state: &AppState, f: &Filters) -> Result<EntriesPage, PageRefusal> {
    let (levy_year, as_of) = (f.levy_year, f.as_of);
    let (filter, after) = (entry_filter(f), keyset(f));
    let (shown, total, more, stale) = state
        .call(move |c, st| {
            let (list, stale) = match newest(c, levy_year, as_of)? {
                Newest::Current(id) => (id, None),
                Newest::Stale(id, begun) => (id, Some(begun)),
                Newest::Missing => (current(c, st.book.as_ref(), levy_year, as_of)?, None),
            };
            let total = count(c, list, &filter)?;
            let after = after.as_ref().map(|(o, u)| (*o, u.as_str()));
            let (shown, more) = page(c, list, &filter, after, PER_PAGE)?;
            Ok::<_, crate::db::DbError>((shown, total, more, stale))
        })
        .await?;
    if stale.is_some() {
        refresh(state, levy_year, as_of);
    }
    let next = if more { shown.last().map(cursor) } else { None };
    Ok((shown, total, next, stale))
}

/// What [`entries`] answers: the entries shown, the count, the next page's cursor and,
/// for a stale list, when it was decided (UTC).
pub(super) type EntriesPage = (
    Vec<EmployerEntry>,
    i64,
    Option<super::filters::Cursor>,
    Option<chrono::NaiveDateTime>,
);

/// Decides the list of `levy_year` on `as_of` again off the request, unless a refresh
/// of it is already running (the next page that finds it stale tries again after a
/// failure).
fn refresh(state: &AppState, levy_year: i32, as_of: chrono::NaiveDate) {
    let Some(claim) = Refresh::claim(&state.violator_refreshes, levy_year, as_of) else {
        return;
    };
    state.in_background("deciding the violator list", move |c, st| {
        claim.run(c, st.book.as_ref()).map(|_| ())
    });
}

/// The inspector's session, or the page refused: inspectors (and administrators) only.
pub(super) fn inspector(signed: &SignedIn) -> Result<(), PageRefusal> {
    signed.require(&[Role::Inspector]).map(|_| ())
}

fn scope_text(signed: &SignedIn) -> String {
    let lang = signed.lang;
    match signed.who().region {
        Some(r) => format!("{} {r}", lang.pick("权限范围：行政区划", "Scope: region")),
        None => lang.pick("权限范围：全国", "Scope: everywhere").to_owned(),
    }
}

#[get("/inspector")]
pub(super) async fn list_page(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    inspector(&signed)?;
    let lang = signed.lang;
    let q = q.into_inner();
    let checked = q.check(signed.who(), state.clock.today());
    let base = q.to_query(false);
    let with = |extra: &[(&str, &str)]| {
        let tail = encode_query(extra);
        match (base.is_empty(), tail.is_empty()) {
            (true, _) => tail,
            (false, true) => base.clone(),
            (false, false) => format!("{base}&{tail}"),
        }
    };
    let lang_tail: Vec<(&str, &str)> = match q.lang.as_deref() {
        Some(l @ ("zh" | "en")) => vec![("lang", l)],
        _ => vec![],
    };
    let mut page_view = ListPage {
        kinds: ViolationKind::ALL
            .iter()
            .map(|k| KindOption {
                value: k.as_str(),
                label: kind_label(*k, lang),
                selected: q.kind.as_deref() == Some(k.as_str()),
            })
            .collect(),
        faults: Vec::new(),
        rows: Vec::new(),
        total: 0,
        next_href: None,
        first_href: None,
        csv_href: format!("/inspector/violations.csv?{}", with(&[])),
        xlsx_href: format!("/inspector/violations.xlsx?{}", with(&[])),
        switch_zh: format!("?{}", with(&[("lang", "zh")])),
        switch_en: format!("?{}", with(&[("lang", "en")])),
        scope: scope_text(&signed),
        heading: String::new(),
        stale_since: None,
        q: q.clone(),
    };
    let status = match checked {
        Err(faults) => {
            page_view.faults = faults.iter().map(|f| (f.field, f.message(lang))).collect();
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(f) => {
            page_view.heading = match lang {
                Language::Zh => format!("{} 征收年度，截至 {}", f.levy_year, f.as_of),
                Language::En => format!("Levy year {}, as of {}", f.levy_year, f.as_of),
            };
            let (shown, total, next, stale) = entries(&state, &f).await?;
            page_view.total = total;
            page_view.stale_since = stale.map(page_kit::china_time);
            if let Some(c) = next {
                let mut tail = vec![("after", c.encode())];
                tail.extend(lang_tail.iter().map(|(k, v)| (*k, (*v).to_owned())));
                let refs: Vec<(&str, &str)> = tail.iter().map(|(k, v)| (*k, v.as_str())).collect();
                page_view.next_href = Some(format!("/inspector?{}", with(&refs)));
            }
            if f.after.is_some() {
                page_view.first_href = Some(format!("/inspector?{}", with(&lang_tail)));
            }
            page_view.rows = shown
                .into_iter()
                .map(|e| row_view(e, lang, &signed))
                .collect();
            StatusCode::OK
        }
    };
    let html = render(&ListView {
        layout: Layout::new(lang),
        page: page_view,
    })?;
    Ok(page_kit::page(status, html, &[]))
}
