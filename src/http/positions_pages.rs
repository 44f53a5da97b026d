//! `/my/positions`: an employer's reserved positions and the form to register one (岗位
//! 预留), with the rules of the API (`registry::positions::parse`): the contact is the
//! office's, and the form says so before it is sent.

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
use crate::domain::Language;
use crate::registry::positions::{create, parse, PositionView, KEYS};

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
}

#[derive(Template)]
#[template(path = "pages/positions/mine.html")]
struct MinePage {
    layout: Layout,
    t: Words,
    csrf: String,
    message: Option<String>,
    errors: Vec<String>,
    items: Vec<PositionView>,
    fields: Vec<Field>,
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
    message: Option<String>,
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
    let items = state
        .call(move |c, _| {
            crate::db::positions::of_employer(c, employer.id).map(|rows| {
                rows.iter()
                    .map(|p| PositionView::of(p, &employer.uscc, today))
                    .collect::<Vec<_>>()
            })
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = MinePage {
        layout: Layout::new(lang),
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
                }
            })
            .collect(),
    };
    Ok(page(status, render(&view)?, &[]))
}

#[get("/my/positions")]
async fn mine(state: web::Data<AppState>, who: SignedIn) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Employer])?;
    show(&state, &who, &HashMap::new(), Vec::new(), None).await
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
            return show(&state, &who, &values, errors, None).await;
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

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(mine).service(register);
}
