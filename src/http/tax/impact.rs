//! `/tax/impact`: what a draft policy pack would change. `GET` shows the form (levy
//! year, region, the draft pasted or uploaded); `POST` (multipart, with the session's
//! CSRF token) checks the draft as a shipped pack is checked, previews it over the
//! region's register with [`registry::impact`](crate::registry::impact) and shows the
//! report beside today's law, or sends it as CSV (one line per employer that changes)
//! or XLSX (the report's tables). Nothing is written. For the tax bureau and the
//! federation (an administrator too), within the officer's region.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::multipart::{parse, Part};
use super::{page_year, region_label, TaxNav};
use crate::auth::{region_covers, Principal, Role};
use crate::domain::money::{format_money, from_fen};
use crate::domain::{Language, RegionCode};
use crate::http::page_kit::{forged, page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::policy::DraftBook;
use crate::registry::impact::{self, draft_fault, EmployerChange, Group, ImpactJob, ImpactReport};

/// The roles that may preview a draft (an administrator always may).
const ROLES: &[Role] = &[Role::Tax, Role::Federation];

/// Employers changing status the page lists (the CSV has every one).
const SHOWN: usize = 100;

/// A group's line as shown.
pub struct GroupLine {
    /// Key and name.
    pub label: String,
    /// Employers.
    pub employers: u64,
    /// Payable today, draft, change.
    pub sums: [String; 3],
    /// Winners, losers, status changes.
    pub counts: [u64; 3],
}

fn group_line(g: &Group) -> GroupLine {
    GroupLine {
        // A county by code and name; a kind or a size band by its name alone.
        label: if g.key.bytes().all(|b| b.is_ascii_digit()) && g.key != g.name {
            format!("{} {}", g.key, g.name)
        } else {
            g.name.clone()
        },
        employers: g.employers,
        sums: [m(g.today_payable), m(g.draft_payable), m(g.change)],
        counts: [g.winners, g.losers, g.status_changes],
    }
}

/// A step that moved, as shown.
pub struct StepLine {
    /// Step id.
    pub step: String,
    /// Result today and under the draft.
    pub today: String,
    /// Under the draft.
    pub draft: String,
    /// The draft's sentence.
    pub text: String,
    /// Its citation.
    pub citation: String,
}

/// An employer's line as shown.
pub struct EmployerLine {
    /// USCC.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Status today → draft.
    pub from: String,
    /// Under the draft.
    pub to: String,
    /// Payable today.
    pub today: String,
    /// Payable under the draft.
    pub draft: String,
    /// Change.
    pub change: String,
    /// The steps that moved (ids).
    pub moved: String,
    /// The steps compared in full (largest changes).
    pub steps: Vec<StepLine>,
}

fn employer_line(e: &EmployerChange, lang: Language) -> EmployerLine {
    let mo = |f: Option<i64>| f.map(m).unwrap_or_else(|| "—".into());
    EmployerLine {
        uscc: e.uscc.clone(),
        name: e.name.clone(),
        from: e.today_status.name(lang).to_owned(),
        to: e.draft_status.name(lang).to_owned(),
        today: mo(e.today_payable),
        draft: mo(e.draft_payable),
        change: m(e.change),
        moved: e.moved.join(" "),
        steps: e
            .steps
            .iter()
            .map(|s| StepLine {
                step: s.step.to_owned(),
                today: s.today.clone().unwrap_or_else(|| "—".into()),
                draft: s.draft.clone().unwrap_or_else(|| "—".into()),
                text: s.text.clone(),
                citation: s.citation.clone(),
            })
            .collect(),
    }
}

/// The report as shown.
pub struct ReportView {
    /// The heading line (draft file, what it replaces).
    pub heading: String,
    /// Employers compared.
    pub employers: u64,
    /// Totals: today, draft, change; rewards today, draft.
    pub totals: [String; 5],
    /// Winners: count, sum; losers: count, sum.
    pub winners: (u64, String),
    /// Losers.
    pub losers: (u64, String),
    /// Unchanged.
    pub unchanged: u64,
    /// Status: name, today, draft.
    pub statuses: Vec<(String, u64, u64)>,
    /// Transitions: from, to, count.
    pub transitions: Vec<(String, String, u64)>,
    /// By county, kind, size band.
    pub groups: Vec<(String, Vec<GroupLine>)>,
    /// Largest changes.
    pub largest: Vec<EmployerLine>,
    /// Status changes listed.
    pub status_changes: Vec<EmployerLine>,
    /// In all.
    pub status_changes_total: u64,
    /// More than are listed.
    pub status_cut: bool,
    /// Not assessable: side, count, reason.
    pub not_assessable: Vec<(String, u64, String)>,
}

fn m(fen: i64) -> String {
    format_money(from_fen(fen))
}

fn report_view(r: &ImpactReport, lang: Language) -> ReportView {
    ReportView {
        heading: format!(
            "{} {} · {}",
            lang.pick("草案", "Draft"),
            r.draft_file,
            if r.draft_replaces {
                lang.pick("替换现行政策包", "replaces the pack in force")
            } else {
                lang.pick("新增政策包", "adds a pack")
            }
        ),
        employers: r.employers,
        totals: [
            m(r.today_payable),
            m(r.draft_payable),
            m(r.change),
            m(r.today_reward),
            m(r.draft_reward),
        ],
        winners: (r.winners.count, m(r.winners.sum)),
        losers: (r.losers.count, m(r.losers.sum)),
        unchanged: r.unchanged,
        statuses: r
            .statuses
            .iter()
            .map(|s| (s.status.name(lang).to_owned(), s.today, s.draft))
            .collect(),
        transitions: r
            .transitions
            .iter()
            .map(|t| {
                (
                    t.from.name(lang).to_owned(),
                    t.to.name(lang).to_owned(),
                    t.count,
                )
            })
            .collect(),
        groups: vec![
            (
                lang.pick("按区县", "By county").to_owned(),
                r.by_county.iter().map(group_line).collect(),
            ),
            (
                lang.pick("按单位类型", "By employer kind").to_owned(),
                r.by_kind.iter().map(group_line).collect(),
            ),
            (
                lang.pick("按规模（在职职工人数）", "By size (in-service staff)")
                    .to_owned(),
                r.by_size.iter().map(group_line).collect(),
            ),
        ],
        largest: r.largest.iter().map(|e| employer_line(e, lang)).collect(),
        status_changes: r
            .status_changes
            .iter()
            .take(SHOWN)
            .map(|e| employer_line(e, lang))
            .collect(),
        status_changes_total: r.status_changes_total,
        status_cut: r.status_changes_total > SHOWN.min(r.status_changes.len()) as u64,
        not_assessable: r
            .not_assessable
            .iter()
            .map(|n| {
                (
                    match n.side {
                        "today" => lang.pick("现行规则", "today's rules").to_owned(),
                        _ => lang.pick("草案", "the draft").to_owned(),
                    },
                    n.count,
                    n.reason.clone(),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "pages/tax/impact.html")]
struct ImpactView {
    layout: Layout,
    nav: TaxNav,
    tax_nav: bool,
    action: String,
    csrf: String,
    levy_year: String,
    region: String,
    pack: String,
    file_name: String,
    scope: String,
    faults: Vec<(&'static str, String)>,
    pack_faults: Vec<String>,
    report: Option<ReportView>,
}

impl ImpactView {
    fn fault(&self, field: &str) -> Option<&str> {
        self.faults
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The headings of a group table.
    fn heads(&self) -> [&'static str; 7] {
        let l = self.layout.lang;
        [
            l.pick("单位数", "Employers"),
            l.pick("现行应缴", "Payable today"),
            l.pick("草案应缴", "Payable (draft)"),
            l.pick("差额", "Change"),
            l.pick("少缴", "Paying less"),
            l.pick("多缴", "Paying more"),
            l.pick("状态改变", "Status changes"),
        ]
    }
}

fn preview_officer(s: &SignedIn) -> Result<Principal, PageRefusal> {
    Ok(s.require(ROLES)?.clone())
}

struct Form {
    levy_year: String,
    region: String,
    pack: String,
    file_name: String,
}

fn view(state: &AppState, s: &SignedIn, who: &Principal, form: Form) -> ImpactView {
    let year = page_year(Some(&form.levy_year), state.clock.today()).unwrap_or_default();
    ImpactView {
        layout: Layout::new(s.lang),
        nav: TaxNav::new(s, year, "impact"),
        tax_nav: who.has_any(&[Role::Tax]),
        action: s.link("/tax/impact"),
        csrf: s.csrf().to_owned(),
        levy_year: form.levy_year,
        region: form.region,
        pack: form.pack,
        file_name: form.file_name,
        scope: match who.region {
            Some(r) => region_label(state, r.as_str(), s.lang),
            None => s.lang.pick("全部地区", "every region").to_owned(),
        },
        faults: Vec::new(),
        pack_faults: Vec::new(),
        report: None,
    }
}

/// `?levy_year=&region=` of the form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct FormQuery {
    levy_year: Option<String>,
    region: Option<String>,
}

/// The form.
pub async fn form(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<FormQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let who = preview_officer(&s)?;
    let year = page_year(q.levy_year.as_deref(), state.clock.today())?;
    let region = q
        .region
        .clone()
        .or_else(|| who.region.map(|r| r.to_string()))
        .unwrap_or_default();
    let html = render(&view(
        &state,
        &s,
        &who,
        Form {
            levy_year: year.to_string(),
            region,
            pack: String::new(),
            file_name: String::new(),
        },
    ))?;
    Ok(page(StatusCode::OK, html, &[]))
}

fn field<'a>(parts: &'a [Part], name: &str) -> Option<&'a Part> {
    parts.iter().find(|p| p.name == name)
}

fn text(parts: &[Part], name: &str) -> String {
    field(parts, name)
        .and_then(Part::text)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// What the form asks, checked: every fault beside its field.
struct Checked {
    levy_year: i32,
    region: RegionCode,
    draft: DraftBook,
}

fn check(
    state: &AppState,
    who: &Principal,
    lang: Language,
    parts: &[Part],
    v: &mut ImpactView,
) -> Option<Checked> {
    let levy_year = match page_year(Some(&v.levy_year), state.clock.today()) {
        Ok(y) if !v.levy_year.is_empty() => Some(y),
        _ => {
            v.faults.push((
                "levy_year",
                lang.pick(
                    "征收年度无效（2016–2100）",
                    "The levy year is not valid (2016–2100)",
                )
                .to_owned(),
            ));
            None
        }
    };
    let region = match v.region.parse::<RegionCode>() {
        Ok(r) if who.region.is_none_or(|scope| region_covers(&scope, &r)) => Some(r),
        Ok(_) => {
            v.faults.push((
                "region",
                lang.pick(
                    "该地区不在您的管辖范围内",
                    "this region is outside your scope",
                )
                .to_owned(),
            ));
            None
        }
        Err(_) => {
            v.faults.push((
                "region",
                lang.pick(
                    "地区代码为六位数字，如 411200",
                    "a region code is six digits, e.g. 411200",
                )
                .to_owned(),
            ));
            None
        }
    };
    // An uploaded file wins over the pasted text.
    let upload = field(parts, "file").filter(|p| !p.data.is_empty());
    let (name, src) = match upload {
        Some(f) => match std::str::from_utf8(&f.data) {
            Ok(t) => (f.filename.clone().filter(|n| !n.is_empty()), t.to_owned()),
            Err(_) => {
                v.faults.push((
                    "pack",
                    lang.pick(
                        "草案政策包须为 UTF-8 编码的 TOML 文本",
                        "the draft pack must be TOML text in UTF-8",
                    )
                    .to_owned(),
                ));
                return None;
            }
        },
        // The download buttons send the checked draft again, with its file's name.
        None => (
            Some(v.file_name.clone()).filter(|n| !n.is_empty()),
            v.pack.clone(),
        ),
    };
    if src.trim().is_empty() {
        v.faults.push((
            "pack",
            lang.pick(
                "请粘贴或上传草案政策包（TOML）",
                "paste or upload the draft pack (TOML)",
            )
            .to_owned(),
        ));
        return None;
    }
    v.pack = src.clone();
    v.file_name = name.clone().unwrap_or_default();
    let draft = match state.book.with_draft(name.as_deref(), &src) {
        Ok(d) => d,
        Err(e) => {
            v.faults.push((
                "pack",
                lang.pick(
                    "草案政策包有错误，未作预览（见下）",
                    "the draft pack has faults; nothing was previewed (see below)",
                )
                .to_owned(),
            ));
            v.pack_faults = e.issues.iter().map(|i| draft_fault(i, lang)).collect();
            return None;
        }
    };
    if let Some(r) = region {
        if let Err(said) = impact::check_draft_region(r, draft.region) {
            v.faults.push(("pack", said.get(lang).to_owned()));
            return None;
        }
    }
    Some(Checked {
        levy_year: levy_year?,
        region: region?,
        draft,
    })
}

/// The preview (or its download).
pub async fn preview(
    state: web::Data<AppState>,
    s: SignedIn,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = preview_officer(&s)?;
    let lang = s.lang;
    let back = s.link("/tax/impact");
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Ok(parts) = parse(ct, &body) else {
        return Ok(forged(lang, back)?);
    };
    if !s.form_ok(field(&parts, "csrf_token").and_then(Part::text)) {
        return Ok(forged(lang, back)?);
    }
    let form = Form {
        levy_year: text(&parts, "levy_year"),
        region: text(&parts, "region"),
        pack: field(&parts, "pack")
            .and_then(Part::text)
            .unwrap_or_default()
            .to_owned(),
        file_name: text(&parts, "file_name"),
    };
    let mut v = view(&state, &s, &who, form);
    let Some(checked) = check(&state, &who, lang, &parts, &mut v) else {
        let html = render(&v)?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, html, &[]));
    };
    let Checked {
        levy_year,
        region,
        draft,
    } = checked;
    let download = text(&parts, "download");
    match download.as_str() {
        "csv" => {
            return Ok(crate::http::impact::csv_response(
                &state, levy_year, region, draft, lang,
            ))
        }
        "xlsx" => {
            let today = state.book.clone();
            let bytes = state
                .db
                .run(move |c| {
                    let job = ImpactJob {
                        levy_year,
                        region,
                        today: &today,
                        draft: &draft,
                        lang,
                    };
                    let report = impact::run(c, &job, &mut |_| Ok(()))?;
                    impact::workbook(&report, lang)
                })
                .await?;
            return Ok(HttpResponse::Ok()
                .insert_header((
                    header::CONTENT_TYPE,
                    crate::registry::roll::xlsx::XLSX_CONTENT_TYPE,
                ))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"policy-impact-{region}-{levy_year}.xlsx\""),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(bytes));
        }
        _ => {}
    }
    let report = crate::http::impact::report(&state, levy_year, region, draft, lang).await?;
    v.report = Some(report_view(&report, lang));
    let html = render(&v)?;
    Ok(page(StatusCode::OK, html, &[]))
}
