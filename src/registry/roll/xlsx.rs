//! The levy roll as an XLSX workbook for Excel: one sheet "征收名册" with the CSV's
//! Chinese headers, figures as numbers (so they sum and sort in Excel), the due date as
//! a date and a totals row. Shared by `GET /api/v1/levy-roll?format=xlsx` and
//! `quota-levy levy-roll export --format xlsx`.
//!
//! The sheet is written in rust_xlsxwriter's "constant memory" mode: each row goes to a
//! temporary file as soon as the next one starts, so a region of any size is written
//! with one row in memory, rows coming from [`for_each`] chunk by chunk as for CSV.

use std::io::{BufWriter, Write};

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ColNum, ExcelDateTime, Format, RowNum, Workbook, Worksheet, XlsxError};

use super::{for_each, kind_zh, RollRow, RollTotals, CSV_HEADER};
use crate::db::{AnyConnection, DbError};

/// The media type of an XLSX workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The name of the roll's sheet.
pub const SHEET_NAME: &str = "征收名册";

/// Employers one sheet holds: Excel's 1,048,576 rows less the header and totals rows.
pub const MAX_EMPLOYERS: u32 = 1_048_576 - 2;

/// The deflate level of the workbook's parts (1 fastest … 9 smallest).
const ZIP_LEVEL: u8 = 1;

/// Why the workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// The roll has more employers than one sheet holds ([`MAX_EMPLOYERS`]): the
    /// caller asked for too much, nothing failed.
    #[error(
        "the levy roll has more than {MAX_EMPLOYERS} employers, more than one XLSX sheet \
         holds: narrow the region or export it as CSV"
    )]
    TooManyEmployers,
    /// Reading the roll, or writing the workbook or its temporary files, failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The widest value expected in each column, in Excel's character units, beside the
/// header's own width (see `column_width`): 18-character USCCs, long Chinese names
/// (two units a character), amounts up to "999,999,999.99", ISO dates.
const DATA_WIDTHS: [f64; 13] = [
    20.0, 40.0, 14.0, 8.0, 12.0, 12.0, 12.0, 16.0, 16.0, 16.0, 16.0, 12.0, 30.0,
];

/// Columns (0-based) of the figures, by kind of number format.
const COUNT_COLUMNS: [ColNum; 3] = [4, 5, 6];
const MONEY_COLUMNS: [ColNum; 4] = [7, 8, 9, 10];
const DUE_DATE_COLUMN: ColNum = 11;
const STATUS_COLUMN: ColNum = 12;

/// The cell formats of the sheet, made once.
struct Formats {
    header: Format,
    text: Format,
    count: Format,
    money: Format,
    date: Format,
    total_label: Format,
    total_money: Format,
    /// A figure too long for an Excel number, kept exact as right-aligned text.
    long_figure: Format,
    /// The same on the totals row.
    total_long_figure: Format,
}

impl Formats {
    fn new() -> Self {
        // "@" keeps USCC and region codes text when a user edits the cell: Excel would
        // otherwise turn a region such as 411202 into a number.
        Formats {
            header: Format::new().set_bold(),
            text: Format::new().set_num_format("@"),
            count: Format::new().set_num_format("0.0000"),
            money: Format::new().set_num_format("#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            total_label: Format::new().set_bold(),
            total_money: Format::new().set_bold().set_num_format("#,##0.00"),
            long_figure: Format::new()
                .set_num_format("@")
                .set_align(rust_xlsxwriter::FormatAlign::Right),
            total_long_figure: Format::new()
                .set_bold()
                .set_num_format("@")
                .set_align(rust_xlsxwriter::FormatAlign::Right),
        }
    }
}

/// Writes the levy roll of `levy_year` for employers whose region starts with
/// `region_prefix` (as [`for_each`]) to `out` as an XLSX workbook, and returns the
/// totals. Nothing is written to `out` until every row is on the sheet's temporary
/// file, so a failure while reading leaves `out` untouched.
///
/// A roll longer than [`MAX_EMPLOYERS`] does not fit one sheet:
/// [`WorkbookError::TooManyEmployers`] (the CSV has no such limit).
pub fn write_workbook<W: Write + Send>(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    trigger: crate::config::SurchargeFrom,
    out: W,
) -> Result<RollTotals, WorkbookError> {
    let f = Formats::new();
    let mut workbook = Workbook::new();
    let totals = {
        let ws = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        ws.set_name(SHEET_NAME).map_err(xlsx_error)?;
        // Column widths and the frozen header are sheet settings, not row data, so
        // constant-memory mode keeps them until the workbook is saved.
        for (col, (header, data)) in (0..).zip(CSV_HEADER.iter().zip(DATA_WIDTHS)) {
            ws.set_column_width(col, column_width(header).max(data))
                .map_err(xlsx_error)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        for (col, header) in (0..).zip(CSV_HEADER) {
            ws.write_string_with_format(0, col, header, &f.header)
                .map_err(xlsx_error)?;
        }
        let mut row: RowNum = 0;
        let mut too_many = false;
        let sums = for_each(
            conn,
            levy_year,
            region_prefix,
            as_of,
            0,
            None,
            true,
            trigger,
            &mut |r| {
                if row >= MAX_EMPLOYERS {
                    // `for_each` stops on any error; the flag tells this one apart.
                    too_many = true;
                    return Err(DbError::Task(WorkbookError::TooManyEmployers.to_string()));
                }
                row += 1;
                write_row(ws, row, &r, &f)
            },
        )
        .map_err(|e| {
            if too_many {
                WorkbookError::TooManyEmployers
            } else {
                WorkbookError::Db(e)
            }
        })?;
        let totals = sums.totals();
        write_totals(ws, row + 1, &totals, &f)?;
        totals
    };
    // Most of the time of a large workbook goes into deflating the sheet's XML. Level 1
    // deflates it about twice as fast as the default 6 for a file about half as large
    // again (rust_xlsxwriter's performance notes); a roll is a download, not an archive.
    workbook.set_zip_compression_level(ZIP_LEVEL);
    let mut out = BufWriter::new(out);
    workbook.save_to_writer(&mut out).map_err(xlsx_error)?;
    // Flushed here so that a full disk is an error, not a short file.
    out.flush()
        .map_err(|e| DbError::Task(format!("writing the levy roll workbook: {e}")))?;
    Ok(totals)
}

/// One employer's row.
fn write_row(ws: &mut Worksheet, row: RowNum, r: &RollRow, f: &Formats) -> Result<(), DbError> {
    ws.write_string_with_format(row, 0, &r.uscc, &f.text)
        .map_err(xlsx_error)?;
    ws.write_string(row, 1, &r.name).map_err(xlsx_error)?;
    ws.write_string(row, 2, kind_zh(&r.kind))
        .map_err(xlsx_error)?;
    ws.write_string_with_format(row, 3, &r.region, &f.text)
        .map_err(xlsx_error)?;
    for (col, value) in COUNT_COLUMNS
        .into_iter()
        .zip([&r.staff, &r.required, &r.counted])
    {
        write_figure(ws, row, col, value, &f.count, &f.long_figure)?;
    }
    for (col, value) in
        MONEY_COLUMNS
            .into_iter()
            .zip([&r.payable, &r.paid, &r.surcharge, &r.outstanding])
    {
        write_figure(ws, row, col, value, &f.money, &f.long_figure)?;
    }
    ws.write_datetime_with_format(row, DUE_DATE_COLUMN, excel_date(r.due_date)?, &f.date)
        .map_err(xlsx_error)?;
    ws.write_string(row, STATUS_COLUMN, super::status_cell(r.status))
        .map_err(xlsx_error)?;
    Ok(())
}

/// The totals row, laid out as `csv_totals`: label, number of employers, the sums of
/// the money columns.
fn write_totals(
    ws: &mut Worksheet,
    row: RowNum,
    t: &RollTotals,
    f: &Formats,
) -> Result<(), DbError> {
    ws.write_string_with_format(row, 0, "合计 (total)", &f.total_label)
        .map_err(xlsx_error)?;
    // An employer count is far below 2^53: exact as a double.
    #[allow(clippy::cast_precision_loss)]
    ws.write_number_with_format(row, 1, t.employers as f64, &f.total_label)
        .map_err(xlsx_error)?;
    for (col, value) in
        MONEY_COLUMNS
            .into_iter()
            .zip([&t.payable, &t.paid, &t.surcharge, &t.outstanding])
    {
        write_figure(ws, row, col, value, &f.total_money, &f.total_long_figure)?;
    }
    Ok(())
}

/// Writes a figure of the roll, given as its exact decimal string: as a number in
/// `format` when a double holds it exactly ([`number`]), else as text in `text`, so a
/// sum beyond Excel's precision still shows every fen instead of failing the export.
fn write_figure(
    ws: &mut Worksheet,
    row: RowNum,
    col: u16,
    value: &str,
    format: &Format,
    text: &Format,
) -> Result<(), DbError> {
    match number(value) {
        Some(n) => ws.write_number_with_format(row, col, n, format),
        None => ws.write_string_with_format(row, col, value, text),
    }
    .map_err(xlsx_error)?;
    Ok(())
}

/// A figure of the roll, given as its exact decimal string, as the number an XLSX cell
/// holds; `None` when no double shows it exactly.
///
/// XLSX stores every number as an IEEE double, so this display boundary is the one
/// place a figure leaves exact decimal arithmetic. The roll's figures have at most 2
/// (money) or 4 (counts) decimals; any decimal of at most 15 significant digits
/// converts to the nearest double (`str::parse` rounds correctly) and prints back as
/// the same decimal, so Excel shows exactly the figure of the CSV and the API. That
/// covers amounts below ten trillion yuan (10^13); a longer figure (a region's sum
/// can be one) is not made a number, so that it is never shown a fen off. Totals come
/// from the exact decimal sums, never from adding doubles.
pub(crate) fn number(value: &str) -> Option<f64> {
    let significant = value
        .chars()
        .filter(char::is_ascii_digit)
        .skip_while(|c| *c == '0')
        .count();
    if significant > 15 {
        return None;
    }
    value.parse::<f64>().ok()
}

/// A date as an Excel date (a day number shown through the `yyyy-mm-dd` format).
fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, DbError> {
    let bad = || DbError::Task(format!("due date {d} cannot be written to Excel"));
    let year = u16::try_from(d.year()).map_err(|_| bad())?;
    let month = u8::try_from(d.month()).map_err(|_| bad())?;
    let day = u8::try_from(d.day()).map_err(|_| bad())?;
    ExcelDateTime::from_ymd(year, month, day).map_err(|_| bad())
}

/// The width a header needs in Excel's character units: CJK characters take two,
/// plus a margin for the bold face.
fn column_width(header: &str) -> f64 {
    let units: usize = header
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    // A header is a few dozen characters: exact as a double.
    #[allow(clippy::cast_precision_loss)]
    let units = units as f64;
    units + 2.0
}

fn xlsx_error(e: XlsxError) -> DbError {
    DbError::Task(format!("levy roll workbook: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_convert_to_the_nearest_double() {
        assert_eq!(number("10000.00"), Some(10000.0));
        assert_eq!(number("1.6000"), Some(1.6));
        assert_eq!(number("0.01"), Some(0.01));
        assert_eq!(number("-0.0100"), Some(-0.01));
        // The largest amount of 15 digits prints back exactly at two decimals…
        let big = number("9999999999999.99").unwrap();
        assert_eq!(format!("{big:.2}"), "9999999999999.99");
        // …and one more digit is not a number: near 2^53 fen doubles are 1/64 yuan
        // apart, so such a figure is written as text.
        assert!(number("90071992547409.93").is_none());
        assert!(number("12,3").is_none());
    }

    #[test]
    fn cjk_headers_are_twice_as_wide() {
        assert_eq!(column_width("已缴 (paid)"), 4.0 + 7.0 + 2.0);
    }

    #[test]
    fn due_dates_become_excel_day_numbers() {
        let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(excel_date(d).unwrap().to_excel(), 46022.0);
    }
}
