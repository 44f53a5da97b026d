//! The levy roll: officers only; figures equal the statement's; CSV for Chinese Excel;
//! XLSX over HTTP and from the CLI, with the JSON roll's figures as numbers.

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::assessed_10000;
use calamine::{Data, Range, Reader, Xlsx};
use quota_levy::registry::roll::CSV_HEADER;
use reqwest::Method;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const SHEET: &str = "征收名册";

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
    assert_eq!(row["status"], "below_quota");
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
        lines[1].ends_with(",2025-12-31,未达到规定比例 (below_quota)"),
        "the status in the notice's words: {}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("合计 (total),1,") && lines[2].contains("11500.00"),
        "{}",
        lines[2]
    );
}

/// The roll's sheet of a workbook, checked to be its only sheet.
fn roll_sheet(bytes: Vec<u8>) -> (Xlsx<Cursor<Vec<u8>>>, Range<Data>) {
    let mut book = Xlsx::new(Cursor::new(bytes)).expect("a readable workbook");
    assert_eq!(book.sheet_names(), vec![SHEET.to_owned()]);
    let range = book.worksheet_range(SHEET).expect("the roll's sheet");
    (book, range)
}

fn cell(range: &Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

/// A number cell (never text: Excel must be able to sum it).
fn float(range: &Range<Data>, row: u32, col: u32) -> f64 {
    match cell(range, row, col) {
        Data::Float(f) => f,
        other => panic!("({row}, {col}) should be a number, is {other:?}"),
    }
}

fn text(range: &Range<Data>, row: u32, col: u32) -> String {
    match cell(range, row, col) {
        Data::String(s) => s,
        other => panic!("({row}, {col}) should be text, is {other:?}"),
    }
}

/// An API figure ("10000.00") as the double Excel holds.
fn figure(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{v} is not a decimal string"))
}

/// The checks shared by the HTTP and CLI workbooks: one employer, assessed 10,000.00,
/// 30 days late on 2026-01-30, against the JSON roll of the same day.
fn assert_roll_workbook(bytes: Vec<u8>, json: &Value) {
    let (mut book, range) = roll_sheet(bytes);
    assert_eq!(range.start(), Some((0, 0)));
    assert_eq!(range.height(), 3, "header, one employer, totals");
    for (col, header) in (0..).zip(CSV_HEADER) {
        assert_eq!(text(&range, 0, col), header);
    }
    let row = &json["items"][0];
    assert_eq!(text(&range, 1, 0), "91350100M000100Y43", "USCC as text");
    assert_eq!(text(&range, 1, 1), "示例公司");
    assert_eq!(text(&range, 1, 2), "企业", "kind in Chinese as in the CSV");
    assert_eq!(text(&range, 1, 3), "411202", "region as text");
    for (col, key) in (4..).zip(["staff", "required", "counted"]) {
        assert_eq!(float(&range, 1, col), figure(&row[key]), "{key}");
    }
    for (col, key) in (7..).zip(["payable", "paid", "surcharge", "outstanding"]) {
        assert_eq!(float(&range, 1, col), figure(&row[key]), "{key}");
    }
    assert_eq!(float(&range, 1, 7), 10000.0);
    assert_eq!(float(&range, 1, 10), 11500.0);
    assert_eq!(text(&range, 1, 12), "未达到规定比例 (below_quota)");
    // The due date is a date cell: 2025-12-31 is day 46022 of Excel's calendar.
    match cell(&range, 1, 11) {
        Data::DateTime(d) => {
            assert!(d.is_datetime(), "{d:?}");
            let due =
                chrono::NaiveDate::parse_from_str(row["due_date"].as_str().unwrap(), "%Y-%m-%d")
                    .unwrap();
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
            assert_eq!(d.as_f64(), (due - epoch).num_days() as f64);
            assert_eq!(d.as_f64(), 46022.0);
        }
        other => panic!("due date should be a date, is {other:?}"),
    }

    let totals = &json["totals"];
    assert_eq!(text(&range, 2, 0), "合计 (total)");
    assert_eq!(float(&range, 2, 1), totals["employers"].as_f64().unwrap());
    for (col, key) in (7..).zip(["payable", "paid", "surcharge", "outstanding"]) {
        assert_eq!(float(&range, 2, col), figure(&totals[key]), "total {key}");
    }

    let styles = book.worksheet_style(SHEET).expect("styles");
    let bold = |r: u32, c: u32| {
        styles
            .get((r, c))
            .and_then(|s| s.font.as_ref())
            .is_some_and(|f| f.is_bold())
    };
    let number_format = |r: u32, c: u32| {
        styles
            .get((r, c))
            .and_then(|s| s.number_format.as_ref())
            .map(|n| n.format_code.clone())
            .unwrap_or_default()
    };
    assert!((0..13).all(|c| bold(0, c)), "the header row is bold");
    assert!(!bold(1, 0));
    assert_eq!(number_format(1, 4), "0.0000");
    assert_eq!(number_format(1, 7), "#,##0.00");
    assert_eq!(number_format(1, 11), "yyyy-mm-dd");
    assert_eq!(number_format(2, 10), "#,##0.00");
}

#[tokio::test]
async fn levy_roll_xlsx_has_the_json_roll_as_numbers() {
    let (app, emp, tax) = assessed_10000().await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&format=xlsx",
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(r.status(), 403, "an employer may not read the roll");

    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&format=xls",
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/query/format", "{p}");
    assert!(
        p["errors"][0]["detail"].as_str().unwrap().contains("xlsx"),
        "{p}"
    );

    let json: Value = app
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
    assert_eq!(json["total"], 1, "{json}");

    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&region=411200&as_of=2026-01-30&format=xlsx",
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], XLSX);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"levy-roll-2025.xlsx\""
    );
    let length: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len(), length);
    assert_roll_workbook(bytes, &json);

    // Another region: header and a zero totals row.
    let r = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&region=410100&format=xlsx",
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, range) = roll_sheet(r.bytes().await.unwrap().to_vec());
    assert_eq!(range.height(), 2);
    assert_eq!(text(&range, 1, 0), "合计 (total)");
    assert_eq!(float(&range, 1, 1), 0.0);
    assert_eq!(float(&range, 1, 7), 0.0);
}

fn bin(db_url: &str, dir: &Path) -> Command {
    let mut c = crate::helpers::bin(Some(db_url));
    c.current_dir(dir);
    c
}

fn export(db_url: &str, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "levy-roll",
        "export",
        "--levy-year",
        "2025",
        "--as-of",
        "2026-01-30",
    ];
    args.extend_from_slice(extra);
    bin(db_url, dir)
        .args(args)
        .output()
        .expect("run quota-levy")
}

#[tokio::test]
async fn levy_roll_export_xlsx_from_the_cli() {
    let (app, _, tax) = assessed_10000().await;
    let json: Value = app
        .send(
            Method::GET,
            "/api/v1/levy-roll?levy_year=2025&as_of=2026-01-30",
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let out = export(
        &app.db_url,
        dir.path(),
        &["--format", "xlsx", "--output", "roll.bin"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "the workbook goes to the file only");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 employers"));
    assert_roll_workbook(std::fs::read(dir.path().join("roll.bin")).unwrap(), &json);

    // A .xlsx output name is enough to choose the format.
    let out = export(&app.db_url, dir.path(), &["-o", "roll.xlsx"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_roll_workbook(std::fs::read(dir.path().join("roll.xlsx")).unwrap(), &json);

    // …but an explicit --format wins, and CSV stays the default.
    let out = export(
        &app.db_url,
        dir.path(),
        &["--format", "csv", "-o", "roll-csv.xlsx"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read(dir.path().join("roll-csv.xlsx")).unwrap();
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    let out = export(&app.db_url, dir.path(), &[]);
    assert!(out.status.success());
    assert_eq!(&out.stdout[..3], b"\xEF\xBB\xBF", "CSV on standard output");

    // A binary workbook is never written to a terminal.
    let out = export(&app.db_url, dir.path(), &["--format", "xlsx"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--output"), "{err}");

    let out = export(&app.db_url, dir.path(), &["--format", "xls", "-o", "r.xls"]);
    assert!(!out.status.success());
    assert!(!dir.path().join("r.xls").exists());
}
