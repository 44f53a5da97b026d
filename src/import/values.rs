//! Turning what people type into spreadsheet cells into the API's spellings: 是/否 into
//! booleans, 企业 into `enterprise`, `2019/5/1` into `2019-05-01`, `1-6,9` into months.
//! A value that is not recognised is passed on unchanged where the validator's own
//! message is clear, so there is one source of truth for what is valid.

use serde_json::{Number, Value};

use crate::domain::EmployerKind;

/// 是/否 and the usual spellings of yes and no.
pub fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" | "✓" | "✔" | "有" | "对" => Some(true),
        "否" | "n" | "no" | "false" | "0" | "×" | "✗" | "✘" | "无" | "不是" => Some(false),
        _ => None,
    }
}

/// An employer kind from its API spelling or its Chinese name (企业, 机关, 事业单位,
/// 社会团体, 民办非企业单位) and common variants ([`EmployerKind::from_name`]).
pub fn employer_kind(s: &str) -> Option<EmployerKind> {
    EmployerKind::from_name(s)
}

/// A date as `YYYY-MM-DD`, from `2019-05-01`, `2019/5/1`, `2019.5.1`, `2019年5月1日`,
/// `20190501`, with or without a midnight time. Anything else is returned unchanged
/// (the validator then says what it expects).
pub fn date(s: &str) -> String {
    let t = s.trim();
    let t = t
        .strip_suffix(" 00:00:00")
        .or_else(|| t.strip_suffix("T00:00:00"))
        .or_else(|| t.strip_suffix(" 0:00:00"))
        .or_else(|| t.strip_suffix(" 0:00"))
        .unwrap_or(t);
    let parts: Vec<&str> = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        t.trim_end_matches('日')
            .split(['-', '/', '.', '年', '月'])
            .collect()
    };
    if let [y, m, d] = parts.as_slice() {
        let ok = |p: &str, n: usize| {
            !p.is_empty() && p.len() <= n && p.bytes().all(|b| b.is_ascii_digit())
        };
        if y.len() == 4 && ok(y, 4) && ok(m, 2) && ok(d, 2) {
            if let (Ok(m), Ok(d)) = (m.parse::<u32>(), d.parse::<u32>()) {
                return format!("{y}-{m:02}-{d:02}");
            }
        }
    }
    s.trim().to_owned()
}

/// A decimal amount as typed: thousands separators, currency signs and a trailing 元
/// are removed (`1,173,441.33 元` → `1173441.33`).
pub fn decimal(s: &str) -> String {
    let t = s.trim();
    let t = t.strip_suffix('元').unwrap_or(t);
    t.chars()
        .filter(|c| !matches!(c, ',' | '，' | '¥' | '￥') && !c.is_whitespace())
        .collect()
}

/// A whole number as a JSON number when it is one (so `"12"` and `12` read alike),
/// else the text, for the validator to reject with its own message.
pub fn integer(s: &str) -> Value {
    let t = decimal(s);
    let t = t
        .strip_suffix("个月")
        .or_else(|| t.strip_suffix('月'))
        .unwrap_or(&t);
    match t.parse::<i64>() {
        Ok(n) => Value::Number(Number::from(n)),
        Err(_) => Value::String(s.trim().to_owned()),
    }
}

const CHINESE_DIGITS: [&str; 12] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
];

/// A grade: `2`, `2级`, `二级`, `二` → 2; anything else unchanged.
pub fn grade(s: &str) -> Value {
    let t = s.trim();
    let t = t.strip_suffix('级').unwrap_or(t);
    if let Some(i) = CHINESE_DIGITS.iter().position(|d| *d == t) {
        return Value::Number(Number::from(i + 1));
    }
    integer(t)
}

/// The certificate kind from 残疾人证 / 残疾军人证 and the API spellings.
pub fn certificate_kind(s: &str) -> String {
    let t = s.trim();
    match t {
        "残疾人证" | "残疾证" | "中华人民共和国残疾人证" => "disability".into(),
        "残疾军人证" | "伤残军人证" | "残疾军人" | "中华人民共和国残疾军人证" => {
            "veteran".into()
        }
        other => other.to_ascii_lowercase(),
    }
}

/// Why a months cell cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonthsError {
    /// A part that is not a month number or range.
    Unreadable,
    /// A month outside 1–12.
    OutOfRange(i64),
    /// A range that runs backwards, e.g. `12-1`.
    Backwards,
}

/// Months of the data year from `1-12`, `1,2,3`, `1-6,9`, `1月-6月`, `1、3、5`, `全年`.
pub fn months(s: &str) -> Result<Vec<u8>, MonthsError> {
    let t = s.trim();
    if matches!(t, "全年" | "1-12月" | "all") {
        return Ok((1..=12).collect());
    }
    let mut out = Vec::new();
    for part in t
        .split([',', '，', '、', ';', '；', ' '])
        .filter(|p| !p.trim().is_empty())
    {
        let part = part.trim();
        let (a, b) = match part.split_once(['-', '–', '—', '~', '～', '至', '到']) {
            Some((a, b)) => (month_number(a)?, month_number(b)?),
            None => {
                let m = month_number(part)?;
                (m, m)
            }
        };
        if b < a {
            return Err(MonthsError::Backwards);
        }
        out.extend(a..=b);
    }
    if out.is_empty() {
        return Err(MonthsError::Unreadable);
    }
    Ok(out)
}

fn month_number(s: &str) -> Result<u8, MonthsError> {
    let t = s.trim();
    let t = t
        .strip_suffix("月份")
        .or_else(|| t.strip_suffix('月'))
        .unwrap_or(t)
        .trim();
    let n: i64 = t.parse().map_err(|_| MonthsError::Unreadable)?;
    match n {
        1..=12 => Ok(n as u8),
        // Only a small number counts as a month out of range; a long one may be an
        // identifier typed into the wrong column, and is merely unreadable.
        0..=99 => Err(MonthsError::OutOfRange(n)),
        _ => Err(MonthsError::Unreadable),
    }
}

/// True when an identifier cell holds what Excel writes for a long number it has
/// already rounded (`4.11202E+19`): the digits are lost and must be re-entered.
pub fn is_scientific(s: &str) -> bool {
    let t = s.trim().to_ascii_uppercase();
    match t.split_once("E+") {
        Some((mantissa, exp)) => {
            !mantissa.is_empty()
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && !exp.is_empty()
                && exp.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The month (1–12) a header names: `m1`, `m01`, `month_1`, `1月`, `01月`, `一月`,
/// `1月份`, `1月人数`, `2024年1月在职职工人数`. The header is already normalised.
pub fn month_header(h: &str) -> Option<u8> {
    let ascii = h
        .strip_prefix("month_")
        .or_else(|| h.strip_prefix("month"))
        .or_else(|| h.strip_prefix('m'));
    if let Some(n) = ascii {
        return n.parse::<u8>().ok().filter(|m| (1..=12).contains(m));
    }
    // A leading year: 2024年1月.
    let h = match h.split_once('年') {
        Some((y, rest)) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => h,
    };
    let (num, rest) = h.split_once('月')?;
    let rest = rest.strip_prefix('份').unwrap_or(rest);
    if !matches!(
        rest,
        "" | "人数" | "职工人数" | "在职职工人数" | "在职人数" | "职工数"
    ) {
        return None;
    }
    if let Some(i) = CHINESE_DIGITS.iter().position(|d| *d == num) {
        return u8::try_from(i + 1).ok();
    }
    num.parse::<u8>()
        .ok()
        .filter(|m| (1..=12).contains(m) && !num.starts_with('+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_and_kinds() {
        assert_eq!(yes_no("是"), Some(true));
        assert_eq!(yes_no(" 否 "), Some(false));
        assert_eq!(yes_no("TRUE"), Some(true));
        assert_eq!(yes_no("maybe"), None);
        assert_eq!(
            employer_kind("事业单位"),
            Some(EmployerKind::PublicInstitution)
        );
        assert_eq!(
            employer_kind("民办非企业单位"),
            Some(EmployerKind::PrivateNonEnterprise)
        );
        assert_eq!(employer_kind("Enterprise"), Some(EmployerKind::Enterprise));
        assert_eq!(employer_kind("机关"), Some(EmployerKind::GovernmentAgency));
        assert_eq!(
            employer_kind("社会团体"),
            Some(EmployerKind::SocialOrganization)
        );
        assert_eq!(employer_kind("个体户"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(date("2019-05-01"), "2019-05-01");
        assert_eq!(date("2019/5/1"), "2019-05-01");
        assert_eq!(date("2019.5.1"), "2019-05-01");
        assert_eq!(date("2019年5月1日"), "2019-05-01");
        assert_eq!(date("20190501"), "2019-05-01");
        assert_eq!(date("2019/5/1 0:00"), "2019-05-01");
        assert_eq!(date("2019-05-01 00:00:00"), "2019-05-01");
        // Not recognised: unchanged, for the validator to reject.
        assert_eq!(date("5/1/2019"), "5/1/2019");
        assert_eq!(date("yesterday"), "yesterday");
        // Recognised shape, impossible date: the validator says so.
        assert_eq!(date("2019/2/30"), "2019-02-30");
    }

    #[test]
    fn numbers() {
        assert_eq!(decimal("1,173,441.33 元"), "1173441.33");
        assert_eq!(decimal("￥36,292.00"), "36292.00");
        assert_eq!(integer("12"), json!(12));
        assert_eq!(integer("12个月"), json!(12));
        assert_eq!(integer("12.5"), json!("12.5"));
        assert_eq!(grade("二级"), json!(2));
        assert_eq!(grade("3级"), json!(3));
        assert_eq!(grade("3"), json!(3));
        assert_eq!(grade("重度"), json!("重度"));
        assert_eq!(certificate_kind("残疾军人证"), "veteran");
        assert_eq!(certificate_kind("残疾人证"), "disability");
        assert!(is_scientific("4.11202E+19"));
        assert!(is_scientific("9.13501e+17"));
        assert!(!is_scientific("91350100M000100Y43"));
        assert!(!is_scientific("E+"));
    }

    #[test]
    fn months_cells() {
        assert_eq!(months("1-12"), Ok((1..=12).collect()));
        assert_eq!(months("全年"), Ok((1..=12).collect()));
        assert_eq!(months("1,2,3"), Ok(vec![1, 2, 3]));
        assert_eq!(months("1-3，9"), Ok(vec![1, 2, 3, 9]));
        assert_eq!(months("1月-3月、5月"), Ok(vec![1, 2, 3, 5]));
        assert_eq!(months("7~12"), Ok((7..=12).collect()));
        assert_eq!(months("13"), Err(MonthsError::OutOfRange(13)));
        assert_eq!(months("1-13"), Err(MonthsError::OutOfRange(13)));
        assert_eq!(months("0"), Err(MonthsError::OutOfRange(0)));
        assert_eq!(months("12-1"), Err(MonthsError::Backwards));
        assert_eq!(months("Jan"), Err(MonthsError::Unreadable));
        assert_eq!(months(","), Err(MonthsError::Unreadable));
        assert_eq!(months("99999999999999999999"), Err(MonthsError::Unreadable));
        assert_eq!(months("411202198001010014"), Err(MonthsError::Unreadable));
        assert_eq!(months("-1"), Err(MonthsError::Unreadable));
    }

    #[test]
    fn month_headers() {
        assert_eq!(month_header("m01"), Some(1));
        assert_eq!(month_header("m12"), Some(12));
        assert_eq!(month_header("month_3"), Some(3));
        assert_eq!(month_header("1月"), Some(1));
        assert_eq!(month_header("01月"), Some(1));
        assert_eq!(month_header("十二月"), Some(12));
        assert_eq!(month_header("3月份"), Some(3));
        assert_eq!(month_header("2024年3月在职职工人数"), Some(3));
        assert_eq!(month_header("m13"), None);
        assert_eq!(month_header("13月"), None);
        assert_eq!(month_header("月工资"), None);
        assert_eq!(month_header("在职月份"), None);
        assert_eq!(month_header("monthly_wage"), None);
        assert_eq!(month_header("months"), None);
    }
}
