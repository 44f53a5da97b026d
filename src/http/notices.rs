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

use super::context::{query_levy_year, Caller};
use super::pages::{page_lang, render, Layout};
use super::problem::AppError;
use super::AppState;
use crate::auth::{region_covers, scope_prefix, Role};
use crate::domain::{Language, LevyYear, RegionCode};
use crate::mail::Templates;
use crate::registry::fields::Fields;
use crate::registry::notices::{
    csv_head, csv_lines, date_zh, entries_page, entries_split, for_each_entry, for_each_text, load,
    plan_mails_now, preview, publish, version_of, EntryPage, EntryQuery, NoticeContent, NoticeMail,
    NoticeView, Part, PublishError, PublishRequest, DEFAULT_OBJECTION_DAYS, MAX_OBJECTION_DAYS,
};
use crate::wire::Fault;
use askama::Template;

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
    let levy_year = f.int(
        "levy_year",
        true,
        LevyYear::FIRST.into(),
        LevyYear::LAST.into(),
    );
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
fn publisher_and_request(caller: &Caller, body: &Value) -> Result<PublishRequest, AppError> {
    let who = caller.require(&[Role::Federation])?;
    let request = parse_publish(body, caller.lang)?;
    if let Some(scope) = &who.region {
        if !region_covers(scope, &request.region) {
            return Err(AppError::Forbidden(super::context::outside_scope()));
        }
    }
    Ok(request)
}

/// What `POST /api/v1/notices` with the same body would publish today, stored nowhere:
/// a published notice can never be edited, so the federation looks first.
///
/// The region is read twice: once to check it (a refusal is still a problem document)
/// and once to stream the content as it is read, the digest after it (of what was
/// streamed, so the two always agree).
#[post("/api/v1/notices/preview")]
async fn preview_notice(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let request = publisher_and_request(&caller, &body)?;
    let today = state.clock.today();
    let checked = request.clone();
    state
        .call(move |c, st| {
            preview(
                c,
                &st.book,
                &st.settings.notices,
                &checked,
                today,
                &mut |_, _| Ok(()),
            )
        })
        .await?;
    let body = streamed(&state, move |c, st, send| {
        let head = json!({
            "preview": true,
            "digest_of": "content: SHA-256 of its canonical JSON (keys sorted, no whitespace, UTF-8)",
        })
        .to_string();
        send(head.strip_suffix('}').unwrap_or(&head))?;
        send(",\"content\":")?;
        let composed = preview(
            c,
            &st.book,
            &st.settings.notices,
            &request,
            today,
            &mut |_, part| {
                match part {
                    Part::Start(text) | Part::Entries(_, text) => send(text)?,
                }
                Ok(())
            },
        )
        .map_err(|e| match e {
            PublishError::Db(e) => e,
            other => crate::db::DbError::Task(other.to_string()),
        })?;
        send(entries_split(&composed.text)?.1)?;
        send(&format!(
            ",\"sha256_if_published_today\":\"{}\"}}",
            composed.sha256
        ))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, Format::Json.content_type()))
        .streaming(body))
}

/// Bytes gathered before a piece of a streamed body is sent.
const STREAM_PIECE: usize = 64 * 1024;

/// A response body produced on a blocking thread with a connection of its own:
/// `produce` sends text as it goes, sent on in pieces of about [`STREAM_PIECE`] bytes
/// through a short queue, so the body is never whole in memory. When the client goes
/// away the next send fails and `produce` stops; when `produce` fails, the body ends
/// with an error (the client sees a broken transfer, not a short document).
fn streamed<F>(
    state: &AppState,
    produce: F,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>>
where
    F: FnOnce(
            &mut crate::db::AnyConnection,
            &AppState,
            &mut dyn FnMut(&str) -> Result<(), crate::db::DbError>,
        ) -> Result<(), crate::db::DbError>
        + Send
        + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, String>>(4);
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let gone = || crate::db::DbError::Task("client went away".into());
        let result = (|| -> Result<(), crate::db::DbError> {
            let mut conn = st.db.conn()?;
            let mut buf = String::new();
            let mut send = |text: &str| -> Result<(), crate::db::DbError> {
                buf.push_str(text);
                if buf.len() >= STREAM_PIECE {
                    tx.blocking_send(Ok(web::Bytes::from(std::mem::take(&mut buf))))
                        .map_err(|_| gone())?;
                }
                Ok(())
            };
            produce(&mut conn, &st, &mut send)?;
            if !buf.is_empty() {
                tx.blocking_send(Ok(web::Bytes::from(buf)))
                    .map_err(|_| gone())?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "notice body stopped");
            let _ = tx.blocking_send(Err(e.to_string()));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| {
            (
                piece.map_err(actix_web::error::ErrorInternalServerError),
                rx,
            )
        })
    })
}

#[post("/api/v1/notices")]
async fn post_notice(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let request = publisher_and_request(&caller, &body)?;
    // Queued whether or not this process sends mail (`mail.enabled` only starts the
    // worker in `serve`): `reminders run` from cron sends the outbox just the same.
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| AppError::Internal(format!("mail templates: {e}")))?;
    let audit = caller.audit();
    let published = state
        .call(move |c, st| {
            let mail = NoticeMail {
                templates: &templates,
            };
            let (actor, rid) = (&audit.actor, audit.rid());
            let notices = &st.settings.notices;
            let published = publish(
                c,
                &st.book,
                notices,
                &request,
                st.clock.today(),
                Some(&mail),
                actor,
                rid,
            )?;
            // Its mails at once, after the publication's commit: should this stop half
            // way, the rest are queued by the reminder planner (docs/notices.md, "Mails").
            let queued = plan_mails_now(c, &st.book, &templates, published.row.id);
            Ok::<_, PublishError>((published, queued))
        })
        .await?;
    let (published, queued) = published;
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
            "reminders_queued": queued,
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
        .map(|y| query_levy_year(y).map(LevyYear::get))
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

/// The query of the HTML index: the list's, and the page's language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexQuery {
    region: Option<String>,
    levy_year: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    lang: Option<String>,
}

/// A link to another notice.
struct NoticeLink {
    id: i64,
    href: String,
}

/// One row of the HTML index.
struct IndexRow {
    id: i64,
    href: String,
    title: String,
    published_on: chrono::NaiveDate,
    objection_until: chrono::NaiveDate,
    entries: i32,
    superseded_by: Option<NoticeLink>,
    sha_prefix: String,
}

#[derive(Template)]
#[template(path = "pages/notice_index.html")]
struct IndexHtml {
    layout: Layout,
    base: String,
    total: i64,
    rows: Vec<IndexRow>,
    prev: Option<String>,
    next: Option<String>,
    shown_page: i64,
    last_page: i64,
}

/// The public index of notices: where a member of the public finds them.
#[get("/notices")]
async fn notice_index(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let lang = page_lang(&req, q.lang.as_deref())?;
    let list = ListQuery {
        region: q.region,
        levy_year: q.levy_year,
        page: q.page,
        per_page: q.per_page,
    };
    let p = index_page(&state, &list).await?;
    let link = |n: i64| NoticeLink {
        id: n,
        href: public_url(&state, n),
    };
    let rows = p
        .rows
        .iter()
        .map(|r| {
            let region = r.region.parse::<RegionCode>().ok();
            let name = region.map_or_else(|| r.region.clone(), |c| state.book.region_names(c).0);
            IndexRow {
                id: r.id,
                href: public_url(&state, r.id),
                title: crate::registry::notices::title_zh(&name, r.levy_year, r.replaces_id),
                published_on: r.published_on,
                objection_until: r.objection_until,
                entries: r.entries,
                superseded_by: p.superseded_by(r.id).map(link),
                sha_prefix: r
                    .content_sha256
                    .get(..16)
                    .unwrap_or(&r.content_sha256)
                    .to_owned(),
            }
        })
        .collect();
    let base = state.settings.server.public_base_url.clone();
    // The filters are echoed as the caller sent them, percent-encoded into the query.
    let filter = |page: i64| {
        let mut href = format!("{base}/notices?page={page}&per_page={}", p.per_page);
        for (name, value) in [
            ("region", &list.region),
            ("levy_year", &list.levy_year),
            ("lang", &q.lang),
        ] {
            if let Some(v) = value {
                href.push_str(&format!("&{name}={}", query_value(v)));
            }
        }
        href
    };
    let last_page = ((p.total + p.per_page - 1) / p.per_page).max(1);
    let page = IndexHtml {
        layout: Layout::chinese_document(lang),
        total: p.total,
        rows,
        prev: (p.page > 1).then(|| filter(p.page - 1)),
        next: (p.page < last_page).then(|| filter(p.page + 1)),
        shown_page: p.page.min(last_page),
        last_page,
        base: base.clone(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, Format::Html.content_type()))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(render(&page)?))
}

/// A query value as it goes into a link.
fn query_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The public pages carry employers' names, which anyone registering an employer
/// chooses: templates escape them, and the pages may in any case run no script and load
/// nothing from elsewhere (styles: the service's stylesheet and their own inline rules,
/// which a saved copy keeps).
const PAGE_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

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
    lang: Option<String>,
    /// The HTML page's search: entries whose name contains this.
    q: Option<String>,
    /// The HTML page's keyset: entries after this place, or before that one.
    after: Option<i32>,
    before: Option<i32>,
}

/// Entries on one HTML page.
const ENTRIES_PER_PAGE: i64 = 100;
/// The longest name searched (characters).
const MAX_SEARCH: usize = 100;

/// The page of entries an HTML request asks for.
fn entry_query(q: &NoticeQuery) -> Result<EntryQuery, AppError> {
    let name =
        q.q.as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_SEARCH)
    {
        return Err(AppError::field(
            "/query/q",
            format!("must be at most {MAX_SEARCH} characters"),
        ));
    }
    for (pointer, v) in [("/query/after", q.after), ("/query/before", q.before)] {
        if v.is_some_and(|v| v < 0) {
            return Err(AppError::field(pointer, "must not be negative"));
        }
    }
    Ok(EntryQuery {
        name,
        after: q.after,
        before: q.before,
        limit: ENTRIES_PER_PAGE,
    })
}

fn parse_id(s: &str) -> Result<i64, AppError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound(no_notice()))
}

async fn load_view(state: &AppState, id: i64) -> Result<NoticeView, AppError> {
    state
        .db
        .run(move |c| load(c, id))
        .await?
        .ok_or_else(|| AppError::NotFound(no_notice()))
}

/// The JSON form's start, up to the content: the content follows as the text hashed,
/// streamed from the stored entries, then `}`.
fn json_head(state: &AppState, v: &NoticeView) -> String {
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
    format!("{head},\"content\":")
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
/// form (with the language of an HTML page's chrome), the correction and that address
/// (a short digest of it): a proxy or browser may keep it, and a conditional request is
/// answered without reading the content.
fn etag(
    sha: &str,
    format: Format,
    lang: Language,
    superseded_by: Option<i64>,
    base: &str,
    page: &EntryQuery,
) -> String {
    use sha2::{Digest, Sha256};
    let base = hex::encode(Sha256::digest(base.as_bytes()));
    let mut chrome = match (format, lang) {
        (Format::Html, Language::En) => ".en".to_owned(),
        _ => String::new(),
    };
    if format == Format::Html
        && (page.name.is_some() || page.after.is_some() || page.before.is_some())
    {
        let key = format!("{:?}|{:?}|{:?}", page.name, page.after, page.before);
        let key = hex::encode(Sha256::digest(key.as_bytes()));
        chrome.push('.');
        chrome.push_str(key.get(..8).unwrap_or(&key));
    }
    format!(
        "W/\"{}-{}{chrome}-{}-{}\"",
        sha.get(..16).unwrap_or(sha),
        format.as_str(),
        superseded_by.unwrap_or(0),
        base.get(..8).unwrap_or(&base)
    )
}

/// What a notice's representation varies by.
const VARY: &str = "Accept, Accept-Language";

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
    lang: Language,
    page: EntryQuery,
) -> Result<HttpResponse, AppError> {
    let version = state.db.run(move |c| version_of(c, id)).await?;
    let Some((sha, next)) = version else {
        return Err(AppError::NotFound(no_notice()));
    };
    let tag = etag(
        &sha,
        format,
        lang,
        next,
        &state.settings.server.public_base_url,
        &page,
    );
    if not_modified(req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, VARY))
            .finish());
    }
    if req.method() == actix_web::http::Method::HEAD {
        // Link checkers and caches ask whether it exists and changed: no need to render.
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, VARY))
            .insert_header((header::CONTENT_TYPE, format.content_type()))
            .finish());
    }
    let v = load_view(state, id).await?;
    respond(state, v, format, lang, page).await
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

async fn respond(
    state: &AppState,
    v: NoticeView,
    format: Format,
    lang: Language,
    page: EntryQuery,
) -> Result<HttpResponse, AppError> {
    let mut r = HttpResponse::Ok();
    r.insert_header((header::VARY, VARY))
        .insert_header((
            header::ETAG,
            etag(
                &v.row.content_sha256,
                format,
                lang,
                v.superseded_by,
                &state.settings.server.public_base_url,
                &page,
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    if let Some(l) = links(state, &v, v.row.replaces_id) {
        r.insert_header((header::LINK, l));
    }
    Ok(match format {
        Format::Json => {
            let head = json_head(state, &v);
            let row = v.row;
            r.insert_header((header::CONTENT_TYPE, Format::Json.content_type()))
                .streaming(streamed(state, move |c, _, send| {
                    send(&head)?;
                    for_each_text(c, &row, &mut |text| send(text))?;
                    send("}")
                }))
        }
        Format::Csv => {
            let head = csv_head(&v, &v.head()?, &|n| public_url(state, n));
            let row = v.row;
            r.insert_header((header::CONTENT_TYPE, Format::Csv.content_type()))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"notice-{}.csv\"", row.id),
                ))
                .streaming(streamed(state, move |c, _, send| {
                    send(&head)?;
                    for_each_entry(c, &row, &mut |first, entries| {
                        send(&csv_lines(first, entries))
                    })
                }))
        }
        Format::Html => {
            let row = v.row.clone();
            let q = page.clone();
            let entries = state.db.run(move |c| entries_page(c, &row, &q)).await?;
            let content = v.head()?;
            r.insert_header((header::CONTENT_TYPE, Format::Html.content_type()))
                .insert_header((header::CONTENT_SECURITY_POLICY, NOTICE_CSP))
                .body(html(
                    &v,
                    &content,
                    &entries,
                    &page,
                    &state.settings.server.public_base_url,
                    lang,
                )?)
        }
    })
}

/// [`PAGE_CSP`], with the notice's own search form (a GET to the same page).
const NOTICE_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[route("/notices/{id}", method = "GET", method = "HEAD")]
async fn public_notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, q.format.as_deref())?;
    let lang = page_lang(&req, q.lang.as_deref())?;
    let page = entry_query(&q)?;
    let id = parse_id(&path)?;
    serve(&state, &req, id, format, lang, page).await
}

#[route("/api/v1/notices/{id}", method = "GET", method = "HEAD")]
async fn api_notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    serve(
        &state,
        &req,
        id,
        Format::Json,
        Language::Zh,
        EntryQuery::default(),
    )
    .await
}

/// One employer's line of the printable page.
struct EntryRow<'a> {
    no: i32,
    status: &'a str,
    uscc: &'a str,
    name: &'a str,
    kind_zh: &'a str,
    region: &'a str,
    region_name: &'a str,
    staff: &'a str,
    required: &'a str,
    counted: &'a str,
    status_zh: &'a str,
}

/// The notice a correction replaces, as the page names it.
struct ReplacedLink<'a> {
    id: i64,
    href: String,
    sha256: &'a str,
}

/// The printable page: A4 landscape, the table repeats its header on every printed
/// page, and the digest and the public address are on the page so a printed copy can be
/// checked and found again. Links are made under the public address in force.
///
/// The table shows one page of entries (a keyset over their places, so a page deep in
/// a notice of a million costs what the first does), with a search by name; the whole
/// notice is its JSON and CSV forms.
#[derive(Template)]
#[template(path = "pages/notice.html")]
struct NoticeHtml<'a> {
    layout: Layout,
    c: &'a NoticeContent,
    id: i64,
    sha: &'a str,
    self_url: String,
    superseded: Option<NoticeLink>,
    replaces: Option<ReplacedLink<'a>>,
    correction_reason: &'a str,
    rows: Vec<EntryRow<'a>>,
    published_zh: String,
    /// The name searched, as typed.
    search: &'a str,
    /// With a search, how many entries match.
    matched: Option<i64>,
    /// All entries of the notice.
    total: i64,
    prev: Option<String>,
    next: Option<String>,
    /// The page without the search (when one is shown).
    clear: Option<String>,
    /// The page's language chosen by the query, kept in the search form.
    lang_query: Option<&'static str>,
}

fn html(
    v: &NoticeView,
    c: &NoticeContent,
    page: &EntryPage,
    q: &EntryQuery,
    base: &str,
    lang: Language,
) -> Result<String, AppError> {
    let url = |n: i64| crate::mail::plan::notice_url(base, n);
    fn dash(s: &Option<String>) -> &str {
        s.as_deref().unwrap_or("—")
    }
    let rows = page
        .entries
        .iter()
        .map(|(no, e)| EntryRow {
            no: *no,
            status: e.status.as_str(),
            uscc: &e.uscc,
            name: &e.name,
            kind_zh: &e.kind_zh,
            region: &e.region,
            region_name: &e.region_name,
            staff: dash(&e.staff),
            required: dash(&e.required),
            counted: dash(&e.counted),
            status_zh: &e.status_zh,
        })
        .collect();
    let self_url = url(v.row.id);
    let lang_query = match lang {
        Language::En => Some("en"),
        _ => None,
    };
    // Links keep the search and the language; the cursor is the only other parameter.
    let link = |cursor: Option<(&str, i32)>, with_search: bool| {
        let mut params = Vec::new();
        if let (true, Some(n)) = (with_search, &q.name) {
            params.push(format!("q={}", query_value(n)));
        }
        if let Some((k, at)) = cursor {
            params.push(format!("{k}={at}"));
        }
        if let Some(l) = lang_query {
            params.push(format!("lang={l}"));
        }
        if params.is_empty() {
            self_url.clone()
        } else {
            format!("{self_url}?{}", params.join("&"))
        }
    };
    render(&NoticeHtml {
        layout: Layout::chinese_document(lang),
        c,
        id: v.row.id,
        sha: &v.row.content_sha256,
        self_url: self_url.clone(),
        superseded: v.superseded_by.map(|n| NoticeLink {
            id: n,
            href: url(n),
        }),
        replaces: c.replaces.as_ref().map(|r| ReplacedLink {
            id: r.id,
            href: url(r.id),
            sha256: &r.sha256,
        }),
        correction_reason: c.correction_reason.as_deref().unwrap_or(""),
        rows,
        published_zh: date_zh(c.published_on),
        search: q.name.as_deref().unwrap_or(""),
        matched: page.matched,
        total: c.summary.employers,
        prev: page.prev_before.map(|b| link(Some(("before", b)), true)),
        next: page.next_after.map(|a| link(Some(("after", a)), true)),
        clear: q.name.as_ref().map(|_| link(None, false)),
        lang_query,
    })
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

/// The 404 of a notice.
fn no_notice() -> crate::domain::Said {
    crate::domain::Said::new("没有该公示", "no such notice")
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
}
