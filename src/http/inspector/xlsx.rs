//! The violator list as an XLSX workbook: one sheet "违规单位名单" with the CSV's
//! Chinese headers, codes kept as text, the amount outstanding as a number (so the
//! column sums in Excel, as in the CSV: the debt is on the one money row of a debtor).
//! Written as the levy roll's workbook is (`registry::roll::xlsx`), in rust_xlsxwriter's
//! constant-memory mode.

use rust_xlsxwriter::{Format, Workbook};

use crate::domain::EmployerKind;
use crate::registry::violations::{ViolationRow, CSV_HEADER};

/// The sheet's name.
pub const SHEET_NAME: &str = "违规单位名单";

/// Column widths in Excel's character units.
const WIDTHS: [f64; 9] = [20.0, 36.0, 14.0, 10.0, 30.0, 60.0, 60.0, 40.0, 16.0];

/// The workbook of `rows`, or why it could not be written.
pub fn write_workbook(rows: &[ViolationRow]) -> Result<Vec<u8>, String> {
    let e = |e: rust_xlsxwriter::XlsxError| format!("violator list workbook: {e}");
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
    for (row, r) in (1..).zip(rows) {
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
    }
    workbook.save_to_buffer().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_is_a_zip_with_the_sheet() {
        let bytes = write_workbook(&[]).unwrap_or_default();
        assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");
    }
}
