//! Fuzzing the import's reading and row checks with proptest.
//!
//! - The reader, on arbitrary bytes, CSV-like text and corrupted workbooks, in every
//!   format and encoding: it never panics; a table it returns is well formed (rows in
//!   order after the header, as wide as the header, within the bounds); a refusal
//!   names a row and has a message in both languages.
//! - The whole import of employers and of declarations (reading, binding the columns,
//!   the row parsers, the validators) on tables of arbitrary cells, as CSV and as XLSX,
//!   over a database holding a few employers: it never panics, and every fault names a
//!   row of the file and a column (its header, or its letter), or is one of the faults
//!   documented to concern a whole row or the whole file; no message shows a
//!   certificate number.
//!
//! The seed is fixed so that every run, in CI too, tries the same cases, and a failure
//! reproduces as it is.

use std::collections::HashSet;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use super::columns::{DECLARATION_COLUMNS, EMPLOYER_COLUMNS, MONTH_KEYS, PAYMENT_COLUMNS};
use super::reader::{read_table, RawTable, ReadError, MAX_COLUMNS};
use super::*;
use crate::db::{test_support, Db};
use crate::domain::levy::tests::cert_no;
use crate::policy::PolicyBook;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x2545_f491_4f6c_dd1d),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Small bounds, so that the fuzz meets them.
const LIMITS: Limits = Limits {
    max_uncompressed_bytes: 1 << 20,
    max_rows: 40,
};

fn book() -> &'static PolicyBook {
    static BOOK: OnceLock<PolicyBook> = OnceLock::new();
    BOOK.get_or_init(|| PolicyBook::load_embedded().expect("shipped packs load"))
}

/// A USCC with its check character (GB 32100).
fn uscc(first17: &str) -> String {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| CHARS.find(c).unwrap_or(0) as u32 * w)
        .sum();
    let check = CHARS.as_bytes()[((31 - sum % 31) % 31) as usize] as char;
    format!("{first17}{check}")
}

/// The employers registered in the fuzz database, then two valid USCCs that are not.
fn usccs() -> &'static [String] {
    static U: OnceLock<Vec<String>> = OnceLock::new();
    U.get_or_init(|| {
        [
            "91411200MA4000001",
            "91411202MA4000002",
            "12411200MB4000003",
            "91411281MA4000004",
            "52411282MJ4000005",
        ]
        .iter()
        .map(|f| uscc(f))
        .collect()
    })
}

/// A migrated SQLite database with the first three of [`usccs`] registered.
fn database() -> &'static (tempfile::TempDir, Db) {
    static DB: OnceLock<(tempfile::TempDir, Db)> = OnceLock::new();
    DB.get_or_init(|| {
        let (dir, db) = test_support::temp_db();
        let mut c = db.conn().expect("conn");
        for u in &usccs()[..3] {
            test_support::employer(&mut c, u);
        }
        drop(c);
        (dir, db)
    })
}

fn s(v: &[&str]) -> BoxedStrategy<String> {
    prop::sample::select(v.iter().map(|x| x.to_string()).collect::<Vec<_>>()).boxed()
}

/// What people type into a column, and (unless `clean`) what they mistype.
fn cell(schema: Schema, key: Option<&'static str>, clean: bool) -> BoxedStrategy<String> {
    let dates = (
        &[
            "2019-05-01",
            "2019/5/1",
            "2019年5月1日",
            "20190501",
            "2024-03-01 00:00:00",
        ][..],
        &["2019-02-30", "1899-12-31", "45000", "2019-5"][..],
    );
    let yes_no = (
        &["是", "否", "yes", "no", "1", "0", "√"][..],
        &["x", "是的"][..],
    );
    let staff = (
        &["100", "120", "0", "31"][..],
        &["1,234", "-1", "1.5", "1e3", "10000001", "１００"][..],
    );
    let money = (
        &["6,543,210.00", "70000", "3200.00", "1173441.33"][..],
        &["0.001", "-5", "1e20", "¥100", "99999999999999999"][..],
    );
    let (valid, invalid): (BoxedStrategy<String>, BoxedStrategy<String>) = match key {
        // Employers: mostly one not registered yet; declarations: mostly a registered one.
        Some("uscc") => (
            match schema {
                Schema::Employers => prop_oneof![
                    4 => (0u32..10_000_000).prop_map(|n| uscc(&format!("91411202MA{n:07}"))),
                    1 => prop::sample::select(usccs().to_vec()),
                ]
                .boxed(),
                Schema::Declarations | Schema::Payments => {
                    prop::sample::select(usccs().to_vec()).boxed()
                }
            },
            s(&[
                "91411200MA40000010",
                "91411200ma4000001x",
                "4.11202E+17",
                "=\"91411200MA40000010\"",
            ]),
        ),
        Some("name") => (
            s(&["三门峡示例有限公司", "义马市示例中学"]),
            Just("名".repeat(201)).boxed(),
        ),
        Some("kind") => (
            s(&["企业", "事业单位", "机关", "社会团体", "enterprise", "社团"]),
            s(&["公司", "x"]),
        ),
        Some("region") => (
            s(&["411200", "411202", "411281"]),
            s(&["999999", "000000", "4112", "411200.0"]),
        ),
        Some("registered_on" | "employed_from" | "employed_to") => (s(dates.0), s(dates.1)),
        Some("contact_email") => (s(&["hr@example.cn"]), s(&["not an email", "a@b"])),
        Some("establishment_size" | "contract_months") => {
            (s(&["96", "36", "12"]), s(&["-1", "1.5", "10000001", "abc"]))
        }
        Some(
            "committee_member" | "on_establishment" | "social_insurance_paid" | "fresh_graduate",
        ) => (s(yes_no.0), s(yes_no.1)),
        Some("total_wages" | "average_wage" | "monthly_wage") => (s(money.0), s(money.1)),
        Some("disabled_count") => (s(&["1.5", "0", "2"]), s(&["-1", "1.23456"])),
        Some("average_headcount") => (s(&["100", "32.3333"]), s(&["-1", "1.23456", "x"])),
        Some("certificate_no") => (
            (0u32..4, 1u8..8, 1u8..5)
                .prop_map(|(n, c, g)| cert_no(n, c, g))
                .boxed(),
            prop_oneof![
                ((0u32..4, 1u8..8, 1u8..5), 0usize..22, "[0-9X]").prop_map(|((n, c, g), i, ch)| {
                    let mut no = cert_no(n, c, g);
                    if i < no.len() {
                        no.replace_range(i..=i, &ch);
                    }
                    no
                }),
                s(&["4.1120219900101E+19", "军字第123456号", "12345678"]),
            ]
            .boxed(),
        ),
        Some("certificate_kind") => (
            s(&["残疾人证", "残疾军人证", "veteran", "disability"]),
            s(&["x"]),
        ),
        Some("grade") => (s(&["2", "2级", "二级", "8"]), s(&["9", "x"])),
        Some("months") => (
            s(&["1-12", "全年", "1,2,3", "1-6,9"]),
            s(&["13", "6-1", "1-", "0"]),
        ),
        Some(_) => (s(staff.0), s(staff.1)),
        None => (Just(String::new()).boxed(), s(&["x", "备注"])),
    };
    if clean {
        return valid;
    }
    prop_oneof![
        6 => valid,
        3 => invalid,
        1 => Just(String::new()),
        1 => "\\PC{0,12}",
        1 => s(&[",", "\"", "a\nb", " ", "=\"0012\"", "#REF!"]),
    ]
    .boxed()
}

/// A header cell: what the column is (its key, when it has one) and how it is written.
#[derive(Debug, Clone)]
struct Column {
    header: String,
    key: Option<&'static str>,
}

fn column(schema: Schema) -> impl Strategy<Value = Column> {
    let defs = match schema {
        Schema::Employers => EMPLOYER_COLUMNS,
        Schema::Declarations => DECLARATION_COLUMNS,
        Schema::Payments => PAYMENT_COLUMNS,
    };
    let mut written: Vec<(String, Option<&'static str>)> = Vec::new();
    for d in defs {
        written.push((d.key.to_owned(), Some(d.key)));
        written.push((format!("*{}", d.zh), Some(d.key)));
        for a in d.aliases {
            written.push(((*a).to_owned(), Some(d.key)));
        }
    }
    if schema == Schema::Declarations {
        for (i, k) in MONTH_KEYS.iter().enumerate() {
            written.push((k.to_string(), Some(k)));
            written.push((format!("{}月", i + 1), Some(k)));
        }
    }
    prop_oneof![
        8 => prop::sample::select(written),
        1 => s(&["colour", "姓名", "", "编制人数（人）", "备注"]).prop_map(|h| (h, None)),
        1 => "\\PC{0,8}".prop_map(|h| (h, None)),
    ]
    .prop_map(|(header, key)| Column { header, key })
}

/// Columns that make a header the import accepts, in a random order, plus extra ones.
fn good_header(schema: Schema) -> impl Strategy<Value = Vec<Column>> {
    let base: Vec<&'static str> = match schema {
        Schema::Employers => vec!["uscc", "name", "kind", "region"],
        Schema::Declarations => {
            let mut v = vec!["uscc"];
            v.extend(MONTH_KEYS);
            v.push("total_wages");
            v
        }
        Schema::Payments => vec!["uscc", "amount", "paid_on", "bank_reference"],
    };
    (
        Just(base),
        prop::collection::vec(column(schema), 0..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(base, extra, shift)| {
            let mut cols: Vec<Column> = base
                .into_iter()
                .map(|k| Column {
                    header: k.to_owned(),
                    key: Some(k),
                })
                .collect();
            // Columns the header does not have yet: a second column of a key is a fault
            // of the header, which the arbitrary headers try often enough.
            for c in extra {
                if c.key.is_none() || cols.iter().all(|d| d.key != c.key) {
                    cols.push(c);
                }
            }
            let n = shift.index(cols.len());
            cols.rotate_left(n);
            cols
        })
}

/// A table: its columns, and rows of cells (a row may be shorter or longer).
fn table(schema: Schema) -> impl Strategy<Value = (Vec<Column>, Vec<Vec<String>>)> {
    prop_oneof![
        3 => good_header(schema),
        1 => prop::collection::vec(column(schema), 0..10),
    ]
    .prop_flat_map(move |cols| {
        let cells = |clean| {
            let mut v: Vec<BoxedStrategy<String>> =
                cols.iter().map(|c| cell(schema, c.key, clean)).collect();
            v.push(cell(schema, None, clean));
            v
        };
        // Half the rows clean, so that whole declarations (twelve months and more) are
        // valid often enough to be written.
        let strategies = prop_oneof![cells(true), cells(false)];
        let keys: Vec<Option<&'static str>> = cols.iter().map(|c| c.key).collect();
        // Mostly as wide as the header; sometimes shorter, or with a cell beyond it.
        let width = prop_oneof![
            4 => Just(cols.len()),
            1 => 0..cols.len() + 2,
        ];
        let row = (strategies, width, prop::bool::weighted(0.4)).prop_map(
            move |(mut cells, n, roster)| {
                cells.truncate(n);
                // A roster row: the employer's USCC and one disabled employee, the staff
                // and wage cells empty (mostly: a filled one makes a second declaration).
                if roster && schema == Schema::Declarations {
                    for (c, k) in cells.iter_mut().zip(&keys) {
                        let figure = k.is_some_and(|k| {
                            MONTH_KEYS.contains(&k)
                                || [
                                    "average_headcount",
                                    "total_wages",
                                    "average_wage",
                                    "disabled_count",
                                ]
                                .contains(&k)
                        });
                        if figure {
                            c.clear();
                        }
                    }
                }
                cells
            },
        );
        (Just(cols), prop::collection::vec(row, 0..14))
    })
}

fn csv_bytes(cols: &[Column], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let header: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
    w.write_record(&header).expect("header");
    for r in rows {
        // The csv writer refuses an empty record; a blank line is what Excel writes.
        if r.is_empty() {
            w.write_record([""]).expect("row");
        } else {
            w.write_record(r).expect("row");
        }
    }
    w.into_inner().expect("csv")
}

/// The table as a workbook: text cells, and number cells for what reads as a number
/// when `numbers` (as Excel stores what was typed into a General cell).
fn xlsx_bytes(cols: &[Column], rows: &[Vec<String>], numbers: bool) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, col) in cols.iter().enumerate().take(usize::from(u16::MAX)) {
        if !col.header.is_empty() {
            ws.write_string(0, c as u16, &col.header).expect("header");
        }
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match text.parse::<f64>() {
                Ok(n) if numbers && n.is_finite() => ws.write_number(r, c, n),
                _ if text.is_empty() => continue,
                _ => ws.write_string(r, c, text),
            }
            .expect("cell");
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// Faults that concern a whole row or the whole file, so name no column.
const WHOLE_ROW_CODES: &[&str] = &[
    "empty_row",
    "missing_column",
    "unreadable",
    "too_large",
    "too_many_rows",
    "too_many_columns",
];

fn schema_keys(schema: Schema) -> HashSet<&'static str> {
    let defs = match schema {
        Schema::Employers => EMPLOYER_COLUMNS,
        Schema::Declarations => DECLARATION_COLUMNS,
        Schema::Payments => PAYMENT_COLUMNS,
    };
    let mut keys: HashSet<&'static str> = defs.iter().map(|d| d.key).collect();
    if schema == Schema::Declarations {
        keys.extend(MONTH_KEYS);
    }
    keys
}

/// Every fault of `report` names a row of the file (1 to `last_row`) and a column, or
/// is a whole-row fault; none shows a certificate number of `certificates`.
fn check_report(
    schema: Schema,
    report: &Report,
    last_row: usize,
    certificates: &[String],
) -> Result<(), TestCaseError> {
    let keys = schema_keys(schema);
    for i in report.rows.iter().chain(&report.warnings) {
        prop_assert!(
            (1..=last_row).contains(&i.row),
            "{i:?}: not a row of the file (1 to {last_row})"
        );
        prop_assert!(!i.message.is_empty(), "{i:?}: no message");
        if i.field.is_empty() {
            prop_assert!(
                !i.column.is_empty() || WHOLE_ROW_CODES.contains(&i.code.as_str()),
                "{i:?} names no column"
            );
        } else {
            prop_assert!(keys.contains(i.field.as_str()), "{i:?}: no such column key");
            prop_assert!(!i.column.is_empty(), "{i:?}: a key without its column");
        }
        for c in certificates {
            prop_assert!(
                !i.message.contains(c.as_str()),
                "{i:?} shows a certificate number"
            );
        }
    }
    prop_assert!(
        report.rows.windows(2).all(|w| w[0].row <= w[1].row),
        "faults in row order"
    );
    let c = &report.counts;
    prop_assert!(c.invalid_rows <= c.rows && c.imported <= c.rows.max(c.declarations.unwrap_or(0)));
    if !report.committed {
        prop_assert_eq!(c.imported, 0);
    }
    Ok(())
}

/// A table as the reader returns it: rows after the header and in order, each as wide
/// as the header, no more than the bounds allow.
fn check_table(t: &RawTable, limits: Limits) -> Result<(), TestCaseError> {
    prop_assert!(t.header_row >= 1);
    prop_assert!(t.headers.len() <= MAX_COLUMNS);
    prop_assert!(t.rows.len() <= limits.max_rows);
    let mut last = t.header_row;
    for r in &t.rows {
        prop_assert!(r.row > last, "row {} after row {last}", r.row);
        last = r.row;
        prop_assert_eq!(r.cells.len(), t.headers.len());
        for (c, p) in &r.problems {
            match p {
                reader::CellProblem::NoHeader => prop_assert!(*c >= t.headers.len()),
                _ => prop_assert!(*c < t.headers.len()),
            }
        }
    }
    Ok(())
}

fn check_refusal(e: &ReadError) -> Result<(), TestCaseError> {
    prop_assert!(e.row() >= 1);
    prop_assert!(!e.message(Language::Zh).is_empty() && !e.message(Language::En).is_empty());
    Ok(())
}

fn read_any(bytes: &[u8], format: Format, encoding: Encoding) -> Result<(), TestCaseError> {
    match read_table(bytes, format, encoding, LIMITS) {
        Ok(t) => check_table(&t, LIMITS),
        Err(e) => check_refusal(&e),
    }
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(vec![Encoding::Auto, Encoding::Utf8, Encoding::Gbk])
}

/// Bytes that CSV and the decoders care about.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            &b","[..],
            b"\"",
            b"\n",
            b"\r\n",
            b"\r",
            b"\t",
            b"a",
            b"=\"",
            b" ",
            b"\xef\xbb\xbf",
            "中".as_bytes(),
            b"\xff",
            b"\x81",
            b"\xb2\xe2",
            b"uscc",
            b"PK\x03\x04",
        ])
        .prop_map(<[u8]>::to_vec),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|p| p.concat())
}

/// The committed sample and a generated workbook, to corrupt.
fn workbooks() -> &'static [Vec<u8>] {
    static W: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    W.get_or_init(|| {
        let sample = include_bytes!("../../tests/data/employers.xlsx").to_vec();
        let cols: Vec<Column> = ["uscc", "name", "kind", "region"]
            .iter()
            .map(|k| Column {
                header: k.to_string(),
                key: Some(k),
            })
            .collect();
        let rows = vec![vec![
            usccs()[0].clone(),
            "甲".into(),
            "企业".into(),
            "411200".into(),
        ]];
        vec![sample, xlsx_bytes(&cols, &rows, true)]
    })
}

/// Runs an import of `bytes` and checks its report.
fn import_and_check(
    schema: Schema,
    bytes: &[u8],
    format: Format,
    last_row: usize,
    certificates: &[String],
    (partial, lang, scoped): (bool, Language, bool),
) -> Result<(), TestCaseError> {
    let (_, db) = database();
    let mut conn = db.conn().expect("conn");
    let input = Input {
        bytes,
        format: Some(format),
        encoding: Encoding::Auto,
        file_name: None,
        limits: LIMITS,
    };
    let opts = Options {
        partial,
        actor: "fuzz".into(),
        import_id: new_import_id(),
        scope: scoped.then(|| "411202".parse().expect("region")),
        lang,
        secret: crate::secret::ServerSecret::from_bytes([7; 32]),
        submit: false,
        today: crate::clock::china_today(),
        invitations: None,
    };
    let report = match schema {
        Schema::Employers => employers::import_employers(&mut conn, book(), &input, &opts, &Silent),
        Schema::Declarations => {
            declarations::import_declarations(&mut conn, book(), 2025, &input, &opts, &Silent)
        }
        Schema::Payments => {
            super::payments::import_payments(&mut conn, 2025, &input, &opts, &Silent)
        }
    }
    .map_err(|e| TestCaseError::fail(format!("database: {e}")))?;
    check_report(schema, &report, last_row, certificates)
}

fn certificates_of(cols: &[Column], rows: &[Vec<String>]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        for (c, text) in r.iter().enumerate() {
            if cols.get(c).and_then(|c| c.key) == Some("certificate_no") && text.trim().len() >= 15
            {
                out.push(text.trim().to_owned());
            }
        }
    }
    out
}

fn how() -> impl Strategy<Value = (bool, Language, bool)> {
    (
        any::<bool>(),
        prop::sample::select(vec![Language::Zh, Language::En]),
        prop::bool::weighted(0.2),
    )
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        enc in encoding(),
    ) {
        read_any(&bytes, Format::Csv, enc)?;
        read_any(&bytes, Format::Xlsx, enc)?;
    }

    #[test]
    fn csv_like_text_never_panics_the_reader(bytes in csv_like(), enc in encoding()) {
        read_any(&bytes, Format::Csv, enc)?;
    }

    #[test]
    fn corrupted_workbooks_never_panic_the_reader(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = which.get(workbooks()).clone();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        read_any(&bytes, Format::Xlsx, Encoding::Auto)?;
    }
}

proptest! {
    #![proptest_config(config(120))]

    #[test]
    fn employer_rows_of_arbitrary_cells_name_their_row_and_column(
        (cols, rows) in table(Schema::Employers),
        how in how(),
        numbers in any::<bool>(),
    ) {
        let certs = certificates_of(&cols, &rows);
        let csv = csv_bytes(&cols, &rows);
        let lines = csv.iter().filter(|b| **b == b'\n').count() + 1;
        import_and_check(Schema::Employers, &csv, Format::Csv, lines, &certs, how)?;
        let xlsx = xlsx_bytes(&cols, &rows, numbers);
        import_and_check(Schema::Employers, &xlsx, Format::Xlsx, rows.len() + 1, &certs, how)?;
    }

    #[test]
    fn declaration_rows_of_arbitrary_cells_name_their_row_and_column(
        (cols, rows) in table(Schema::Declarations),
        how in how(),
        numbers in any::<bool>(),
    ) {
        let certs = certificates_of(&cols, &rows);
        let csv = csv_bytes(&cols, &rows);
        let lines = csv.iter().filter(|b| **b == b'\n').count() + 1;
        import_and_check(Schema::Declarations, &csv, Format::Csv, lines, &certs, how)?;
        let xlsx = xlsx_bytes(&cols, &rows, numbers);
        import_and_check(Schema::Declarations, &xlsx, Format::Xlsx, rows.len() + 1, &certs, how)?;
    }
}
