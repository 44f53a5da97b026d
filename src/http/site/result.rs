//! The calculator's result as the page shows it: every figure of the API's answer, the
//! parameters with their citations in words, and what would change the result.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

use crate::domain::{Language, RegionCode};
use crate::http::AppState;
use crate::wire::{CalcResponse, ParamOut};

use super::calculator::*;

/// A decimal fraction as a percentage (`0.016` → `1.6%`).
fn percent(v: &Value) -> Option<String> {
    let d = Decimal::from_str(v.as_str()?).ok()?;
    Some(format!("{}%", (d * Decimal::ONE_HUNDRED).normalize()))
}

/// A parameter's value in words, for the parameters the response names.
pub(super) fn param_text(key: &str, v: &Value, lang: Language) -> String {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let zh = lang == Language::Zh;
    match key {
        "quota_ratio" => percent(v).unwrap_or_else(|| v.to_string()),
        "wage_cap_multiple" => {
            let m = v.as_str().unwrap_or_default();
            if zh {
                format!("社会平均工资的 {m} 倍")
            } else {
                format!("{m} × the social average wage")
            }
        }
        "social_average_wage" => format!(
            "{} {}",
            v.as_str().unwrap_or_default(),
            lang.pick("元/年", "yuan a year")
        ),
        "minimum_wage_monthly" => format!(
            "{} {}",
            v.as_str().unwrap_or_default(),
            lang.pick("元/月", "yuan a month")
        ),
        "reduction_tiers" => {
            let pct = |k: &str| percent(&json!(s(k))).unwrap_or_default();
            if zh {
                format!(
                    "安排比例达到 {} 的按应缴额的 {} 缴纳，不足 {} 的按 {} 缴纳",
                    pct("threshold"),
                    pct("share_at_or_above"),
                    pct("threshold"),
                    pct("share_below")
                )
            } else {
                format!(
                    "{} of the fee at a proportion of {} or more, {} below",
                    pct("share_at_or_above"),
                    pct("threshold"),
                    pct("share_below")
                )
            }
        }
        "exemption_rule" => match (s("kind"), v.get("max_staff")) {
            ("small_enterprise", Some(n)) => {
                let years = v
                    .get("max_years_since_registration")
                    .and_then(Value::as_u64);
                match (zh, years) {
                    (true, None) => format!("在职职工 {n} 人（含）以下的企业免征"),
                    (true, Some(y)) => {
                        format!("在职职工 {n} 人（含）以下、自工商登记注册之日起 {y} 年内的企业免征")
                    }
                    (false, None) => format!("enterprises with {n} staff or fewer are exempt"),
                    (false, Some(y)) => format!(
                        "enterprises with {n} staff or fewer, within {y} years of registration, are exempt"
                    ),
                }
            }
            ("none", _) => lang.pick("无", "none").to_owned(),
            _ => generic(v),
        },
        "fresh_graduate_full_year" => match v.as_bool() {
            Some(true) => lang
                .pick(
                    "当年新招用的高校毕业生计入超过 6 个月的，按全年计",
                    "a fresh graduate counted more than 6 months counts the whole year",
                )
                .to_owned(),
            Some(false) => lang.pick("不适用", "does not apply").to_owned(),
            None => generic(v),
        },
        "reward_rule" => match s("kind") {
            "none" => {
                let note = s("note");
                if note.is_empty() {
                    lang.pick("无", "none").to_owned()
                } else {
                    format!("{}（{note}）", lang.pick("无", "none"))
                }
            }
            _ => generic(v),
        },
        "surcharge" => {
            let rate = Decimal::from_str(s("daily_rate"))
                .map(|d| (d * Decimal::ONE_THOUSAND).normalize().to_string())
                .unwrap_or_default();
            let capped = v.get("capped_at_principal").and_then(Value::as_bool) == Some(true);
            match (zh, capped) {
                (true, true) => format!("每日 {rate}‰，不超过欠缴金额"),
                (true, false) => format!("每日 {rate}‰"),
                (false, true) => format!("{rate}‰ a day, at most the amount unpaid"),
                (false, false) => format!("{rate}‰ a day"),
            }
        }
        "filing_deadline" | "payment_due" => v
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map_or_else(|| generic(v), |d| super::date_text(d, lang)),
        _ => generic(v),
    }
}

/// Any other value: its parts as `key: value`.
pub(super) fn generic(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", generic(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Array(a) => a.iter().map(generic).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

pub(crate) fn result_view(
    state: &AppState,
    r: &CalcResponse,
    rows: &[usize],
    what_ifs: Vec<WhatIf>,
    lang: Language,
) -> ResultView {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let yuan = l("元", "yuan");
    let persons = l("人", "persons");
    let fig = |label, value: &str, unit| Figure {
        label,
        value: value.to_owned(),
        unit,
        main: false,
    };
    let mut figures = vec![
        fig(
            l("在职职工年平均人数 N", "Average staff N"),
            &r.average_headcount,
            persons,
        ),
        Figure {
            label: l("安排比例 q", "Quota ratio q"),
            value: percent(&r.parameters.quota_ratio.value).unwrap_or_default(),
            unit: "",
            main: false,
        },
        fig(
            l("应安排残疾人数 N × q", "Required N × q"),
            &r.required,
            persons,
        ),
        fig(
            l(
                "已安排残疾人数（加权）D",
                "Disabled employees counted D (weighted)",
            ),
            &r.disabled_counted,
            persons,
        ),
        fig(l("未按比例安排人数", "Shortfall"), &r.shortfall, persons),
    ];
    if let Some(ratio) = &r.employment_ratio {
        figures.push(Figure {
            label: l("实际安排比例 D ÷ N", "Proportion employed D ÷ N"),
            value: percent(&json!(ratio)).unwrap_or_else(|| ratio.clone()),
            unit: "",
            main: false,
        });
    }
    if let Some(w) = &r.average_wage {
        figures.push(fig(l("职工年平均工资 W", "Average annual wage W"), w, yuan));
    }
    if let Some(w) = &r.wage_used {
        figures.push(fig(
            l("计征工资（封顶后）", "Wage used (after the cap)"),
            w,
            yuan,
        ));
    }
    figures.push(fig(
        l("应缴额（减缴前）", "Fee before reduction"),
        &r.fee_due,
        yuan,
    ));
    figures.push(fig(l("减缴", "Reduction"), &r.reduction, yuan));
    figures.push(Figure {
        label: l("应缴保障金", "Levy payable"),
        value: r.levy_payable.clone(),
        unit: yuan,
        main: true,
    });
    if r.over_quota != "0.0000" {
        figures.push(fig(
            l("超比例人数", "Over the quota"),
            &r.over_quota,
            persons,
        ));
        figures.push(fig(l("超比例奖励", "Over-quota reward"), &r.reward, yuan));
    }
    let exemption = r.exemption.as_ref().map(|e| {
        let rule = param_text(
            "exemption_rule",
            &json!({"kind": e.rule, "max_staff": e.max_staff,
                    "max_years_since_registration": e.max_years_since_registration}),
            lang,
        );
        format!("{rule}（{}）", e.citation)
    });
    let p = &r.parameters;
    let mut params = Vec::new();
    let mut add = |label: &'static str, key: &str, o: Option<&ParamOut>| {
        if let Some(o) = o {
            params.push(ParamRow {
                label,
                value: param_text(key, &o.value, lang),
                citation: o.citation.clone(),
                provisional: o.provisional,
                overridden: o.overridden,
            });
        }
    };
    add(
        l("安排比例", "Quota ratio"),
        "quota_ratio",
        Some(&p.quota_ratio),
    );
    add(
        l("工资封顶倍数", "Wage cap"),
        "wage_cap_multiple",
        p.wage_cap_multiple.as_ref(),
    );
    add(
        l("社会平均工资", "Social average wage"),
        "social_average_wage",
        p.social_average_wage.as_ref(),
    );
    add(
        l("月最低工资标准", "Monthly minimum wage"),
        "minimum_wage_monthly",
        p.minimum_wage_monthly.as_ref(),
    );
    add(
        l("分档减缴", "Reduction tiers"),
        "reduction_tiers",
        p.reduction_tiers.as_ref(),
    );
    add(
        l("小微企业免征", "Small-employer exemption"),
        "exemption_rule",
        Some(&p.exemption_rule),
    );
    add(
        l("高校毕业生按全年计", "Fresh graduates count a full year"),
        "fresh_graduate_full_year",
        Some(&p.fresh_graduate_full_year),
    );
    add(
        l("超比例奖励", "Over-quota reward"),
        "reward_rule",
        Some(&p.reward_rule),
    );
    add(
        l("滞纳金", "Late-payment surcharge"),
        "surcharge",
        Some(&p.surcharge),
    );
    add(
        l("申报截止", "Declaration deadline"),
        "filing_deadline",
        Some(&p.filing_deadline),
    );
    add(
        l("缴纳截止", "Payment due"),
        "payment_due",
        Some(&p.payment_due),
    );

    let employees = r
        .employees
        .iter()
        .map(|e| EmployeeRow {
            number: rows.get(e.index).copied().unwrap_or(e.index) + 1,
            certificate: e.certificate.clone(),
            grade: match lang {
                Language::Zh => format!("{} 级，按 {} 人计", e.grade, e.weight),
                Language::En => format!("grade {}, weight {}", e.grade, e.weight),
            },
            months: match lang {
                Language::Zh => format!(
                    "在职 {} 个月，计入 {} 个月",
                    e.employed_months.len(),
                    e.counted_months
                ),
                Language::En => format!(
                    "{} of {} months employed",
                    e.counted_months,
                    e.employed_months.len()
                ),
            },
            excluded: e.excluded_detail.clone().unwrap_or_default(),
        })
        .collect();
    let region_name = r
        .region
        .parse::<RegionCode>()
        .map(|c| {
            let (zh, en) = state.book.region_names(c);
            lang.pick(&zh, &en).to_owned()
        })
        .unwrap_or_else(|_| r.region.clone());
    ResultView {
        levy_payable: r.levy_payable.clone(),
        levy_year: r.levy_year,
        data_year: r.data_year,
        region_name,
        as_of: NaiveDate::parse_from_str(&r.as_of, "%Y-%m-%d")
            .map_or_else(|_| r.as_of.clone(), |d| super::date_text(d, lang)),
        figures,
        exemption,
        steps: r.explanation.iter().map(|s| s.text().to_owned()).collect(),
        params,
        employees,
        warnings: r.warnings.clone(),
        provisional_note: r.provisional_note.clone(),
        what_if: r.what_if,
        what_ifs,
    }
}
