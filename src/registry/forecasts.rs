//! In-year forecasts (docs/forecast.md): the months of the current year an employer has
//! entered so far, carried forward to December under stated assumptions, and projected
//! with the calculator's own validation and engine: the projection is the levy the
//! engine computes for the carried-forward year, as if declared in the next levy year.
//! Also what it takes to reach 1 % and the full ratio, and the warning step that mails
//! an employer whose projection falls below a configured line, once per point.

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::db::audit::{self, AuditEntry};
use crate::db::employers::Employer;
use crate::db::forecasts::{self as repo, ForecastRow, NewForecast};
use crate::db::outbox;
use crate::db::{AnyConnection, DbError};
use crate::domain::forecast::{hire_advice, reaches, HireAdvice, Line};
use crate::domain::levy::{calculate, ExplainMode, LevyResult};
use crate::domain::money::format_money;
use crate::domain::{Language, PolicyProvider, RegionCode, Said};
use crate::mail::Templates;
use crate::registry::declarations::calc_request_for;
use crate::wire::{
    build_response, levy_field_error, parse_request, unknown_key_pointer, CalcResponse, FieldError,
    ParsedRequest,
};

/// The fields a forecast body may have.
pub const FORECAST_FIELDS: &[&str] = &[
    "monthly_headcount",
    "wages_so_far",
    "average_wage",
    "disabled_employees",
];

/// Largest month-end headcount accepted (the calculator's bound).
const MAX_STAFF: u64 = 10_000_000;

/// Largest money amount accepted, yuan (the calculator's bound).
const MAX_MONEY: Decimal = Decimal::from_parts(0x107A_4000, 0x5AF3, 0, false, 0);

/// How far back a published social average wage is looked for to stand in for the
/// current year's, which is published only after the year (docs/forecast.md).
const STAND_IN_YEARS: i32 = 10;

/// Where the annual average wage of the projection comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WageBasis {
    /// The wages paid so far, annualised per person-month:
    /// `W = round2(wages × 12 / Σ headcounts entered)`.
    SoFar {
        /// Wages paid in the months entered, yuan.
        wages: Decimal,
        /// Σ of the month-end headcounts entered.
        person_months: u64,
    },
    /// An average annual wage the employer gives (e.g. last year's), taken as it is.
    Given,
    /// No staff in the months entered: no wage is needed.
    NoStaff,
}

/// A social average wage standing in for the data year's, not yet published.
#[derive(Debug, Clone, PartialEq)]
pub struct StandIn {
    /// The data year of the figure used.
    pub data_year: i32,
    /// The figure, yuan per year.
    pub value: Decimal,
}

/// A validated forecast with its carried-forward year.
#[derive(Debug, Clone)]
pub struct ParsedForecast {
    /// The calendar year entered (the data year).
    pub year: i32,
    /// Months entered, January first (1–12).
    pub months_entered: u8,
    /// The body in canonical form, as stored.
    pub body_json: String,
    /// Roster lines in the body.
    pub roster_lines: usize,
    /// The last month's headcount, carried forward.
    pub last_headcount: u32,
    /// Roster lines employed at the end of the last month entered, carried forward.
    pub carried_people: usize,
    /// Where the average wage comes from.
    pub wage_basis: WageBasis,
    /// The average wage used, when there is one.
    pub average_wage: Option<Decimal>,
    /// The social average wage standing in for the data year's, when one does.
    pub stand_in: Option<StandIn>,
    /// The carried-forward year, validated: its policy and engine input.
    pub parsed: ParsedRequest,
}

/// A line and what it takes to reach it.
#[derive(Debug, Clone, Serialize)]
pub struct WhatItTakes {
    /// `one_percent` or `full_ratio`.
    pub line: &'static str,
    /// Reached by the projection as it stands.
    pub reached: bool,
    /// The latest month by which one more full-time disabled employee reaches it.
    pub hire_one_by_month: Option<u8>,
    /// More than one needed: how many, from `from_month`.
    pub hires_needed: Option<u32>,
    /// The first month still to come, when more than one is needed.
    pub from_month: Option<u8>,
    /// The sentence, in the caller's language.
    pub text: String,
}

/// One assumption of the projection.
#[derive(Debug, Clone, Serialize)]
pub struct Assumption {
    /// Stable code.
    pub code: &'static str,
    /// The sentence, in the caller's language.
    pub text: String,
}

/// The projection of a forecast.
#[derive(Debug, Clone, Serialize)]
pub struct Projection {
    /// The calendar year entered.
    pub year: i32,
    /// The levy year the projected levy is declared in (`year + 1`).
    pub levy_year: i32,
    /// Months entered so far.
    pub months_entered: u8,
    /// Where the average wage comes from: `wages_so_far`, `average_wage` or `no_staff`.
    pub wage_basis: &'static str,
    /// The assumptions, in order.
    pub assumptions: Vec<Assumption>,
    /// The engine's calculation of the carried-forward year (certificates masked).
    pub levy: CalcResponse,
    /// Below the employment ratio of the lower tier (1 %).
    pub below_one_percent: bool,
    /// Below the full quota ratio (a shortfall).
    pub below_full_ratio: bool,
    /// What it takes to reach 1 % and the full ratio.
    pub what_it_takes: Vec<WhatItTakes>,
}

fn fe(
    pointer: impl Into<String>,
    code: &'static str,
    zh: &str,
    en: &str,
    lang: Language,
) -> FieldError {
    FieldError {
        pointer: pointer.into(),
        code,
        message: lang.pick(zh, en).to_owned(),
    }
}

fn money(v: &Value) -> Option<Decimal> {
    let d = match v {
        Value::String(s) => crate::wire::fields::parse_decimal_text(s)?,
        Value::Number(n) => crate::wire::fields::parse_decimal_text(&n.to_string())?,
        _ => return None,
    };
    (!d.is_sign_negative() && d.scale() <= 2 && d <= MAX_MONEY).then_some(d)
}

/// The month-end headcounts entered, checked.
fn headcounts(body: &Map<String, Value>, lang: Language, errors: &mut Vec<FieldError>) -> Vec<u32> {
    let Some(v) = body.get("monthly_headcount") else {
        errors.push(fe(
            "/monthly_headcount",
            "required",
            "必须填写本年已过各月的月末在职职工人数（1 月起，1–12 个数）",
            "the month-end headcounts of the months so far are required (January first, 1 to 12 numbers)",
            lang,
        ));
        return vec![];
    };
    let Some(list) = v.as_array().filter(|l| (1..=12).contains(&l.len())) else {
        errors.push(fe(
            "/monthly_headcount",
            "invalid",
            "月末在职职工人数须为 1–12 个数的列表（1 月起，每个已过的月份一个）",
            "must be a list of 1 to 12 numbers (January first, one per month so far)",
            lang,
        ));
        return vec![];
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, x) in list.iter().enumerate() {
        match x.as_u64().filter(|n| *n <= MAX_STAFF) {
            Some(n) => out.push(u32::try_from(n).unwrap_or(u32::MAX)),
            None => errors.push(fe(
                format!("/monthly_headcount/{i}"),
                "invalid",
                "月末在职职工人数须为 0 至 10000000 之间的整数",
                "a month-end headcount must be a whole number from 0 to 10000000",
                lang,
            )),
        }
    }
    out
}

/// The roster with each line employed at the end of month `m` carried forward to
/// December; a listed month after `m` is a fault (only months so far are entered).
fn carried_roster(
    body: &Map<String, Value>,
    m: u8,
    lang: Language,
    errors: &mut Vec<FieldError>,
) -> (Vec<Value>, usize) {
    let Some(v) = body.get("disabled_employees") else {
        return (vec![], 0);
    };
    let Some(list) = v.as_array() else {
        // The calculator's own message for a roster that is not a list.
        return (vec![v.clone()], 0);
    };
    let mut carried = 0;
    let mut out = Vec::with_capacity(list.len());
    for (i, row) in list.iter().enumerate() {
        let mut row = row.clone();
        if let Some(months) = row.get_mut("months").and_then(Value::as_array_mut) {
            let mut seen_last = false;
            for (j, x) in months.iter().enumerate() {
                match x.as_u64() {
                    Some(k) if k > u64::from(m) && k <= 12 => errors.push(FieldError {
                        pointer: format!("/disabled_employees/{i}/months/{j}"),
                        code: "after_months_entered",
                        message: match lang {
                            Language::Zh => format!("{k} 月尚未填报（已填报 1–{m} 月）：只填写已过的月份，之后的月份由预测按在职顺延"),
                            Language::En => format!("month {k} is not entered yet (months 1-{m} are): give only the months so far; the forecast carries the rest forward"),
                        },
                    }),
                    Some(k) if k == u64::from(m) => seen_last = true,
                    _ => {}
                }
            }
            if seen_last {
                carried += 1;
                for k in (m + 1)..=12 {
                    months.push(json!(k));
                }
            }
        } else if row.get("employed_from").is_some()
            && row.get("employed_to").is_none_or(Value::is_null)
        {
            // Still employed: the period runs to December by itself.
            carried += 1;
        }
        out.push(row);
    }
    (out, carried)
}

/// Where a fault of the carried-forward request belongs in the forecast body.
fn to_body_pointer(p: &str, basis: &WageBasis) -> String {
    if let Some(rest) = p.strip_prefix("/staff/monthly_headcount") {
        return format!("/monthly_headcount{rest}");
    }
    if p == "/staff" {
        return "/monthly_headcount".into();
    }
    if p == "/average_wage" || p == "/total_wages" {
        return match basis {
            WageBasis::Given => "/average_wage".into(),
            _ => "/wages_so_far".into(),
        };
    }
    if p == "/levy_year" {
        return "/path/year".into();
    }
    if p == "/region" || p.starts_with("/employer") {
        return format!("/employer_record{p}");
    }
    p.to_owned()
}

/// The latest published social average wage of the region before `year`, from the
/// packs in force on `as_of`.
fn stand_in(
    policy: &dyn PolicyProvider,
    region: RegionCode,
    as_of: NaiveDate,
    year: i32,
) -> Option<StandIn> {
    (1..=STAND_IN_YEARS).find_map(|back| {
        let y = year - back;
        let p = policy.resolve(region, as_of, y).ok()?;
        p.social_average_wage.map(|c| StandIn {
            data_year: y,
            value: c.value,
        })
    })
}

/// Validates a forecast body of `employer` for calendar year `year`, collecting every
/// fault (pointers into the body), and builds its carried-forward year.
pub fn parse(
    policy: &dyn PolicyProvider,
    employer: &Employer,
    year: i32,
    body: &Value,
    lang: Language,
) -> Result<ParsedForecast, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![fe(
            "",
            "not_object",
            "请求体须为 JSON 对象",
            "the body must be a JSON object",
            lang,
        )]);
    };
    let mut errors: Vec<FieldError> = obj
        .keys()
        .filter(|k| !FORECAST_FIELDS.contains(&k.as_str()))
        .map(|k| FieldError {
            pointer: unknown_key_pointer("", k),
            code: "unknown_field",
            message: match lang {
                Language::Zh => format!("未知字段；可用字段：{}", FORECAST_FIELDS.join("、")),
                Language::En => format!("unknown field; allowed: {}", FORECAST_FIELDS.join(", ")),
            },
        })
        .collect();
    let h = headcounts(obj, lang, &mut errors);
    let m = u8::try_from(h.len()).unwrap_or(12);
    let person_months: u64 = h.iter().map(|&x| u64::from(x)).sum();
    let last = h.last().copied().unwrap_or(0);
    let so_far = obj.get("wages_so_far");
    let given = obj.get("average_wage");
    let (basis, average_wage) = match (so_far, given) {
        (Some(_), Some(_)) => {
            errors.push(fe(
                "/average_wage",
                "conflict",
                "wages_so_far（本年已发工资总额）与 average_wage（年平均工资）只能填写其一",
                "give either wages_so_far or average_wage, not both",
                lang,
            ));
            (WageBasis::Given, None)
        }
        (Some(v), None) => match money(v) {
            Some(w) if person_months > 0 => {
                let avg = crate::domain::levy::exact::mul_div_round(
                    &[w, Decimal::from(12)],
                    Decimal::from(person_months),
                    2,
                );
                (
                    WageBasis::SoFar {
                        wages: w,
                        person_months,
                    },
                    avg,
                )
            }
            Some(_) => (WageBasis::NoStaff, None),
            None => {
                errors.push(fe(
                    "/wages_so_far",
                    "invalid",
                    "本年已发工资总额须为不小于 0 的金额（元，至多两位小数）",
                    "the wages paid so far must be an amount of at least 0 (yuan, at most 2 decimals)",
                    lang,
                ));
                (WageBasis::NoStaff, None)
            }
        },
        (None, Some(v)) => match money(v) {
            Some(w) => (WageBasis::Given, Some(w)),
            None => {
                errors.push(fe(
                    "/average_wage",
                    "invalid",
                    "年平均工资须为不小于 0 的金额（元，至多两位小数）",
                    "the average annual wage must be an amount of at least 0 (yuan, at most 2 decimals)",
                    lang,
                ));
                (WageBasis::Given, None)
            }
        },
        (None, None) if person_months > 0 || h.is_empty() => {
            errors.push(fe(
                "/wages_so_far",
                "required",
                "须填写本年已发工资总额（wages_so_far）或年平均工资（average_wage，例如上年的）之一",
                "give wages_so_far (wages paid so far this year) or average_wage (e.g. last year's)",
                lang,
            ));
            (WageBasis::NoStaff, None)
        }
        (None, None) => (WageBasis::NoStaff, None),
    };
    let (roster, carried_people) = carried_roster(obj, m.max(1), lang, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut full = h.clone();
    full.resize(12, last);
    let mut year_body = Map::new();
    year_body.insert("staff".into(), json!({ "monthly_headcount": full }));
    if let Some(w) = average_wage {
        year_body.insert("average_wage".into(), json!(format_money(w)));
    }
    if obj.contains_key("disabled_employees") {
        year_body.insert("disabled_employees".into(), Value::Array(roster));
    }
    let mut req = calc_request_for(employer, year + 1, &Value::Object(year_body));
    let mut stood_in = None;
    let parsed = match parse_request(policy, &req, lang) {
        Ok(p) => p,
        Err(e)
            if !e.is_empty()
                && e.iter()
                    .all(|x| x.pointer == "/overrides/social_average_wage") =>
        {
            // The data year is the current one: its social average wage is published
            // only after it ends. The latest published figure stands in (docs/forecast.md).
            let found = employer.region.parse::<RegionCode>().ok().and_then(|r| {
                let as_of = policy.default_as_of(r, year + 1).ok()?;
                stand_in(policy, r, as_of, year)
            });
            let Some(s) = found else {
                return Err(e);
            };
            if let Some(o) = req.as_object_mut() {
                o.insert(
                    "overrides".into(),
                    json!({ "social_average_wage": format_money(s.value) }),
                );
            }
            stood_in = Some(s);
            parse_request(policy, &req, lang)?
        }
        Err(e) => {
            return Err(e
                .into_iter()
                .map(|mut x| {
                    x.pointer = to_body_pointer(&x.pointer, &basis);
                    x
                })
                .collect())
        }
    };
    let roster_lines = obj
        .get("disabled_employees")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    Ok(ParsedForecast {
        year,
        months_entered: m,
        body_json: serde_json::to_string(body).unwrap_or_default(),
        roster_lines,
        last_headcount: last,
        carried_people,
        wage_basis: basis,
        average_wage,
        stand_in: stood_in,
        parsed,
    })
}

fn assumptions(f: &ParsedForecast, lang: Language) -> Vec<Assumption> {
    let (m, y) = (f.months_entered, f.year);
    let zh = lang == Language::Zh;
    let mut out = vec![Assumption {
        code: "levy_year",
        text: if zh {
            format!(
                "按 {} 年度征收（以 {y} 年为数据年度）的规定计算，政策取 {} 时有效者",
                y + 1,
                f.parsed.policy.as_of
            )
        } else {
            format!(
                "computed as the levy of levy year {} (data year {y}), under the rules in force on {}",
                y + 1,
                f.parsed.policy.as_of
            )
        },
    }];
    if m < 12 {
        out.push(Assumption {
            code: "headcount_carried",
            text: if zh {
                format!(
                    "已填报 1–{m} 月；{}–12 月的月末在职职工人数按 {m} 月的 {} 人计",
                    m + 1,
                    f.last_headcount
                )
            } else {
                format!(
                    "months 1-{m} are entered; the month-end headcount of months {}-12 is taken as month {m}'s: {}",
                    m + 1,
                    f.last_headcount
                )
            },
        });
        out.push(Assumption {
            code: "roster_carried",
            text: if zh {
                format!(
                    "{m} 月末在职的残疾职工（{} 人）视为在职至 12 月，条件与已填报的相同；未填报的新招用人员不计",
                    f.carried_people
                )
            } else {
                format!(
                    "the disabled employees employed at the end of month {m} ({}) stay to December on the same terms; no one not entered is counted",
                    f.carried_people
                )
            },
        });
    } else {
        out.push(Assumption {
            code: "full_year_entered",
            text: lang
                .pick(
                    "12 个月均已填报：无需顺延",
                    "all 12 months are entered: nothing is carried forward",
                )
                .to_owned(),
        });
    }
    out.push(Assumption {
        code: "wage_basis",
        text: match (f.wage_basis, f.average_wage) {
            (WageBasis::SoFar { wages, person_months }, Some(w)) => {
                if zh {
                    format!(
                        "年平均工资按本年已发工资总额 {} 元 ÷ 已填报月份的人月数 {person_months} × 12 = {} 元计（已过月份的工资水平顺延至年底）",
                        format_money(wages),
                        format_money(w)
                    )
                } else {
                    format!(
                        "the average annual wage is the wages paid so far, {} yuan, ÷ the person-months entered, {person_months}, × 12 = {} yuan (the pay of the months so far carried to December)",
                        format_money(wages),
                        format_money(w)
                    )
                }
            }
            (_, Some(w)) => {
                if zh {
                    format!("年平均工资按填报的 {} 元计（例如上年的年平均工资）", format_money(w))
                } else {
                    format!(
                        "the average annual wage is the one given, {} yuan (e.g. last year's)",
                        format_money(w)
                    )
                }
            }
            _ => lang
                .pick(
                    "已填报月份没有在职职工：不需要工资数",
                    "no staff in the months entered: no wage figure is needed",
                )
                .to_owned(),
        },
    });
    if let Some(s) = &f.stand_in {
        out.push(Assumption {
            code: "social_average_wage_stand_in",
            text: if zh {
                format!(
                    "{y} 年度的社会平均工资尚未公布：工资封顶按已公布的 {} 年度数 {} 元计，结果为估算",
                    s.data_year,
                    format_money(s.value)
                )
            } else {
                format!(
                    "the social average wage of {y} is not published yet: the wage cap uses the latest published one, of {}, {} yuan; the result is an estimate",
                    s.data_year,
                    format_money(s.value)
                )
            },
        });
    }
    out
}

fn month_name(m: u8, lang: Language) -> String {
    match lang {
        Language::Zh => format!("{m} 月"),
        Language::En => [
            "",
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
        .get(usize::from(m))
        .copied()
        .unwrap_or("?")
        .to_owned(),
    }
}

fn take_text(line: Line, a: &HireAdvice, lang: Language) -> String {
    let (zh_line, en_line) = match line {
        Line::OnePercent => ("安排比例达到 1%", "a ratio of 1 %"),
        Line::FullRatio => ("足额安排（达到规定比例）", "the full quota ratio"),
    };
    let zh = lang == Language::Zh;
    match *a {
        HireAdvice::Reached => {
            if zh {
                format!("按预测已{zh_line}")
            } else {
                format!("the projection reaches {en_line}")
            }
        }
        HireAdvice::OneBy { by_month } => {
            if zh {
                format!(
                    "最迟在 {} 底前新招用 1 名全职残疾职工并在职至 12 月，即可{zh_line}",
                    month_name(by_month, lang)
                )
            } else {
                format!(
                    "hire one full-time disabled employee by the end of {} (employed to December) to reach {en_line}",
                    month_name(by_month, lang)
                )
            }
        }
        HireAdvice::Several { count, from_month } => {
            if zh {
                format!(
                    "1 名已不够：须自 {} 起新招用 {count} 名全职残疾职工并在职至 12 月，才能{zh_line}",
                    month_name(from_month, lang)
                )
            } else {
                format!(
                    "one is not enough: {count} full-time disabled employees from {} (employed to December) reach {en_line}",
                    month_name(from_month, lang)
                )
            }
        }
        HireAdvice::NoMonthsLeft => {
            if zh {
                format!("12 个月均已填报，本年已无法再{zh_line}")
            } else {
                format!("all 12 months are entered: {en_line} can no longer be reached this year")
            }
        }
        HireAdvice::OutOfReach { from_month } => {
            if zh {
                format!(
                    "自 {} 起新招用 {} 名也不能{zh_line}",
                    month_name(from_month, lang),
                    crate::domain::forecast::MAX_HIRES
                )
            } else {
                format!(
                    "even {} hires from {} do not reach {en_line}",
                    crate::domain::forecast::MAX_HIRES,
                    month_name(from_month, lang)
                )
            }
        }
    }
}

/// The projection's figures alone (the warning step's).
pub fn project_figures(f: &ParsedForecast) -> Result<LevyResult, Vec<FieldError>> {
    calculate(&f.parsed.policy, &f.parsed.input, ExplainMode::FiguresOnly)
        .map_err(|e| vec![levy_field_error(&e, f.parsed.lang)])
}

/// Projects a parsed forecast: the engine's levy of the carried-forward year, and what
/// it takes to reach each line.
pub fn project(f: &ParsedForecast) -> Result<Projection, Vec<FieldError>> {
    let lang = f.parsed.lang;
    let p = &f.parsed;
    let to_fault = |e: crate::domain::levy::LevyError| {
        let mut x = levy_field_error(&e, lang);
        x.pointer = to_body_pointer(&x.pointer, &f.wage_basis);
        vec![x]
    };
    let result = calculate(&p.policy, &p.input, ExplainMode::Full(lang)).map_err(to_fault)?;
    let mut what_it_takes = Vec::new();
    for line in Line::ALL {
        let a =
            hire_advice(&p.policy, &p.input, &result, f.months_entered, line).map_err(to_fault)?;
        let (one, several, from) = match a {
            HireAdvice::OneBy { by_month } => (Some(by_month), None, None),
            HireAdvice::Several { count, from_month } => (None, Some(count), Some(from_month)),
            _ => (None, None, None),
        };
        what_it_takes.push(WhatItTakes {
            line: line.as_str(),
            reached: a == HireAdvice::Reached,
            hire_one_by_month: one,
            hires_needed: several,
            from_month: from,
            text: take_text(line, &a, lang),
        });
    }
    Ok(Projection {
        year: f.year,
        levy_year: f.year + 1,
        months_entered: f.months_entered,
        wage_basis: match f.wage_basis {
            WageBasis::SoFar { .. } => "wages_so_far",
            WageBasis::Given => "average_wage",
            WageBasis::NoStaff => "no_staff",
        },
        assumptions: assumptions(f, lang),
        below_one_percent: !reaches(&p.policy, &result, Line::OnePercent),
        below_full_ratio: !reaches(&p.policy, &result, Line::FullRatio),
        levy: build_response(p, &result),
        what_it_takes,
    })
}

/// Stores a parsed forecast, replacing the year's, and audits it (without the roster).
pub fn put(
    conn: &mut AnyConnection,
    employer: &Employer,
    f: &ParsedForecast,
    actor: &str,
    request_id: Option<&str>,
) -> Result<ForecastRow, DbError> {
    crate::db::write_transaction(conn, |c| {
        let before = repo::get(c, employer.id, f.year)?;
        repo::replace(
            c,
            &NewForecast {
                employer_id: employer.id,
                year: f.year,
                months_entered: i32::from(f.months_entered),
                body_json: &f.body_json,
                updated_by: actor,
                updated_at: Utc::now().naive_utc(),
            },
        )?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "forecast.put",
                entity_type: "forecast",
                entity_id: &format!("{}/{}", employer.uscc, f.year),
                before: before.map(|b| json!({ "months_entered": b.months_entered })),
                after: Some(json!({
                    "year": f.year,
                    "months_entered": f.months_entered,
                    "roster_lines": f.roster_lines,
                })),
                request_id,
            },
        )?;
        repo::get(c, employer.id, f.year)?
            .ok_or_else(|| DbError::Task("the forecast just stored is gone".into()))
    })
}

/// A stored forecast parsed again (the packs of today).
pub fn reparse(
    policy: &dyn PolicyProvider,
    employer: &Employer,
    row: &ForecastRow,
    lang: Language,
) -> Result<ParsedForecast, Vec<FieldError>> {
    let body: Value = serde_json::from_str(&row.body_json).map_err(|e| {
        vec![FieldError {
            pointer: String::new(),
            code: "internal",
            message: format!("stored forecast is not JSON: {e}"),
        }]
    })?;
    parse(policy, employer, row.year, &body, lang)
}

/// What a warning step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WarnReport {
    /// Forecasts looked at.
    pub forecasts: u64,
    /// Warnings newly queued.
    pub queued: u64,
    /// Due, but queued before (nothing sent twice).
    pub already_queued: u64,
    /// Forecasts that could not be projected (the packs changed under them).
    pub unreadable: u64,
}

/// The warning step: every stored forecast of `year` is projected again, and an employer
/// with a contact address whose projection is below a line of `lines` gets one mail per
/// line and year (the outbox's unique key: a second run queues nothing). An exempt
/// projection owes nothing and is not warned; nor is one with fewer than `from_month`
/// months entered.
pub fn warn(
    conn: &mut AnyConnection,
    policy: &dyn PolicyProvider,
    templates: &Templates,
    lines: &[Line],
    from_month: u32,
    year: i32,
) -> Result<WarnReport, WarnError> {
    let mut report = WarnReport::default();
    if lines.is_empty() {
        return Ok(report);
    }
    let mut after = 0_i64;
    loop {
        let rows = repo::of_year_after(conn, year, after, 500)?;
        let Some(last) = rows.last() else { break };
        after = last.employer_id;
        let mut mails = Vec::new();
        for row in &rows {
            report.forecasts += 1;
            if u32::try_from(row.months_entered).unwrap_or(0) < from_month {
                continue;
            }
            let Some(e) = crate::db::employers::by_id(conn, row.employer_id)? else {
                continue;
            };
            let Ok(f) = reparse(policy, &e, row, Language::Zh) else {
                report.unreadable += 1;
                continue;
            };
            let Ok(r) = project_figures(&f) else {
                report.unreadable += 1;
                continue;
            };
            if r.exempt {
                continue;
            }
            for &line in lines {
                if reaches(&f.parsed.policy, &r, line) {
                    continue;
                }
                let facts = crate::mail::plan::ForecastFacts {
                    year,
                    months_entered: f.months_entered,
                    point: line.warning_point(),
                    ratio: r.employment_ratio(4),
                    payable: r.payable,
                };
                if let Some(m) = crate::mail::plan::forecast_warning(templates, &e, &facts)? {
                    mails.push(m);
                }
            }
        }
        let (queued, already) = crate::db::write_transaction(conn, |c| {
            let (mut q, mut a) = (0_u64, 0_u64);
            for m in &mails {
                if outbox::enqueue(c, m)? {
                    q += 1;
                } else {
                    a += 1;
                }
            }
            Ok::<_, DbError>((q, a))
        })?;
        report.queued += queued;
        report.already_queued += already;
    }
    Ok(report)
}

/// Why the warning step failed.
#[derive(Debug, thiserror::Error)]
pub enum WarnError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A template is bad.
    #[error(transparent)]
    Template(#[from] crate::mail::TemplateError),
}

/// The answer when an employer has no forecast for the year.
pub fn not_found() -> Said {
    Said::new(
        "该单位没有本年度的预测",
        "this employer has no forecast for the year",
    )
}
