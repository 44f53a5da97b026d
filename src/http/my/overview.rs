//! `/my` (to the session's own employer) and `/my/{uscc}`: the levy year being declared
//! now at a glance — the declaration's status and deadline, the levy assessed, what was
//! paid, the surcharge so far and what is still owed — with the way to each page.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{current_levy_year, employer_only, own_employer, status_text, MyFrame, Section};
use crate::db::declarations as decl_repo;
use crate::http::page_kit::{see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::site::date_text;
use crate::http::AppState;
use crate::registry::payments::{statement, Statement};

/// One line of the overview.
pub struct Line {
    /// What it is.
    pub label: &'static str,
    /// Its value in words.
    pub value: String,
    /// A way on, when there is one: address and label.
    pub link: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "pages/my/overview.html")]
struct OverviewView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    data_year: i32,
    lines: Vec<Line>,
    /// Something to do now, when there is.
    todo: Option<String>,
    /// The previous levy year's pages.
    previous: Vec<(String, &'static str)>,
}

/// `/my`: the session's own employer's overview.
#[get("/my")]
pub async fn my_home(s: SignedIn) -> Result<HttpResponse, PageRefusal> {
    let uscc = employer_only(&s)?;
    Ok(see_other(&s.link(&format!("/my/{uscc}")), &[]))
}

/// `/my/{uscc}`: the overview of the levy year being declared now.
#[get("/my/{uscc}")]
pub async fn overview(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageRefusal> {
    let e = own_employer(&state, &s, &path).await?;
    let lang = s.lang;
    let year = current_levy_year(&state);
    let today = state.clock.today();
    let (emp, id) = (e.clone(), e.id);
    let (current, account) = state
        .call(move |c, st| {
            let d = decl_repo::current(c, id, year)?;
            // The packs may lack the region's dates for this year: the page then says
            // so instead of failing.
            let account: Option<Statement> = statement(c, st.book.as_ref(), &emp, year, today).ok();
            Ok::<_, crate::db::DbError>((d, account))
        })
        .await?;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let yuan = l("元", "yuan");
    let u = &e.uscc;
    let mut lines = vec![Line {
        label: l("申报状态", "Declaration"),
        value: current.as_ref().map_or_else(
            || l("尚未申报", "not declared yet").to_owned(),
            |d| status_text(&d.status, lang).to_owned(),
        ),
        link: Some((
            s.link(&format!("/my/{u}/declaration/{year}")),
            match current.as_ref().map(|d| d.status.as_str()) {
                None | Some("draft") | Some("amended") => l("填写申报", "Fill in the declaration"),
                _ => l("查看或更正申报", "See or amend the declaration"),
            },
        )),
    }];
    let filing = e
        .region
        .parse()
        .ok()
        .and_then(|r| {
            let on = state.policy.default_as_of(r, year).ok()?;
            state.policy.resolve(r, on, year - 1).ok()
        })
        .map(|p| p.filing_deadline.value);
    lines.push(Line {
        label: l("申报截止日期", "Declaration deadline"),
        value: filing.map_or_else(
            || l("政策参数中暂无", "not in the policy packs yet").to_owned(),
            |d| {
                let mut t = date_text(d, lang);
                if d < today && current.as_ref().is_none_or(|c| c.status == "draft") {
                    t.push_str(l("（已过期）", " (passed)"));
                }
                t
            },
        ),
        link: None,
    });
    let mut todo = None;
    match &account {
        Some(st) if st.assessed => {
            lines.push(Line {
                label: l("核定应缴保障金", "Levy assessed"),
                value: format!("{} {yuan}", st.principal),
                link: Some((
                    s.link(&format!("/my/{u}/assessment/{year}")),
                    l("计算过程", "How it is worked out"),
                )),
            });
            lines.push(Line {
                label: l("缴款截止日期", "Payment due"),
                value: date_text(st.due_date, lang),
                link: None,
            });
            lines.push(Line {
                label: l("已缴", "Paid"),
                value: format!("{} {yuan}", add(&st.principal_paid, &st.surcharge_paid)),
                link: None,
            });
            lines.push(Line {
                label: l("滞纳金（截至今日）", "Surcharge so far"),
                value: format!("{} {yuan}", st.surcharge),
                link: None,
            });
            lines.push(Line {
                label: l("尚欠", "Still owed"),
                value: format!("{} {yuan}", st.outstanding),
                link: Some((
                    s.link(&format!("/my/{u}/statement/{year}")),
                    l("对账单与缴款方式", "Statement and how to pay"),
                )),
            });
            if st.outstanding != "0.00" {
                todo = Some(match lang {
                    crate::domain::Language::Zh => format!(
                        "请于 {} 前缴纳 {} 元。",
                        date_text(st.due_date, lang),
                        st.outstanding
                    ),
                    crate::domain::Language::En => format!(
                        "Please pay {} yuan by {}.",
                        st.outstanding,
                        date_text(st.due_date, lang)
                    ),
                });
            }
        }
        _ => lines.push(Line {
            label: l("核定应缴保障金", "Levy assessed"),
            value: l(
                "尚未核定（提交申报后由税务机关核定）",
                "not assessed yet (the tax bureau assesses a submitted declaration)",
            )
            .to_owned(),
            link: None,
        }),
    }
    if todo.is_none()
        && current
            .as_ref()
            .is_none_or(|c| matches!(c.status.as_str(), "draft" | "amended"))
    {
        todo = Some(
            l(
                "本年度申报尚未提交：请填写并提交申报。",
                "This year's declaration is not submitted: fill it in and submit it.",
            )
            .to_owned(),
        );
    }
    let prev = year - 1;
    let previous = vec![
        (
            s.link(&format!("/my/{u}/declaration/{prev}")),
            l("上一年度申报", "Last year's declaration"),
        ),
        (
            s.link(&format!("/my/{u}/assessment/{prev}")),
            l("上一年度核定", "Last year's assessment"),
        ),
        (
            s.link(&format!("/my/{u}/statement/{prev}")),
            l("上一年度缴款", "Last year's payment"),
        ),
    ];
    let html = render(&OverviewView {
        layout: Layout::new(lang),
        frame: MyFrame::new(&s, &e, Section::Overview, year),
        year,
        data_year: year - 1,
        lines,
        todo,
        previous,
    })?;
    Ok(super::respond(StatusCode::OK, html))
}

/// The sum of two amounts as the API writes them ("12.50").
fn add(a: &str, b: &str) -> String {
    use std::str::FromStr;
    match (
        rust_decimal::Decimal::from_str(a),
        rust_decimal::Decimal::from_str(b),
    ) {
        (Ok(a), Ok(b)) => crate::domain::money::format_money(a + b),
        _ => a.to_owned(),
    }
}
