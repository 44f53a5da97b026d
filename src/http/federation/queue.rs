//! The certification queue (`GET /federation`) and one declaration's roster
//! (`GET /federation/declarations/{uscc}/{year}`), certificate numbers masked; `POST
//! …/reveal` opens one line's number, audited.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{
    china_time, layout, levy_year_or_now, officer, ok_page, prefix_of, visible, FormData, Nav,
};
use crate::auth::region_covers;
use crate::db::declarations::{self as repo, QueueKey, RosterLine, Status};
use crate::domain::{Language, LevyYear, RegionCode};
use crate::http::page_kit::{forged, page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::registry::declarations::mask_number;
use crate::registry::disputes::mask_months;

/// Declarations a page of the queue shows.
const PAGE: i64 = 50;

#[derive(Debug, Deserialize)]
struct QueueQuery {
    levy_year: Option<String>,
    county: Option<String>,
    after: Option<String>,
}

/// One declaration in the queue.
struct QueueItem {
    n: usize,
    uscc: String,
    name: String,
    region: String,
    submitted: String,
    pick: String,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/federation/queue.html")]
struct QueueView {
    layout: Layout,
    nav: Nav,
    csrf: String,
    levy_year: i32,
    county: String,
    scope: String,
    items: Vec<QueueItem>,
    next: Option<String>,
    first: Option<String>,
    filter_action: String,
    certify_action: String,
}

/// The keyset of a page in its link: `region.microseconds.id`.
fn key_text(k: &QueueKey) -> String {
    format!(
        "{}.{}.{}",
        k.region,
        k.submitted_at.and_utc().timestamp_micros(),
        k.id
    )
}

fn parse_key(s: &str) -> Option<QueueKey> {
    let mut parts = s.split('.');
    let region = parts.next()?.parse::<RegionCode>().ok()?;
    let micros: i64 = parts.next()?.parse().ok()?;
    let id: i64 = parts.next()?.parse().ok()?;
    let at = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    Some(QueueKey {
        region: region.as_str().to_owned(),
        submitted_at: at,
        id,
    })
}

#[get("/federation")]
async fn queue_page(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?.clone();
    let levy_year = levy_year_or_now(q.levy_year.as_deref(), &state);
    let county = match q.county.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match c.parse::<RegionCode>() {
            Ok(r) if who.region.as_ref().is_none_or(|sc| region_covers(sc, &r)) => {
                Some(r.as_str().to_owned())
            }
            _ => return Err(s.not_found()),
        },
    };
    let after = q.after.as_deref().and_then(parse_key);
    let prefix = prefix_of(&who);
    let (c2, a2) = (county.clone(), after.clone());
    let mut rows = state
        .db
        .run(move |c| repo::queue(c, levy_year, &prefix, c2.as_deref(), a2.as_ref(), PAGE + 1))
        .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let base = |after: Option<&str>| {
        let mut p = format!("/federation?levy_year={levy_year}");
        if let Some(c) = &county {
            p.push_str(&format!("&county={c}"));
        }
        if let Some(a) = after {
            p.push_str(&format!("&after={a}"));
        }
        s.link(&p)
    };
    let next = more
        .then(|| rows.last().map(|r| base(Some(&key_text(&r.key())))))
        .flatten();
    let items = rows
        .iter()
        .enumerate()
        .map(|(i, r)| QueueItem {
            n: i,
            uscc: r.uscc.clone(),
            name: r.name.clone(),
            region: r.region.clone(),
            submitted: r.submitted_at.map(china_time).unwrap_or_default(),
            pick: format!("{}@{}", r.uscc, r.version),
            href: s.link(&format!("/federation/declarations/{}/{levy_year}", r.uscc)),
        })
        .collect();
    ok_page(&QueueView {
        layout: layout(s.lang),
        nav: Nav::new(&s, "queue"),
        csrf: s.csrf().to_owned(),
        levy_year,
        county: county.clone().unwrap_or_default(),
        scope: who
            .region
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| s.lang.pick("全国", "nationwide").to_owned()),
        items,
        next,
        first: after.is_some().then(|| base(None)),
        filter_action: s.link("/federation"),
        certify_action: s.link("/federation/certify"),
    })
}

/// The status as the pages say it.
pub(super) fn status_label(lang: Language, st: Status) -> &'static str {
    match st {
        Status::Draft => lang.pick("草稿", "draft"),
        Status::Submitted => lang.pick("已提交，待审核", "submitted, to certify"),
        Status::Certified => lang.pick("已审核", "certified"),
        Status::Amended => lang.pick("已更正，待提交", "amended, not yet submitted"),
        Status::Returned => lang.pick("已退回单位", "returned to the employer"),
    }
}

/// One roster line as the page shows it.
struct LineView {
    line_no: i32,
    n: i32,
    number: String,
    revealed: bool,
    kind: String,
    grade: i32,
    months: String,
    conditions: String,
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn line_view(lang: Language, l: &RosterLine, revealed: Option<i32>) -> LineView {
    let open = revealed == Some(l.line_no);
    let months = mask_months(l.months_mask);
    let months = if months.len() == 12 {
        lang.pick("全年（1–12 月）", "all year (1–12)").to_owned()
    } else {
        months
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let yes_no = |b: bool| {
        if b {
            lang.pick("是", "yes")
        } else {
            lang.pick("否", "no")
        }
    };
    let mut cond = vec![
        format!(
            "{}：{}",
            lang.pick("在编", "On establishment"),
            yes_no(l.on_establishment)
        ),
        format!(
            "{}：{}",
            lang.pick("足额缴纳社保", "Social insurance paid"),
            yes_no(l.social_insurance_paid)
        ),
    ];
    if let Some(m) = l.contract_months {
        cond.push(format!(
            "{}：{m}",
            lang.pick("劳动合同（月）", "Contract (months)")
        ));
    }
    if let Some(w) = l.monthly_wage_fen {
        cond.push(format!(
            "{}：{}",
            lang.pick("月工资（元）", "Monthly wage (yuan)"),
            yuan(w)
        ));
    }
    if l.fresh_graduate {
        cond.push(lang.pick("应届高校毕业生", "Fresh graduate").to_owned());
    }
    let kind = match l.certificate_kind.as_str() {
        "veteran" => lang.pick("残疾军人证", "disabled veteran's certificate"),
        _ => lang.pick("残疾人证", "disability certificate"),
    };
    LineView {
        line_no: l.line_no,
        n: l.line_no + 1,
        number: if open {
            l.certificate_no.clone()
        } else {
            mask_number(&l.certificate_no)
        },
        revealed: open,
        kind: kind.to_owned(),
        grade: l.grade,
        months,
        conditions: cond.join(lang.pick("；", "; ")),
    }
}

#[derive(Template)]
#[template(path = "pages/federation/declaration.html")]
struct DeclarationPage {
    layout: Layout,
    nav: Nav,
    csrf: String,
    name: String,
    uscc: String,
    region: String,
    levy_year: i32,
    version: i32,
    status: String,
    submitted: String,
    certified: String,
    returned: Option<(String, String)>,
    lines: Vec<LineView>,
    can_act: bool,
    pick: String,
    reveal_action: String,
    certify_action: String,
    return_action: String,
    return_draft: ReturnDraft,
    back: String,
}

/// What the return form shows: the reason as typed and, after a refused return, why.
#[derive(Default)]
pub(super) struct ReturnDraft {
    /// The reason as the officer typed it, kept so a refusal loses nothing.
    pub reason: String,
    /// The refusal beside the field, in the page's language.
    pub error: Option<String>,
}

fn path_year(s: &SignedIn, year: &str) -> Result<i32, PageRefusal> {
    LevyYear::parse(year)
        .map(LevyYear::get)
        .ok_or_else(|| s.not_found())
}

/// The declaration page, the line `revealed` (already audited) shown whole, the return
/// form as `draft` left it (answered 422 when the draft carries a refusal).
pub(super) async fn declaration_page(
    state: &AppState,
    s: &SignedIn,
    uscc: &str,
    levy_year: i32,
    revealed: Option<i32>,
    draft: ReturnDraft,
) -> Result<HttpResponse, PageRefusal> {
    let employer = visible(state, s, uscc).await?;
    let id = employer.id;
    let found = state
        .db
        .run(move |c| {
            let Some(d) = repo::current(c, id, levy_year)? else {
                return Ok(None);
            };
            let lines = repo::roster(c, d.id)?;
            let note = repo::return_note(c, d.id)?;
            Ok(Some((d, lines, note)))
        })
        .await?;
    let Some((d, lines, note)) = found else {
        return Err(s.not_found());
    };
    let lang = s.lang;
    let base = format!("/federation/declarations/{}/{levy_year}", employer.uscc);
    let status = if draft.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = DeclarationPage {
        layout: layout(lang),
        nav: Nav::new(s, "queue"),
        csrf: s.csrf().to_owned(),
        name: employer.name.clone(),
        uscc: employer.uscc.clone(),
        region: employer.region.clone(),
        levy_year,
        version: d.version,
        status: status_label(lang, d.status()).to_owned(),
        submitted: d.submitted_at.map(china_time).unwrap_or_default(),
        certified: d.certified_at.map(china_time).unwrap_or_default(),
        returned: note.map(|n| (n.reason, china_time(n.returned_at))),
        lines: lines.iter().map(|l| line_view(lang, l, revealed)).collect(),
        can_act: d.status() == Status::Submitted,
        pick: format!("{}@{}", employer.uscc, d.version),
        reveal_action: s.link(&format!("{base}/reveal")),
        certify_action: s.link("/federation/certify"),
        return_action: s.link(&format!("{base}/return")),
        return_draft: draft,
        back: s.link(&format!("/federation?levy_year={levy_year}")),
    };
    Ok(page(status, render(&view)?, &[]))
}

#[get("/federation/declarations/{uscc}/{year}")]
async fn declaration(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let (uscc, year) = path.into_inner();
    let levy_year = path_year(&s, &year)?;
    declaration_page(&state, &s, &uscc, levy_year, None, ReturnDraft::default()).await
}

#[post("/federation/declarations/{uscc}/{year}/reveal")]
async fn reveal(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let (uscc, year) = path.into_inner();
    let form = FormData::parse(&body);
    let back = format!("/federation/declarations/{uscc}/{year}");
    if !s.form_ok(form.csrf()) {
        return Ok(forged(s.lang, s.link(&back))?);
    }
    let levy_year = path_year(&s, &year)?;
    let employer = visible(&state, &s, &uscc).await?;
    let line: i32 = form
        .get("line")
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| s.not_found())?;
    let audit = s.audit();
    let found = state
        .db
        .run(move |c| {
            crate::registry::reveal::reveal_line(
                c,
                &employer,
                levy_year,
                line,
                &audit.actor,
                audit.rid(),
            )
        })
        .await?;
    if found.is_none() {
        return Err(s.not_found());
    }
    declaration_page(
        &state,
        &s,
        &uscc,
        levy_year,
        Some(line),
        ReturnDraft::default(),
    )
    .await
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(queue_page).service(declaration).service(reveal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_key_reads_back_as_written() {
        let k = QueueKey {
            region: "411202".into(),
            submitted_at: chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456)
                .map(|t| t.naive_utc())
                .unwrap_or_default(),
            id: 42,
        };
        assert_eq!(parse_key(&key_text(&k)), Some(k));
        assert_eq!(parse_key("x.1.2"), None);
        assert_eq!(parse_key("411202.1"), None);
    }

    #[test]
    fn wages_are_yuan_with_two_decimals() {
        assert_eq!(yuan(300_000), "3000.00");
        assert_eq!(yuan(5), "0.05");
    }
}
