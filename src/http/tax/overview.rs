//! `GET /tax`: the region's levy year at a glance, by county, and the form that starts
//! an assessment run.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{money, officer, page_year, region_label, scope_label, TaxNav, YearQuery};
use crate::http::context::scoped_prefix;
use crate::http::page_kit::{china_time, page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::registry::collection::{kept_overview, CountyLine, OverviewRefresh};

/// One line of the table, as shown.
pub struct Line {
    /// The county (or "total").
    pub region: String,
    /// Counts, as shown.
    pub counts: [i64; 6],
    /// payable, paid, outstanding, surcharge.
    pub sums: [String; 4],
}

fn line(region: String, l: &CountyLine) -> Line {
    Line {
        region,
        counts: [
            l.registered,
            l.declared,
            l.filed,
            l.assessed,
            l.exempt,
            l.below_quota,
        ],
        sums: [
            money(l.payable),
            money(l.paid),
            money(l.outstanding),
            money(l.surcharge),
        ],
    }
}

#[derive(Template)]
#[template(path = "pages/tax/overview.html")]
struct OverviewView {
    layout: Layout,
    nav: TaxNav,
    levy_year: i32,
    as_of: String,
    scope: String,
    lines: Vec<Line>,
    total: Line,
    csrf: String,
    run_action: String,
    year_action: String,
    trigger: &'static str,
    /// When the figures shown were reckoned (China time), if the register changed since
    /// and they are being reckoned again.
    stale_since: Option<String>,
}

impl OverviewView {
    fn heads(&self) -> [&'static str; 10] {
        let l = self.layout.lang;
        [
            l.pick("已登记", "Registered"),
            l.pick("已申报", "Declared"),
            l.pick("已报送", "Filed"),
            l.pick("已核定", "Assessed"),
            l.pick("免征", "Exempt"),
            l.pick("未达比例", "Below quota"),
            l.pick("应缴", "Payable"),
            l.pick("已缴", "Paid"),
            l.pick("欠缴", "Outstanding"),
            l.pick("滞纳金", "Surcharge"),
        ]
    }
}

/// The page.
#[get("/tax")]
pub async fn overview(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let today = state.clock.today();
    let levy_year = page_year(q.levy_year.as_deref(), today)?;
    let prefix = scoped_prefix(&who, None)?;
    let trigger = state.settings.collection.surcharge_from;
    let (o, stale) = {
        let prefix = prefix.clone();
        state
            .call(move |c, st| kept_overview(c, &st.overviews, levy_year, &prefix, today, trigger))
            .await?
    };
    // Answered from the figures kept; a write since has them reckoned again off the
    // request (docs/architecture.md, "The tax overview").
    if stale.is_some() {
        if let Some(claim) =
            OverviewRefresh::claim(&state.overviews, levy_year, &prefix, today, trigger)
        {
            state.in_background("reckoning the tax overview", move |c, _| claim.run(c));
        }
    }
    let lang = s.lang;
    let lines = o
        .counties
        .iter()
        .map(|l| line(region_label(&state, &l.region, lang), l))
        .collect();
    let html = render(&OverviewView {
        layout: Layout::new(lang),
        nav: TaxNav::new(&s, levy_year, "overview"),
        levy_year,
        as_of: today.to_string(),
        scope: scope_label(&state, &who, lang),
        lines,
        total: line(lang.pick("合计", "Total").to_owned(), &o.total),
        csrf: s.csrf().to_owned(),
        run_action: s.link("/tax/runs"),
        year_action: "/tax".to_owned(),
        trigger: trigger.as_str(),
        stale_since: stale.map(china_time),
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}
