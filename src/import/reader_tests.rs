//! Tests of the table reader: encodings, row numbering, formats, and XLSX cells read as the user typed them.

use super::*;
use calamine::{ExcelDateTime, ExcelDateTimeType};

#[test]
fn utf8_with_and_without_bom() {
    let plain = "uscc,name\n1,甲\n".as_bytes();
    let (t, e) = decode(plain, Encoding::Auto).unwrap();
    assert_eq!((t.as_ref(), e), ("uscc,name\n1,甲\n", "UTF-8"));
    let mut bom = UTF8_BOM.to_vec();
    bom.extend_from_slice(plain);
    let (t, e) = decode(&bom, Encoding::Auto).unwrap();
    assert_eq!((t.as_ref(), e), ("uscc,name\n1,甲\n", "UTF-8"));
    let (t, _) = decode(&bom, Encoding::Utf8).unwrap();
    assert!(t.starts_with("uscc"));
}

#[test]
fn gbk_is_detected_when_not_utf8() {
    let (bytes, _, bad) =
        encoding_rs::GBK.encode("统一社会信用代码,单位名称\n1,三门峡示例有限公司\n");
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err());
    let (t, e) = decode(&bytes, Encoding::Auto).unwrap();
    assert_eq!(e, "GBK");
    assert!(t.starts_with("统一社会信用代码,单位名称"));
    let (t, e) = decode(&bytes, Encoding::Gbk).unwrap();
    assert_eq!(e, "GBK");
    assert!(t.contains("三门峡"));
    // Declared UTF-8 but GBK bytes: an error naming the line, never mojibake.
    assert_eq!(
        decode(&bytes, Encoding::Utf8).unwrap_err(),
        ReadError::NotUtf8 { line: 1 }
    );
}

#[test]
fn bad_bytes_name_their_line() {
    // 0x81 followed by a newline is neither UTF-8 nor GBK.
    let bytes = b"uscc,name\nok,ok\nbad,\x81\n".to_vec();
    assert_eq!(
        decode(&bytes, Encoding::Auto).unwrap_err(),
        ReadError::NotUtf8OrGbk { line: 3 }
    );
    assert_eq!(
        decode(&bytes, Encoding::Gbk).unwrap_err(),
        ReadError::NotGbk { line: 3 }
    );
    let mut bom = UTF8_BOM.to_vec();
    bom.extend_from_slice(b"a\n\xff");
    assert_eq!(
        decode(&bom, Encoding::Gbk).unwrap_err(),
        ReadError::BomButGbk
    );
    assert_eq!(
        decode(&bom, Encoding::Auto).unwrap_err(),
        ReadError::NotUtf8 { line: 2 }
    );
    assert_eq!(
        decode(&[0xFF, 0xFE, b'a', 0], Encoding::Auto).unwrap_err(),
        ReadError::Utf16
    );
}

#[test]
fn pure_ascii_is_utf8() {
    let (_, e) = decode(b"uscc,name\n", Encoding::Auto).unwrap();
    assert_eq!(e, "UTF-8");
}

#[test]
fn csv_rows_keep_their_numbers_and_skip_blank_lines() {
    let t = read_table(
        "\u{feff}uscc, name \n\n a ,\"b, c\"\n,,\nx,=\"0012\",extra\n".as_bytes(),
        Format::Csv,
        Encoding::Auto,
        Limits::NONE,
    )
    .unwrap();
    assert_eq!(t.headers, ["uscc", "name"]);
    assert_eq!(t.header_row, 1);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].row, 3);
    assert_eq!(t.rows[0].cells, ["a", "b, c"]);
    assert_eq!(t.rows[1].row, 5);
    assert_eq!(t.rows[1].cells, ["x", "0012"]);
    assert_eq!(t.rows[1].problems, [(2, CellProblem::NoHeader)]);
}

#[test]
fn crlf_rows_are_numbered_like_lf_rows() {
    let t = read_table(
        b"a,b\r\n1,2\r\n\r\n3,4\r\n",
        Format::Csv,
        Encoding::Auto,
        Limits::NONE,
    )
    .unwrap();
    let rows: Vec<usize> = t.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 4]);
    let t = read_table(
        b"a,b\n\"x\ny\",2\n3,4\n",
        Format::Csv,
        Encoding::Auto,
        Limits::NONE,
    )
    .unwrap();
    let rows: Vec<usize> = t.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 4], "a record starts on its own line");
}

#[test]
fn tab_separated_text_is_read() {
    let t = read_table(
        b"uscc\tname\n1\t2\n",
        Format::Csv,
        Encoding::Auto,
        Limits::NONE,
    )
    .unwrap();
    assert_eq!(t.headers, ["uscc", "name"]);
    assert_eq!(t.rows[0].cells, ["1", "2"]);
}

#[test]
fn formats_are_recognised() {
    assert_eq!(
        detect_format(b"PK\x03\x04....", None, Some("x.csv")),
        Format::Xlsx
    );
    assert_eq!(detect_format(b"uscc", None, Some("x.XLSX")), Format::Xlsx);
    assert_eq!(detect_format(b"uscc", None, None), Format::Csv);
    assert_eq!(
        detect_format(b"PK\x03\x04", Some(Format::Csv), None),
        Format::Csv
    );
    assert_eq!(
        read_table(b"PK\x03\x04", Format::Csv, Encoding::Auto, Limits::NONE).unwrap_err(),
        ReadError::XlsxNotCsv
    );
    assert_eq!(
        read_table(OLE_MAGIC, Format::Csv, Encoding::Auto, Limits::NONE).unwrap_err(),
        ReadError::Xls
    );
    assert!(matches!(
        read_table(b"not a zip", Format::Xlsx, Encoding::Auto, Limits::NONE),
        Err(ReadError::Xlsx(_))
    ));
    assert_eq!(
        read_table(b"\n\n", Format::Csv, Encoding::Auto, Limits::NONE).unwrap_err(),
        ReadError::Empty
    );
    assert_eq!("GBK".parse::<Encoding>(), Ok(Encoding::Gbk));
    assert_eq!("utf8".parse::<Encoding>(), Ok(Encoding::Utf8));
    assert!("latin1".parse::<Encoding>().is_err());
}

#[test]
fn xlsx_cells_become_the_text_the_user_typed() {
    assert_eq!(cell_text(&Data::Float(411200.0)).unwrap(), "411200");
    assert_eq!(cell_text(&Data::Float(-3.0)).unwrap(), "-3");
    assert_eq!(cell_text(&Data::Int(12)).unwrap(), "12");
    assert_eq!(cell_text(&Data::Float(1173441.33)).unwrap(), "1173441.33");
    assert_eq!(cell_text(&Data::Float(32.3333)).unwrap(), "32.3333");
    assert_eq!(cell_text(&Data::Float(0.1)).unwrap(), "0.1");
    assert_eq!(cell_text(&Data::String("  甲  ".into())).unwrap(), "甲");
    assert_eq!(cell_text(&Data::Bool(true)).unwrap(), "true");
    assert_eq!(cell_text(&Data::Empty).unwrap(), "");
    // 2019-05-01 is serial 43586 in the 1900 system, 42124 in the 1904 system.
    let d = ExcelDateTime::new(43586.0, ExcelDateTimeType::DateTime, false);
    assert_eq!(cell_text(&Data::DateTime(d)).unwrap(), "2019-05-01");
    let d = ExcelDateTime::new(42124.0, ExcelDateTimeType::DateTime, true);
    assert_eq!(cell_text(&Data::DateTime(d)).unwrap(), "2019-05-01");
    let d = ExcelDateTime::new(43586.5, ExcelDateTimeType::DateTime, false);
    assert_eq!(
        cell_text(&Data::DateTime(d)).unwrap(),
        "2019-05-01 12:00:00"
    );
    assert_eq!(
        cell_text(&Data::DateTimeIso("2019-05-01T00:00:00".into())).unwrap(),
        "2019-05-01"
    );
    assert_eq!(
        cell_text(&Data::DateTimeIso("2019-05-01".into())).unwrap(),
        "2019-05-01"
    );
}

#[test]
fn the_xlsx_sample_reads_as_typed() {
    let bytes = include_bytes!("../../tests/data/employers.xlsx");
    assert_eq!(detect_format(bytes, None, None), Format::Xlsx);
    let t = read_table(bytes, Format::Xlsx, Encoding::Auto, Limits::NONE).unwrap();
    assert_eq!(t.headers[0], "统一社会信用代码");
    assert_eq!(t.headers.len(), 8);
    assert_eq!(t.encoding, None);
    let rows: Vec<usize> = t.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 3, 4]);
    let school = &t.rows[1].cells;
    assert_eq!(school[3], "411281", "a number cell without .0");
    assert_eq!(school[4], "1978-09-01", "a date cell");
    assert_eq!(school[5], "", "an empty cell");
    assert_eq!(school[6], "96");
    assert_eq!(school[7], "true");
}

#[test]
fn xlsx_cells_that_lost_information_are_problems() {
    // A 20-digit certificate number typed into a number cell.
    assert_eq!(
        cell_text(&Data::Float(4.1120219900101e19)),
        Err(CellProblem::LongNumber)
    );
    assert_eq!(cell_text(&Data::Float(1e15)), Err(CellProblem::LongNumber));
    assert_eq!(
        cell_text(&Data::Float(999_999_999_999_999.0)).unwrap(),
        "999999999999999"
    );
    assert_eq!(
        cell_text(&Data::Float(f64::NAN)),
        Err(CellProblem::NotANumber)
    );
    assert!(matches!(
        cell_text(&Data::Error(calamine::CellErrorType::Div0)),
        Err(CellProblem::ExcelError(_))
    ));
}

/// A workbook of string cells (shared strings, as Excel writes them).
fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, c, t) in cells {
        ws.write_string(*r, *c, *t).expect("cell");
    }
    wb.save_to_buffer().expect("xlsx")
}

/// The sizes the zip central directory declares for every part.
fn declared_total(bytes: &[u8]) -> u64 {
    let a = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..a.len())
        .map(|i| a.by_index_data(i).expect("entry").size())
        .sum()
}

/// Rewrites the uncompressed size the central directory declares for part `name`.
fn declare_size(bytes: &mut [u8], name: &str, size: u32) {
    let mut found = false;
    let mut at = 0;
    while let Some(p) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let h = at + p;
        let n = usize::from(u16::from_le_bytes([bytes[h + 28], bytes[h + 29]]));
        if &bytes[h + 46..h + 46 + n] == name.as_bytes() {
            bytes[h + 24..h + 28].copy_from_slice(&size.to_le_bytes());
            found = true;
        }
        at = h + 4;
    }
    assert!(found, "{name} is in the central directory");
}

fn limits(bytes: u64, rows: usize) -> Limits {
    Limits {
        max_uncompressed_bytes: bytes,
        max_rows: rows,
    }
}

#[test]
fn an_xlsx_whose_parts_unpack_past_the_bound_is_refused_before_unpacking() {
    let cells: Vec<(u32, u16, &str)> = (0..20_000u32)
        .map(|i| (i / 8, (i % 8) as u16, "三门峡示例有限公司"))
        .collect();
    let bytes = workbook(&cells);
    let total = declared_total(&bytes);
    assert!(
        total > 10 * bytes.len() as u64,
        "compresses well: {total} from {}",
        bytes.len()
    );
    assert_eq!(
        read_table(
            &bytes,
            Format::Xlsx,
            Encoding::Auto,
            limits(total - 1, 100_000)
        ),
        Err(ReadError::TooLarge { limit: total - 1 })
    );
    let t = read_table(&bytes, Format::Xlsx, Encoding::Auto, limits(total, 100_000))
        .expect("at the bound");
    assert_eq!(t.rows.len(), 2_499);
}

#[test]
fn a_part_that_unpacks_to_more_than_it_declares_is_refused() {
    let cells: Vec<(u32, u16, &str)> = (0..2_000u32).map(|i| (i, 0, "甲")).collect();
    let mut bytes = workbook(&cells);
    let honest = declared_total(&bytes);
    declare_size(&mut bytes, "xl/worksheets/sheet1.xml", 100);
    let declared = declared_total(&bytes);
    assert!(declared < honest);
    // Within the bound by what it declares; the reader stops the sheet at 100 bytes
    // whatever the bound.
    for l in [limits(declared, 100_000), Limits::NONE] {
        match read_table(&bytes, Format::Xlsx, Encoding::Auto, l) {
            Err(ReadError::Xlsx(m)) => assert!(m.contains("declared"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn one_long_shared_string_in_every_cell_counts_as_the_text_it_unpacks_to() {
    let long = "长".repeat(30_000);
    let cells: Vec<(u32, u16, &str)> = (0..40u32).map(|i| (i, 0, long.as_str())).collect();
    let bytes = workbook(&cells);
    let bound = 2 << 20;
    assert!(
        declared_total(&bytes) < bound,
        "the parts are within the bound"
    );
    assert!((40 * long.len()) as u64 > bound);
    assert_eq!(
        read_table(&bytes, Format::Xlsx, Encoding::Auto, limits(bound, 100)),
        Err(ReadError::TooLarge { limit: bound })
    );
}

#[test]
fn a_sheet_used_from_a1_to_xfd1048576_is_read_without_its_empty_cells() {
    let bytes = workbook(&[(0, 0, "uscc"), (0, 1, "name"), (1_048_575, 16_383, "x")]);
    let t = read_table(&bytes, Format::Xlsx, Encoding::Auto, limits(1 << 20, 10)).unwrap();
    assert_eq!(t.headers, ["uscc", "name"]);
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].row, 1_048_576);
    assert_eq!(t.rows[0].cells, ["", ""]);
    assert_eq!(t.rows[0].problems, [(16_383, CellProblem::NoHeader)]);
}

#[test]
fn rows_past_max_rows_are_refused_on_the_row_that_passes_it() {
    let csv = b"a,b\n1,2\n\n3,4\n5,6\n";
    let xlsx = workbook(&[(0, 0, "a"), (1, 0, "1"), (3, 1, "4"), (4, 0, "5")]);
    for (bytes, format) in [(&csv[..], Format::Csv), (&xlsx[..], Format::Xlsx)] {
        let t = read_table(bytes, format, Encoding::Auto, limits(1 << 20, 3)).unwrap();
        assert_eq!(t.rows.len(), 3, "{format:?}: at the limit");
        assert_eq!(
            read_table(bytes, format, Encoding::Auto, limits(1 << 20, 2)),
            Err(ReadError::TooManyRows { limit: 2, row: 5 }),
            "{format:?}: blank rows are not counted"
        );
    }
    let e = ReadError::TooManyRows { limit: 2, row: 5 };
    assert_eq!(e.row(), 5);
    assert_eq!(e.limit(), Some(("import.max_rows", 2)));
    assert!(e.message(Language::Zh).contains("import.max_rows"));
    assert!(e.message(Language::En).contains("more than 2 data rows"));
}

#[test]
fn a_csv_larger_than_the_bound_is_refused() {
    let csv = b"a,b\n1,2\n";
    let n = csv.len() as u64;
    assert!(read_table(csv, Format::Csv, Encoding::Auto, limits(n, 10)).is_ok());
    let e = read_table(csv, Format::Csv, Encoding::Auto, limits(n - 1, 10)).unwrap_err();
    assert_eq!(e, ReadError::TooLarge { limit: n - 1 });
    assert_eq!(e.limit(), Some(("import.max_uncompressed_bytes", n - 1)));
    assert!(e.message(Language::Zh).contains(&format!("{}", n - 1)));
}

#[test]
fn headers_wider_than_max_columns_are_refused_and_stray_cells_reported_once() {
    let header = |n: usize| {
        (0..n)
            .map(|i| format!("h{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ok = format!("{}\n", header(MAX_COLUMNS));
    assert_eq!(
        read_table(ok.as_bytes(), Format::Csv, Encoding::Auto, Limits::NONE)
            .unwrap()
            .headers
            .len(),
        MAX_COLUMNS
    );
    let wide = format!("{}\n", header(MAX_COLUMNS + 1));
    assert_eq!(
        read_table(wide.as_bytes(), Format::Csv, Encoding::Auto, Limits::NONE),
        Err(ReadError::TooManyColumns {
            limit: MAX_COLUMNS,
            row: 1
        })
    );
    let xlsx = workbook(&[(2, 0, "a"), (2, MAX_COLUMNS as u16, "b")]);
    assert_eq!(
        read_table(&xlsx, Format::Xlsx, Encoding::Auto, Limits::NONE),
        Err(ReadError::TooManyColumns {
            limit: MAX_COLUMNS,
            row: 3
        })
    );
    // Trailing empty header cells are no columns; a row of stray cells is one problem.
    let csv = format!("a,b{}\n1,2,3,4,{}\n", ",".repeat(1000), "x,".repeat(1000));
    let t = read_table(csv.as_bytes(), Format::Csv, Encoding::Auto, Limits::NONE).unwrap();
    assert_eq!(t.headers, ["a", "b"]);
    assert_eq!(t.rows[0].cells, ["1", "2"]);
    assert_eq!(t.rows[0].problems, [(2, CellProblem::NoHeader)]);
}
