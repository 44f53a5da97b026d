//! Bulk import: the CLI against a fresh database, and the HTTP upload.
//! The samples are in tests/data (CSV made by tests/data/generate_csv_samples.py, XLSX by
//! `write_employers_xlsx` below).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use quota_levy::auth::Role;
use quota_levy::db::schema::{audit_log, declarations, employers};
use quota_levy::db::{DatabaseUrl, Db};
use serde_json::Value;

use crate::helpers::{bin, spawn_app, test_settings, TestDb};

/// USCCs of tests/data/employers.csv, in file order.
const SAMPLE_USCCS: [&str; 6] = [
    "91411202MA40000015",
    "91411203MA4000002N",
    "12411200MB4000003M",
    "11411221MB40000049",
    "51411281MJ4000005K",
    "52411282MJ40000062",
];

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run(db_url: &str, args: &[&str]) -> Output {
    bin(Some(db_url))
        .args(args)
        .output()
        .expect("run quota-levy")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn db(url: &str) -> Db {
    Db::new(
        DatabaseUrl::parse(url).expect("url"),
        &test_settings(url, &[]).database,
    )
    .expect("db")
}

fn count_employers(url: &str) -> i64 {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    employers::table.count().get_result(&mut *c).expect("count")
}

fn count_declarations(url: &str) -> i64 {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    declarations::table
        .count()
        .get_result(&mut *c)
        .expect("count")
}

fn employer_name(url: &str, uscc: &str) -> Option<String> {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    quota_levy::db::employers::by_uscc(&mut c, uscc)
        .expect("query")
        .map(|e| e.name)
}

/// (row, field) of every fault in a JSON report.
fn faults(report: &Value) -> Vec<(u64, String)> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|i| {
            (
                i["row"].as_u64().unwrap_or(0),
                i["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report file")).expect("report json")
}

/// An employers workbook as an officer's Excel would have it: Chinese headers, the
/// region and establishment size as number cells, dates as date cells, a boolean cell.
pub fn write_employers_xlsx() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy/m/d");
    let ws = wb.add_worksheet();
    let headers = [
        "统一社会信用代码",
        "单位名称",
        "单位类型",
        "行政区划代码",
        "成立日期",
        "联系邮箱",
        "编制人数",
        "残工委成员单位",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    /// One employer row: (uscc, name, kind), region, (y, m, d), email, size, member.
    type Row<'a> = (
        (&'a str, &'a str, &'a str),
        f64,
        (u16, u8, u8),
        &'a str,
        Option<f64>,
        bool,
    );
    let rows: [Row; 3] = [
        (
            ("91411221MA4000031Q", "渑池县示例建材有限公司", "企业"),
            411221.0,
            (2014, 8, 18),
            "hr@mc-jc.example.cn",
            None,
            false,
        ),
        (
            ("12411281MB40000320", "义马市示例中学", "事业单位"),
            411281.0,
            (1978, 9, 1),
            "",
            Some(96.0),
            true,
        ),
        (
            ("51411200MJ40000336", "三门峡市示例商会", "社会团体"),
            411200.0,
            (2021, 12, 31),
            "",
            None,
            false,
        ),
    ];
    for (i, ((uscc, name, kind), region, (y, m, d), email, size, member)) in rows.iter().enumerate()
    {
        let r = i as u32 + 1;
        ws.write_string(r, 0, *uscc).expect("cell");
        ws.write_string(r, 1, *name).expect("cell");
        ws.write_string(r, 2, *kind).expect("cell");
        ws.write_number(r, 3, *region).expect("cell");
        let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
        ws.write_datetime_with_format(r, 4, &dt, &date)
            .expect("cell");
        if !email.is_empty() {
            ws.write_string(r, 5, *email).expect("cell");
        }
        if let Some(n) = size {
            ws.write_number(r, 6, *n).expect("cell");
        }
        ws.write_boolean(r, 7, *member).expect("cell");
    }
    wb.save_to_buffer().expect("xlsx")
}

/// The committed sample is what `write_employers_xlsx` writes; regenerate it with
/// `cargo test --test it imports::regenerate_xlsx_sample -- --ignored`.
#[test]
#[ignore]
fn regenerate_xlsx_sample() {
    std::fs::write(data("employers.xlsx"), write_employers_xlsx()).expect("write sample");
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

#[test]
fn cli_imports_the_utf8_bom_gbk_and_xlsx_samples() {
    let (_db, url) = TestDb::create();
    let out = run(
        &url,
        &[
            "import",
            "employers",
            data("employers.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(
        code(&out),
        0,
        "{}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("已登记 6 家用人单位"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count_employers(&url), 6);
    assert_eq!(
        employer_name(&url, SAMPLE_USCCS[2]).as_deref(),
        Some("三门峡市示例职业技术学校")
    );

    let out = run(
        &url,
        &[
            "import",
            "employers",
            "--lang",
            "en",
            data("employers-gbk.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("3 employer(s) registered"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        employer_name(&url, "12411202MB4000013K").as_deref(),
        Some("湖滨区示例医院")
    );

    let out = run(
        &url,
        &[
            "import",
            "employers",
            data("employers.xlsx").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(count_employers(&url), 12);
    let db = db(&url);
    let mut c = db.conn().unwrap();
    let school = quota_levy::db::employers::by_uscc(&mut c, "12411281MB40000320")
        .unwrap()
        .expect("imported");
    assert_eq!(school.region, "411281");
    assert_eq!(
        school.registered_on,
        chrono::NaiveDate::from_ymd_opt(1978, 9, 1)
    );
    assert_eq!(school.establishment_size, Some(96));
    assert!(school.committee_member);
    assert_eq!(school.kind, "public_institution");

    // Every write is audited under the import's ID.
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("employer.create"))
        .filter(audit_log::request_id.like("import-%"))
        .count()
        .get_result(&mut *c)
        .unwrap();
    assert_eq!(audited, 12);
}

#[test]
fn cli_the_committed_xlsx_sample_is_what_the_generator_writes() {
    // Not byte-equal (the workbook has a creation time), but the same cells.
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.xlsx");
    std::fs::write(&fresh, write_employers_xlsx()).unwrap();
    let read = |p: &Path| {
        let (_db, url) = TestDb::create();
        let report = dir.path().join(format!("{}.json", uuid::Uuid::new_v4()));
        let out = run(
            &url,
            &[
                "import",
                "employers",
                p.to_str().unwrap(),
                "--report-json",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(code(&out), 0, "{}", stdout(&out));
        let db = db(&url);
        let mut c = db.conn().unwrap();
        let (list, _) =
            quota_levy::db::employers::list(&mut c, &Default::default(), 0, 100).unwrap();
        list.into_iter()
            .map(|e| {
                (
                    e.uscc,
                    e.name,
                    e.kind,
                    e.region,
                    e.registered_on,
                    e.establishment_size,
                    e.committee_member,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(read(&data("employers.xlsx")), read(&fresh));
}

#[test]
fn cli_bad_rows_write_nothing_without_partial_and_the_good_ones_with_it() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let file = data("employers-bad.csv");
    let out = run(
        &url,
        &[
            "import",
            "employers",
            file.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
            "--lang",
            "en",
        ],
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 2, "{text}");
    assert_eq!(
        count_employers(&url),
        0,
        "nothing may be written without --partial"
    );
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("--partial to import the 3 valid"), "{text}");
    let json = read_json(&report);
    assert_eq!(json["committed"], false);
    assert_eq!(json["counts"]["rows"], 7);
    assert_eq!(json["counts"]["invalid_rows"], 4);
    assert_eq!(json["counts"]["imported"], 0);
    assert_eq!(
        faults(&json),
        [
            (3, "uscc".into()),
            (4, "region".into()),
            (6, "uscc".into()),
            (7, "kind".into())
        ]
    );
    // The table names each bad row and column.
    for needle in ["3  uscc", "4  region", "6  uscc", "7  kind"] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }

    let out = run(
        &url,
        &[
            "import",
            "employers",
            "--partial",
            file.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert_eq!(count_employers(&url), 3);
    let json = read_json(&report);
    assert_eq!(json["committed"], true);
    assert_eq!(json["counts"]["imported"], 3);
    assert_eq!(faults(&json).len(), 4);
    assert_eq!(
        employer_name(&url, "91411202MA40000217").as_deref(),
        Some("示例一有限公司")
    );

    // Importing the same file again: every good row is now already registered.
    let out = run(
        &url,
        &[
            "import",
            "employers",
            "--partial",
            file.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2);
    let json = read_json(&report);
    assert_eq!(json["counts"]["imported"], 0);
    assert_eq!(json["counts"]["invalid_rows"], 7);
    assert_eq!(count_employers(&url), 3);
}

#[test]
fn cli_declarations_with_roster_rows_and_bad_rows() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = run(
        &url,
        &[
            "import",
            "employers",
            data("employers.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));

    // The bad file first: nothing written, every fault on its row and column.
    let bad = data("declarations-bad.csv");
    let args = |partial: bool| {
        let mut a = vec![
            "import",
            "declarations",
            "--levy-year",
            "2025",
            bad.to_str().unwrap(),
        ];
        a.extend(["--report-json", report.to_str().unwrap(), "--lang", "en"]);
        if partial {
            a.push("--partial");
        }
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let out = bin(Some(&url)).args(args(false)).output().unwrap();
    let text = stdout(&out);
    assert_eq!(code(&out), 2, "{text}");
    assert_eq!(count_declarations(&url), 0);
    let json = read_json(&report);
    let f = faults(&json);
    assert!(f.contains(&(2, "m11".into())), "11 months filled: {f:?}");
    assert!(f.contains(&(4, "months".into())), "month 13: {f:?}");
    assert!(
        f.contains(&(7, "certificate_no".into())),
        "duplicated certificate: {f:?}"
    );
    assert!(f.contains(&(9, "uscc".into())), "unknown employer: {f:?}");
    assert!(
        f.contains(&(11, "certificate_no".into())),
        "bad check digit: {f:?}"
    );
    assert!(!f.iter().any(|(r, _)| *r == 8), "row 8 is valid: {f:?}");
    let dup = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["row"] == 7)
        .unwrap();
    assert_eq!(dup["code"], "duplicate_certificate");
    assert!(dup["message"].as_str().unwrap().contains("row 6"), "{dup}");
    assert_eq!(json["counts"]["declarations"], 6);
    assert_eq!(json["counts"]["invalid_declarations"], 5);
    // No certificate number anywhere in what is printed or reported.
    for no in [
        "41120219800101001413",
        "41120219900320003542",
        "41120219751111004073",
    ] {
        assert!(
            !text.contains(no) && !json.to_string().contains(no),
            "certificate number leaked"
        );
    }

    let out = bin(Some(&url)).args(args(true)).output().unwrap();
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert_eq!(
        count_declarations(&url),
        1,
        "only the valid employer's declaration"
    );
    assert_eq!(read_json(&report)["counts"]["created"], 1);

    // The good file: four declarations (one already there is amended as a draft).
    let good = data("declarations.csv");
    let out = run(
        &url,
        &[
            "import",
            "declarations",
            "--levy-year",
            "2025",
            good.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let json = read_json(&report);
    assert_eq!(json["counts"]["declarations"], 4);
    assert_eq!(json["counts"]["created"], 3);
    assert_eq!(json["counts"]["updated"], 0, "{json}");
    assert_eq!(
        json["counts"]["unchanged"], 1,
        "the same declaration as the partial import wrote"
    );
    assert_eq!(count_declarations(&url), 4);

    // Again: nothing changes.
    let out = run(
        &url,
        &[
            "import",
            "declarations",
            "--levy-year",
            "2025",
            good.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(read_json(&report)["counts"]["unchanged"], 4);
}

#[test]
fn cli_encoding_and_header_faults_are_reported_not_guessed() {
    let (_db, url) = TestDb::create();
    let out = run(
        &url,
        &[
            "import",
            "employers",
            "--encoding",
            "utf-8",
            "--lang",
            "en",
            data("employers-gbk.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stdout(&out).contains("not valid UTF-8 (line 1)"),
        "{}",
        stdout(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("odd.csv");
    std::fs::write(&f, "uscc,name,kind,region,colour\n").unwrap();
    let out = run(
        &url,
        &["import", "employers", "--lang", "en", f.to_str().unwrap()],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stdout(&out).contains("the header of column E is not a known column"),
        "{}",
        stdout(&out)
    );

    // Not a file at all: exit 1, not 2.
    let out = run(
        &url,
        &[
            "import",
            "employers",
            dir.path().join("missing.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 1);
    for sub in [
        &["import", "employers", "--help"][..],
        &["import", "declarations", "--help"],
    ] {
        let out = run(&url, sub);
        assert!(
            out.status.success() && stdout(&out).contains("--partial"),
            "{}",
            stdout(&out)
        );
    }
    let out = run(
        &url,
        &["import", "declarations", "--levy-year", "1999", "x.csv"],
    );
    assert!(!out.status.success());
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

fn file(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).expect("sample")
}

#[tokio::test]
async fn upload_needs_admin_or_tax() {
    let app = spawn_app().await;
    let csv = file("employers.csv");
    let r = app
        .upload("/api/v1/imports/employers", None, "text/csv", csv.clone())
        .await;
    assert_eq!(r.status(), 401);
    for role in [Role::Inspector, Role::Federation] {
        let t = app.token(role, None, None).await;
        let r = app
            .upload(
                "/api/v1/imports/employers",
                Some(&t),
                "text/csv",
                csv.clone(),
            )
            .await;
        assert_eq!(r.status(), 403, "{role:?}");
    }
    let t = app.token(Role::Employer, Some(SAMPLE_USCCS[0]), None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&t),
            "text/csv",
            csv.clone(),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(count_employers(&app.db_url), 0);

    let t = app.token(Role::Admin, None, None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&t),
            "multipart/form-data; boundary=x",
            csv,
        )
        .await;
    assert_eq!(r.status(), 415);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn upload_csv_and_xlsx_then_bad_rows_answer_422_with_the_report() {
    let app = spawn_app().await;
    let tax = app.token(Role::Tax, None, None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            "text/csv",
            file("employers.csv"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["counts"]["imported"], 6, "{body}");
    assert_eq!(body["committed"], true);
    assert_eq!(body["encoding"], "UTF-8");

    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            "text/csv; charset=gbk",
            file("employers-gbk.csv"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            XLSX,
            write_employers_xlsx(),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(count_employers(&app.db_url), 12);

    let bad = file("employers-bad.csv");
    let r = app
        .upload(
            "/api/v1/imports/employers?partial=false",
            Some(&tax),
            "text/csv",
            bad.clone(),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/validation");
    assert_eq!(p["committed"], false);
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/rows/3/uscc",
            "/rows/4/region",
            "/rows/6/uscc",
            "/rows/7/kind"
        ]
    );
    assert_eq!(p["counts"]["invalid_rows"], 4);
    assert_eq!(count_employers(&app.db_url), 12);

    let r = app
        .upload(
            "/api/v1/imports/employers?partial=true",
            Some(&tax),
            "application/octet-stream",
            bad,
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["committed"], true);
    assert_eq!(p["counts"]["imported"], 3);
    assert_eq!(count_employers(&app.db_url), 15);
}

#[tokio::test]
async fn region_scoped_officer_imports_only_its_region() {
    let app = spawn_app().await;
    let hubin = app.token(Role::Tax, None, Some("411202")).await;
    let csv = file("employers.csv");
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&hubin),
            "text/csv",
            csv.clone(),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let rows: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "/rows/3/region",
            "/rows/4/region",
            "/rows/5/region",
            "/rows/6/region",
            "/rows/7/region"
        ]
    );
    assert_eq!(count_employers(&app.db_url), 0);
    let r = app
        .upload(
            "/api/v1/imports/employers?partial=true",
            Some(&hubin),
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(count_employers(&app.db_url), 1);
    assert!(employer_name(&app.db_url, SAMPLE_USCCS[0]).is_some());

    // Declarations: the city-wide officer may import; the county officer only its own.
    let admin = app.token(Role::Admin, None, None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&admin),
            "text/csv",
            file("employers-gbk.csv"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let decl = "统一社会信用代码,在职职工年平均人数,工资总额\n91411202MA40000015,50,2500000\n12411202MB4000013K,300,30000000\n91411200MA4000012C,40,1600000\n";
    let r = app
        .upload(
            "/api/v1/imports/declarations?levy_year=2025&lang=en",
            Some(&hubin),
            "text/csv",
            decl.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/rows/4/uscc", "{p}");
    assert!(p["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("outside your scope"));
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(count_declarations(&app.db_url), 0);
}

#[tokio::test]
async fn upload_declarations() {
    let app = spawn_app().await;
    let tax = app.token(Role::Tax, None, None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            "text/csv",
            file("employers.csv"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .upload(
            "/api/v1/imports/declarations",
            Some(&tax),
            "text/csv",
            file("declarations.csv"),
        )
        .await;
    assert_eq!(r.status(), 422, "levy_year is required");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["pointer"], "/query/levy_year");

    let r = app
        .upload(
            "/api/v1/imports/declarations?levy_year=2025",
            Some(&tax),
            "text/csv",
            file("declarations-bad.csv"),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["committed"], false);
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for want in [
        "/rows/2/m11",
        "/rows/4/months",
        "/rows/7/certificate_no",
        "/rows/9/uscc",
        "/rows/11/certificate_no",
    ] {
        assert!(pointers.contains(&want), "{want} missing from {pointers:?}");
    }
    assert_eq!(count_declarations(&app.db_url), 0);

    let r = app
        .upload(
            "/api/v1/imports/declarations?levy_year=2025",
            Some(&tax),
            "text/csv",
            file("declarations.csv"),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["counts"]["created"], 4);
    assert_eq!(body["levy_year"], 2025);
    assert_eq!(count_declarations(&app.db_url), 4);

    // The stored declaration is the one the rows describe, readable through the API.
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{}/declarations/2025", SAMPLE_USCCS[0]),
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    let text = d.to_string();
    assert!(text.contains("6543210.00"), "{text}");
    assert!(text.contains("\"monthly_headcount\""), "{text}");
    assert_eq!(
        d["status"], "draft",
        "an import without submit saves drafts"
    );

    // The same file with submit=true files what it imports: nothing changes but the
    // status, each submission audited, and the assessment run takes them.
    let r = app
        .upload(
            "/api/v1/imports/declarations?levy_year=2025&submit=true",
            Some(&tax),
            "text/csv",
            file("declarations.csv"),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["counts"]["unchanged"], 4, "{body}");
    assert_eq!(body["counts"]["submitted"], 4, "{body}");
    let d: Value = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{}/declarations/2025", SAMPLE_USCCS[0]),
            Some(&tax),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "submitted", "{d}");
    // Again: filed already, nothing more to submit.
    let r = app
        .upload(
            "/api/v1/imports/declarations?levy_year=2025&submit=true",
            Some(&tax),
            "text/csv",
            file("declarations.csv"),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["counts"]["submitted"], 0, "{body}");
}

// ---------------------------------------------------------------------------------------
// Imports larger than one write batch (quota_levy::import::BATCH_ROWS)
// ---------------------------------------------------------------------------------------

/// Rows of the large imports: two full batches and half of a third.
const MANY: usize = 2_500;

/// The USCC of the `i`-th row of [`many_employers_csv`]: every fifth a public
/// institution's.
fn many_row_uscc(i: usize) -> String {
    let first17 = if i % 5 == 0 {
        format!("12411202MB{i:07}")
    } else {
        format!("91411202MA{i:07}")
    };
    crate::helpers::uscc_with_check(&first17)
}

/// An employers file of `MANY` rows (every fifth a public institution with an
/// establishment size, every third without an e-mail address); when `bad_last`, the
/// last row's region is not a region.
fn many_employers_csv(bad_last: bool) -> String {
    employers_csv(MANY, bad_last)
}

/// [`many_employers_csv`] of `n` rows.
fn employers_csv(n: usize, bad_last: bool) -> String {
    let mut s = String::from(
        "uscc,name,kind,region,registered_on,contact_email,establishment_size,committee_member\n",
    );
    for i in 0..n {
        let public = i % 5 == 0;
        let uscc = many_row_uscc(i);
        let region = if bad_last && i == n - 1 {
            "999999"
        } else {
            "411202"
        };
        let (kind, size, member) = if public {
            ("事业单位", "50", "是")
        } else {
            ("企业", "", "否")
        };
        let mail = if i % 3 == 0 {
            String::new()
        } else {
            format!("hr{i}@example.cn")
        };
        s.push_str(&format!(
            "{uscc},批量示例{i}单位,{kind},{region},2015-03-0{},{mail},{size},{member}\n",
            1 + i % 9
        ));
    }
    s
}

/// A disability certificate (resident ID with its check character, category 4, grade 3)
/// of person `i`.
fn many_certificate(i: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let birth =
        chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(i as i64);
    let first17 = format!("411202{}{:03}", birth.format("%Y%m%d"), i % 1000);
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = "10X98765432".as_bytes()[(sum % 11) as usize] as char;
    format!("{first17}{check}43")
}

/// A declarations file for the `MANY` employers: `wage_step` changes every body, and
/// employer `i` declares one disabled employee when `i % 3 == roster_mod`. When
/// `bad_last`, the last row's certificate has a wrong check character.
fn many_declarations_csv(wage_step: usize, roster_mod: usize, bad_last: bool) -> (String, i64) {
    let mut s =
        String::from("uscc,average_headcount,total_wages,certificate_no,months,monthly_wage\n");
    let mut lines = 0;
    for i in 0..MANY {
        let staff = 20 + i % 300;
        let wages = staff * 60_000 + wage_step;
        let (cert, months, wage) = if i % 3 == roster_mod || (bad_last && i == MANY - 1) {
            lines += 1;
            let mut c = many_certificate(i);
            if bad_last && i == MANY - 1 {
                let check = if c.as_bytes()[17] == b'0' { '1' } else { '0' };
                c.replace_range(17..18, &check.to_string());
            }
            (c, "1-12", "3200.00")
        } else {
            (String::new(), "", "")
        };
        s.push_str(&format!(
            "{},{staff},{wages}.00,{cert},{months},{wage}\n",
            many_row_uscc(i)
        ));
    }
    (s, lines)
}

/// Audit entries of one import (its ID is their request ID), in the order written:
/// action, entity, before, after.
fn audit_of(url: &str, import_id: &str) -> Vec<(String, String, Option<String>, Option<String>)> {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    audit_log::table
        .filter(audit_log::request_id.eq(import_id))
        .order(audit_log::id.asc())
        .select((
            audit_log::action,
            audit_log::entity_id,
            audit_log::before_json,
            audit_log::after_json,
        ))
        .load(&mut *c)
        .expect("audit")
}

fn count_audit(url: &str) -> i64 {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    audit_log::table.count().get_result(&mut *c).expect("count")
}

fn count_table(url: &str, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = db(url);
    let mut c = db.conn().expect("conn");
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(&mut *c)
        .expect("count")
        .n
}

#[test]
fn cli_an_import_larger_than_a_batch_writes_every_row_with_one_audit_entry_each() {
    // A last batch after full ones.
    const { assert!(MANY > 2 * quota_levy::import::BATCH_ROWS) };
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let import = |name: &str, text: &str, args: &[&str]| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let mut a = vec!["import"];
        a.extend(args);
        a.extend([
            f.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
            "--lang",
            "en",
        ]);
        let out = run(&url, &a);
        (code(&out), read_json(&report), stdout(&out))
    };

    // One bad row in the last batch: nothing of the first two batches is written.
    let (status, json, text) = import("bad.csv", &many_employers_csv(true), &["employers"]);
    assert_eq!(status, 2, "{text}");
    assert_eq!(json["committed"], false);
    assert_eq!(faults(&json), [(MANY as u64 + 1, "region".to_owned())]);
    assert_eq!(count_employers(&url), 0);
    assert_eq!(count_audit(&url), 0);

    // The good file: every row, and one audit entry per employer with its stored state.
    let (status, json, text) = import("good.csv", &many_employers_csv(false), &["employers"]);
    assert_eq!(status, 0, "{text}");
    assert_eq!(json["counts"]["imported"], MANY);
    assert_eq!(count_employers(&url), MANY as i64);
    let audit = audit_of(&url, json["import_id"].as_str().unwrap());
    assert_eq!(audit.len(), MANY);
    assert!(audit
        .iter()
        .all(|(a, _, b, _)| a == "employer.create" && b.is_none()));
    let audited: Vec<&str> = audit.iter().map(|(_, e, _, _)| e.as_str()).collect();
    let expected: Vec<String> = (0..MANY).map(many_row_uscc).collect();
    assert_eq!(audited, expected, "one entry per row, in file order");
    {
        let db = db(&url);
        let mut c = db.conn().unwrap();
        for i in [0, 1, 999, 1000, 1001, 1999, 2000, MANY - 1] {
            let stored = quota_levy::db::employers::by_uscc(&mut c, &expected[i])
                .unwrap()
                .expect("imported");
            let after: Value = serde_json::from_str(audit[i].3.as_deref().unwrap()).unwrap();
            assert_eq!(
                after,
                quota_levy::registry::employers::audit_view(&stored),
                "row {i}"
            );
            assert_eq!(stored.contact_email.is_none(), i % 3 == 0);
            assert_eq!(stored.establishment_size.is_some(), i % 5 == 0);
        }
    }

    // Declarations, one bad certificate on the last row: nothing written.
    let (bad, _) = many_declarations_csv(0, 0, true);
    let decl = ["declarations", "--levy-year", "2025"];
    let (status, json, text) = import("decl-bad.csv", &bad, &decl);
    assert_eq!(status, 2, "{text}");
    assert_eq!(
        faults(&json),
        [(MANY as u64 + 1, "certificate_no".to_owned())]
    );
    assert_eq!(count_declarations(&url), 0);
    assert_eq!(count_table(&url, "roster_lines"), 0);
    assert_eq!(count_table(&url, "declaration_versions"), 0);
    assert_eq!(count_audit(&url), MANY as i64);

    // The good file: every declaration created, each with its version, roster and entry.
    let (good, lines) = many_declarations_csv(0, 0, false);
    let (status, json, text) = import("decl.csv", &good, &decl);
    assert_eq!(status, 0, "{text}");
    assert_eq!(json["counts"]["created"], MANY);
    assert_eq!(count_declarations(&url), MANY as i64);
    assert_eq!(count_table(&url, "declaration_versions"), MANY as i64);
    assert_eq!(count_table(&url, "roster_lines"), lines);
    let audit = audit_of(&url, json["import_id"].as_str().unwrap());
    assert_eq!(audit.len(), MANY);
    for (i, (action, entity, before, after)) in audit.iter().enumerate() {
        assert_eq!(action, "declaration.create");
        assert_eq!(entity, &format!("{}/2025", expected[i]));
        assert!(before.is_none());
        let after: Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
        assert_eq!(after["version"], 1);
        assert_eq!(after["status"], "draft");
        assert_eq!(after["roster_lines"], if i % 3 == 0 { 1 } else { 0 });
    }

    // Three declarations are filed; then every body changes and the rosters move: the
    // drafts are updated, the filed ones amended, every old version kept.
    let submitted = [0, 1_234, MANY - 1];
    {
        let db = db(&url);
        let mut c = db.conn().unwrap();
        for &i in &submitted {
            let e = quota_levy::db::employers::by_uscc(&mut c, &expected[i])
                .unwrap()
                .unwrap();
            quota_levy::registry::declarations::step(
                &mut c,
                &e,
                2025,
                quota_levy::registry::declarations::Step::Submit,
                &quota_levy::registry::declarations::SaveOptions {
                    actor: "test",
                    request_id: None,
                    if_match: None,
                    secret: &quota_levy::secret::ServerSecret::generate(),
                },
            )
            .unwrap();
        }
    }
    let (changed, lines) = many_declarations_csv(1, 1, false);
    let (status, json, text) = import("decl-changed.csv", &changed, &decl);
    assert_eq!(status, 0, "{text}");
    assert_eq!(json["counts"]["updated"], MANY, "{json}");
    assert_eq!(count_declarations(&url), MANY as i64);
    assert_eq!(
        count_table(&url, "declaration_versions"),
        2 * MANY as i64 + submitted.len() as i64,
        "draft → updated draft; draft → submitted → amended"
    );
    assert_eq!(count_table(&url, "roster_lines"), lines, "rosters replaced");
    let audit = audit_of(&url, json["import_id"].as_str().unwrap());
    assert_eq!(audit.len(), MANY);
    let db_ = db(&url);
    let mut c = db_.conn().unwrap();
    for (i, (action, entity, before, after)) in audit.iter().enumerate() {
        assert_eq!(entity, &format!("{}/2025", expected[i]));
        let before: Value = serde_json::from_str(before.as_deref().unwrap()).unwrap();
        let after: Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
        let filed = submitted.contains(&i);
        assert_eq!(
            action,
            if filed {
                "declaration.amend"
            } else {
                "declaration.update"
            }
        );
        assert_eq!(before["version"], if filed { 2 } else { 1 });
        assert_eq!(after["version"], if filed { 3 } else { 2 });
        assert_eq!(after["status"], if filed { "amended" } else { "draft" });
        assert_eq!(after["roster_lines"], if i % 3 == 1 { 1 } else { 0 });
        if i % 500 == 0 || filed {
            let e = quota_levy::db::employers::by_uscc(&mut c, &expected[i])
                .unwrap()
                .unwrap();
            let d = quota_levy::db::declarations::current(&mut c, e.id, 2025)
                .unwrap()
                .unwrap();
            // The entry names the version by its body's keyed digest, never the plain
            // one (a one-line roster's plain digest gives the certificate back).
            let secret = quota_levy::secret::load_or_create_row(&mut c).unwrap();
            assert_eq!(
                after["body_hmac"],
                quota_levy::registry::declarations::body_hmac(&secret, &d.body_digest)
            );
            assert!(after.get("body_digest").is_none());
            assert_eq!(after["version"], d.version);
            assert_eq!(after["status"], d.status.as_str());
            let roster = quota_levy::db::declarations::roster(&mut c, d.id).unwrap();
            assert_eq!(roster.len(), usize::from(i % 3 == 1), "employer {i}");
            let history = quota_levy::db::declarations::history(&mut c, d.id).unwrap();
            assert_eq!(history.len() as i32, d.version);
            assert_eq!(history.last().unwrap().body_digest, d.body_digest);
        }
    }
    drop(c);

    // The same file again changes nothing and audits nothing.
    let before = count_audit(&url);
    let (status, json, text) = import("decl-changed.csv", &changed, &decl);
    assert_eq!(status, 0, "{text}");
    assert_eq!(json["counts"]["unchanged"], MANY);
    assert_eq!(count_audit(&url), before);
}

/// A progress display that registers one employer, behind the import's back, the moment
/// the import starts writing: after every row was checked, before any was written.
struct RegisterWhenWriting {
    url: String,
    uscc: String,
}

impl quota_levy::import::Progress for RegisterWhenWriting {
    fn phase(&self, phase: quota_levy::import::Phase, _: u64) {
        if phase != quota_levy::import::Phase::Writing {
            return;
        }
        let db = db(&self.url);
        let mut c = db.conn().unwrap();
        let now = chrono::Utc::now().naive_utc();
        let new = quota_levy::db::employers::NewEmployer {
            uscc: self.uscc.clone(),
            name: "抢先登记单位".into(),
            kind: "enterprise".into(),
            region: "411202".into(),
            registered_on: None,
            contact_email: None,
            establishment_size: None,
            committee_member: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        quota_levy::registry::employers::create(&mut c, &new, &[], None, "test", None)
            .unwrap()
            .expect("registered first");
    }

    fn inc(&self, _: u64) {}
}

#[test]
fn a_row_registered_while_the_last_batch_is_written_undoes_the_import_unless_partial() {
    use quota_levy::import::{employers::import_employers, Input, Options, BATCH_ROWS};
    // Row 1,500 is in the middle batch, and a last batch follows.
    const { assert!(MANY > 2 * BATCH_ROWS && 1_500 >= BATCH_ROWS && 1_500 < 2 * BATCH_ROWS) };
    let (_db, url) = TestDb::create();
    let csv = many_employers_csv(false);
    let input = Input {
        bytes: csv.as_bytes(),
        format: None,
        encoding: Default::default(),
        file_name: Some("many.csv"),
        limits: quota_levy::import::Limits::from(&test_settings(&url, &[]).import),
    };
    let opts = |partial: bool| Options {
        partial,
        actor: "test:import".into(),
        import_id: quota_levy::import::new_import_id(),
        scope: None,
        lang: quota_levy::domain::Language::En,
        secret: quota_levy::secret::ServerSecret::generate(),
        submit: false,
        today: quota_levy::clock::china_today(),
        invitations: None,
    };
    let policy = crate::helpers::policy();
    let db = db(&url);
    db.migrate().unwrap();

    // The last row collides while the last batch is written: the whole import is undone
    // and the row is reported as already registered.
    let last = many_row_uscc(MANY - 1);
    let o = opts(false);
    let mut c = db.conn().unwrap();
    let report = import_employers(
        &mut c,
        &*policy,
        &input,
        &o,
        &RegisterWhenWriting {
            url: url.clone(),
            uscc: last.clone(),
        },
    )
    .unwrap();
    drop(c);
    assert!(!report.committed);
    assert_eq!(report.counts.imported, 0);
    assert_eq!(report.rows.len(), 1, "{:?}", report.rows);
    assert_eq!(
        (report.rows[0].row, report.rows[0].code.as_str()),
        (MANY + 1, "already_registered")
    );
    assert_eq!(
        count_employers(&url),
        1,
        "only the one registered meanwhile"
    );
    assert!(audit_of(&url, &o.import_id).is_empty());

    // With partial: a row of the middle batch collides while writing; every other row is
    // written and audited (the last one was found registered before writing).
    let o = opts(true);
    let middle = many_row_uscc(1_500);
    let mut c = db.conn().unwrap();
    let report = import_employers(
        &mut c,
        &*policy,
        &input,
        &o,
        &RegisterWhenWriting {
            url: url.clone(),
            uscc: middle.clone(),
        },
    )
    .unwrap();
    drop(c);
    assert!(report.committed);
    assert_eq!(report.counts.imported, MANY - 2);
    let mut faulted: Vec<(usize, &str)> = report
        .rows
        .iter()
        .map(|i| (i.row, i.code.as_str()))
        .collect();
    faulted.sort_unstable();
    assert_eq!(
        faulted,
        [
            (1_500 + 2, "already_registered"),
            (MANY + 1, "already_registered")
        ]
    );
    assert_eq!(count_employers(&url), MANY as i64);
    let audit = audit_of(&url, &o.import_id);
    assert_eq!(audit.len(), MANY - 2);
    assert!(!audit.iter().any(|(_, e, _, _)| *e == middle || *e == last));
}

// ---------------------------------------------------------------------------------------
// Files bounded by what they unpack to ([import] settings)
// ---------------------------------------------------------------------------------------

/// A CSV text as a workbook, every cell a text cell (shared strings, as Excel stores
/// text).
fn csv_to_xlsx(text: &str) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (r, rec) in rdr.records().enumerate() {
        for (c, cell) in rec.expect("csv").iter().enumerate() {
            if !cell.is_empty() {
                ws.write_string(r as u32, c as u16, cell).expect("cell");
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// The sum of the sizes a workbook's zip central directory declares for its parts.
fn declared_size(xlsx: &[u8]) -> u64 {
    let a = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("zip");
    (0..a.len())
        .map(|i| a.by_index_data(i).expect("entry").size())
        .sum()
}

/// A zip bomb in the small: `xlsx` with `pad` bytes of blanks (valid XML whitespace)
/// inside its sheet's data, which deflate packs a thousandfold.
fn padded_xlsx(xlsx: &[u8], pad: usize) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..src.len() {
        let mut f = src.by_index(i).expect("entry");
        let name = f.name().expect("part name").into_owned();
        let mut body = Vec::new();
        f.read_to_end(&mut body).expect("read part");
        if name == "xl/worksheets/sheet1.xml" {
            let text = String::from_utf8(body).expect("xml");
            body = text
                .replacen("<sheetData>", &format!("<sheetData>{}", " ".repeat(pad)), 1)
                .into_bytes();
        }
        out.start_file(name, opts).expect("start");
        out.write_all(&body).expect("write");
    }
    out.finish().expect("zip").into_inner()
}

fn run_with(db_url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = bin(Some(db_url));
    c.envs(env.iter().copied());
    c.args(args).output().expect("run quota-levy")
}

#[tokio::test]
async fn an_upload_that_unpacks_past_the_bound_is_refused_with_413_and_nothing_written() {
    // An ordinary workbook of employers, and the bound set to exactly what it unpacks to.
    const N: usize = 6_000;
    let good = csv_to_xlsx(&employers_csv(N, false));
    let size = declared_size(&good);
    assert!(size > 1 << 20, "over the smallest bound allowed: {size}");
    let bomb = padded_xlsx(&write_employers_xlsx(), 16 << 20);
    assert!(
        bomb.len() < 100 << 10 && declared_size(&bomb) > 16 << 20,
        "{} bytes unpack to {}",
        bomb.len(),
        declared_size(&bomb)
    );
    let (bound, rows) = (size.to_string(), N.to_string());
    let app = crate::helpers::spawn_app_with(&[
        ("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", &bound),
        ("QUOTA_LEVY__IMPORT__MAX_ROWS", &rows),
    ])
    .await;
    let tax = app.token(Role::Tax, None, None).await;
    let audited = count_audit(&app.db_url);

    for lang in ["zh", "en"] {
        let r = app
            .upload(
                &format!("/api/v1/imports/employers?partial=true&lang={lang}"),
                Some(&tax),
                XLSX,
                bomb.clone(),
            )
            .await;
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "/problems/payload-too-large", "{p}");
        assert_eq!(p["status"], 413);
        assert_eq!(p["limit"]["setting"], "import.max_uncompressed_bytes");
        assert_eq!(p["limit"]["value"], size);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("import.max_uncompressed_bytes") && detail.contains(&bound),
            "{detail}"
        );
        assert_eq!(
            detail.contains("unpacks to more than"),
            lang == "en",
            "{detail}"
        );
        assert_eq!(p["errors"][0]["pointer"], "/rows/1");
        assert_eq!(p["errors"][0]["code"], "too_large");
        assert_eq!(p["committed"], false);
        assert_eq!(p["counts"]["imported"], 0);
    }
    assert_eq!(count_employers(&app.db_url), 0);
    assert_eq!(count_audit(&app.db_url), audited, "nothing audited");

    // At both bounds: every row imported.
    let r = app
        .upload("/api/v1/imports/employers", Some(&tax), XLSX, good.clone())
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{}", body["detail"]);
    assert_eq!(body["counts"]["imported"], N);
    assert_eq!(count_employers(&app.db_url), N as i64);

    // One byte less and the same file is refused, on the declarations route too.
    let less = (size - 1).to_string();
    let app = crate::helpers::spawn_app_with(&[
        ("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", &less),
        ("QUOTA_LEVY__IMPORT__MAX_ROWS", &rows),
    ])
    .await;
    let tax = app.token(Role::Tax, None, None).await;
    let audited = count_audit(&app.db_url);
    for path in [
        "/api/v1/imports/employers",
        "/api/v1/imports/declarations?levy_year=2025",
    ] {
        let r = app.upload(path, Some(&tax), XLSX, good.clone()).await;
        assert_eq!(r.status(), 413, "{path}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["limit"]["value"], size - 1, "{path}");
    }
    assert_eq!(count_employers(&app.db_url), 0);
    assert_eq!(count_audit(&app.db_url), audited);
}

#[test]
fn cli_the_bomb_is_refused_under_a_low_bound_and_imported_under_the_default() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.xlsx");
    std::fs::write(&bomb, padded_xlsx(&write_employers_xlsx(), 16 << 20)).unwrap();
    let report = dir.path().join("report.json");
    let args = [
        "import",
        "employers",
        bomb.to_str().unwrap(),
        "--lang",
        "en",
        "--report-json",
        report.to_str().unwrap(),
    ];
    let low = [("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", "1048576")];
    let out = run_with(&url, &low, &args);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("more than 1048576 bytes (setting import.max_uncompressed_bytes)"),
        "{}",
        stdout(&out)
    );
    let json = read_json(&report);
    assert_eq!(json["limit"]["setting"], "import.max_uncompressed_bytes");
    assert_eq!(json["committed"], false);
    assert_eq!(count_employers(&url), 0);
    assert_eq!(count_audit(&url), 0);

    // The same file is a valid workbook: refused for its size, not its content.
    let out = run_with(&url, &[], &args);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(count_employers(&url), 3);

    // A CSV larger than the bound is refused before it is loaded (blank lines pad it).
    let (_db, url) = TestDb::create();
    let big = dir.path().join("big.csv");
    let mut text = std::fs::read_to_string(data("employers.csv")).unwrap();
    text.push_str(&"\n".repeat(1 << 20));
    std::fs::write(&big, &text).unwrap();
    let args = ["import", "employers", big.to_str().unwrap()];
    let out = run_with(&url, &low, &args);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("import.max_uncompressed_bytes"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count_employers(&url), 0);
    let out = run_with(
        &url,
        &[("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", "2097152")],
        &args,
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(count_employers(&url), 6);
}

#[tokio::test]
async fn a_file_with_more_rows_than_max_rows_is_refused_with_413_and_nothing_written() {
    // employers.csv has 6 data rows, declarations.csv 7.
    let app = crate::helpers::spawn_app_with(&[("QUOTA_LEVY__IMPORT__MAX_ROWS", "6")]).await;
    let tax = app.token(Role::Tax, None, None).await;
    let r = app
        .upload(
            "/api/v1/imports/employers",
            Some(&tax),
            "text/csv",
            file("employers.csv"),
        )
        .await;
    assert_eq!(r.status(), 200, "at the bound");
    let decl = String::from_utf8(file("declarations.csv")).unwrap();
    for (ct, body) in [
        ("text/csv", decl.clone().into_bytes()),
        (XLSX, csv_to_xlsx(&decl)),
    ] {
        let r = app
            .upload(
                "/api/v1/imports/declarations?levy_year=2025&partial=true&lang=en",
                Some(&tax),
                ct,
                body,
            )
            .await;
        assert_eq!(r.status(), 413, "{ct}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["limit"]["setting"], "import.max_rows", "{p}");
        assert_eq!(p["limit"]["value"], 6);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("more than 6 data rows (setting import.max_rows; row 8"),
            "{detail}"
        );
        assert_eq!(p["errors"][0]["pointer"], "/rows/8");
        assert_eq!(p["errors"][0]["code"], "too_many_rows");
    }
    assert_eq!(count_declarations(&app.db_url), 0);

    // The CLI likewise.
    let (_db, url) = TestDb::create();
    let f = data("employers.csv");
    let args = ["import", "employers", f.to_str().unwrap()];
    let out = run_with(&url, &[("QUOTA_LEVY__IMPORT__MAX_ROWS", "5")], &args);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("import.max_rows") && stdout(&out).contains("第 7 行"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count_employers(&url), 0);
    let out = run_with(&url, &[("QUOTA_LEVY__IMPORT__MAX_ROWS", "6")], &args);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(count_employers(&url), 6);
}

// ---------------------------------------------------------------------------------------
// `--partial` interrupted and run again
// ---------------------------------------------------------------------------------------

/// Every USCC registered, sorted.
fn registered_usccs(url: &str) -> Vec<String> {
    let db = db(url);
    let mut c = db.conn().expect("conn");
    employers::table
        .select(employers::uscc)
        .order(employers::uscc.asc())
        .load(&mut *c)
        .expect("usccs")
}

/// (row, code) of every fault in a JSON report.
fn fault_codes(report: &Value) -> Vec<(u64, String)> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|i| {
            (
                i["row"].as_u64().unwrap_or(0),
                i["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The faults of a run whose first `k` rows are already registered: those rows, each.
fn first_rows_already_registered(k: usize) -> Vec<(u64, String)> {
    (0..k as u64)
        .map(|i| (i + 2, "already_registered".to_owned()))
        .collect()
}

#[test]
fn cli_a_partial_import_killed_midway_and_run_again_imports_exactly_the_missing_rows() {
    use quota_levy::import::BATCH_ROWS;
    /// Thirty batches: time to be killed between two.
    const N: usize = 30_000;
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("employers.csv");
    std::fs::write(&file, employers_csv(N, false)).unwrap();
    let file = file.to_str().unwrap();
    let watch = db(&url);
    watch.migrate().unwrap();
    let count = || -> i64 {
        let mut c = watch.conn().expect("conn");
        employers::table.count().get_result(&mut *c).expect("count")
    };

    // SIGKILL once two batches or more, but not all, are committed.
    let mut child = bin(Some(&url))
        .args(["import", "employers", "--partial", file])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn import");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(Instant::now() < deadline, "the import wrote nothing");
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the import finished ({status}) before it could be killed midway");
        }
        if count() >= 2 * BATCH_ROWS as i64 {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let committed = count();
    assert!(committed < N as i64, "killed before the end: {committed}");
    assert_eq!(
        committed % BATCH_ROWS as i64,
        0,
        "only whole batches are committed"
    );
    assert_eq!(
        count_audit(&url),
        committed,
        "each committed employer with its audit entry"
    );
    let committed = committed as usize;

    // Run again: exactly the missing rows are imported, the others reported as there.
    let report = dir.path().join("again.json");
    let out = run(
        &url,
        &[
            "import",
            "employers",
            "--partial",
            file,
            "--lang",
            "en",
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("({committed} already registered)")),
        "{}",
        stdout(&out)
    );
    let json = read_json(&report);
    assert_eq!(json["committed"], true);
    assert_eq!(json["counts"]["rows"], N);
    assert_eq!(json["counts"]["imported"], N - committed);
    assert_eq!(json["counts"]["already_registered"], committed);
    assert_eq!(
        fault_codes(&json),
        first_rows_already_registered(committed),
        "the rows of the committed batches, and only they"
    );

    // Every row of the file once, none twice, each audited once.
    let mut want: Vec<String> = (0..N).map(many_row_uscc).collect();
    want.sort();
    assert_eq!(registered_usccs(&url), want);
    assert_eq!(count_audit(&url), N as i64);
    let again = audit_of(&url, json["import_id"].as_str().unwrap());
    assert_eq!(again.len(), N - committed);
}

#[test]
fn cli_a_partial_import_of_a_file_partly_imported_writes_exactly_the_rest() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let (head, all) = (dir.path().join("head.csv"), dir.path().join("all.csv"));
    let first = 1_200;
    std::fs::write(&head, employers_csv(first, false)).unwrap();
    std::fs::write(&all, many_employers_csv(false)).unwrap();
    let report = dir.path().join("report.json");
    let import = |f: &Path, partial: bool| {
        let mut args = vec!["import", "employers", f.to_str().unwrap()];
        if partial {
            args.push("--partial");
        }
        args.extend(["--report-json", report.to_str().unwrap()]);
        let out = run(&url, &args);
        (code(&out), read_json(&report))
    };
    let (status, _) = import(&head, false);
    assert_eq!(status, 0);

    // Without --partial the whole file is refused: the rows already there are faults.
    let (status, json) = import(&all, false);
    assert_eq!(status, 2);
    assert_eq!(json["committed"], false);
    assert_eq!(json["counts"]["already_registered"], first);
    assert_eq!(count_employers(&url), first as i64);

    let (status, json) = import(&all, true);
    assert_eq!(status, 2);
    assert_eq!(json["committed"], true);
    assert_eq!(json["counts"]["imported"], MANY - first);
    assert_eq!(json["counts"]["already_registered"], first);
    assert_eq!(fault_codes(&json), first_rows_already_registered(first));
    let mut want: Vec<String> = (0..MANY).map(many_row_uscc).collect();
    want.sort();
    assert_eq!(registered_usccs(&url), want);
    assert_eq!(count_audit(&url), MANY as i64);
}
