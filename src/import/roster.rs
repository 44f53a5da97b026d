//! An employer's roster file (its own page's upload, `/my/{uscc}/declaration/{year}/roster`):
//! the roster columns of the declarations import (certificate number, kind, grade,
//! months or period, establishment, contract, insurance, wage, fresh graduate) with the
//! same Chinese headers and the same cell readings, one disabled employee a row, no
//! USCC (the page knows whose roster it is) and no staff or wage figures (those are in
//! the declaration it goes into). Read with the same bounds as an import
//! ([`super::Limits`]); faults name the row and column as the user sees them and never
//! contain a certificate number.

use serde_json::Value;
use std::collections::HashMap;

use super::columns::{column_letter, normalize_header, Bound, Record, Schema, DECLARATION_COLUMNS};
use super::declarations::{roster_line, ROSTER_KEYS};
use super::reader::{self, CellProblem, Encoding, Limits};
use super::report::RowIssue;
use crate::domain::Language;
use crate::wire::FieldError;

/// Headers refused with a reason: the service does not collect names or ID numbers of
/// disabled employees (个人信息保护法 第六条, data minimisation).
const PERSONAL: &[&str] = &[
    "姓名",
    "残疾人姓名",
    "职工姓名",
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "employee_name",
    "id_number",
];

/// A roster file read: one declaration roster line (the API's `disabled_employees`
/// item) per data row, and where each came from.
#[derive(Debug, Clone)]
pub struct RosterFile {
    /// The lines, in file order.
    pub lines: Vec<Value>,
    /// The row (as the user sees it) of each line.
    pub rows: Vec<usize>,
    bound: Bound,
}

impl RosterFile {
    /// A validator fault at `/disabled_employees/N/…` moved to the row and column its
    /// value came from; `None` for a fault of the declaration as a whole.
    pub fn locate(&self, e: &FieldError) -> Option<RowIssue> {
        let segs: Vec<&str> = e.pointer.split('/').skip(1).collect();
        let ["disabled_employees", i, rest @ ..] = segs.as_slice() else {
            return None;
        };
        let row = *self.rows.get(i.parse::<usize>().ok()?)?;
        let key = rest
            .first()
            .copied()
            .filter(|k| ROSTER_KEYS.contains(k))
            .unwrap_or("");
        Some(self.bound.issue(row, key, e.code, e.message.clone()))
    }

    /// The certificate number a row holds (for a masked reminder of which person a
    /// fault is about), if any.
    pub fn certificate_of_row(&self, row: usize) -> Option<&str> {
        self.bound
            .records
            .iter()
            .find(|r| r.row == row)
            .and_then(|r| r.get("certificate_no"))
    }
}

/// A roster file refused: every fault, and the certificate number of each row that
/// has one (for a masked reminder of whom a fault is about; never shown in full).
#[derive(Debug, Clone, Default)]
pub struct RosterFaults {
    /// The faults, by row.
    pub issues: Vec<RowIssue>,
    certificates: HashMap<usize, String>,
}

impl RosterFaults {
    fn of(issues: Vec<RowIssue>) -> RosterFaults {
        RosterFaults {
            issues,
            certificates: HashMap::new(),
        }
    }

    /// The certificate number on `row`, if it has one.
    pub fn certificate_of_row(&self, row: usize) -> Option<&str> {
        self.certificates.get(&row).map(String::as_str)
    }
}

fn issue(row: usize, column: String, field: &str, code: &str, message: String) -> RowIssue {
    RowIssue {
        row,
        column,
        field: field.to_owned(),
        code: code.to_owned(),
        message,
    }
}

/// The columns a roster file may have, for a message about one it may not.
fn expected(lang: Language) -> String {
    let list: Vec<String> = DECLARATION_COLUMNS
        .iter()
        .filter(|c| ROSTER_KEYS.contains(&c.key))
        .map(|c| match lang {
            Language::Zh => c.zh.to_owned(),
            Language::En => format!("{} ({})", c.zh, c.key),
        })
        .collect();
    list.join(lang.pick("、", ", "))
}

/// Reads a roster file (CSV or XLSX, told apart by its content, else by `file_name`).
/// Every fault of every row is returned, or none and the lines.
pub fn read_roster(
    bytes: &[u8],
    file_name: Option<&str>,
    limits: Limits,
    lang: Language,
) -> Result<RosterFile, RosterFaults> {
    let format = reader::detect_format(bytes, None, file_name);
    let table = reader::read_table(bytes, format, Encoding::Auto, limits).map_err(|e| {
        RosterFaults::of(vec![issue(
            e.row(),
            String::new(),
            "",
            e.code(),
            e.message(lang),
        )])
    })?;
    let hr = table.header_row;
    let mut issues = Vec::new();
    let mut keys: Vec<Option<&'static str>> = Vec::with_capacity(table.headers.len());
    let mut headers: HashMap<&'static str, String> = HashMap::new();
    for (i, h) in table.headers.iter().enumerate() {
        let norm = normalize_header(h);
        if norm.is_empty() {
            keys.push(None);
            continue;
        }
        let key = Schema::Declarations
            .key_of(&norm)
            .filter(|k| ROSTER_KEYS.contains(k));
        match key {
            Some(k) if headers.contains_key(k) => {
                issues.push(issue(
                    hr,
                    h.clone(),
                    k,
                    "duplicate_column",
                    lang.pick(
                        "与前面的一列含义相同：请只保留一列",
                        "means the same as an earlier column: keep one of them",
                    )
                    .to_owned(),
                ));
                keys.push(None);
            }
            Some(k) => {
                headers.insert(k, h.clone());
                keys.push(Some(k));
            }
            None if PERSONAL.contains(&norm.as_str()) => {
                issues.push(issue(
                    hr,
                    h.clone(),
                    "",
                    "personal_data_column",
                    lang.pick(
                        "不收集残疾职工的姓名和身份证号（残疾证号已可识别本人）：请删除该列",
                        "names and ID numbers of disabled employees are not collected (the certificate number identifies the person): delete this column",
                    )
                    .to_owned(),
                ));
                keys.push(None);
            }
            None => {
                // Named by its letter: a file without a header row would show a
                // certificate number here.
                let letter = column_letter(i);
                issues.push(issue(
                    hr,
                    letter.clone(),
                    "",
                    "unknown_column",
                    match lang {
                        Language::Zh => format!(
                            "第 {letter} 列的表头不是名单的列；可用的列：{}",
                            expected(lang)
                        ),
                        Language::En => format!(
                            "the header of column {letter} is not a roster column; the columns are: {}",
                            expected(lang)
                        ),
                    },
                ));
                keys.push(None);
            }
        }
    }
    if !headers.contains_key("certificate_no") {
        issues.push(issue(
            hr,
            "残疾证号".into(),
            "certificate_no",
            "missing_column",
            lang.pick(
                "缺少必需的列“残疾证号”",
                "the required column 残疾证号 (certificate_no) is missing",
            )
            .to_owned(),
        ));
    }
    if !issues.is_empty() {
        return Err(RosterFaults::of(issues));
    }
    let mut records = Vec::with_capacity(table.rows.len());
    for raw in table.rows {
        let mut values = Vec::new();
        let mut row_issues = Vec::new();
        for (i, text) in raw.cells.into_iter().enumerate() {
            match keys.get(i).copied().flatten() {
                Some(key) if !text.is_empty() => values.push((key, text)),
                Some(_) => {}
                None if !text.is_empty() => row_issues.push(issue(
                    raw.row,
                    column_letter(i),
                    "",
                    "no_header",
                    CellProblem::NoHeader.message(lang),
                )),
                None => {}
            }
        }
        for (i, p) in raw.problems {
            let key = keys.get(i).copied().flatten();
            let column = key
                .and_then(|k| headers.get(k).cloned())
                .unwrap_or_else(|| column_letter(i));
            row_issues.push(issue(
                raw.row,
                column,
                key.unwrap_or(""),
                "unreadable_cell",
                p.message(lang),
            ));
        }
        records.push(Record {
            row: raw.row,
            values,
            issues: row_issues,
        });
    }
    let bound = Bound {
        schema: Schema::Declarations,
        headers,
        records,
    };
    let mut lines = Vec::with_capacity(bound.records.len());
    let mut rows = Vec::with_capacity(bound.records.len());
    for r in &bound.records {
        issues.extend(r.issues.iter().cloned());
        let (line, mut more) = roster_line(&bound, r, lang);
        // A cell that could not be read is reported once, not again as invalid.
        more.retain(|m| {
            !r.issues
                .iter()
                .any(|i| i.field == m.field && !m.field.is_empty())
        });
        issues.append(&mut more);
        lines.push(line);
        rows.push(r.row);
    }
    if lines.is_empty() {
        issues.push(issue(
            hr,
            String::new(),
            "",
            "empty",
            lang.pick(
                "文件中没有残疾职工：表头下每行填写一人",
                "the file lists no disabled employee: one person a row under the header",
            )
            .to_owned(),
        ));
    }
    if issues.is_empty() {
        Ok(RosterFile { lines, rows, bound })
    } else {
        issues.sort_by_key(|i| i.row);
        let certificates = bound
            .records
            .iter()
            .filter_map(|r| Some((r.row, r.get("certificate_no")?.to_owned())))
            .collect();
        Err(RosterFaults {
            issues,
            certificates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_roster_becomes_declaration_lines_with_their_rows() {
        let csv = "残疾证号,在职月份,是否在编,月工资\n11010519491231002X42,1-12,是,3000\n\n41120219800101001X13,7-12,否,\n";
        let f = read_roster(csv.as_bytes(), Some("r.csv"), Limits::NONE, Language::Zh)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(f.rows, vec![2, 4]);
        assert_eq!(f.lines[0]["months"].as_array().map(Vec::len), Some(12));
        assert_eq!(f.lines[0]["on_establishment"], Value::Bool(true));
        assert_eq!(f.lines[1]["on_establishment"], Value::Bool(false));
        let e = FieldError {
            pointer: "/disabled_employees/1/monthly_wage".into(),
            code: "invalid",
            message: "x".into(),
        };
        let located = f.locate(&e).unwrap_or_else(|| panic!("located"));
        assert_eq!((located.row, located.column.as_str()), (4, "月工资"));
    }

    #[test]
    fn unknown_and_personal_columns_are_named_without_their_content() {
        let csv = "姓名,残疾证号,11010519491231002X42\n张三,11010519491231002X42,x\n";
        let issues = read_roster(csv.as_bytes(), None, Limits::NONE, Language::Zh)
            .err()
            .unwrap_or_default()
            .issues;
        let codes: Vec<&str> = issues.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["personal_data_column", "unknown_column"]);
        assert!(issues
            .iter()
            .all(|i| !i.message.contains("11010519491231002X42") && !i.column.contains("1101")));
    }

    #[test]
    fn a_bad_cell_names_its_row_and_column() {
        let csv = "残疾证号,是否在编\n11010519491231002X42,也许\n";
        let refused = read_roster(csv.as_bytes(), None, Limits::NONE, Language::En)
            .err()
            .unwrap_or_default();
        assert_eq!(refused.certificate_of_row(2), Some("11010519491231002X42"));
        let issues = refused.issues;
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].row, issues[0].column.as_str()), (2, "是否在编"));
    }
}
