//! `/my/{uscc}/contact`: the contact e-mail where reminders go, changed through the
//! same checks and the same audited update as `PATCH /api/v1/employers/{uscc}`
//! (`registry::employers::parse_patch` for an employer, then `update`), and the way
//! to the password change.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{current_levy_year, own_employer, MyFrame, Section};
use crate::db::employers::Employer;
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::registry::employers as registry;

#[derive(Template)]
#[template(path = "pages/my/contact.html")]
struct ContactView {
    layout: Layout,
    frame: MyFrame,
    action: String,
    csrf: String,
    current: Option<String>,
    value: String,
    error: Option<String>,
    message: Option<String>,
    password_href: String,
}

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    csrf_token: Option<String>,
    contact_email: Option<String>,
}

/// `?done=1` after a change.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn page(
    s: &SignedIn,
    e: &Employer,
    value: String,
    error: Option<String>,
    message: Option<String>,
    year: i32,
) -> Result<String, AppError> {
    render(&ContactView {
        layout: Layout::new(s.lang),
        frame: MyFrame::new(s, e, Section::Contact, year),
        action: s.link(&format!("/my/{}/contact", e.uscc)),
        csrf: s.csrf().to_owned(),
        current: e.contact_email.clone(),
        value,
        error,
        message,
        password_href: s.link("/account/password"),
    })
}

/// The form.
#[get("/my/{uscc}/contact")]
pub async fn contact_form(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let e = own_employer(&state, &s, &path).await?;
    let message = q.done.as_ref().map(|_| {
        s.lang
            .pick("联系邮箱已更新。", "The contact e-mail is updated.")
            .to_owned()
    });
    let value = e.contact_email.clone().unwrap_or_default();
    let html = page(&s, &e, value, None, message, current_levy_year(&state))?;
    Ok(super::respond(StatusCode::OK, html))
}

/// A change of the contact e-mail (empty: none).
#[post("/my/{uscc}/contact")]
pub async fn change_contact(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, PageRefusal> {
    let here = format!("/my/{path}/contact");
    let form = form.into_inner();
    if !s.form_ok(form.csrf_token.as_deref()) {
        return Ok(forged(s.lang, s.link(&here))?);
    }
    let e = own_employer(&state, &s, &path).await?;
    let typed = form.contact_email.unwrap_or_default().trim().to_owned();
    let body = if typed.is_empty() {
        json!({ "contact_email": Value::Null })
    } else {
        json!({ "contact_email": typed })
    };
    let year = current_levy_year(&state);
    let patch = match registry::parse_patch(
        state.policy.as_ref(),
        s.who(),
        &e,
        &body,
        state.clock.today(),
        s.lang,
    ) {
        Ok(p) => p,
        Err(errors) => {
            let error = errors
                .iter()
                .map(|fe| fe.message.clone())
                .collect::<Vec<_>>()
                .join("；");
            let html = page(&s, &e, typed, Some(error), None, year)?;
            return Ok(super::respond(StatusCode::UNPROCESSABLE_ENTITY, html));
        }
    };
    let (audit, uscc) = (s.audit(), e.uscc.clone());
    state
        .call(move |c, _| registry::update(c, &uscc, None, &patch, &audit.actor, audit.rid()))
        .await?;
    Ok(see_other(&s.link(&format!("{here}?done=1")), &[]))
}
