//! What the columns of an import file mean: each column has an English key (the API
//! field name) and the Chinese headers an officer's spreadsheet would have. Headers are
//! matched after normalising: surrounding spaces, a leading or trailing `*` (the usual
//! "required" mark) and a trailing note in brackets (`编制人数（人）`,
//! `成立日期(YYYY-MM-DD)`) are ignored, and English is case-insensitive with spaces and
//! hyphens read as `_`. An unknown header is an error on row 1 that names it.

use std::collections::HashMap;

use super::reader::{CellProblem, RawTable};
use super::report::RowIssue;
use super::values::month_header;
use crate::domain::Language;

/// One column an import understands.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    /// The key: the API field name (`uscc`, `registered_on`, …).
    pub key: &'static str,
    /// The Chinese header the samples use.
    pub zh: &'static str,
    /// Other headers accepted (normalised form).
    pub aliases: &'static [&'static str],
    /// The column must be present.
    pub required: bool,
}

const fn col(
    key: &'static str,
    zh: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> ColumnDef {
    ColumnDef {
        key,
        zh,
        aliases,
        required,
    }
}

/// Columns of the employers import (one employer per row).
pub const EMPLOYER_COLUMNS: &[ColumnDef] = &[
    col(
        "uscc",
        "统一社会信用代码",
        &["社会信用代码", "信用代码", "统一代码"],
        true,
    ),
    col(
        "name",
        "单位名称",
        &["用人单位名称", "用人单位", "名称", "单位全称"],
        true,
    ),
    col("kind", "单位类型", &["单位性质", "单位类别"], true),
    col(
        "region",
        "行政区划代码",
        &["行政区划", "区划代码", "地区代码", "所属地区代码"],
        true,
    ),
    col(
        "registered_on",
        "成立日期",
        &["登记日期", "注册日期", "成立时间"],
        false,
    ),
    col(
        "contact_email",
        "联系邮箱",
        &["电子邮箱", "邮箱", "电子邮件", "email", "e_mail"],
        false,
    ),
    col(
        "establishment_size",
        "编制人数",
        &["编制数", "核定编制"],
        false,
    ),
    col(
        "committee_member",
        "残工委成员单位",
        &["是否残工委成员单位", "残工委成员"],
        false,
    ),
];

/// The twelve monthly headcount keys.
pub const MONTH_KEYS: [&str; 12] = [
    "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
];

const MONTH_ZH: [&str; 12] = [
    "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
];

/// Columns of the declarations import other than the twelve months (`m01`…`m12`,
/// `1月`…`12月`), which are matched by [`month_header`].
pub const DECLARATION_COLUMNS: &[ColumnDef] = &[
    col(
        "uscc",
        "统一社会信用代码",
        &["社会信用代码", "信用代码", "统一代码"],
        true,
    ),
    // For the reader of the sheet only: neither checked nor stored.
    col(
        "name",
        "单位名称",
        &["用人单位名称", "用人单位", "名称", "单位全称"],
        false,
    ),
    col(
        "average_headcount",
        "在职职工年平均人数",
        &[
            "年平均职工人数",
            "职工年平均人数",
            "在职职工平均人数",
            "平均职工人数",
        ],
        false,
    ),
    col(
        "total_wages",
        "工资总额",
        &["在职职工工资总额", "职工工资总额", "年工资总额"],
        false,
    ),
    col(
        "average_wage",
        "年平均工资",
        &["在职职工年平均工资", "职工年平均工资", "平均工资"],
        false,
    ),
    col(
        "disabled_count",
        "经认证的残疾职工人数",
        &[
            "残疾职工人数",
            "安排残疾人就业人数",
            "已安排残疾人人数",
            "残疾人就业人数",
        ],
        false,
    ),
    col(
        "certificate_no",
        "残疾证号",
        &[
            "残疾人证号",
            "残疾证号码",
            "残疾人证号码",
            "证件号码",
            "证号",
            "残疾军人证号",
        ],
        false,
    ),
    col(
        "certificate_kind",
        "证件类型",
        &["证件种类", "证书类型"],
        false,
    ),
    col("grade", "残疾等级", &["等级", "伤残等级"], false),
    col(
        "months",
        "在职月份",
        &["就业月份", "计算月份", "月份"],
        false,
    ),
    col(
        "employed_from",
        "入职日期",
        &["用工起始日期", "起始日期"],
        false,
    ),
    col(
        "employed_to",
        "离职日期",
        &["用工终止日期", "终止日期"],
        false,
    ),
    col("on_establishment", "是否在编", &["在编"], false),
    col(
        "contract_months",
        "劳动合同期限",
        &["合同期限", "劳动合同月数", "合同月数"],
        false,
    ),
    col(
        "social_insurance_paid",
        "是否足额缴纳社会保险",
        &[
            "足额缴纳社会保险",
            "是否缴纳社保",
            "足额缴纳社保",
            "社会保险",
            "社保",
        ],
        false,
    ),
    col("monthly_wage", "月工资", &["月平均工资", "月工资额"], false),
    col(
        "fresh_graduate",
        "是否应届高校毕业生",
        &["应届高校毕业生", "高校毕业生", "应届毕业生"],
        false,
    ),
];

/// Headers refused with a reason rather than "unknown": personal data the service does
/// not collect (data minimisation, 个人信息保护法 art. 6).
const REFUSED_DECLARATION_HEADERS: &[&str] = &[
    "姓名",
    "残疾人姓名",
    "职工姓名",
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "employee_name",
    "id_number",
];

/// Columns of the bank payments import (one payment per row).
pub const PAYMENT_COLUMNS: &[ColumnDef] = &[
    col(
        "uscc",
        "统一社会信用代码",
        &[
            "社会信用代码",
            "信用代码",
            "统一代码",
            "缴款单位代码",
            "纳税人识别号",
        ],
        true,
    ),
    col(
        "amount",
        "缴款金额",
        &["金额", "交易金额", "实缴金额", "入账金额", "缴款金额（元）"],
        true,
    ),
    col(
        "paid_on",
        "缴款日期",
        &["交易日期", "入账日期", "日期", "到账日期", "date"],
        true,
    ),
    col(
        "bank_reference",
        "银行流水号",
        &[
            "流水号",
            "交易流水号",
            "银行参考号",
            "参考号",
            "凭证号",
            "reference",
        ],
        true,
    ),
    // For the reader of the sheet only: neither checked nor stored.
    col(
        "name",
        "单位名称",
        &["缴款单位", "付款人名称", "户名"],
        false,
    ),
];

/// Which import a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// [`EMPLOYER_COLUMNS`].
    Employers,
    /// [`DECLARATION_COLUMNS`] and the months.
    Declarations,
    /// [`PAYMENT_COLUMNS`].
    Payments,
}

impl Schema {
    fn columns(self) -> &'static [ColumnDef] {
        match self {
            Schema::Employers => EMPLOYER_COLUMNS,
            Schema::Declarations => DECLARATION_COLUMNS,
            Schema::Payments => PAYMENT_COLUMNS,
        }
    }

    /// The key a (normalised) header means.
    pub fn key_of(self, normalized: &str) -> Option<&'static str> {
        let found = self
            .columns()
            .iter()
            .find(|c| c.key == normalized || c.zh == normalized || c.aliases.contains(&normalized));
        if let Some(c) = found {
            return Some(c.key);
        }
        match self {
            Schema::Declarations => {
                month_header(normalized).map(|m| MONTH_KEYS[usize::from(m) - 1])
            }
            Schema::Employers | Schema::Payments => None,
        }
    }

    /// The Chinese header of a key (for messages about a missing column).
    pub fn zh_of(self, key: &str) -> &'static str {
        if let Some(i) = MONTH_KEYS.iter().position(|k| *k == key) {
            return MONTH_ZH[i];
        }
        self.columns()
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.zh)
            .unwrap_or("")
    }

    fn expected_list(self) -> String {
        let mut keys: Vec<String> = self
            .columns()
            .iter()
            .map(|c| format!("{} ({})", c.key, c.zh))
            .collect();
        if self == Schema::Declarations {
            keys.insert(2, "m01…m12 (1月…12月)".into());
        }
        keys.join(", ")
    }
}

/// A header in the form it is matched in.
pub fn normalize_header(h: &str) -> String {
    let mut s = h.trim().trim_start_matches('\u{feff}').trim();
    s = s.trim_matches(['*', '＊']).trim();
    let mut s = s.to_owned();
    // A trailing note in brackets, e.g. 编制人数（人）.
    for _ in 0..2 {
        if s.ends_with([')', '）']) {
            if let Some(open) = s.rfind(['(', '（']).filter(|&i| i > 0) {
                s = s[..open].trim_end().to_owned();
            }
        }
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_whitespace() || c == '-' {
            '_'
        } else {
            c.to_ascii_lowercase()
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_matches('_').to_owned()
}

/// One data row, by column key; only non-empty cells are present.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Row number as the user sees it.
    pub row: usize,
    /// Cell texts by key, in column order. A short vector rather than a map: rows
    /// have a dozen cells, and a 100,000-row file keeps every row until it is written.
    pub values: Vec<(&'static str, String)>,
    /// Faults found while reading the row's cells.
    pub issues: Vec<RowIssue>,
}

impl Record {
    /// The non-empty text of a column.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when any of `keys` has a value.
    pub fn has_any(&self, keys: &[&str]) -> bool {
        self.values.iter().any(|(k, _)| keys.contains(k))
    }
}

/// A file's rows bound to column keys.
#[derive(Debug, Clone)]
pub struct Bound {
    /// Which import.
    pub schema: Schema,
    /// Header text by key, for reports.
    pub headers: HashMap<&'static str, String>,
    /// The rows.
    pub records: Vec<Record>,
}

impl Bound {
    /// True when the file has this column.
    pub fn has_column(&self, key: &str) -> bool {
        self.headers.contains_key(key)
    }

    /// A fault at `row`, column `key` (`""` for the row as a whole).
    pub fn issue(&self, row: usize, key: &str, code: &str, message: impl Into<String>) -> RowIssue {
        RowIssue {
            row,
            column: self
                .headers
                .get(key)
                .cloned()
                .unwrap_or_else(|| self.schema.zh_of(key).to_owned()),
            field: key.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Spreadsheet column letters for a 0-based index: 0 → A, 26 → AA.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Matches the headers to keys and the rows to them. Header faults (unknown,
/// duplicated or missing columns) are returned as row issues on the header row, and
/// then no row is read: every row would be wrong in the same way.
pub fn bind(table: RawTable, schema: Schema, lang: Language) -> Result<Bound, Vec<RowIssue>> {
    let hr = table.header_row;
    let mut issues = Vec::new();
    let mut keys: Vec<Option<&'static str>> = Vec::with_capacity(table.headers.len());
    let mut headers: HashMap<&'static str, String> = HashMap::new();
    let header_issue = |column: &str, field: &str, code: &str, message: String| RowIssue {
        row: hr,
        column: column.to_owned(),
        field: field.to_owned(),
        code: code.to_owned(),
        message,
    };
    for (i, h) in table.headers.iter().enumerate() {
        let norm = normalize_header(h);
        if norm.is_empty() {
            keys.push(None);
            continue;
        }
        match schema.key_of(&norm) {
            Some(key) => {
                if let Some(first) = headers.get(key) {
                    issues.push(header_issue(
                        h,
                        key,
                        "duplicate_column",
                        match lang {
                            Language::Zh => format!("与列“{first}”含义相同（{key}）：请只保留一列"),
                            Language::En => format!(
                                "means the same as column \"{first}\" ({key}): keep one of them"
                            ),
                        },
                    ));
                } else {
                    headers.insert(key, h.clone());
                }
                keys.push(Some(key));
            }
            None if schema == Schema::Declarations
                && REFUSED_DECLARATION_HEADERS.contains(&norm.as_str()) =>
            {
                issues.push(header_issue(
                    h,
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
                // Named by its letter, not its text: in a file without a header row the
                // "header" is the first row of data, certificate numbers and all.
                let letter = column_letter(i);
                issues.push(header_issue(
                    &letter,
                    "",
                    "unknown_column",
                    match lang {
                        Language::Zh => format!(
                            "第 {letter} 列的表头不是可用的列；可用的列：{}",
                            schema.expected_list()
                        ),
                        Language::En => format!(
                            "the header of column {letter} is not a known column; the columns are: {}",
                            schema.expected_list()
                        ),
                    },
                ));
                keys.push(None);
            }
        }
    }
    for c in schema.columns().iter().filter(|c| c.required) {
        if !headers.contains_key(c.key) {
            issues.push(header_issue(
                c.zh,
                c.key,
                "missing_column",
                match lang {
                    Language::Zh => format!("缺少必需的列“{}”（{}）", c.zh, c.key),
                    Language::En => format!("the required column {} ({}) is missing", c.key, c.zh),
                },
            ));
        }
    }
    if schema == Schema::Declarations {
        let present: Vec<&str> = MONTH_KEYS
            .iter()
            .copied()
            .filter(|k| headers.contains_key(k))
            .collect();
        if !present.is_empty() && present.len() < 12 {
            let missing: Vec<&str> = MONTH_KEYS
                .iter()
                .copied()
                .filter(|k| !headers.contains_key(k))
                .collect();
            issues.push(header_issue(
                "",
                "",
                "missing_column",
                match lang {
                    Language::Zh => format!("月度人数须有 12 列，缺少：{}", missing.join(", ")),
                    Language::En => format!(
                        "monthly headcounts need 12 columns; missing: {}",
                        missing.join(", ")
                    ),
                },
            ));
        }
        if present.is_empty() && !headers.contains_key("average_headcount") {
            issues.push(header_issue(
                "",
                "",
                "missing_column",
                lang.pick(
                    "缺少职工人数：需要 12 个月度人数列（1月…12月）或“在职职工年平均人数”列",
                    "staff is missing: give the 12 monthly columns (m01…m12) or average_headcount",
                )
                .to_owned(),
            ));
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let bound_headers = headers.clone();
    let records = table
        .rows
        .into_iter()
        .map(|raw| {
            let mut values = Vec::new();
            let mut issues = Vec::new();
            for (i, text) in raw.cells.into_iter().enumerate() {
                match keys.get(i).copied().flatten() {
                    Some(key) if !text.is_empty() => {
                        values.push((key, text));
                    }
                    Some(_) => {}
                    None if !text.is_empty() => issues.push(RowIssue {
                        row: raw.row,
                        column: column_letter(i),
                        field: String::new(),
                        code: "no_header".into(),
                        message: CellProblem::NoHeader.message(lang),
                    }),
                    None => {}
                }
            }
            for (i, p) in raw.problems {
                let (column, field) = match keys.get(i).copied().flatten() {
                    Some(key) => (
                        bound_headers.get(key).cloned().unwrap_or_default(),
                        key.to_owned(),
                    ),
                    None => (column_letter(i), String::new()),
                };
                let code = match p {
                    CellProblem::LongNumber => "long_number",
                    CellProblem::ExcelError(_) => "excel_error",
                    CellProblem::NotANumber => "not_a_number",
                    CellProblem::NoHeader => "no_header",
                };
                issues.push(RowIssue {
                    row: raw.row,
                    column,
                    field,
                    code: code.into(),
                    message: p.message(lang),
                });
            }
            Record {
                row: raw.row,
                values,
                issues,
            }
        })
        .collect();
    Ok(Bound {
        schema,
        headers,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::RawRow;

    fn table(headers: &[&str], rows: &[&[&str]]) -> RawTable {
        RawTable {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            header_row: 1,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| RawRow {
                    row: i + 2,
                    cells: r.iter().map(|s| s.to_string()).collect(),
                    problems: vec![],
                })
                .collect(),
            encoding: None,
        }
    }

    #[test]
    fn headers_normalise() {
        assert_eq!(normalize_header(" *统一社会信用代码 "), "统一社会信用代码");
        assert_eq!(normalize_header("编制人数（人）"), "编制人数");
        assert_eq!(normalize_header("成立日期(YYYY-MM-DD)"), "成立日期");
        assert_eq!(normalize_header("Contact Email"), "contact_email");
        assert_eq!(normalize_header("E-mail"), "e_mail");
        assert_eq!(normalize_header("劳动合同期限（月）"), "劳动合同期限");
        assert_eq!(normalize_header("(x)"), "(x)");
    }

    #[test]
    fn chinese_and_english_headers_bind() {
        let t = table(
            &[
                "统一社会信用代码",
                "单位名称",
                "单位类型",
                "行政区划代码",
                "Registered_On",
                "",
                "编制人数（人）",
            ],
            &[
                &["A", "甲", "企业", "411200", "", "", "5"],
                &["", "", "", "", "", "stray", ""],
            ],
        );
        let b = bind(t, Schema::Employers, Language::En).unwrap();
        assert_eq!(b.headers["uscc"], "统一社会信用代码");
        assert_eq!(b.headers["registered_on"], "Registered_On");
        assert_eq!(b.records[0].get("establishment_size"), Some("5"));
        assert_eq!(b.records[0].get("registered_on"), None);
        assert_eq!(b.records[1].issues[0].column, "F");
        assert_eq!(b.records[1].issues[0].code, "no_header");
    }

    #[test]
    fn unknown_duplicate_and_missing_columns_are_row_1_errors() {
        let t = table(&["uscc", "统一社会信用代码", "name", "colour"], &[]);
        let e = bind(t, Schema::Employers, Language::En).unwrap_err();
        let codes: Vec<(&str, &str)> = e
            .iter()
            .map(|i| (i.column.as_str(), i.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("统一社会信用代码", "duplicate_column"),
                ("D", "unknown_column"),
                ("单位类型", "missing_column"),
                ("行政区划代码", "missing_column"),
            ]
        );
        assert!(e.iter().all(|i| i.row == 1));
        assert!(e[1].message.contains("column D"));
        assert!(!e[1].message.contains("colour"));
    }

    #[test]
    fn declaration_months_must_be_all_twelve_and_names_are_refused() {
        let mut h: Vec<&str> = vec!["uscc", "姓名"];
        h.extend(MONTH_ZH.iter().take(11));
        let e = bind(table(&h, &[]), Schema::Declarations, Language::En).unwrap_err();
        assert_eq!(e[0].code, "personal_data_column");
        assert_eq!(e[1].code, "missing_column");
        assert!(e[1].message.contains("m12"), "{}", e[1].message);
        let e = bind(
            table(&["uscc", "工资总额"], &[]),
            Schema::Declarations,
            Language::En,
        )
        .unwrap_err();
        assert!(e[0].message.contains("average_headcount"));
        let ok = bind(
            table(&["统一社会信用代码", "在职职工年平均人数", "残疾证号"], &[]),
            Schema::Declarations,
            Language::Zh,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
