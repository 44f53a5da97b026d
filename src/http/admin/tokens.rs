//! `/admin/tokens`: the API tokens of other systems. A new token is shown once, on the
//! answer to the form that made it (never cached, never again: only its digest is
//! stored); the list shows its prefix. Creating and revoking are audited in the same
//! transaction with the administrator as actor (`db::tokens::create_by`, `revoke_by`).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{
    admin, admin_form, cut_page, given, kept, role_choices, scope_label, stored_role, Choice,
    FormState, Nav,
};
use crate::auth::Role;
use crate::db::tokens::{self, TokenRow};
use crate::domain::ids::UnifiedSocialCreditCode;
use crate::domain::{Language, RegionCode};
use crate::http::page_kit::{self, china_time, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;

/// Tokens per page.
const PER_PAGE: i64 = 50;

/// A token as the list shows it (its prefix, never the token).
pub struct TokenView {
    /// Id.
    pub id: i64,
    /// First characters.
    pub prefix: String,
    /// Role.
    pub role: &'static str,
    /// Employer or region.
    pub scope: String,
    /// Label.
    pub label: String,
    /// Created, China time.
    pub created: String,
    /// Revoked, China time.
    pub revoked: Option<String>,
    /// The revoking form's action.
    pub revoke_action: String,
}

fn token_view(t: &TokenRow, signed: &SignedIn) -> TokenView {
    let lang = signed.lang;
    TokenView {
        id: t.id,
        prefix: t.prefix.clone(),
        role: stored_role(&t.role, lang),
        scope: scope_label(&t.employer_uscc, &t.region, lang),
        label: t.label.clone().unwrap_or_default(),
        created: china_time(t.created_at),
        revoked: t.revoked_at.map(china_time),
        revoke_action: signed.link(&format!("/admin/tokens/{}/revoke", t.id)),
    }
}

#[derive(Template)]
#[template(path = "pages/admin/tokens.html")]
struct ListView {
    layout: Layout,
    nav: Nav,
    tokens: Vec<TokenView>,
    form: FormState,
    roles: Vec<Choice>,
    action: String,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// `?before=` of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    before: Option<String>,
}

async fn list_page(
    state: &AppState,
    signed: &SignedIn,
    before: Option<i64>,
    form: FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageRefusal> {
    let mut rows = state
        .db
        .run(move |c| tokens::page(c, before, PER_PAGE + 1))
        .await?;
    let more = cut_page(&mut rows, PER_PAGE);
    let next_href = match (more, rows.last()) {
        (true, Some(last)) => Some(signed.link(&format!("/admin/tokens?before={}", last.id))),
        _ => None,
    };
    let chosen = Some(form.value("role")).filter(|r| !r.is_empty());
    let html = render(&ListView {
        layout: Layout::new(signed.lang),
        nav: Nav::new(signed, "/admin/tokens"),
        tokens: rows.iter().map(|t| token_view(t, signed)).collect(),
        roles: role_choices(signed.lang, chosen),
        action: signed.link("/admin/tokens"),
        next_href,
        first_href: before.map(|_| signed.link("/admin/tokens")),
        form,
    })?;
    Ok(page_kit::page(status, html, &[]))
}

#[get("/admin/tokens")]
async fn list(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let before = given(&q.before).and_then(|b| b.parse::<i64>().ok());
    let form = FormState::new(signed.csrf());
    list_page(&state, &signed, before, form, StatusCode::OK).await
}

/// The fields of the token forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    csrf_token: Option<String>,
    role: Option<String>,
    employer: Option<String>,
    region: Option<String>,
    label: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin/token_created.html")]
struct CreatedView {
    layout: Layout,
    nav: Nav,
    token: String,
    view: TokenView,
    back: String,
}

/// The scope of a new token as the CLI checks it: an employer token names its USCC,
/// an officer's may name a region, never both. Faults go beside the fields.
fn checked_scope(
    f: &TokenForm,
    lang: Language,
    form: &mut FormState,
) -> Option<(Role, Option<String>, Option<RegionCode>)> {
    let role = match given(&f.role).map(str::parse::<Role>) {
        Some(Ok(r)) => r,
        _ => {
            form.fault("role", lang.pick("请选择角色", "choose a role"));
            return None;
        }
    };
    let employer = match (role, given(&f.employer)) {
        (Role::Employer, Some(u)) => match UnifiedSocialCreditCode::parse(u) {
            Ok(c) => Some(c.expose().to_owned()),
            Err(e) => {
                form.fault("employer", e.message(lang));
                None
            }
        },
        (Role::Employer, None) => {
            form.fault(
                "employer",
                lang.pick(
                    "用人单位令牌必须指定统一社会信用代码",
                    "an employer token names its employer's USCC",
                ),
            );
            None
        }
        (_, Some(_)) => {
            form.fault(
                "employer",
                lang.pick(
                    "只有用人单位令牌才能指定统一社会信用代码",
                    "goes only with the employer role",
                ),
            );
            None
        }
        (_, None) => None,
    };
    let region = match (role, given(&f.region)) {
        (Role::Employer, Some(_)) => {
            form.fault(
                "region",
                lang.pick(
                    "用人单位令牌不能指定行政区划",
                    "does not go with the employer role",
                ),
            );
            None
        }
        (_, Some(r)) => match r.parse::<RegionCode>() {
            Ok(c) => Some(c),
            Err(_) => {
                form.fault(
                    "region",
                    lang.pick("请输入六位行政区划代码", "enter a six-digit region code"),
                );
                None
            }
        },
        (_, None) => None,
    };
    if let Some(l) = given(&f.label) {
        if l.chars().count() > 100 || crate::domain::text::check_line(l).is_err() {
            form.fault(
                "label",
                lang.pick(
                    "备注最多 100 个字符，且不能包含控制字符",
                    "at most 100 characters, without control characters",
                ),
            );
        }
    }
    (!form.has_faults()).then_some((role, employer, region))
}

#[post("/admin/tokens")]
async fn create(
    state: web::Data<AppState>,
    signed: SignedIn,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageRefusal> {
    let f = form.into_inner();
    let sent = [
        ("role", &f.role),
        ("employer", &f.employer),
        ("region", &f.region),
        ("label", &f.label),
    ];
    let mut shown = match kept(&signed, f.csrf_token.as_deref(), "/admin/tokens", &sent)? {
        Ok(shown) => shown,
        Err(forged) => return Ok(forged),
    };
    let lang = signed.lang;
    let Some((role, employer, region)) = checked_scope(&f, lang, &mut shown) else {
        return list_page(
            &state,
            &signed,
            None,
            shown,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let label = given(&f.label).map(str::to_owned);
    let audit = signed.audit();
    let (token, row) = state
        .db
        .run(move |c| {
            tokens::create_by(
                c,
                role,
                employer.as_deref(),
                region,
                label.as_deref(),
                &audit.actor,
                audit.request_id.as_deref(),
            )
        })
        .await?;
    let html = render(&CreatedView {
        layout: Layout::new(lang),
        nav: Nav::new(&signed, "/admin/tokens"),
        token,
        view: token_view(&row, &signed),
        back: signed.link("/admin/tokens"),
    })?;
    Ok(page_kit::page(StatusCode::OK, html, &[]))
}

#[post("/admin/tokens/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageRefusal> {
    if let Some(r) = admin_form(&signed, form.csrf_token.as_deref(), "/admin/tokens")? {
        return Ok(r);
    }
    let Ok(id) = path.parse::<i64>() else {
        return Err(signed.not_found());
    };
    let audit = signed.audit();
    let n = state
        .db
        .run(move |c| {
            tokens::revoke_by(
                c,
                &id.to_string(),
                &audit.actor,
                audit.request_id.as_deref(),
            )
        })
        .await?;
    if n == 0 {
        return Err(signed.not_found());
    }
    Ok(see_other(&signed.link("/admin/tokens"), &[]))
}

/// Registers the token pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(create).service(revoke);
}
