//! The deadline calendar as iCalendar (RFC 5545) feeds a calendar program subscribes
//! to: a region's levy year (`GET /calendar/{region}.ics?levy_year=`, public: the
//! dates are the law's) and an employer's own (`GET /api/v1/employers/{uscc}/calendar/
//! {levy_year}`, signed in: the same dates under its name, with the days its reminders
//! are mailed). The dates are the policy packs' — the certification window, the
//! declaration deadline, the payment due date — read as the home page and the
//! reminders read them, each event citing its source.

use actix_web::{get, web, HttpResponse};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use super::context::{query_levy_year, EmployerYear};
use super::problem::AppError;
use super::AppState;
use crate::domain::{RegionCode, Said};
use crate::mail::plan::Schedule;
use crate::policy::PolicyView;

/// One day or span in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// A stable name, part of the event's UID.
    pub key: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// The title.
    pub summary: String,
    /// The source and whether it is unconfirmed.
    pub description: String,
}

fn day(v: &serde_json::Value) -> Option<NaiveDate> {
    v.as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn source(p: &crate::policy::ParameterView) -> String {
    let mut s = format!("依据 Source: {}", p.citation.clone().unwrap_or_default());
    if p.provisional {
        s.push_str("（暂定，未见正式文件 provisional: no official text found）");
    }
    s
}

/// The region's dates of a levy year in `view`, in the order an employer meets them.
pub fn region_events(view: &PolicyView, region_name: &str) -> Vec<Event> {
    let find = |key: &str| view.parameters.iter().find(|p| p.key == key);
    let mut out = Vec::new();
    if let Some(p) = find("certification_window") {
        if let (Some(opens), Some(closes)) = (day(&p.value["opens"]), day(&p.value["closes"])) {
            out.push(Event {
                key: "certification".into(),
                start: opens,
                end: closes,
                summary: format!(
                    "{region_name} 残疾职工审核认定 Certification of disabled employees"
                ),
                description: source(p),
            });
        }
    }
    for (key, zh, en) in [
        (
            "filing_deadline",
            "保障金申报截止",
            "Levy declaration closes",
        ),
        ("payment_due", "保障金缴纳截止", "Levy payment due"),
    ] {
        if let Some((p, d)) = find(key).and_then(|p| day(&p.value).map(|d| (p, d))) {
            out.push(Event {
                key: key.replace('_', "-"),
                start: d,
                end: d,
                summary: format!("{region_name} {zh} {en}"),
                description: source(p),
            });
        }
    }
    out
}

/// The days an employer's reminders are mailed before the declaration deadline and the
/// payment due date (`[mail]` settings), as events of their own.
pub fn reminder_events(events: &[Event], schedule: &Schedule) -> Vec<Event> {
    let mut out = Vec::new();
    for e in events {
        let (days, zh, en) = match e.key.as_str() {
            "filing-deadline" => (
                &schedule.declare_days_before,
                "申报提醒",
                "reminder to declare",
            ),
            "payment-due" => (&schedule.pay_days_before, "缴费提醒", "reminder to pay"),
            _ => continue,
        };
        for d in days {
            let on = e.start - Duration::days(i64::from(*d));
            out.push(Event {
                key: format!("{}-reminder-{d}d", e.key),
                start: on,
                end: on,
                summary: format!("{zh}：距截止 {d} 天 ({en}: {d} days left)"),
                description: e.summary.clone(),
            });
        }
    }
    out
}

/// A text value escaped as RFC 5545 §3.3.11 says.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// The feed: one VCALENDAR of all-day VEVENTs. `stamp` is the day the feed describes
/// (DTSTAMP), so that the same law gives the same bytes all day.
pub fn ics(name: &str, uid_scope: &str, events: &[Event], stamp: NaiveDate) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//quota-levy//deadline calendar//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(l, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", text(name)), &mut out);
    fold("X-WR-TIMEZONE:Asia/Shanghai", &mut out);
    let ymd = |d: NaiveDate| format!("{:04}{:02}{:02}", d.year(), d.month(), d.day());
    for e in events {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}-{uid_scope}@quota-levy", e.key), &mut out);
        fold(&format!("DTSTAMP:{}T000000Z", ymd(stamp)), &mut out);
        fold(&format!("DTSTART;VALUE=DATE:{}", ymd(e.start)), &mut out);
        // DTEND of an all-day event is the day after the last.
        fold(
            &format!("DTEND;VALUE=DATE:{}", ymd(e.end + Duration::days(1))),
            &mut out,
        );
        fold(&format!("SUMMARY:{}", text(&e.summary)), &mut out);
        fold(&format!("DESCRIPTION:{}", text(&e.description)), &mut out);
        fold("TRANSP:TRANSPARENT", &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

fn ics_response(body: String, file: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("inline; filename=\"{file}\""),
        ))
        .insert_header(("cache-control", "no-cache"))
        .body(body)
}

/// The events of `region`'s levy year, and the region's name.
fn events_of(
    state: &AppState,
    region: RegionCode,
    levy_year: i32,
) -> Result<(String, Vec<Event>), AppError> {
    let today = state.clock.today();
    // The dates of levy year Y as the packs set them for Y: read today within Y (as the
    // home page and the reminders do), else as of Y's last day, when every window the
    // packs date for Y has opened.
    let as_of = if today.year() == levy_year {
        today
    } else {
        NaiveDate::from_ymd_opt(levy_year, 12, 31).unwrap_or(today)
    };
    let view = state
        .book
        .view(region, as_of, Some(levy_year - 1))
        .map_err(|e| {
            AppError::NotFound(Said::new(
                format!("政策参数中没有该地区本年度的日期：{e}"),
                format!("the packs give no dates for this region and year: {e}"),
            ))
        })?;
    let (zh, _) = state.book.region_names(region);
    let events = region_events(&view, &zh);
    Ok((zh, events))
}

/// `?levy_year=` of the region feed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    levy_year: Option<String>,
}

#[get("/calendar/{region}.ics")]
async fn region_feed(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<FeedQuery>,
) -> Result<HttpResponse, AppError> {
    let region: RegionCode = path.into_inner().parse().map_err(|_| {
        AppError::field(
            "/path/region",
            "must be a six-digit region code (GB/T 2260)",
        )
    })?;
    let today = state.clock.today();
    let levy_year = match q.levy_year.as_deref() {
        Some(y) => query_levy_year(y)?.get(),
        None => today.year(),
    };
    let (name, events) = events_of(&state, region, levy_year)?;
    let title = format!("{name} {levy_year} 年度残疾人就业保障金");
    Ok(ics_response(
        ics(&title, &format!("{region}-{levy_year}"), &events, today),
        &format!("{region}-{levy_year}.ics"),
    ))
}

#[get("/api/v1/employers/{uscc}/calendar/{levy_year}")]
async fn employer_feed(
    state: web::Data<AppState>,
    at: EmployerYear,
) -> Result<HttpResponse, AppError> {
    let levy_year = at.levy_year()?.get();
    let region: RegionCode = at
        .employer
        .region
        .parse()
        .map_err(|_| AppError::Internal("stored region unreadable".into()))?;
    let (_, mut events) = events_of(&state, region, levy_year)?;
    let schedule = Schedule::from_settings(&state.settings.mail);
    events.extend(reminder_events(&events, &schedule));
    events.sort_by_key(|e| (e.start, e.key.clone()));
    let uscc = &at.employer.uscc;
    let title = format!("{} {levy_year} 年度残疾人就业保障金", at.employer.name);
    Ok(ics_response(
        ics(
            &title,
            &format!("{uscc}-{levy_year}"),
            &events,
            state.clock.today(),
        ),
        &format!("{uscc}-{levy_year}.ics"),
    ))
}

/// Registers the feeds.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(region_feed).service(employer_feed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn lines_are_folded_at_75_octets_without_splitting_a_character() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "残".repeat(40)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "残".repeat(40)));
    }

    #[test]
    fn text_values_escape_what_rfc_5545_reserves() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn an_all_day_span_ends_the_day_after_its_last_day() {
        let e = Event {
            key: "certification".into(),
            start: d("2025-03-01"),
            end: d("2025-10-31"),
            summary: "审核".into(),
            description: "依据".into(),
        };
        let f = ics("t", "411200-2025", &[e], d("2025-06-01"));
        assert!(f.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(f.contains("DTSTART;VALUE=DATE:20250301\r\n"));
        assert!(f.contains("DTEND;VALUE=DATE:20251101\r\n"));
        assert!(f.contains("UID:certification-411200-2025@quota-levy\r\n"));
        assert!(f.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn reminders_fall_the_configured_days_before_their_deadline() {
        let due = Event {
            key: "payment-due".into(),
            start: d("2025-12-31"),
            end: d("2025-12-31"),
            summary: "缴纳截止".into(),
            description: String::new(),
        };
        let schedule = Schedule {
            declare_days_before: vec![30],
            declare_overdue_days_after: vec![],
            pay_days_before: vec![30, 7],
            overdue_days_after: vec![],
        };
        let r = reminder_events(&[due], &schedule);
        let days: Vec<NaiveDate> = r.iter().map(|e| e.start).collect();
        assert_eq!(days, vec![d("2025-12-01"), d("2025-12-24")]);
    }
}
