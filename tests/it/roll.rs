//! The levy roll: officers only; figures equal the statement's; CSV for Chinese Excel.

use crate::payments::assessed_10000;
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn levy_roll_json_and_csv_with_totals() {
    let (app, emp, tax) = assessed_10000().await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025",
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(r.status(), 403, "an employer may not read the roll");

    let v: Value = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&region=411200&as_of=2026-01-30",
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1, "{v}");
    let row = &v["items"][0];
    assert_eq!(row["uscc"], "91350100M000100Y43");
    assert_eq!(row["staff"], "100.0000");
    assert_eq!(row["required"], "1.6000");
    assert_eq!(row["counted"], "1.0000");
    assert_eq!(row["payable"], "10000.00");
    assert_eq!(
        row["surcharge"], "1500.00",
        "the statement's figure for the same day"
    );
    assert_eq!(row["outstanding"], "11500.00");
    assert_eq!(v["totals"]["outstanding"], "11500.00");

    // Another region: empty.
    let v: Value = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&region=410100",
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 0);

    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&format=csv&as_of=2026-01-30",
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("统一社会信用代码"));
    assert!(lines[1].starts_with("91350100M000100Y43,示例公司,企业,411202,100.0000,1.6000,1.0000,10000.00,0.00,1500.00,11500.00"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("合计 (total),1,") && lines[2].contains("11500.00"),
        "{}",
        lines[2]
    );
}
