//! The violator list as an XLSX workbook: one sheet "违规单位名单" with the CSV's
//! Chinese headers, codes kept as text, the amount outstanding as a number (so the
//! column sums in Excel, as in the CSV: the debt is on the one money row of a debtor).
//! Written as the levy roll's workbook is (`registry::roll::xlsx`), in rust_xlsxwriter's
//! constant-memory mode.

use rust_xlsxwriter::{Format, Workbook};
use std::io::Write;

use crate::db::DbError;
use crate::domain::EmployerKind;
use crate::registry::violations::{ViolationRow, CSV_HEADER};

/// The sheet's name.
pub const SHEET_NAME: &str = "违规单位名单";

/// Rows a sheet holds below its header (Excel's limit is 1,048,576 rows in all).
pub const MAX_ROWS: u32 = 1_048_576 - 1;

/// Column widths in Excel's character units.
const WIDTHS: [f64; 9] = [20.0, 36.0, 14.0, 10.0, 30.0, 60.0, 60.0, 40.0, 16.0];

/// What writing a workbook came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// Every row is in the workbook.
    Done,
    /// More rows than one sheet holds: nothing useful was written.
    TooManyRows,
}

/// Writes to `out` the workbook of the rows `fill` hands over, one at a time: they go to
/// rust_xlsxwriter's temporary file as they come, and nothing reaches `out` before the
/// last is written, so a failure part way leaves `out` untouched.
pub fn write_workbook<W: Write + Send>(
    out: W,
    fill: impl FnOnce(&mut dyn FnMut(&ViolationRow) -> Result<(), DbError>) -> Result<(), DbError>,
) -> Result<Written, DbError> {
    let e = |e: rust_xlsxwriter::XlsxError| DbError::Task(format!("violator list workbook: {e}"));
    let header = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let money = Format::new().set_num_format("#,##0.00");
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet_with_constant_memory().map_err(e)?;
    ws.set_name(SHEET_NAME).map_err(e)?;
    for (col, w) in (0..).zip(WIDTHS) {
        ws.set_column_width(col, w).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    for (col, h) in (0..).zip(CSV_HEADER) {
        ws.write_string_with_format(0, col, h, &header).map_err(e)?;
    }
    let mut row: u32 = 0;
    let mut too_many = false;
    let filled = fill(&mut |r| {
        if row >= MAX_ROWS {
            // `fill` stops on any error; the flag tells this one apart.
            too_many = true;
            return Err(DbError::Task("too many rows for one sheet".into()));
        }
        row += 1;
        let kind = r
            .kind
            .parse::<EmployerKind>()
            .map(|k| k.name_zh())
            .unwrap_or(&r.kind);
        let violation = format!("{} ({})", r.violation.name_zh(), r.violation.as_str());
        ws.write_string_with_format(row, 0, &r.uscc, &text)
            .map_err(e)?;
        ws.write_string(row, 1, &r.name).map_err(e)?;
        ws.write_string(row, 2, kind).map_err(e)?;
        ws.write_string_with_format(row, 3, &r.region, &text)
            .map_err(e)?;
        ws.write_string(row, 4, &violation).map_err(e)?;
        ws.write_string(row, 5, &r.why_zh).map_err(e)?;
        ws.write_string(row, 6, &r.why_en).map_err(e)?;
        ws.write_string(row, 7, &r.citation).map_err(e)?;
        // An amount of at most 15 significant digits is exact as a double (see
        // registry::roll::xlsx); a longer one stays text, never a fen off.
        let digits = r.outstanding.chars().filter(char::is_ascii_digit).count();
        match r.outstanding.parse::<f64>() {
            Ok(n) if digits <= 15 => ws.write_number_with_format(row, 8, n, &money),
            _ => ws.write_string_with_format(row, 8, &r.outstanding, &text),
        }
        .map_err(e)?;
        Ok(())
    });
    if too_many {
        return Ok(Written::TooManyRows);
    }
    filled?;
    let mut out = std::io::BufWriter::new(out);
    workbook.save_to_writer(&mut out).map_err(e)?;
    // Flushed here so that a full disk is an error, not a short file.
    out.flush()
        .map_err(|err| DbError::Task(format!("writing the violator list workbook: {err}")))?;
    Ok(Written::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_is_a_zip_with_the_sheet() {
        let mut bytes = Vec::new();
        let written = write_workbook(&mut bytes, |_| Ok(()));
        assert!(matches!(written, Ok(Written::Done)), "{written:?}");
        assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");
    }
}
