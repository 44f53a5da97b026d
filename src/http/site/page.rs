//! The calculator page put together: the form's fields with their faults beside them,
//! the result, and the page's status.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;
use serde_json::Value;

use super::form::{self, CalcForm};
use super::result::result_view;
use super::{query_value, switch_links, RegionGroup};
use crate::domain::{EmployerKind, Language};
use crate::http::pages::{render, Layout, HTML};
use crate::http::problem::AppError;
use crate::http::AppState;

use super::calculator::*;

#[derive(Template)]
#[template(path = "pages/calculator.html")]
struct CalculatorPage {
    layout: Layout,
    switch_zh: String,
    switch_en: String,
    lang_field: Option<&'static str>,
    regions: std::sync::Arc<[RegionGroup]>,
    /// The code of the region chosen in the select.
    region_selected: String,
    region_errors: Vec<String>,
    levy_year: Field,
    kinds: Vec<Choice>,
    kind_errors: Vec<String>,
    details: Vec<Field>,
    details_open: bool,
    months: Vec<Field>,
    months_errors: Vec<String>,
    average_headcount: Field,
    staff_errors: Vec<String>,
    wages: Vec<Field>,
    rows: Vec<RowView>,
    roster_errors: Vec<String>,
    rows_full: bool,
    disabled_count: Field,
    overrides: Vec<Field>,
    overrides_open: bool,
    faults: Vec<Fault>,
    result: Option<ResultView>,
    /// The `?request=` link of what was calculated.
    link: Option<String>,
    /// The same, as the page shows it (with the public address).
    link_text: Option<String>,
    /// The request as JSON, for the API.
    request_json: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn field(
    faults: &mut Faults,
    name: &str,
    label: String,
    value: &str,
    kind: &'static str,
    inputmode: &'static str,
    hint: Option<String>,
    class: &'static str,
) -> Field {
    Field {
        name: name.to_owned(),
        label,
        value: value.to_owned(),
        kind,
        inputmode,
        hint,
        errors: faults.take(name),
        class,
    }
}

pub(super) fn respond(
    state: &AppState,
    lang: Language,
    chosen: Option<&'static str>,
    f: &CalcForm,
    rows: &[usize],
    request: Option<&Value>,
    outcome: Outcome,
) -> Result<HttpResponse, AppError> {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    // Faults are answered 200 with the form and them beside their fields: the request
    // middleware turns any HTML 4xx into a problem document, and a person needs the form.
    let (mut faults, result) = match outcome {
        Outcome::Blank => (Faults::default(), None),
        Outcome::Failed(errors) => (Faults::from_errors(&errors, rows), None),
        Outcome::Done(resp, what_ifs) => (
            Faults::default(),
            Some(result_view(state, &resp, rows, what_ifs, lang)),
        ),
    };
    let summary: Vec<Fault> = faults
        .order
        .iter()
        .map(|(field, message)| Fault {
            target: field.as_ref().map(|f| match f.as_str() {
                "months" | "staff" => "f-months".to_owned(),
                "roster" => "roster".to_owned(),
                other => format!("f-{other}"),
            }),
            message: message.clone(),
        })
        .collect();

    let region_errors = faults.take("region");
    let levy_year = field(
        &mut faults,
        "levy_year",
        l("征收年度", "Levy year"),
        &f.levy_year,
        "text",
        "numeric",
        Some(l(
            "按上一年度的职工人数、工资和残疾职工计算",
            "calculated on the staff, wages and disabled employees of the year before",
        )),
        "short",
    );
    let kinds = EmployerKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: k.name(lang),
            selected: f.kind == k.as_str(),
        })
        .collect();
    let kind_errors = faults.take("kind");
    let details = vec![
        field(
            &mut faults,
            "as_of",
            l("计算日期（可选）", "As-of date (optional)"),
            &f.as_of,
            "date",
            "",
            Some(l(
                "按该日有效的规定计算；不填则为当地申报截止日",
                "the rules in force on this day; by default the region's declaration deadline",
            )),
            "",
        ),
        field(
            &mut faults,
            "registered_on",
            l(
                "工商登记注册日期（可选）",
                "Business registration date (optional)",
            ),
            &f.registered_on,
            "date",
            "",
            None,
            "",
        ),
    ];
    let FigureFields {
        months,
        months_errors,
        average_headcount,
        staff_errors,
        wages,
        rows: row_views,
        roster_errors,
        disabled_count,
    } = figure_fields(&mut faults, f, lang);
    let overrides = vec![
        field(
            &mut faults,
            "quota_ratio",
            l("安排比例（如 0.015）", "Quota ratio (e.g. 0.015)"),
            &f.quota_ratio,
            "text",
            "decimal",
            None,
            "short",
        ),
        field(
            &mut faults,
            "social_average_wage",
            l("社会平均工资（元/年）", "Social average wage (yuan a year)"),
            &f.social_average_wage,
            "text",
            "decimal",
            None,
            "money",
        ),
        field(
            &mut faults,
            "minimum_wage_monthly",
            l("月最低工资标准（元）", "Monthly minimum wage (yuan)"),
            &f.minimum_wage_monthly,
            "text",
            "decimal",
            None,
            "money",
        ),
    ];
    let overrides_open = f.has_overrides() || overrides.iter().any(|o| !o.errors.is_empty());
    let details_open = f.has_details() || details.iter().any(|o| !o.errors.is_empty());
    let (link, link_text, request_json, rest) = match request {
        Some(v) => {
            let json = serde_json::to_string(v).unwrap_or_default();
            let rest = format!("request={}", query_value(&json));
            let link_lang = chosen.map(|l| format!("&lang={l}")).unwrap_or_default();
            let link = format!("/calculator?{rest}{link_lang}");
            let text = format!("{}{link}", state.settings.server.public_base_url);
            let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
            (Some(link), Some(text), Some(pretty), rest)
        }
        None => (None, None, None, String::new()),
    };
    let (switch_zh, switch_en) = switch_links("/calculator", &rest);
    let page = CalculatorPage {
        layout: Layout::new(lang),
        switch_zh,
        switch_en,
        lang_field: chosen,
        regions: state.regions.groups(lang),
        region_selected: f.region.trim().to_owned(),
        region_errors,
        levy_year,
        kinds,
        kind_errors,
        details,
        details_open,
        months,
        months_errors,
        average_headcount,
        staff_errors,
        wages,
        rows_full: f.rows.len() >= form::MAX_ROWS,
        rows: row_views,
        roster_errors,
        disabled_count,
        overrides,
        overrides_open,
        faults: summary,
        result,
        link,
        link_text,
        request_json,
    };
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, HTML))
        .body(render(&page)?))
}

/// The staff, wage and roster inputs of a form (`templates/pages/figures.html`), each
/// with the faults at it taken out of `faults`: the calculator's, and an employer's
/// declaration, which has the same body.
pub(crate) struct FigureFields {
    /// The twelve month-end headcounts.
    pub months: Vec<Field>,
    /// Faults of the months as a whole.
    pub months_errors: Vec<String>,
    /// Or the average.
    pub average_headcount: Field,
    /// Faults of the staff as a whole.
    pub staff_errors: Vec<String>,
    /// Total or average wage.
    pub wages: Vec<Field>,
    /// The roster rows.
    pub rows: Vec<RowView>,
    /// Faults of the roster as a whole.
    pub roster_errors: Vec<String>,
    /// Or the certified count.
    pub disabled_count: Field,
}

/// The inputs of [`FigureFields`] for form `f`, in `lang`.
pub(crate) fn figure_fields(faults: &mut Faults, f: &CalcForm, lang: Language) -> FigureFields {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_owned();

    let month_names_en = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let months: Vec<Field> = (0..12)
        .map(|i| {
            let label = match lang {
                Language::Zh => format!("{}月", i + 1),
                Language::En => month_names_en[i].to_owned(),
            };
            field(
                faults,
                &format!("m{}", i + 1),
                label,
                &f.months[i],
                "text",
                "numeric",
                None,
                "month",
            )
        })
        .collect();
    let months_errors = faults.take("months");
    let average_headcount = field(
        faults,
        "average_headcount",
        l(
            "或：全年平均在职职工人数",
            "Or: average staff over the year",
        ),
        &f.average_headcount,
        "text",
        "decimal",
        Some(l("最多 4 位小数", "at most 4 decimals")),
        "short",
    );
    let staff_errors = faults.take("staff");
    let wages = vec![
        field(
            faults,
            "total_wages",
            l("职工工资总额（元）", "Total wages (yuan)"),
            &f.total_wages,
            "text",
            "decimal",
            None,
            "money",
        ),
        field(
            faults,
            "average_wage",
            l("或：职工年平均工资（元）", "Or: average annual wage (yuan)"),
            &f.average_wage,
            "text",
            "decimal",
            None,
            "money",
        ),
    ];
    let mut row_views = Vec::new();
    for (i, r) in f.rows.iter().enumerate() {
        let p = |s: &str| format!("e{i}_{s}");
        let cert = field(
            faults,
            &p("cert"),
            l("证号", "Certificate number"),
            &r.cert,
            "text",
            "",
            Some(l(
                "残疾人证 20 或 22 位",
                "a disability certificate has 20 or 22 characters",
            )),
            "cert",
        );
        let kind_errors = faults.take(&p("kind"));
        let kinds = vec![
            Choice {
                value: "disability",
                label: lang.pick("残疾人证", "Disability certificate"),
                selected: r.kind != "veteran",
            },
            Choice {
                value: "veteran",
                label: lang.pick("残疾军人证", "Disabled veteran's certificate"),
                selected: r.kind == "veteran",
            },
        ];
        let fields = vec![
            field(
                faults,
                &p("grade"),
                l("等级（残疾军人证填写）", "Grade (veteran's certificate)"),
                &r.grade,
                "text",
                "numeric",
                None,
                "short",
            ),
            field(
                faults,
                &p("months"),
                l("在职月份", "Months employed"),
                &r.months,
                "text",
                "",
                Some(l("如 1-12 或 3,4,9-12", "e.g. 1-12 or 3,4,9-12")),
                "short",
            ),
            field(
                faults,
                &p("from"),
                l("或：入职日期", "Or: employed from"),
                &r.from,
                "date",
                "",
                None,
                "",
            ),
            field(
                faults,
                &p("to"),
                l("离职日期", "Employed until"),
                &r.to,
                "date",
                "",
                None,
                "",
            ),
            field(
                faults,
                &p("contract"),
                l("合同或服务协议期限（月）", "Contract or agreement (months)"),
                &r.contract,
                "text",
                "numeric",
                None,
                "short",
            ),
            field(
                faults,
                &p("wage"),
                l("月工资（元）", "Monthly wage (yuan)"),
                &r.wage,
                "text",
                "decimal",
                None,
                "short",
            ),
        ];
        let checks = vec![
            Check {
                name: p("establishment"),
                label: l("在编", "On the establishment"),
                checked: r.establishment,
                errors: faults.take(&p("establishment")),
            },
            Check {
                name: p("insurance"),
                label: l("足额缴纳社会保险", "Social insurance paid in full"),
                checked: r.insurance,
                errors: faults.take(&p("insurance")),
            },
            Check {
                name: p("graduate"),
                label: l(
                    "上年新招用的高校毕业生",
                    "Fresh college graduate hired that year",
                ),
                checked: r.graduate,
                errors: faults.take(&p("graduate")),
            },
        ];
        row_views.push(RowView {
            legend: match lang {
                Language::Zh => format!("残疾职工第 {} 人", i + 1),
                Language::En => format!("Disabled employee {}", i + 1),
            },
            prefix: format!("e{i}"),
            cert,
            kinds,
            kind_errors,
            fields,
            checks,
            errors: faults.take(&format!("e{i}")),
        });
    }
    let roster_errors = faults.take("roster");
    let disabled_count = field(
        faults,
        "disabled_count",
        l(
            "或：残联审核认定的安排人数（不填名单时）",
            "Or: the count certified by the federation (instead of a roster)",
        ),
        &f.disabled_count,
        "text",
        "decimal",
        Some(l("最多 4 位小数", "at most 4 decimals")),
        "short",
    );
    FigureFields {
        months,
        months_errors,
        average_headcount,
        staff_errors,
        wages,
        rows: row_views,
        roster_errors,
        disabled_count,
    }
}
