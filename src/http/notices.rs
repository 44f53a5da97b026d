//! Public compliance notices (公示):
//! `POST /api/v1/notices` (federation, admin) publishes one;
//! `GET /api/v1/notices?region=&levy_year=&page=` lists them (public);
//! `GET /notices/{id}` serves one to anybody as a printable Chinese HTML page, JSON or
//! CSV (by `?format=html|json|csv`, else by the `Accept` header); `GET
//! /api/v1/notices/{id}` is the JSON form under the API prefix.

use actix_web::http::header;
use actix_web::{get, post, route, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::declarations::parse_levy_year;
use super::problem::AppError;
use super::{request_id, AppState};
use crate::auth::{region_covers, scope_prefix, Role};
use crate::domain::Language;
use crate::domain::RegionCode;
use crate::mail::Templates;
use crate::registry::fields::Fields;
use crate::registry::notices::{
    date_zh, load, preview, publish, to_csv, version_of, NoticeContent, NoticeMail, NoticeView,
    PublishError, PublishRequest, DEFAULT_OBJECTION_DAYS, MAX_OBJECTION_DAYS,
};
use crate::wire::Fault;

impl From<PublishError> for AppError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::ReplacedMissing(_) => {
                AppError::field("/replaces", "no such notice has been published")
            }
            PublishError::Field(pointer, m) => AppError::field(pointer, m),
            PublishError::Conflict(m) => AppError::Conflict(m),
            PublishError::Db(e) => e.into(),
            PublishError::Mail(m) => AppError::Internal(m),
        }
    }
}

fn parse_publish(body: &Value, lang: Language) -> Result<PublishRequest, AppError> {
    let mut f = Fields::new(
        body,
        &[
            "region",
            "levy_year",
            "objection_days",
            "replaces",
            "correction_reason",
        ],
        lang,
    )?;
    let region = f.parsed("region", true, |s| {
        s.parse::<RegionCode>().map_err(|_| Fault::Region)
    });
    let levy_year = f.int("levy_year", true, 2016, 2100);
    let days = f
        .int("objection_days", false, 1, MAX_OBJECTION_DAYS)
        .unwrap_or(DEFAULT_OBJECTION_DAYS);
    let replaces = f.int("replaces", false, 1, i64::MAX);
    let reason = f.text("correction_reason", false);
    match (&replaces, &reason) {
        (Some(_), None) => f.fail("correction_reason", Fault::CorrectionReasonRequired),
        (None, Some(_)) => f.fail("correction_reason", Fault::ReasonWithoutCorrection),
        (Some(_), Some(r)) if r.chars().count() > 500 => {
            f.fail("correction_reason", Fault::TooLong { max: 500 })
        }
        _ => {}
    }
    let errors = f.errors().to_vec();
    match (region, levy_year, errors.is_empty()) {
        (Some(region), Some(levy_year), true) => Ok(PublishRequest {
            region,
            levy_year: levy_year as i32,
            objection_days: days,
            replaces: replaces.zip(reason),
        }),
        _ => Err(errors.into()),
    }
}

/// The public address of a notice under the `server.public_base_url` in force now: the
/// stored content holds no address, so a notice published under another one still
/// links where the service is today.
fn public_url(state: &AppState, id: i64) -> String {
    crate::mail::plan::notice_url(&state.settings.server.public_base_url, id)
}

/// The federation (or an admin) and a valid request for a region in its scope.
fn publisher_and_request(
    auth: &Auth,
    body: &Value,
    lang: Language,
) -> Result<(crate::auth::Principal, PublishRequest), AppError> {
    let who = auth.require(&[Role::Federation])?.clone();
    let request = parse_publish(body, lang)?;
    if let Some(scope) = &who.region {
        if !region_covers(scope, &request.region) {
            return Err(AppError::Forbidden(
                "the region is outside your scope".into(),
            ));
        }
    }
    Ok((who, request))
}

/// What `POST /api/v1/notices` with the same body would publish today, stored nowhere:
/// a published notice can never be edited, so the federation looks first.
#[post("/api/v1/notices/preview")]
async fn preview_notice(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (_, request) = publisher_and_request(&auth, &body, super::lang_of(&req))?;
    let st = state.clone();
    let today = state.clock.today();
    let composed = state
        .db
        .run(move |c| Ok(preview(c, &st.book, &st.settings.notices, &request, today)))
        .await??;
    let head = json!({
        "preview": true,
        "sha256_if_published_today": composed.sha256,
        "digest_of": "content: SHA-256 of its canonical JSON (keys sorted, no whitespace, UTF-8)",
    })
    .to_string();
    let head = head.strip_suffix('}').unwrap_or(&head);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, Format::Json.content_type()))
        .body(format!("{head},\"content\":{}}}", composed.text)))
}

#[post("/api/v1/notices")]
async fn post_notice(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (who, request) = publisher_and_request(&auth, &body, super::lang_of(&req))?;
    // Queued whether or not this process sends mail (`mail.enabled` only starts the
    // worker in `serve`): `reminders run` from cron sends the outbox just the same.
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| AppError::Internal(format!("mail templates: {e}")))?;
    let actor = who.actor();
    let rid = request_id(&req);
    let st = state.clone();
    let published = state
        .db
        .run(move |c| {
            let mail = NoticeMail {
                templates: &templates,
            };
            Ok(publish(
                c,
                &st.book,
                &st.settings.notices,
                &request,
                st.clock.today(),
                Some(&mail),
                &actor,
                rid.as_deref(),
            ))
        })
        .await??;
    let id = published.row.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/notices/{id}")))
        .json(json!({
            "id": id,
            "url": public_url(&state, id),
            "region": published.row.region,
            "levy_year": published.row.levy_year,
            "published_on": published.row.published_on,
            "objection_until": published.row.objection_until,
            "replaces": published.row.replaces_id,
            "sha256": published.row.content_sha256,
            "summary": published.content.summary,
            "reminders_queued": published.reminders_queued,
        })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region: Option<String>,
    levy_year: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// One page of the notice index, with the correction of each notice that has one.
struct IndexPage {
    rows: Vec<crate::db::notices::NoticeHead>,
    total: i64,
    successors: Vec<(i64, i64)>,
    page: i64,
    per_page: i64,
}

impl IndexPage {
    fn superseded_by(&self, id: i64) -> Option<i64> {
        self.successors.iter().find(|s| s.0 == id).map(|s| s.1)
    }
}

async fn index_page(state: &AppState, q: &ListQuery) -> Result<IndexPage, AppError> {
    let prefix = match &q.region {
        Some(r) => scope_prefix(
            &r.parse::<RegionCode>()
                .map_err(|e| AppError::field("/query/region", e.to_string()))?,
        )
        .to_owned(),
        None => String::new(),
    };
    let levy_year = q
        .levy_year
        .as_deref()
        .map(|y| {
            parse_levy_year(y).map_err(|_| {
                AppError::field("/query/levy_year", "must be a year from 2016 to 2100")
            })
        })
        .transpose()?;
    let window = super::PageWindow::from_query(q.page, q.per_page, 50, 500)?;
    let super::PageWindow { page, per_page } = window;
    let (rows, total, successors) = state
        .db
        .run(move |c| {
            let (rows, total) =
                crate::db::notices::list(c, &prefix, levy_year, window.offset(), per_page)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let successors = crate::db::notices::successors(c, &ids)?;
            Ok((rows, total, successors))
        })
        .await?;
    Ok(IndexPage {
        rows,
        total,
        successors,
        page,
        per_page,
    })
}

#[get("/api/v1/notices")]
async fn list_notices(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = index_page(&state, &q).await?;
    let items: Vec<Value> = p
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "url": public_url(&state, r.id), "region": r.region,
                "levy_year": r.levy_year, "published_on": r.published_on,
                "objection_until": r.objection_until, "entries": r.entries,
                "replaces": r.replaces_id, "superseded_by": p.superseded_by(r.id),
                "sha256": r.content_sha256,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "page": p.page, "per_page": p.per_page, "total": p.total, "items": items,
    })))
}

/// The public index of notices: where a member of the public finds them.
#[get("/notices")]
async fn notice_index(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    use std::fmt::Write as _;
    let p = index_page(&state, &q).await?;
    let base = state.settings.server.public_base_url.as_str();
    let mut rows = String::new();
    for r in &p.rows {
        let region = r.region.parse::<RegionCode>().ok();
        let name = region.map_or_else(|| r.region.clone(), |c| state.book.region_names(c).0);
        let title = crate::registry::notices::title_zh(&name, r.levy_year, r.replaces_id);
        let state_cell = match p.superseded_by(r.id) {
            Some(n) => format!(
                "已被<a href=\"{}\">第{n}号公示</a>更正",
                esc(&public_url(&state, n))
            ),
            None => "有效".to_owned(),
        };
        let _ = writeln!(
            rows,
            "<tr><td data-label=\"编号\">{id}</td><td data-label=\"标题\"><a href=\"{href}\">{title}</a></td>\
             <td class=\"d\" data-label=\"发布日期\">{published}</td>\
             <td class=\"d\" data-label=\"异议期截止\">{until}</td>\
             <td class=\"n\" data-label=\"单位数\">{entries}</td><td data-label=\"状态\">{state_cell}</td>\
             <td data-label=\"内容摘要（SHA-256）\"><code>{sha}…</code></td></tr>",
            id = r.id,
            href = esc(&public_url(&state, r.id)),
            title = esc(&title),
            published = r.published_on,
            until = r.objection_until,
            entries = r.entries,
            sha = esc(r.content_sha256.get(..16).unwrap_or(&r.content_sha256)),
        );
    }
    let filter = |page: i64| {
        let mut link = format!("{}/notices?page={page}&per_page={}", esc(base), p.per_page);
        if let Some(r) = &q.region {
            let _ = write!(link, "&region={}", esc(r));
        }
        if let Some(y) = &q.levy_year {
            let _ = write!(link, "&levy_year={}", esc(y));
        }
        link
    };
    let last_page = ((p.total + p.per_page - 1) / p.per_page).max(1);
    let mut nav = String::new();
    if p.page > 1 {
        let _ = write!(nav, "<a href=\"{}\">上一页</a> ", filter(p.page - 1));
    }
    let _ = write!(nav, "第{}/{}页", p.page.min(last_page), last_page);
    if p.page < last_page {
        let _ = write!(nav, " <a href=\"{}\">下一页</a>", filter(p.page + 1));
    }
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>用人单位按比例安排残疾人就业情况公示</title>
<style>
body {{ font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em auto; max-width: 70em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #000; padding: .2em .4em; }}
td.n {{ text-align: right; }}
td.d, th {{ white-space: nowrap; }}
code {{ font-family: monospace; }}
{narrow}
</style>
</head>
<body>
<h1>用人单位按比例安排残疾人就业情况公示</h1>
<p>共{total}份公示。<span lang="en">Compliance notices ({total}); JSON: <a href="{base}/api/v1/notices">/api/v1/notices</a>.</span></p>
<div class="table-wrap">
<table class="cards">
<thead><tr><th>编号</th><th>标题</th><th>发布日期</th><th>异议期截止</th><th>单位数</th><th>状态</th><th>内容摘要（SHA-256）</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</div>
<p>{nav}</p>
</body>
</html>
"#,
        total = p.total,
        base = esc(base),
        narrow = NARROW_CSS,
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, Format::Html.content_type()))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(body))
}

/// The style both public pages share for a narrow screen. A phone (390 px) cannot show
/// nine columns: below 600 px each row becomes a card of label and value lines (the
/// label from the cell's `data-label`, a hanging indent so that a long value wraps
/// beside it and a cell of text and a link stays one line), so the page is never wider
/// than the screen; between that and the table's own width the table scrolls inside
/// its container, not the page. Print keeps the table as it was: the rules are for
/// narrow screens only (breaking words anywhere would also narrow the printed columns).
const NARROW_CSS: &str = ".table-wrap { overflow-x: auto; }
@media screen and (max-width: 600px) {
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 1em auto; padding: 0 1em; overflow-wrap: anywhere; }
  h1 { font-size: 1.25em; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards tr { border: 1px solid #000; margin: 0 0 .75em; padding: .25em .5em; }
  table.cards td { border: 0; padding: .15em 0 .15em 10.5em; text-indent: -10.5em; text-align: left; white-space: normal; }
  table.cards td::before { content: attr(data-label); display: inline-block; width: 10.5em; padding-right: .75em; text-indent: 0; vertical-align: top; font-weight: bold; }
  /* Chrome shrinks text set in plain monospace, label included: the code reads as well in the page's font. */
  table.cards td.code { font-family: inherit; }
}
@media print { .table-wrap { overflow: visible; } }";

/// The public pages carry employers' names, which anyone registering an employer
/// chooses: they are escaped, and the pages may in any case run no script and load
/// nothing from elsewhere (their only style is inline).
const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A representation of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Json,
    Csv,
}

/// `?format=` wins; otherwise the `Accept` entry with the highest q among those served
/// (the first on a tie), and HTML for a browser or no preference.
fn negotiate(req: &HttpRequest, format: Option<&str>) -> Result<Format, AppError> {
    if let Some(f) = format {
        return match f {
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(AppError::field(
                "/query/format",
                "must be html, json or csv",
            )),
        };
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut best: Option<(Format, u16)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
        let format = match media.as_str() {
            "text/html" | "application/xhtml+xml" | "text/*" | "*/*" => Format::Html,
            "application/json" | "application/*" => Format::Json,
            "text/csv" => Format::Csv,
            _ => continue,
        };
        if q > 0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((format, q));
        }
    }
    Ok(best.map_or(Format::Html, |(f, _)| f))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeQuery {
    format: Option<String>,
}

fn parse_id(s: &str) -> Result<i64, AppError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound("no such notice".into()))
}

async fn load_view(state: &AppState, id: i64) -> Result<NoticeView, AppError> {
    state
        .db
        .run(move |c| load(c, id))
        .await?
        .ok_or_else(|| AppError::NotFound("no such notice".into()))
}

/// The JSON form: the stored content text is spliced in as it is, so the bytes served
/// under `content` are the bytes hashed, and a large notice is not parsed to be served.
fn json_body(state: &AppState, v: &NoticeView) -> String {
    let head = json!({
        "id": v.row.id,
        "url": public_url(state, v.row.id),
        "state": if v.superseded_by.is_some() { "superseded" } else { "in_force" },
        "superseded_by": v.superseded_by.map(|n| json!({"id": n, "url": public_url(state, n)})),
        "sha256": v.row.content_sha256,
        "digest_of": "content: SHA-256 of its canonical JSON (keys sorted, no whitespace, UTF-8)",
    })
    .to_string();
    let head = head.strip_suffix('}').unwrap_or(&head);
    format!("{head},\"content\":{}}}", v.row.content_json)
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// A notice's representation changes only when a correction supersedes it or the
/// public address its links are made under changes, so the validator is the digest, the
/// form, the correction and that address (a short digest of it): a proxy or browser may
/// keep it, and a conditional request is answered without reading the content.
fn etag(sha: &str, format: Format, superseded_by: Option<i64>, base: &str) -> String {
    use sha2::{Digest, Sha256};
    let base = hex::encode(Sha256::digest(base.as_bytes()));
    format!(
        "W/\"{}-{}-{}-{}\"",
        sha.get(..16).unwrap_or(sha),
        format.as_str(),
        superseded_by.unwrap_or(0),
        base.get(..8).unwrap_or(&base)
    )
}

fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag || t.trim() == "*")
}

/// Serves notice `id` in `format`: 304 when the caller's copy is current.
async fn serve(
    state: &AppState,
    req: &HttpRequest,
    id: i64,
    format: Format,
) -> Result<HttpResponse, AppError> {
    let version = state.db.run(move |c| version_of(c, id)).await?;
    let Some((sha, next)) = version else {
        return Err(AppError::NotFound("no such notice".into()));
    };
    let tag = etag(&sha, format, next, &state.settings.server.public_base_url);
    if not_modified(req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, "Accept"))
            .finish());
    }
    if req.method() == actix_web::http::Method::HEAD {
        // Link checkers and caches ask whether it exists and changed: no need to render.
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, "Accept"))
            .insert_header((header::CONTENT_TYPE, format.content_type()))
            .finish());
    }
    let v = load_view(state, id).await?;
    respond(state, v, format)
}

/// Links to the notices before and after this one (RFC 5829 relations).
fn links(state: &AppState, v: &NoticeView, content_replaces: Option<i64>) -> Option<String> {
    let mut links = Vec::new();
    if let Some(old) = content_replaces {
        links.push(format!(
            "<{}>; rel=\"predecessor-version\"",
            public_url(state, old)
        ));
    }
    if let Some(next) = v.superseded_by {
        links.push(format!(
            "<{}>; rel=\"successor-version\"",
            public_url(state, next)
        ));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

fn respond(state: &AppState, v: NoticeView, format: Format) -> Result<HttpResponse, AppError> {
    let mut r = HttpResponse::Ok();
    r.insert_header((header::VARY, "Accept"))
        .insert_header((
            header::ETAG,
            etag(
                &v.row.content_sha256,
                format,
                v.superseded_by,
                &state.settings.server.public_base_url,
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    if let Some(l) = links(state, &v, v.row.replaces_id) {
        r.insert_header((header::LINK, l));
    }
    Ok(match format {
        Format::Json => r
            .insert_header((header::CONTENT_TYPE, Format::Json.content_type()))
            .body(json_body(state, &v)),
        Format::Csv => r
            .insert_header((header::CONTENT_TYPE, Format::Csv.content_type()))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"notice-{}.csv\"", v.row.id),
            ))
            .body(to_csv(&v, &v.typed()?, &|n| public_url(state, n))),
        Format::Html => r
            .insert_header((header::CONTENT_TYPE, Format::Html.content_type()))
            .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
            .body(html(
                &v,
                &v.typed()?,
                &state.settings.server.public_base_url,
            )),
    })
}

#[route("/notices/{id}", method = "GET", method = "HEAD")]
async fn public_notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, q.format.as_deref())?;
    let id = parse_id(&path)?;
    serve(&state, &req, id, format).await
}

#[route("/api/v1/notices/{id}", method = "GET", method = "HEAD")]
async fn api_notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    serve(&state, &req, id, Format::Json).await
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The printable page: A4 landscape, the table repeats its header on every printed
/// page, and the digest and the public address are on the page so a printed copy can be
/// checked and found again. Links are made under `base`, the public address in force.
fn html(v: &NoticeView, c: &NoticeContent, base: &str) -> String {
    use std::fmt::Write as _;
    let id = v.row.id;
    let url = |n: i64| esc(&crate::mail::plan::notice_url(base, n));
    let mut rows = String::new();
    for (i, e) in c.entries.iter().enumerate() {
        let _ = writeln!(
            rows,
            "<tr class=\"{}\"><td data-label=\"序号\">{}</td>\
             <td class=\"code\" data-label=\"统一社会信用代码\">{}</td>\
             <td data-label=\"单位名称\">{}</td><td data-label=\"单位类型\">{}</td>\
             <td title=\"{}\" data-label=\"行政区划\">{}</td>\
             <td class=\"n\" data-label=\"在职职工年平均人数\">{}</td>\
             <td class=\"n\" data-label=\"应安排残疾人数\">{}</td>\
             <td class=\"n\" data-label=\"已安排残疾人数\">{}</td><td data-label=\"状态\">{}</td></tr>",
            e.status.as_str(),
            i + 1,
            esc(&e.uscc),
            esc(&e.name),
            esc(&e.kind_zh),
            esc(&e.region),
            esc(&e.region_name),
            esc(e.staff.as_deref().unwrap_or("—")),
            esc(e.required.as_deref().unwrap_or("—")),
            esc(e.counted.as_deref().unwrap_or("—")),
            esc(&e.status_zh),
        );
    }
    let superseded = v.superseded_by.map_or(String::new(), |n| {
        format!(
            "<p class=\"banner\" role=\"alert\">本公示已被更正，以<a href=\"{href}\">第{n}号公示</a>为准。\
             <span lang=\"en\">This notice was superseded by <a href=\"{href}\">notice {n}</a>.</span></p>",
            href = url(n),
        )
    });
    let replaces = c.replaces.as_ref().map_or(String::new(), |r| {
        format!(
            "<p class=\"correction\">本公示更正<a href=\"{href}\">第{0}号公示</a>\
             （SHA-256 <code>{1}</code>）。更正原因：{2}</p>",
            r.id,
            esc(&r.sha256),
            esc(c.correction_reason.as_deref().unwrap_or("")),
            href = url(r.id),
        )
    });
    let objection = c.objection_contact.as_ref().map_or(String::new(), |o| {
        let mut lines = format!(
            "<div class=\"objection\">\n<p>异议受理：{}</p>\n",
            esc(&c.publisher)
        );
        if let Some(a) = &o.address {
            let _ = writeln!(lines, "<p>地址：{}</p>", esc(a));
        }
        if let Some(p) = &o.phone {
            let _ = writeln!(lines, "<p>电话：{}</p>", esc(p));
        }
        if let Some(e) = &o.email {
            let _ = writeln!(
                lines,
                "<p>电子邮箱：<a href=\"mailto:{0}\">{0}</a></p>",
                esc(e)
            );
        }
        lines.push_str("</div>\n");
        lines
    });
    let s = &c.summary;
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
@page {{ size: A4 landscape; margin: 15mm; }}
body {{ font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em auto; max-width: 70em; color: #000; }}
h1 {{ font-size: 1.5em; text-align: center; }}
.meta {{ text-align: center; }}
.meta span {{ display: inline-block; }}
.banner {{ border: 2px solid #a00; color: #a00; padding: .5em; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 1px solid #000; padding: .2em .4em; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.code, code {{ font-family: monospace; }}
.digest {{ word-break: break-all; font-size: .85em; }}
.objection p {{ margin: .2em 0; }}
.signoff {{ margin: 2em 0 2em auto; width: max-content; max-width: 100%; text-align: center; }}
.signoff p {{ margin: .3em 0; }}
@media print {{ .no-print {{ display: none; }} a {{ color: #000; text-decoration: none; }} }}
{narrow}
</style>
</head>
<body>
{superseded}
<h1>{title}</h1>
<p class="meta"><span>第{id}号公示</span>　<span>发布单位：{publisher}</span>　<span>发布日期：{published}</span>　<span>异议期截止：{until}</span></p>
{replaces}
<p>根据《残疾人就业条例》和《残疾人就业保障金征收使用管理办法》，现将{region}用人单位{year}年度按比例安排残疾人就业情况公示如下。共{n}家：已达到规定比例{compliant}家，未达到规定比例{below}家，依规定免征{exempt}家，未申报{nd}家。</p>
<div class="table-wrap">
<table class="cards">
<thead><tr><th>序号</th><th>统一社会信用代码</th><th>单位名称</th><th>单位类型</th><th>行政区划</th><th>在职职工年平均人数</th><th>应安排残疾人数</th><th>已安排残疾人数</th><th>状态</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</div>
<p>{note}</p>
{objection}<div class="signoff">
<p>{publisher}</p>
<p>{published_zh}</p>
<p class="seal">（盖章）</p>
</div>
<p class="digest">内容摘要（SHA-256）：<code>{sha}</code></p>
<p class="address">本公示网址：<a href="{self_url}">{self_url}</a></p>
<p class="no-print"><a href="{self_url}?format=json">JSON</a> · <a href="{self_url}?format=csv">CSV</a> · <span lang="en">{title_en}</span></p>
</body>
</html>
"#,
        title = esc(&c.title),
        title_en = esc(&c.title_en),
        publisher = esc(&c.publisher),
        published = c.published_on,
        until = c.objection_until,
        region = esc(&c.region_name),
        year = c.levy_year,
        n = s.employers,
        compliant = s.compliant,
        below = s.below_quota,
        exempt = s.exempt,
        nd = s.not_declared,
        note = esc(&c.objection_note),
        published_zh = date_zh(c.published_on),
        sha = esc(&v.row.content_sha256),
        self_url = url(id),
        narrow = NARROW_CSS,
    )
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(preview_notice)
        .service(post_notice)
        .service(list_notices)
        .service(notice_index)
        .service(api_notice)
        .service(public_notice);
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with_accept(a: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::ACCEPT, a))
            .to_http_request()
    }

    #[test]
    fn format_query_wins_over_accept() {
        let r = with_accept("text/html");
        assert_eq!(negotiate(&r, Some("csv")).ok(), Some(Format::Csv));
        assert!(negotiate(&r, Some("pdf")).is_err());
    }

    #[test]
    fn accept_picks_the_highest_quality_served_type() {
        let pick = |a: &str| negotiate(&with_accept(a), None).ok();
        assert_eq!(pick("application/json"), Some(Format::Json));
        assert_eq!(pick("text/csv"), Some(Format::Csv));
        assert_eq!(
            pick("text/html,application/xhtml+xml,*/*;q=0.8"),
            Some(Format::Html)
        );
        assert_eq!(
            pick("text/html;q=0.5, application/json;q=0.9"),
            Some(Format::Json)
        );
        assert_eq!(pick("application/pdf, text/csv;q=0.1"), Some(Format::Csv));
        assert_eq!(pick("application/json;q=0, text/csv"), Some(Format::Csv));
        assert_eq!(pick(""), Some(Format::Html));
    }

    #[test]
    fn html_escapes_names() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
