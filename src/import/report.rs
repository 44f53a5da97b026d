//! The answer of an import: counts and one line per fault, each naming the row (as the
//! user sees it, header = row 1), the column (as written in the file) and what is wrong.
//! Messages never contain an identifier number (docs/architecture.md, Conventions: personal data).

use serde::Serialize;

use crate::domain::Language;

/// One fault (or warning) on one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowIssue {
    /// Row number as the user sees it (header = 1).
    pub row: usize,
    /// The column's header as written in the file; `""` for the row as a whole.
    pub column: String,
    /// The column's key (`uscc`, `m03`, `certificate_no`, …); `""` for the row.
    pub field: String,
    /// Stable machine code (`required`, `check_character`, `duplicate`, …).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// What was imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// The employer registry.
    Employers,
    /// Yearly declarations and rosters.
    Declarations,
    /// Payments from a bank's file.
    Payments,
}

impl ImportKind {
    /// The API spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportKind::Employers => "employers",
            ImportKind::Declarations => "declarations",
            ImportKind::Payments => "payments",
        }
    }
}

/// Counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Data rows read (blank rows are not counted).
    pub rows: usize,
    /// Rows with at least one fault.
    pub invalid_rows: usize,
    /// Employers registered, or declarations created or changed.
    pub imported: usize,
    /// Rows whose USCC was already registered (employers import only; they are among
    /// the invalid rows): the rows an interrupted `partial` import had already written
    /// when it is run again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_registered: Option<usize>,
    /// Rows whose bank reference was recorded before with the same figures (payments
    /// import only): nothing new was recorded for them, and they are not faults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_recorded: Option<usize>,
    /// Declarations in the file (one per employer); declarations import only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declarations: Option<usize>,
    /// Declarations with a fault on any of their rows; declarations import only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_declarations: Option<usize>,
    /// New declarations; declarations import only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<usize>,
    /// Declarations given a new version (changed draft, or an amendment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<usize>,
    /// Declarations identical to the stored one (nothing written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<usize>,
    /// Declarations filed by the import (with `submit`): drafts and amendments
    /// submitted; declarations import only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted: Option<usize>,
}

/// The setting a file went over (then nothing of it was read or written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitExceeded {
    /// The setting, e.g. `import.max_rows`.
    pub setting: &'static str,
    /// Its value.
    pub value: u64,
}

/// The report of one import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Identifies the import; it is the request ID of every audit entry it wrote.
    pub import_id: String,
    /// What was imported.
    pub kind: ImportKind,
    /// The levy year (declarations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levy_year: Option<i32>,
    /// `csv` or `xlsx`.
    pub format: &'static str,
    /// The text encoding of a CSV file (`UTF-8` or `GBK`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    /// Whether valid rows were to be written despite invalid ones.
    pub partial: bool,
    /// Whether the write phase ran and committed: false when any row was invalid and
    /// `partial` was not asked for (then nothing was written). `counts.imported` says
    /// how many were written.
    pub committed: bool,
    /// Counts.
    pub counts: Counts,
    /// Every fault, by row.
    pub rows: Vec<RowIssue>,
    /// Things worth knowing that did not stop a row.
    pub warnings: Vec<RowIssue>,
    /// The limit the file went over, when it was refused for its size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitExceeded>,
}

impl Report {
    /// An empty report to fill in.
    pub fn new(import_id: String, kind: ImportKind, partial: bool) -> Report {
        Report {
            import_id,
            kind,
            levy_year: None,
            format: "csv",
            encoding: None,
            partial,
            committed: false,
            counts: Counts::default(),
            rows: Vec::new(),
            warnings: Vec::new(),
            limit: None,
        }
    }

    /// True when every row was valid and written.
    pub fn is_clean(&self) -> bool {
        self.rows.is_empty() && self.committed
    }

    /// Sorts issues by row (stable, so a row's issues keep their column order) and
    /// counts the invalid rows.
    pub fn finish_issues(&mut self) {
        self.rows.sort_by_key(|i| i.row);
        self.warnings.sort_by_key(|i| i.row);
        let mut rows: Vec<usize> = self.rows.iter().map(|i| i.row).collect();
        rows.dedup();
        // Faults of the file as a whole (unreadable, bad header) are on no data row:
        // then no row was read and `rows` is 0.
        self.counts.invalid_rows = rows.len().min(self.counts.rows);
    }

    /// One sentence saying what happened.
    pub fn summary(&self, lang: Language) -> String {
        let c = &self.counts;
        let what = match (self.kind, lang) {
            (ImportKind::Employers, Language::Zh) => "用人单位",
            (ImportKind::Employers, Language::En) => "employers",
            (ImportKind::Declarations, Language::Zh) => "申报",
            (ImportKind::Declarations, Language::En) => "declarations",
            (ImportKind::Payments, Language::Zh) => "缴款",
            (ImportKind::Payments, Language::En) => "payments",
        };
        let outcome = match (lang, self.committed, self.rows.is_empty()) {
            (Language::Zh, true, _) => match self.kind {
                ImportKind::Employers => format!("已登记 {} 家用人单位", c.imported),
                ImportKind::Payments => format!(
                    "已记录 {} 笔缴款，{} 笔此前已记录",
                    c.imported,
                    c.already_recorded.unwrap_or(0)
                ),
                ImportKind::Declarations => format!(
                    "已保存 {} 份申报（新建 {}，更新 {}，未变 {}）",
                    c.imported,
                    c.created.unwrap_or(0),
                    c.updated.unwrap_or(0),
                    c.unchanged.unwrap_or(0)
                ),
            },
            (Language::Zh, false, false) => "未写入任何数据".to_owned(),
            (Language::Zh, false, true) => "未写入".to_owned(),
            (Language::En, true, _) => match self.kind {
                ImportKind::Employers => format!("{} employer(s) registered", c.imported),
                ImportKind::Payments => format!(
                    "{} payment(s) recorded, {} already recorded before",
                    c.imported,
                    c.already_recorded.unwrap_or(0)
                ),
                ImportKind::Declarations => format!(
                    "{} declaration(s) saved ({} new, {} changed, {} unchanged)",
                    c.imported,
                    c.created.unwrap_or(0),
                    c.updated.unwrap_or(0),
                    c.unchanged.unwrap_or(0)
                ),
            },
            (Language::En, false, false) => "nothing was written".to_owned(),
            (Language::En, false, true) => "not written".to_owned(),
        };
        let already = match (lang, c.already_registered) {
            (_, None | Some(0)) => String::new(),
            (Language::Zh, Some(n)) => format!("（其中 {n} 行已登记）"),
            (Language::En, Some(n)) => format!(" ({n} already registered)"),
        };
        match lang {
            Language::Zh => format!(
                "导入{what}：共 {} 行，{} 行有错误{already}；{outcome}。",
                c.rows, c.invalid_rows
            ),
            Language::En => format!(
                "import of {what}: {} row(s), {} invalid{already}; {outcome}.",
                c.rows, c.invalid_rows
            ),
        }
    }

    /// The faults (and warnings) as a plain-text table for a terminal.
    pub fn render_table(&self, lang: Language) -> String {
        let mut out = String::new();
        for (title, list) in [
            (lang.pick("错误", "Errors"), &self.rows),
            (lang.pick("提示", "Warnings"), &self.warnings),
        ] {
            if list.is_empty() {
                continue;
            }
            let header = [
                lang.pick("行", "Row").to_owned(),
                lang.pick("列", "Column").to_owned(),
                lang.pick("说明", "Message").to_owned(),
            ];
            let lines: Vec<[String; 3]> = list
                .iter()
                .map(|i| {
                    let column = match (i.column.as_str(), i.field.as_str()) {
                        ("", "") => "-".to_owned(),
                        (c, f) if c == f || f.is_empty() => c.to_owned(),
                        ("", f) => f.to_owned(),
                        (c, f) => format!("{c} ({f})"),
                    };
                    [i.row.to_string(), column, i.message.clone()]
                })
                .collect();
            let w0 = lines
                .iter()
                .map(|l| width(&l[0]))
                .chain([width(&header[0])])
                .max()
                .unwrap_or(3);
            let w1 = lines
                .iter()
                .map(|l| width(&l[1]))
                .chain([width(&header[1])])
                .max()
                .unwrap_or(6);
            out.push_str(title);
            out.push('\n');
            let mut push = |l: &[String; 3]| {
                out.push_str(&format!(
                    "  {}{}  {}{}  {}\n",
                    " ".repeat(w0 - width(&l[0])),
                    l[0],
                    l[1],
                    " ".repeat(w1 - width(&l[1])),
                    l[2]
                ));
            };
            push(&header);
            push(&[
                "-".repeat(w0),
                "-".repeat(w1),
                "-".repeat(width(&header[2]).max(7)),
            ]);
            for l in &lines {
                push(l);
            }
        }
        out
    }
}

/// Columns a string takes on a terminal: East Asian wide characters take two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let c = c as u32;
            let wide = (0x1100..=0x115F).contains(&c)
                || (0x2E80..=0xA4CF).contains(&c)
                || (0xAC00..=0xD7A3).contains(&c)
                || (0xF900..=0xFAFF).contains(&c)
                || (0xFE30..=0xFE4F).contains(&c)
                || (0xFF00..=0xFF60).contains(&c)
                || (0xFFE0..=0xFFE6).contains(&c)
                || (0x20000..=0x3FFFD).contains(&c);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(row: usize, column: &str, field: &str) -> RowIssue {
        RowIssue {
            row,
            column: column.into(),
            field: field.into(),
            code: "invalid".into(),
            message: "坏".into(),
        }
    }

    #[test]
    fn table_aligns_wide_characters_and_counts_rows() {
        let mut r = Report::new("x".into(), ImportKind::Employers, false);
        r.counts.rows = 5;
        r.rows = vec![
            issue(4, "region", "region"),
            issue(3, "统一社会信用代码", "uscc"),
            issue(4, "", ""),
        ];
        r.finish_issues();
        assert_eq!(r.counts.invalid_rows, 2);
        assert_eq!(r.rows[0].row, 3);
        let t = r.render_table(Language::En);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Errors");
        // Every message starts at the same terminal column.
        let starts: Vec<usize> = lines[3..]
            .iter()
            .map(|l| width(&l[..l.find('坏').unwrap()]))
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{t}");
        assert!(t.contains("统一社会信用代码 (uscc)"));
        assert_eq!(
            r.summary(Language::En),
            "import of employers: 5 row(s), 2 invalid; nothing was written."
        );
    }
}
