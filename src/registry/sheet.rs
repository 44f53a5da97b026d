//! A small listing as an XLSX workbook (the rewards roll, the fund's account): one sheet,
//! a bold header row, figures as numbers where a double shows them exactly (the levy
//! roll's rule, [`super::roll::xlsx`]), everything else as text. Built in memory: these
//! listings have a line per rewarded employer or per account line, not per employer of
//! a region.

use rust_xlsxwriter::{Format, Workbook};

use crate::db::DbError;

/// The workbook of `rows` under `header` on a sheet named `sheet`; the cells of the
/// columns in `figures` are written as numbers.
pub fn workbook(
    sheet: &str,
    header: &[&str],
    rows: &[Vec<String>],
    figures: &[usize],
) -> Result<Vec<u8>, DbError> {
    let err = |e: rust_xlsxwriter::XlsxError| DbError::Task(format!("{sheet} workbook: {e}"));
    let mut wb = Workbook::new();
    let (bold, text, money) = (
        Format::new().set_bold(),
        Format::new().set_num_format("@"),
        Format::new().set_num_format("#,##0.00##"),
    );
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    for (c, h) in header.iter().enumerate() {
        let col = u16::try_from(c).map_err(|_| DbError::Task("too many columns".into()))?;
        ws.write_string_with_format(0, col, *h, &bold)
            .map_err(err)?;
        ws.set_column_width(col, 16).map_err(err)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let row = u32::try_from(r + 1).map_err(|_| DbError::Task("too many rows".into()))?;
        for (c, v) in cells.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| DbError::Task("too many columns".into()))?;
            match super::roll::xlsx::number(v).filter(|_| figures.contains(&c)) {
                Some(n) => ws.write_number_with_format(row, col, n, &money),
                None => ws.write_string_with_format(row, col, v, &text),
            }
            .map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}
