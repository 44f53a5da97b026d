//! `/my/{uscc}/notices`: the published compliance notices (公示) that name the
//! employer — those of its county, city and province whose frozen list has it — with
//! the status each gives it and a link to the public notice (`/notices/{id}`), where
//! objections are explained.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{current_levy_year, own_employer, MyFrame, Section};
use crate::db::notices as repo;
use crate::domain::RegionCode;
use crate::http::page_kit::{PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::site::date_text;
use crate::http::AppState;

/// The most notices of one region read (a region publishes one a year, and a
/// correction now and then).
const PER_REGION: i64 = 200;

/// A notice that names the employer.
pub struct Named {
    /// Its public address.
    pub href: String,
    /// Its title (Chinese: the notice is a Chinese document).
    pub title: String,
    /// The levy year.
    pub levy_year: i32,
    /// Published, in words.
    pub published_on: String,
    /// Objections until, in words.
    pub objection_until: String,
    /// The status it gives the employer (Chinese, as published).
    pub status: String,
    /// Whether a correction replaced it.
    pub superseded: bool,
}

#[derive(Template)]
#[template(path = "pages/my/notices.html")]
struct NoticesView {
    layout: Layout,
    frame: MyFrame,
    notices: Vec<Named>,
    index_href: String,
}

/// The notices page.
#[get("/my/{uscc}/notices")]
pub async fn notices(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageRefusal> {
    let e = own_employer(&state, &s, &path).await?;
    let lang = s.lang;
    let chain: Vec<String> = e
        .region
        .parse::<RegionCode>()
        .map(|r| {
            r.chain()
                .into_iter()
                .filter(|c| !c.is_national())
                .map(|c| c.to_string())
                .collect()
        })
        .unwrap_or_default();
    let uscc = e.uscc.clone();
    let found = state
        .db
        .run(move |c| {
            let mut out = Vec::new();
            for region in &chain {
                // A code is six digits, so the region's own code as the prefix lists
                // its own notices only.
                let (heads, _) = repo::list(c, region, None, 0, PER_REGION)?;
                let ids: Vec<i64> = heads.iter().map(|h| h.id).collect();
                let replaced: Vec<i64> = repo::successors(c, &ids)?
                    .into_iter()
                    .map(|(old, _)| old)
                    .collect();
                for h in heads.iter().filter(|h| &h.region == region) {
                    let Some(row) = repo::by_id(c, h.id)? else {
                        continue;
                    };
                    // One entry looked up by USCC: the notice may list a million.
                    let Some(entry) = crate::registry::notices::entry_in(c, &row, &uscc)? else {
                        continue;
                    };
                    let title = crate::registry::notices::head_of(&row)?.title;
                    out.push((row, title, entry, replaced.contains(&h.id)));
                }
            }
            Ok(out)
        })
        .await?;
    let mut notices: Vec<Named> = found
        .into_iter()
        .map(|(row, title, entry, superseded)| Named {
            href: s.link(&format!("/notices/{}", row.id)),
            title,
            levy_year: row.levy_year,
            published_on: date_text(row.published_on, lang),
            objection_until: date_text(row.objection_until, lang),
            status: entry.status_zh,
            superseded,
        })
        .collect();
    notices.sort_by(|a, b| b.levy_year.cmp(&a.levy_year).then(b.href.cmp(&a.href)));
    let html = render(&NoticesView {
        layout: Layout::new(lang),
        frame: MyFrame::new(&s, &e, Section::Notices, current_levy_year(&state)),
        notices,
        index_href: s.link("/notices"),
    })?;
    Ok(super::respond(StatusCode::OK, html))
}
