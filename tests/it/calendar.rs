//! The deadline calendar: a region's feed holds the packs' dates for the year as the
//! home page shows them; an employer's adds its reminder days and is behind its walls.

use crate::helpers::fixtures::{app_with_employer, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;

/// The DTSTART of the event whose UID starts with `key`.
fn start_of(feed: &str, key: &str) -> Option<String> {
    let unfolded = feed.replace("\r\n ", "");
    let mut in_event = false;
    for line in unfolded.split("\r\n") {
        if line.starts_with(&format!("UID:{key}-")) {
            in_event = true;
        } else if in_event {
            if let Some(d) = line.strip_prefix("DTSTART;VALUE=DATE:") {
                return Some(d.to_owned());
            }
        }
    }
    None
}

#[tokio::test]
async fn a_regions_feed_has_the_years_deadlines_and_an_employers_its_reminders() {
    let (app, _) = app_with_employer().await;
    let r = reqwest::get(app.url("/calendar/411200.ics?levy_year=2025"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let feed = r.text().await.unwrap();
    assert!(feed.starts_with("BEGIN:VCALENDAR\r\n"));
    // Henan 2025: payment due 12-31 (the Henan notices), certification 03-01 to 10-31
    // (docs/henan.md).
    assert_eq!(start_of(&feed, "payment-due").as_deref(), Some("20251231"));
    assert_eq!(
        start_of(&feed, "certification").as_deref(),
        Some("20250301")
    );
    assert!(feed.contains("DTEND;VALUE=DATE:20251101"), "{feed}");
    assert!(start_of(&feed, "filing-deadline").is_some());
    assert!(
        !feed.contains("reminder"),
        "no reminders in the public feed"
    );
    for line in feed.split("\r\n") {
        assert!(line.len() <= 75, "folded: {line}");
    }

    let home = reqwest::get(app.url("/?region=411200"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("href=\"/calendar/411200.ics?levy_year="),
        "the home page offers the feed"
    );

    let r = reqwest::get(app.url("/calendar/41120x.ics")).await.unwrap();
    assert_eq!(r.status(), 422);

    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let path = format!("/api/v1/employers/{USCC_A}/calendar/2025");
    let r = app.send(Method::GET, &path, Some(&emp), None).await;
    assert_eq!(r.status(), 200);
    let own = r.text().await.unwrap();
    assert!(own.contains("示例公司"));
    // `[mail] pay_days_before = [30, 7]`: 2025-12-01 and 2025-12-24.
    assert_eq!(
        start_of(&own, "payment-due-reminder-30d").as_deref(),
        Some("20251201")
    );
    assert_eq!(
        start_of(&own, "payment-due-reminder-7d").as_deref(),
        Some("20251224")
    );
    let other = app
        .token(Role::Employer, Some("91411202MA0000009L"), None)
        .await;
    assert_eq!(
        app.send(Method::GET, &path, Some(&other), None)
            .await
            .status(),
        404
    );
    assert_eq!(app.send(Method::GET, &path, None, None).await.status(), 401);
}
