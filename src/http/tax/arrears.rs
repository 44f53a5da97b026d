//! `GET /tax/arrears`: the employers of the officer's region that owe principal or
//! surcharge today, paged by key (`after=` the last USCC shown), each with a box to
//! pick it for a written demand and a button to issue one to it alone.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{money, officer, page_year, scope_label, TaxNav};
use crate::domain::money::from_fen;
use crate::http::context::scoped_prefix;
use crate::http::page_kit::{page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::registry::collection::arrears as debtors;

/// Rows per page.
const PER_PAGE: usize = 50;

/// `?levy_year=&after=`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArrearsQuery {
    levy_year: Option<String>,
    after: Option<String>,
    lang: Option<String>,
}

/// One debtor as shown.
pub struct Debtor {
    uscc: String,
    name: String,
    region: String,
    payable: String,
    principal: String,
    surcharge: String,
    total: String,
    due: String,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/tax/arrears.html")]
struct ArrearsView {
    layout: Layout,
    nav: TaxNav,
    levy_year: i32,
    as_of: String,
    scope: String,
    rows: Vec<Debtor>,
    next: Option<String>,
    first: Option<String>,
    action: String,
    csrf: String,
    deadline_days: u32,
}

/// The page.
#[get("/tax/arrears")]
pub async fn arrears(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<ArrearsQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let today = state.clock.today();
    let levy_year = page_year(q.levy_year.as_deref(), today)?;
    let prefix = scoped_prefix(&who, None)?;
    let after = q.after.clone().unwrap_or_default();
    let trigger = state.settings.collection.surcharge_from;
    let a = after.clone();
    let (found, next) = state
        .call(move |c, _| debtors(c, levy_year, &prefix, &a, PER_PAGE, today, trigger))
        .await?;
    let rows = found
        .into_iter()
        .map(|r| {
            let p = &r.position;
            Debtor {
                href: s.link(&format!(
                    "/officer/employers/{}?levy_year={levy_year}",
                    r.raw.1
                )),
                uscc: r.raw.1.clone(),
                name: r.raw.2.clone(),
                region: r.raw.4.clone(),
                payable: money(from_fen(r.raw.8)),
                principal: money(p.outstanding_principal),
                surcharge: money(p.outstanding_surcharge),
                total: money(r.outstanding()),
                due: r.due_date.to_string(),
            }
        })
        .collect();
    let page_link = |after: Option<&str>| match after {
        Some(a) => s.link(&format!(
            "/tax/arrears?levy_year={levy_year}&after={}",
            percent_encoding::utf8_percent_encode(a, percent_encoding::NON_ALPHANUMERIC)
        )),
        None => s.link(&format!("/tax/arrears?levy_year={levy_year}")),
    };
    let html = render(&ArrearsView {
        layout: Layout::new(s.lang),
        nav: TaxNav::new(&s, levy_year, "arrears"),
        levy_year,
        as_of: today.to_string(),
        scope: scope_label(&state, &who, s.lang),
        rows,
        next: next.as_deref().map(|n| page_link(Some(n))),
        first: (!after.is_empty()).then(|| page_link(None)),
        action: s.link("/tax/demands"),
        csrf: s.csrf().to_owned(),
        deadline_days: state.settings.collection.demand_deadline_days,
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}
