//! Reading an uploaded table: CSV (UTF-8 with or without BOM, or GBK as Chinese Excel
//! writes it) or XLSX (the first sheet), into rows of text cells numbered as the user
//! sees them (the header is row 1).
//!
//! Everything here is about *getting text out of the file*; what the columns mean is
//! [`super::columns`]' business.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::str::FromStr;

use calamine::{Data, DataRef, Reader, Xlsx};

use crate::domain::Language;

/// What a file may unpack to (the `[import]` settings). A file over either bound is
/// refused before its rows are checked, so nothing of it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `import.max_uncompressed_bytes`: for XLSX, the sum of the sizes its zip
    /// directory declares for its parts, and the text of its cells; for CSV, the file.
    pub max_uncompressed_bytes: u64,
    /// `import.max_rows`: data rows (the header and blank rows not counted).
    pub max_rows: usize,
}

impl Limits {
    /// No bound at all (unit tests of the parsing itself).
    pub const NONE: Limits = Limits {
        max_uncompressed_bytes: u64::MAX,
        max_rows: usize::MAX,
    };
}

impl From<&crate::config::ImportSettings> for Limits {
    fn from(s: &crate::config::ImportSettings) -> Self {
        Limits {
            max_uncompressed_bytes: s.max_uncompressed_bytes,
            max_rows: s.max_rows,
        }
    }
}

/// Widest header read. The widest layout (declarations) has 29 columns; the rest is
/// room for blank or note columns. Rows are held padded to the header's width, so this
/// with `import.max_rows` bounds the cells held, whatever a sheet's stray cells claim.
pub const MAX_COLUMNS: usize = 64;

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or tab-) separated text.
    Csv,
    /// Office Open XML workbook (Excel 2007 and later).
    Xlsx,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" | "txt" | "tsv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err("unknown format; expected csv or xlsx".to_owned()),
        }
    }
}

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else GBK.
    #[default]
    Auto,
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// GBK (decoded as GB 18030, its superset), as Chinese Windows Excel saves "CSV".
    Gbk,
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Ok(Encoding::Gbk),
            _ => Err("unknown encoding; expected utf-8 or gbk".to_owned()),
        }
    }
}

/// One data row: its number as the user sees it and its cells as text (trimmed; `""`
/// for an empty cell), aligned with [`RawTable::headers`].
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// 1-based row number (the header is row 1 on a sheet without leading blank rows).
    pub row: usize,
    /// Cell texts, one per header (missing trailing cells are `""`).
    pub cells: Vec<String>,
    /// Cells whose content could not be turned into text faithfully, by column index;
    /// extra cells beyond the header have index `>= headers.len()`.
    pub problems: Vec<(usize, CellProblem)>,
}

/// The table read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTable {
    /// Header texts, as written (trimmed).
    pub headers: Vec<String>,
    /// Row number of the header.
    pub header_row: usize,
    /// Data rows, blank rows left out.
    pub rows: Vec<RawRow>,
    /// The encoding used for a CSV file (`"UTF-8"` or `"GBK"`), `None` for XLSX.
    pub encoding: Option<&'static str>,
}

/// Why one cell could not be read faithfully.
#[derive(Debug, Clone, PartialEq)]
pub enum CellProblem {
    /// A number with more digits than a spreadsheet keeps (15): an identifier typed into
    /// a number cell, whose last digits are already lost.
    LongNumber,
    /// An Excel error value such as `#DIV/0!` or `#REF!`.
    ExcelError(String),
    /// A value Rust cannot print as a number (NaN or infinity).
    NotANumber,
    /// A cell to the right of the last header.
    NoHeader,
}

impl CellProblem {
    /// The message, without the cell's content (it may be an identifier).
    pub fn message(&self, lang: Language) -> String {
        match self {
            CellProblem::LongNumber => lang
                .pick(
                    "单元格是超过 15 位的数字，Excel 已丢失末尾数字：请把该列设为“文本”格式后重新录入",
                    "the cell is a number longer than the 15 digits a spreadsheet keeps, so its last digits are lost: format the column as text and enter it again",
                )
                .to_owned(),
            CellProblem::ExcelError(e) => match lang {
                Language::Zh => format!("单元格是 Excel 错误值 {e}"),
                Language::En => format!("the cell holds the Excel error {e}"),
            },
            CellProblem::NotANumber => lang
                .pick("单元格不是有效数字", "the cell is not a valid number")
                .to_owned(),
            CellProblem::NoHeader => lang
                .pick(
                    "该单元格所在列没有表头：请补上表头或删除该列",
                    "the cell is in a column without a header: add the header or delete the column",
                )
                .to_owned(),
        }
    }
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// Declared or detected UTF-8, but a byte sequence is not UTF-8.
    #[error("the file is not valid UTF-8 (line {line})")]
    NotUtf8 {
        /// Line of the first bad byte.
        line: usize,
    },
    /// Neither UTF-8 nor GBK.
    #[error("the file is neither UTF-8 nor GBK (line {line})")]
    NotUtf8OrGbk {
        /// Line of the first byte that is not UTF-8.
        line: usize,
    },
    /// Declared GBK, but a byte sequence is not GBK.
    #[error("the file is not valid GBK (line {line})")]
    NotGbk {
        /// Line of the first bad byte.
        line: usize,
    },
    /// GBK was declared but the file starts with a UTF-8 byte-order mark.
    #[error("the file starts with a UTF-8 byte-order mark but GBK was given")]
    BomButGbk,
    /// A UTF-16 text file (Excel's "Unicode text").
    #[error("UTF-16 text is not supported")]
    Utf16,
    /// An Excel 97-2003 `.xls` file.
    #[error("XLS (Excel 97-2003) files are not supported")]
    Xls,
    /// An XLSX file was named as CSV.
    #[error("the file is an XLSX workbook, not CSV")]
    XlsxNotCsv,
    /// The CSV text is malformed.
    #[error("the CSV is malformed: {0}")]
    Csv(String),
    /// The workbook cannot be opened or has no sheet.
    #[error("the XLSX workbook cannot be read: {0}")]
    Xlsx(String),
    /// No header row.
    #[error("the file is empty")]
    Empty,
    /// The file unpacks to more than `import.max_uncompressed_bytes`.
    #[error("the file unpacks to more than {limit} bytes (setting import.max_uncompressed_bytes): split it into smaller files")]
    TooLarge {
        /// The setting's value.
        limit: u64,
    },
    /// More data rows than `import.max_rows`.
    #[error("the file has more than {limit} data rows (setting import.max_rows; row {row} is one too many): split it into smaller files")]
    TooManyRows {
        /// The setting's value.
        limit: usize,
        /// The row that passed the limit.
        row: usize,
    },
    /// A header wider than [`MAX_COLUMNS`].
    #[error("the header has more than {limit} columns: delete the columns that are not imported")]
    TooManyColumns {
        /// [`MAX_COLUMNS`].
        limit: usize,
        /// The header row.
        row: usize,
    },
}

impl ReadError {
    /// The message in `lang`.
    pub fn message(&self, lang: Language) -> String {
        match lang {
            Language::En => match self {
                ReadError::Utf16 => "UTF-16 text (Excel's \"Unicode text\") is not supported: save as \"CSV UTF-8\" or XLSX".into(),
                ReadError::Xls => "XLS (Excel 97-2003) files are not supported: save as XLSX or CSV".into(),
                ReadError::XlsxNotCsv => "the file is an XLSX workbook: leave out the CSV format (or give xlsx)".into(),
                ReadError::NotUtf8OrGbk { line } => format!(
                    "the file is neither UTF-8 nor GBK (first bad byte on line {line}): save it as \"CSV UTF-8\""
                ),
                other => other.to_string(),
            },
            Language::Zh => match self {
                ReadError::NotUtf8 { line } => format!("文件不是有效的 UTF-8 编码（第 {line} 行）"),
                ReadError::NotUtf8OrGbk { line } => format!(
                    "文件既不是 UTF-8 也不是 GBK 编码（第 {line} 行起）：请另存为“CSV UTF-8”"
                ),
                ReadError::NotGbk { line } => format!("文件不是有效的 GBK 编码（第 {line} 行）"),
                ReadError::BomButGbk => "文件以 UTF-8 字节序标记开头，但指定了 GBK 编码".into(),
                ReadError::Utf16 => "不支持 UTF-16 文本（Excel“Unicode 文本”）：请另存为“CSV UTF-8”或 XLSX".into(),
                ReadError::Xls => "不支持 XLS（Excel 97-2003）文件：请另存为 XLSX 或 CSV".into(),
                ReadError::XlsxNotCsv => "文件是 XLSX 工作簿而不是 CSV：请勿指定 CSV 格式".into(),
                ReadError::Csv(m) => format!("CSV 格式错误：{m}"),
                ReadError::Xlsx(m) => format!("无法读取 XLSX 工作簿：{m}"),
                ReadError::Empty => "文件为空（没有表头行）".into(),
                ReadError::TooLarge { limit } => format!(
                    "文件解压后超过 {limit} 字节（设置 import.max_uncompressed_bytes）：请拆分为较小的文件分别导入"
                ),
                ReadError::TooManyRows { limit, row } => format!(
                    "文件的数据行超过 {limit} 行（设置 import.max_rows；第 {row} 行已超出）：请拆分为较小的文件分别导入"
                ),
                ReadError::TooManyColumns { limit, .. } => {
                    format!("表头超过 {limit} 列：请删除不导入的列")
                }
            },
        }
    }

    /// The setting a file went over and its value, when the file was refused for its
    /// size rather than its content.
    pub fn limit(&self) -> Option<(&'static str, u64)> {
        match self {
            ReadError::TooLarge { limit } => Some(("import.max_uncompressed_bytes", *limit)),
            ReadError::TooManyRows { limit, .. } => {
                Some(("import.max_rows", u64::try_from(*limit).unwrap_or(u64::MAX)))
            }
            _ => None,
        }
    }

    /// The stable code of the problem, for the report.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::TooLarge { .. } => "too_large",
            ReadError::TooManyRows { .. } => "too_many_rows",
            ReadError::TooManyColumns { .. } => "too_many_columns",
            _ => "unreadable",
        }
    }

    /// The row the problem is on (the header row when the file is unreadable as a whole).
    pub fn row(&self) -> usize {
        match self {
            ReadError::NotUtf8 { line }
            | ReadError::NotUtf8OrGbk { line }
            | ReadError::NotGbk { line } => *line,
            ReadError::TooManyRows { row, .. } | ReadError::TooManyColumns { row, .. } => *row,
            _ => 1,
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// The format of `bytes`: the one given, else recognised from the content (an XLSX file
/// is a ZIP archive), else from the file name, else CSV.
pub fn detect_format(bytes: &[u8], given: Option<Format>, file_name: Option<&str>) -> Format {
    if let Some(f) = given {
        return f;
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return Format::Xlsx;
    }
    match file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "xlsx" => Format::Xlsx,
        _ => Format::Csv,
    }
}

/// Reads a whole file, refusing it as soon as it goes over `limits`.
pub fn read_table(
    bytes: &[u8],
    format: Format,
    encoding: Encoding,
    limits: Limits,
) -> Result<RawTable, ReadError> {
    if bytes.starts_with(OLE_MAGIC) {
        return Err(ReadError::Xls);
    }
    match format {
        Format::Csv => {
            if bytes.starts_with(ZIP_MAGIC) {
                return Err(ReadError::XlsxNotCsv);
            }
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limits.max_uncompressed_bytes {
                return Err(ReadError::TooLarge {
                    limit: limits.max_uncompressed_bytes,
                });
            }
            let (text, enc) = decode(bytes, encoding)?;
            read_csv(&text, enc, limits)
        }
        Format::Xlsx => read_xlsx(bytes, limits),
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Decodes CSV bytes to text, returning the encoding used.
///
/// Auto-detection relies on UTF-8 being self-validating: Chinese text in GBK is almost
/// never valid UTF-8 (its lead bytes 0x81–0xFE would need 0x80–0xBF continuation bytes
/// in exactly UTF-8's patterns), so "valid UTF-8" is a reliable test, and everything
/// else is tried as GBK. `--encoding` settles the rare ambiguous file.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<(Cow<'_, str>, &'static str), ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    let has_bom = bytes.starts_with(UTF8_BOM);
    let body = if has_bom { &bytes[3..] } else { bytes };
    let utf8 = || std::str::from_utf8(body).map(Cow::Borrowed);
    match encoding {
        Encoding::Utf8 => utf8()
            .map(|t| (t, "UTF-8"))
            .map_err(|e| ReadError::NotUtf8 {
                line: line_of(bytes, e.valid_up_to() + if has_bom { 3 } else { 0 }),
            }),
        Encoding::Gbk => {
            if has_bom {
                return Err(ReadError::BomButGbk);
            }
            gbk(bytes).map(|t| (t, "GBK"))
        }
        Encoding::Auto => match utf8() {
            Ok(t) => Ok((t, "UTF-8")),
            Err(e) if has_bom => Err(ReadError::NotUtf8 {
                line: line_of(bytes, e.valid_up_to() + 3),
            }),
            Err(e) => gbk(bytes)
                .map(|t| (t, "GBK"))
                .map_err(|_| ReadError::NotUtf8OrGbk {
                    line: line_of(bytes, e.valid_up_to()),
                }),
        },
    }
}

fn gbk(bytes: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    // No replacement characters: a wrongly decoded identifier must fail, not be altered.
    match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(t) => Ok(t),
        None => {
            // Find the line of the first bad sequence for the message.
            let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
            let mut out = String::with_capacity(bytes.len() * 2);
            let (_, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
            Err(ReadError::NotGbk {
                line: line_of(bytes, read),
            })
        }
    }
}

/// Cleans a CSV cell: surrounding whitespace (including the ideographic space), and
/// Excel's `="…"` text-forcing wrapper that some exports put around identifiers.
fn clean_csv_cell(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.trim().to_owned(),
        None => s.to_owned(),
    }
}

fn read_csv(text: &str, enc: &'static str, limits: Limits) -> Result<RawTable, ReadError> {
    // Tab-separated when the first line has tabs and no commas (a "text" export).
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut headers: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ReadError::Csv(csv_error_text(&e)))?;
        // The row as the user sees it: the line the record starts on (equal to the
        // spreadsheet row unless a quoted cell holds line breaks). Counted here rather
        // than taken from the csv crate, whose record start after a CRLF is the `\n`
        // still on the line before.
        let start = rec.position().map(|p| p.byte() as usize).unwrap_or(0);
        let row = lines.line_at(start);
        match &headers {
            None => {
                let (mut h, beyond) = take_cells(rec.iter().map(clean_csv_cell), MAX_COLUMNS);
                if beyond.is_some() {
                    return Err(ReadError::TooManyColumns {
                        limit: MAX_COLUMNS,
                        row,
                    });
                }
                // Trailing empty header cells (unused columns Excel exported): a value
                // under one is a cell without a header, as beyond the last column.
                while h.last().is_some_and(String::is_empty) {
                    h.pop();
                }
                if h.is_empty() {
                    continue;
                }
                if let Some(first) = h.first_mut() {
                    *first = first.trim_start_matches('\u{feff}').trim().to_owned();
                }
                headers = Some((row, h));
            }
            Some((_, h)) => {
                let (cells, beyond) = take_cells(rec.iter().map(clean_csv_cell), h.len());
                if beyond.is_none() && cells.iter().all(String::is_empty) {
                    continue;
                }
                if rows.len() >= limits.max_rows {
                    return Err(ReadError::TooManyRows {
                        limit: limits.max_rows,
                        row,
                    });
                }
                let problems = beyond
                    .map(|c| (c, CellProblem::NoHeader))
                    .into_iter()
                    .collect();
                rows.push(RawRow {
                    row,
                    cells,
                    problems,
                });
            }
        }
    }
    let (header_row, headers) = headers.ok_or(ReadError::Empty)?;
    Ok(RawTable {
        headers,
        header_row,
        rows,
        encoding: Some(enc),
    })
}

/// The first `width` cells of a row, padded with empty cells to `width`, and the index
/// of the first non-empty cell beyond them (a cell without a header). Cells further
/// right are not kept: one such cell is enough to report the row, and a row of a
/// million commas must not become a million strings.
fn take_cells(cells: impl Iterator<Item = String>, width: usize) -> (Vec<String>, Option<usize>) {
    let mut kept = Vec::with_capacity(width.min(MAX_COLUMNS));
    let mut beyond = None;
    for (i, c) in cells.enumerate() {
        if i < width {
            kept.push(c);
        } else if !c.is_empty() {
            beyond = Some(i);
            break;
        }
    }
    kept.resize(width, String::new());
    (kept, beyond)
}

/// Line numbers of byte offsets, counted incrementally (offsets only grow), so that
/// numbering 100,000 rows stays linear.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// The line of the first character of a record that starts at `start` (after the
    /// line breaks that may lead it).
    fn line_at(&mut self, start: usize) -> usize {
        let mut start = start.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.offset {
            self.line += self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = start;
        }
        self.line
    }
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => {
            format!(
                "invalid text on line {}",
                pos.as_ref().map(|p| p.line()).unwrap_or(0)
            )
        }
        _ => e.to_string(),
    }
}

/// One non-blank sheet row as read: its non-empty cells left of [`MAX_COLUMNS`], by
/// column, and the first non-empty column at or right of it.
#[derive(Default)]
struct SheetRow {
    cells: Vec<(usize, Result<String, CellProblem>)>,
    beyond: Option<usize>,
}

/// calamine's (or zip's) message about a damaged workbook, which may quote a cell's raw
/// value (`Unsupported cell error value '…'`), with any identifier-like number masked.
fn xlsx_error(e: impl std::fmt::Display) -> ReadError {
    ReadError::Xlsx(crate::domain::ids::mask_numbers_in(&e.to_string()).into_owned())
}

/// Refuses a workbook whose parts unpack to more than `limit` bytes, from the sizes its
/// zip central directory declares, before anything is unpacked. The declared sizes
/// bound what is then unpacked: the zip reader calamine uses fails a part as soon as it
/// unpacks to more than its declared size.
fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<(), ReadError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_data(i).map_err(xlsx_error)?;
        total = total.saturating_add(entry.size());
        if total > limit {
            return Err(ReadError::TooLarge { limit });
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8], limits: Limits) -> Result<RawTable, ReadError> {
    check_unpacked_size(bytes, limits.max_uncompressed_bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ReadError::Xlsx("the workbook has no sheet".into()))?;
    // Cell by cell rather than calamine's `Range`: a range is dense over the used
    // area, so a sheet of two cells, A1 and XFD1048576, would be 17 billion cells.
    let mut reader = match book.worksheet_cells_reader(&name) {
        Ok(r) => r,
        // A chart sheet first: there is no table to read.
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Err(ReadError::Empty),
        Err(e) => return Err(xlsx_error(e)),
    };
    // By sheet row (0-based): rows need not come in order in the XML.
    let mut sheet: BTreeMap<u32, SheetRow> = BTreeMap::new();
    // The text the cells unpack to, so that one long shared string referenced by every
    // cell cannot multiply past the bound.
    let mut text_bytes: u64 = 0;
    while let Some(cell) = reader.next_cell().map_err(xlsx_error)? {
        let (r, c) = cell.get_position();
        let value = cell_ref_text(cell.get_value());
        match &value {
            Ok(t) if t.is_empty() => continue,
            Ok(t) => {
                text_bytes = text_bytes.saturating_add(u64::try_from(t.len()).unwrap_or(u64::MAX));
                if text_bytes > limits.max_uncompressed_bytes {
                    return Err(ReadError::TooLarge {
                        limit: limits.max_uncompressed_bytes,
                    });
                }
            }
            Err(_) => {}
        }
        // The header and `max_rows` data rows are held; a new row beyond them fails.
        if !sheet.contains_key(&r) && sheet.len() > limits.max_rows {
            return Err(ReadError::TooManyRows {
                limit: limits.max_rows,
                row: r as usize + 1,
            });
        }
        let row = sheet.entry(r).or_default();
        let c = c as usize;
        if c < MAX_COLUMNS {
            row.cells.push((c, value));
        } else {
            row.beyond = Some(row.beyond.map_or(c, |b| b.min(c)));
        }
    }
    drop(reader);

    // The header is the first non-blank row (every row held is non-blank).
    let mut rows_in = sheet.into_iter();
    let Some((r, mut sr)) = rows_in.next() else {
        return Err(ReadError::Empty);
    };
    let header_row = r as usize + 1;
    if sr.beyond.is_some() {
        return Err(ReadError::TooManyColumns {
            limit: MAX_COLUMNS,
            row: header_row,
        });
    }
    sr.cells.sort_by_key(|(c, _)| *c);
    let mut headers = vec![String::new(); sr.cells.last().map_or(0, |(c, _)| c + 1)];
    for (c, v) in sr.cells {
        // A header cell that cannot be read (an Excel error) is no header.
        if let (Ok(t), Some(h)) = (v, headers.get_mut(c)) {
            *h = t;
        }
    }
    // A header with trailing empty cells (formatted but unused columns).
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    let width = headers.len();
    let mut rows = Vec::new();
    for (r, mut sr) in rows_in {
        sr.cells.sort_by_key(|(c, _)| *c);
        let mut cells = vec![String::new(); width];
        let mut problems = Vec::new();
        let mut stray = sr.beyond;
        for (c, v) in sr.cells {
            if c >= width {
                stray = Some(stray.map_or(c, |s| s.min(c)));
                continue;
            }
            match (v, cells.get_mut(c)) {
                (Ok(t), Some(cell)) => *cell = t,
                (Ok(_), None) => {}
                (Err(p), _) => problems.push((c, p)),
            }
        }
        if let Some(c) = stray {
            problems.push((c, CellProblem::NoHeader));
        }
        rows.push(RawRow {
            row: r as usize + 1,
            cells,
            problems,
        });
    }
    Ok(RawTable {
        headers,
        header_row,
        rows,
        encoding: None,
    })
}

/// Largest integer a spreadsheet number holds exactly as typed: Excel keeps 15
/// significant digits, so anything longer has already lost digits.
const EXACT_DIGITS_LIMIT: f64 = 1e15;

/// The text of one XLSX cell, as the user meant it: whole numbers without `.0`, other
/// numbers in their shortest exact form (`1173441.33`, not a binary expansion), dates as
/// `YYYY-MM-DD` (with ` HH:MM:SS` when there is a time), booleans as `true`/`false`.
pub fn cell_text(cell: &Data) -> Result<String, CellProblem> {
    cell_ref_text(&match cell {
        Data::Empty => DataRef::Empty,
        Data::String(s) => DataRef::SharedString(s),
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(dt) => DataRef::DateTime(*dt),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
    })
}

/// [`cell_text`] of a cell as the sheet reader gives it (shared strings borrowed).
pub fn cell_ref_text(cell: &DataRef<'_>) -> Result<String, CellProblem> {
    Ok(match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f)?,
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        DataRef::DateTime(dt) => float_text(dt.as_f64())?,
        DataRef::DateTimeIso(s) => match s.split_once('T') {
            Some((date, time)) if time.trim_start_matches(['0', ':']).is_empty() => date.to_owned(),
            Some((date, time)) => format!("{date} {time}"),
            None => s.clone(),
        },
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(CellProblem::ExcelError(e.to_string())),
    })
}

fn float_text(f: f64) -> Result<String, CellProblem> {
    if !f.is_finite() {
        return Err(CellProblem::NotANumber);
    }
    if f.fract() == 0.0 {
        if f.abs() >= EXACT_DIGITS_LIMIT {
            return Err(CellProblem::LongNumber);
        }
        // Exact: |f| < 1e15 < 2^53, so the cast keeps every digit.
        return Ok(format!("{}", f as i64));
    }
    // Rust prints the shortest text that reads back as the same double, which is the
    // decimal the user typed (Excel stores what was typed, rounded to a double).
    Ok(format!("{f}"))
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
