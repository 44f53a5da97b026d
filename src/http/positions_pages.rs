//! `/my/positions`: an employer's reserved positions and the form to register one (岗位
//! 预留), with the rules of the API (`registry::positions::parse`): the contact is the
//! office's, and the form says so before it is sent. An open position is closed on the
//! page (`POST /my/positions/{id}/close`, the API's `registry::positions::change`):
//! filled — by the disabled employee of a roster line, stored and never shown
//! publicly — or withdrawn. A fault stands beside its field, nothing written.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::context::visible_employer;
use super::page_kit::{forged, page, see_other, PageRefusal, SignedIn};
use super::pages::{render, Layout};
use super::AppState;
use crate::auth::Role;
use crate::domain::{Language, LevyYear};
use crate::registry::positions::{
    change, create, parse, Change, PositionError, PositionView, KEYS,
};

struct Words {
    title: &'static str,
    status: &'static str,
    new: &'static str,
    contact_rule: &'static str,
    submit: &'static str,
}

struct Field {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    error: Option<String>,
}

/// The close form of one position, as typed, and its faults by field.
#[derive(Default)]
struct CloseForm {
    reason: String,
    levy_year: String,
    line_no: String,
    faults: Vec<(&'static str, String)>,
}

impl CloseForm {
    fn fault(&self, field: &str) -> Option<&str> {
        self.faults
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// One of the employer's positions.
struct Item {
    p: PositionView,
    status_label: &'static str,
    /// Open (awaiting review or published, not past its last day): may be closed.
    closable: bool,
    close: CloseForm,
}

/// What a refused close form brings back: its position and state.
struct Refused {
    id: i64,
    form: CloseForm,
    error: Option<String>,
}

fn status_label(l: Language, status: &str) -> &'static str {
    match status {
        "submitted" => l.pick("待残联审核", "awaiting the federation's review"),
        "published" => l.pick("已发布", "published"),
        "rejected" => l.pick("已退回", "rejected"),
        "filled" => l.pick("已招用残疾人", "filled by a disabled person"),
        "withdrawn" => l.pick("已撤回", "withdrawn"),
        _ => l.pick("已过期", "expired"),
    }
}

#[derive(Template)]
#[template(path = "pages/positions/mine.html")]
struct MinePage {
    layout: Layout,
    frame: super::my::MyFrame,
    t: Words,
    csrf: String,
    message: Option<String>,
    /// A refused close (the position's state forbids it).
    close_error: Option<String>,
    errors: Vec<String>,
    items: Vec<Item>,
    fields: Vec<Field>,
    default_year: String,
}

fn label(l: Language, key: &str) -> (&'static str, &'static str) {
    let (zh, en, hint_zh, hint_en) = match key {
        "title" => ("岗位名称", "Job title", "", ""),
        "openings" => ("人数", "Openings", "", ""),
        "county" => (
            "工作地点县区代码",
            "County code of the workplace",
            "六位行政区划代码，如 411202",
            "six digits, e.g. 411202",
        ),
        "address" => ("工作地址", "Address", "", ""),
        "requirements" => (
            "岗位要求",
            "Requirements",
            "不要写入任何人的姓名、证件号或手机号",
            "no one's name, ID or mobile number",
        ),
        "accessibility" => ("无障碍条件", "Accessibility of the workplace", "", ""),
        "wage_min" => ("月工资下限（元）", "Monthly wage from (yuan)", "", ""),
        "wage_max" => ("月工资上限（元）", "Monthly wage to (yuan)", "", ""),
        "open_from" => ("开放开始日期", "Open from", "YYYY-MM-DD", "YYYY-MM-DD"),
        "open_to" => (
            "开放截止日期",
            "Open to",
            "YYYY-MM-DD，不超过一年",
            "YYYY-MM-DD, at most a year",
        ),
        "contact_phone" => (
            "单位办公电话",
            "Office phone",
            "区号-号码，如 0398-2912345；不要填写手机号码",
            "area code and number, e.g. 0398-2912345; not a mobile number",
        ),
        _ => (
            "单位办公邮箱",
            "Office e-mail",
            "单位的办公邮箱，不要填写个人邮箱",
            "the office's mailbox, not a person's",
        ),
    };
    (l.pick(zh, en), l.pick(hint_zh, hint_en))
}

async fn show(
    state: &web::Data<AppState>,
    who: &SignedIn,
    values: &HashMap<String, String>,
    errors: Vec<String>,
    faults: &HashMap<String, String>,
    message: Option<String>,
    refused: Option<Refused>,
) -> Result<HttpResponse, PageRefusal> {
    let lang = who.lang;
    let uscc = who
        .who()
        .employer_uscc
        .clone()
        .ok_or_else(|| who.not_found())?;
    let employer = visible_employer(state, who.who(), &uscc)
        .await
        .map_err(|_| who.not_found())?;
    let today = state.clock.today();
    let frame = super::my::MyFrame::new(
        who,
        &employer,
        super::my::Section::Positions,
        super::my::current_levy_year(state),
    );
    let rows = state
        .call(move |c, _| {
            crate::db::positions::of_employer(c, employer.id).map(|rows| {
                rows.iter()
                    .map(|p| PositionView::of(p, &employer.uscc, today))
                    .collect::<Vec<_>>()
            })
        })
        .await?;
    let status = if errors.is_empty() && refused.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (mut refused_form, close_error) = match refused {
        Some(r) => (Some((r.id, r.form)), r.error),
        None => (None, None),
    };
    let items = rows
        .into_iter()
        .map(|p| {
            let typed = match refused_form.take() {
                Some((id, f)) if id == p.id => f,
                other => {
                    refused_form = other;
                    CloseForm::default()
                }
            };
            Item {
                status_label: status_label(lang, &p.status),
                closable: matches!(p.status.as_str(), "submitted" | "published"),
                close: typed,
                p,
            }
        })
        .collect();
    let view = MinePage {
        layout: Layout::new(lang),
        frame,
        t: Words {
            title: lang.pick("本单位的残疾人预留岗位", "Our positions reserved for disabled people"),
            status: lang.pick("状态", "status"),
            new: lang.pick("登记预留岗位", "Register a reserved position"),
            contact_rule: lang.pick(
                "岗位经残疾人联合会审核后公开发布。联系方式只填写单位的办公电话或办公邮箱，不得填写任何个人的手机号码、个人邮箱或证件号码。",
                "The federation reviews the position, then publishes it. Give only the office's phone or e-mail as the contact, never a person's mobile number, private e-mail or ID number.",
            ),
            submit: lang.pick("提交审核", "Send for review"),
        },
        csrf: who.csrf().to_owned(),
        message,
        close_error,
        errors,
        items,
        fields: KEYS
            .iter()
            .map(|k| {
                let (label, hint) = label(lang, k);
                Field {
                    name: k,
                    label,
                    hint,
                    value: values.get(*k).cloned().unwrap_or_default(),
                    error: faults.get(*k).cloned(),
                }
            })
            .collect(),
        default_year: chrono::Datelike::year(&today).to_string(),
    };
    Ok(page(status, render(&view)?, &[]))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct MineQuery {
    closed: Option<String>,
}

#[get("/my/positions")]
async fn mine(
    state: web::Data<AppState>,
    who: SignedIn,
    q: web::Query<MineQuery>,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Employer])?;
    let message = match q.closed.as_deref() {
        Some("filled") => Some(who.lang.pick(
            "岗位已关闭：已招用残疾人。公开页面不再显示该岗位，也不会显示招用的人。",
            "The position is closed as filled. It is no longer listed publicly, and the person who took it is never shown.",
        )),
        Some("withdrawn") => Some(who.lang.pick(
            "岗位已撤回，公开页面不再显示。",
            "The position is withdrawn: it is no longer listed publicly.",
        )),
        _ => None,
    };
    show(
        &state,
        &who,
        &HashMap::new(),
        Vec::new(),
        &HashMap::new(),
        message.map(str::to_owned),
        None,
    )
    .await
}

#[post("/my/positions")]
async fn register(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Employer])?;
    let values = form.into_inner();
    if !who.form_ok(values.get("csrf_token").map(String::as_str)) {
        return Ok(forged(who.lang, who.link("/my/positions"))?);
    }
    // The form's fields as the API's body: empty fields absent, the count a number.
    let mut body = Map::new();
    for k in KEYS {
        if let Some(v) = values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let value = match (k, v.parse::<i64>()) {
                ("openings", Ok(n)) => Value::from(n),
                _ => Value::from(v),
            };
            body.insert(k.to_owned(), value);
        }
    }
    let input = match parse(&Value::Object(body), who.lang) {
        Ok(i) => i,
        Err(faults) => {
            let errors = faults
                .iter()
                .map(|f| {
                    let key = f.pointer.trim_start_matches('/');
                    format!("{}：{}", label(who.lang, key).0, f.message)
                })
                .collect();
            // Beside each field too, from the API's own pointer (the first fault).
            let mut beside: HashMap<String, String> = HashMap::new();
            for f in &faults {
                beside
                    .entry(f.pointer.trim_start_matches('/').to_owned())
                    .or_insert_with(|| f.message.clone());
            }
            return show(&state, &who, &values, errors, &beside, None, None).await;
        }
    };
    let uscc = who
        .who()
        .employer_uscc
        .clone()
        .ok_or_else(|| who.not_found())?;
    let employer = visible_employer(&state, who.who(), &uscc)
        .await
        .map_err(|_| who.not_found())?;
    let audit = who.audit();
    state
        .call(move |c, _| create(c, &employer, &input, &audit.actor, audit.rid()))
        .await?;
    Ok(see_other(&who.link("/my/positions"), &[]))
}

/// Closes one of the employer's open positions: filled (naming the roster line of the
/// disabled employee who took it) or withdrawn.
#[post("/my/positions/{id}/close")]
async fn close(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<i64>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Employer])?;
    let values = form.into_inner();
    if !who.form_ok(values.get("csrf_token").map(String::as_str)) {
        return Ok(forged(who.lang, who.link("/my/positions"))?);
    }
    let id = path.into_inner();
    let lang = who.lang;
    let value = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut f = CloseForm {
        reason: value("reason"),
        levy_year: value("levy_year"),
        line_no: value("line_no"),
        faults: Vec::new(),
    };
    let how = match f.reason.as_str() {
        "withdrawn" => Some(Change::Withdraw),
        "filled" => {
            let year = LevyYear::parse(&f.levy_year);
            if year.is_none() {
                f.faults.push((
                    "levy_year",
                    lang.pick(
                        "须为有效的征收年度，如 2026",
                        "must be a valid levy year, e.g. 2026",
                    )
                    .to_owned(),
                ));
            }
            let line = f.line_no.parse::<i32>().ok().filter(|n| *n >= 1);
            if line.is_none() {
                f.faults.push((
                    "line_no",
                    lang.pick(
                        "须为该年度申报残疾职工名单中的行号（从 1 起）",
                        "must be the line number (from 1) on that year's roster of disabled employees",
                    )
                    .to_owned(),
                ));
            }
            match (year, line) {
                // People count lines from 1, as the roster pages show them; the store
                // from 0.
                (Some(y), Some(l)) => Some(Change::Filled {
                    levy_year: y.get(),
                    line_no: l - 1,
                }),
                _ => None,
            }
        }
        _ => {
            f.faults.push((
                "reason",
                lang.pick(
                    "请选择：已招用残疾人，或撤回",
                    "choose: filled by a disabled person, or withdrawn",
                )
                .to_owned(),
            ));
            None
        }
    };
    let refuse = |form: CloseForm, error: Option<String>| Refused { id, form, error };
    let Some(how) = how else {
        let empty = HashMap::new();
        let r = refuse(f, None);
        return show(&state, &who, &empty, Vec::new(), &empty, None, Some(r)).await;
    };
    let uscc = who
        .who()
        .employer_uscc
        .clone()
        .ok_or_else(|| who.not_found())?;
    let employer = visible_employer(&state, who.who(), &uscc)
        .await
        .map_err(|_| who.not_found())?;
    let closed = match how {
        Change::Withdraw => "withdrawn",
        _ => "filled",
    };
    let (audit, today) = (who.audit(), state.clock.today());
    let done = state
        .db
        .run(move |c| {
            Ok(change(
                c,
                id,
                Some(&employer),
                &how,
                today,
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    let empty = HashMap::new();
    match done {
        Ok(_) => Ok(see_other(
            &who.link(&format!("/my/positions?closed={closed}")),
            &[],
        )),
        Err(PositionError::NotFound(_)) => Err(who.not_found()),
        Err(PositionError::Field(pointer, m)) => {
            let field = if pointer.ends_with("levy_year") {
                "levy_year"
            } else {
                "line_no"
            };
            f.faults.push((field, m.get(lang).to_owned()));
            let r = refuse(f, None);
            show(&state, &who, &empty, Vec::new(), &empty, None, Some(r)).await
        }
        Err(PositionError::Conflict(m)) => {
            let r = refuse(f, Some(m.get(lang).to_owned()));
            show(&state, &who, &empty, Vec::new(), &empty, None, Some(r)).await
        }
        Err(PositionError::Db(e)) => Err(e.into()),
    }
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(mine).service(register).service(close);
}
