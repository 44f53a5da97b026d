//! `/admin/audit`: the audit log, newest first, with filters (actor, entity type and
//! id, a range of dates in China time) and keyset pages on the log's id. Entries show
//! their before and after JSON as stored: personal numbers are masked when an entry is
//! written (docs/architecture.md, Conventions), so nothing here unmasks or needs to.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::{admin, given, FormState, Nav};
use crate::db::audit::{self, AuditFilter, AuditRow};
use crate::http::inspector::encode_query;
use crate::http::page_kit::{self, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;

/// Entries per page.
const PER_PAGE: i64 = 50;

/// `GET /admin/audit`'s query.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct AuditQuery {
    actor: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<String>,
    lang: Option<String>,
}

/// One entry as the page shows it.
pub struct EntryView {
    /// Id.
    pub id: i64,
    /// When, China time.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Entity kind.
    pub entity_type: String,
    /// Entity key.
    pub entity_id: String,
    /// Before, pretty JSON.
    pub before: Option<String>,
    /// After, pretty JSON.
    pub after: Option<String>,
    /// Request ID.
    pub request_id: String,
}

fn pretty(json: Option<String>) -> Option<String> {
    json.map(|s| match serde_json::from_str::<serde_json::Value>(&s) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or(s),
        Err(_) => s,
    })
}

fn entry_view(r: AuditRow) -> EntryView {
    EntryView {
        id: r.id,
        at: (r.at + Duration::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        actor: r.actor,
        action: r.action,
        entity_type: r.entity_type,
        entity_id: r.entity_id,
        before: pretty(r.before_json),
        after: pretty(r.after_json),
        request_id: r.request_id.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "pages/admin/audit.html")]
struct AuditView {
    layout: Layout,
    nav: Nav,
    form: FormState,
    entries: Vec<EntryView>,
    next_href: Option<String>,
    first_href: Option<String>,
    lang_value: Option<String>,
}

/// Midnight in China of `d`, in UTC.
fn china_midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8)
}

#[get("/admin/audit")]
async fn audit_page(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let lang = signed.lang;
    let q = q.into_inner();
    let mut form = FormState::new(signed.csrf());
    for (k, v) in [
        ("actor", &q.actor),
        ("entity_type", &q.entity_type),
        ("entity_id", &q.entity_id),
        ("from", &q.from),
        ("until", &q.until),
    ] {
        form.keep(k, given(v));
    }
    let mut date = |name: &str, v: &Option<String>| -> Option<NaiveDate> {
        let s = given(v)?;
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                form.fault(
                    name,
                    lang.pick("请输入日期（年-月-日）", "enter a date (YYYY-MM-DD)"),
                );
                None
            }
        }
    };
    let from = date("from", &q.from);
    let until = date("until", &q.until);
    let filter = AuditFilter {
        actor: given(&q.actor).map(str::to_owned),
        entity_type: given(&q.entity_type).map(str::to_owned),
        entity_id: given(&q.entity_id).map(str::to_owned),
        from: from.map(china_midnight),
        // The last day counts whole.
        until: until.map(|d| china_midnight(d) + Duration::days(1)),
    };
    let before = given(&q.before).and_then(|b| b.parse::<i64>().ok());
    let (status, entries, next_href) = if form.has_faults() {
        (StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), None)
    } else {
        let f = filter.clone();
        let mut rows = state
            .db
            .run(move |c| audit::page(c, &f, before, PER_PAGE + 1))
            .await?;
        let per = usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
        let more = rows.len() > per;
        rows.truncate(per);
        let next = match (more, rows.last()) {
            (true, Some(last)) => {
                let id = last.id.to_string();
                let mut parts: Vec<(&str, &str)> = Vec::new();
                for (k, v) in [
                    ("actor", &q.actor),
                    ("entity_type", &q.entity_type),
                    ("entity_id", &q.entity_id),
                    ("from", &q.from),
                    ("until", &q.until),
                ] {
                    if let Some(v) = given(v) {
                        parts.push((k, v));
                    }
                }
                parts.push(("before", &id));
                Some(signed.link(&format!("/admin/audit?{}", encode_query(&parts))))
            }
            _ => None,
        };
        (
            StatusCode::OK,
            rows.into_iter().map(entry_view).collect(),
            next,
        )
    };
    let html = render(&AuditView {
        layout: Layout::new(lang),
        nav: Nav::new(&signed, "/admin/audit"),
        form,
        entries,
        next_href,
        first_href: before.map(|_| signed.link("/admin/audit")),
        lang_value: q.lang.filter(|l| l == "zh" || l == "en"),
    })?;
    Ok(page_kit::page(status, html, &[]))
}

/// Registers the audit page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(audit_page);
}
