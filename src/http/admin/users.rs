//! `/admin/users`: the list (keyset pages by username), a new user (a password the
//! administrator types twice, or for an employer the activation invitation by mail),
//! one user's page with its disabling, a new password, and a reset link the user
//! chooses a new password with (mailed, or a letter to print). Each write goes through
//! `registry::accounts`, which audits it in the same transaction.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{
    admin, admin_form, cut_page, given, kept, role_choices, scope_label, stored_role, Choice,
    FormState, Nav,
};
use crate::auth::Role;
use crate::db::accounts::{self as repo, UserRow};
use crate::domain::Language;
use crate::http::page_kit::{self, china_time, message, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::mail::Templates;
use crate::registry::accounts::{
    create_user, disable_user, invite_employer, reset_password, send_reset, AccountError,
    Invitations, NewAccount, ResetSent,
};

/// Users per page.
const PER_PAGE: i64 = 50;

/// A user as the list shows it (never the password hash).
pub struct UserView {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role, in the page's language.
    pub role: &'static str,
    /// Employer or region.
    pub scope: String,
    /// Disabled.
    pub disabled: bool,
    /// Last sign-in, China time.
    pub last_sign_in: String,
    /// The user's page.
    pub href: String,
}

fn user_view(u: &UserRow, signed: &SignedIn) -> UserView {
    let lang = signed.lang;
    UserView {
        username: u.username.clone(),
        display_name: u.display_name.clone().unwrap_or_default(),
        role: stored_role(&u.role, lang),
        scope: scope_label(&u.employer_uscc, &u.region, lang),
        disabled: u.disabled,
        last_sign_in: u.last_sign_in_at.map(china_time).unwrap_or_default(),
        href: signed.link(&format!(
            "/admin/users/{}",
            percent_encoding::utf8_percent_encode(&u.username, percent_encoding::NON_ALPHANUMERIC)
        )),
    }
}

#[derive(Template)]
#[template(path = "pages/admin/users.html")]
struct ListView {
    layout: Layout,
    nav: Nav,
    users: Vec<UserView>,
    new_href: String,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// `?after=` of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    after: Option<String>,
}

#[get("/admin/users")]
async fn list(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let after = given(&q.after).map(str::to_owned);
    let a2 = after.clone();
    let mut rows = state
        .db
        .run(move |c| repo::users_page(c, a2.as_deref(), PER_PAGE + 1))
        .await?;
    let more = cut_page(&mut rows, PER_PAGE);
    let next_href = match (more, rows.last()) {
        (true, Some(last)) => Some(signed.link(&format!(
            "/admin/users?after={}",
            percent_encoding::utf8_percent_encode(
                &last.username,
                percent_encoding::NON_ALPHANUMERIC
            )
        ))),
        _ => None,
    };
    let html = render(&ListView {
        layout: Layout::new(signed.lang),
        nav: Nav::new(&signed, "/admin/users"),
        users: rows.iter().map(|u| user_view(u, &signed)).collect(),
        new_href: signed.link("/admin/users/new"),
        next_href,
        first_href: after.map(|_| signed.link("/admin/users")),
    })?;
    Ok(page_kit::page(StatusCode::OK, html, &[]))
}

/// The fields of the user forms, all optional: a missing one is a fault beside it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserForm {
    csrf_token: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    employer: Option<String>,
    region: Option<String>,
    /// `password` or `invite`.
    mode: Option<String>,
    password: Option<String>,
    confirm_password: Option<String>,
    email: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin/user_new.html")]
struct NewView {
    layout: Layout,
    nav: Nav,
    form: FormState,
    roles: Vec<Choice>,
    action: String,
    pw_label: String,
}

fn new_page(
    signed: &SignedIn,
    state: &AppState,
    form: FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageRefusal> {
    let chosen = Some(form.value("role")).filter(|r| !r.is_empty());
    let html = render(&NewView {
        layout: Layout::new(signed.lang),
        nav: Nav::new(signed, "/admin/users"),
        roles: role_choices(signed.lang, chosen),
        action: signed.link("/admin/users"),
        pw_label: pw_label(signed.lang, state),
        form,
    })?;
    Ok(page_kit::page(status, html, &[]))
}

fn pw_label(lang: Language, state: &AppState) -> String {
    let n = state.settings.accounts.password_min_length;
    match lang {
        Language::Zh => format!("密码（至少 {n} 个字符）"),
        Language::En => format!("Password (at least {n} characters)"),
    }
}

#[get("/admin/users/new")]
async fn new_form(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let mut form = FormState::new(signed.csrf());
    form.keep("mode", Some("password"));
    new_page(&signed, &state, form, StatusCode::OK)
}

fn faults_into(form: &mut FormState, e: AccountError, lang: Language) -> Result<(), PageRefusal> {
    match e {
        AccountError::Invalid(faults) => {
            for f in faults {
                form.fault(f.field, f.message(lang));
            }
            Ok(())
        }
        AccountError::Conflict(_) => {
            form.fault(
                "username",
                lang.pick(
                    "该用户名或单位的账户已存在",
                    "an account with this username or for this employer exists already",
                ),
            );
            Ok(())
        }
        AccountError::NotFound(_) => Err(PageRefusal::NotFound(lang)),
        AccountError::Db(d) => Err(d.into()),
        other => Err(crate::http::problem::AppError::Internal(other.to_string()).into()),
    }
}

#[post("/admin/users")]
async fn create(
    state: web::Data<AppState>,
    signed: SignedIn,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageRefusal> {
    let f = form.into_inner();
    let sent = [
        ("username", &f.username),
        ("display_name", &f.display_name),
        ("role", &f.role),
        ("employer", &f.employer),
        ("region", &f.region),
        ("mode", &f.mode),
        ("email", &f.email),
    ];
    let token = f.csrf_token.as_deref();
    let mut shown = match kept(&signed, token, "/admin/users/new", &sent)? {
        Ok(shown) => shown,
        Err(forged) => return Ok(forged),
    };
    let lang = signed.lang;
    let role = match given(&f.role).map(str::parse::<Role>) {
        Some(Ok(r)) => Some(r),
        _ => {
            shown.fault("role", lang.pick("请选择角色", "choose a role"));
            None
        }
    };
    let actor = signed.audit().actor;
    let rid = signed.request_id.clone();
    if given(&f.mode) == Some("invite") {
        if role.is_some_and(|r| r != Role::Employer) {
            shown.fault(
                "mode",
                lang.pick(
                    "只有用人单位账户可以通过邀请邮件激活",
                    "only an employer's account can be activated by an invitation",
                ),
            );
        }
        let uscc = given(&f.employer).map(str::to_owned);
        if uscc.is_none() {
            shown.fault(
                "employer",
                lang.pick(
                    "请填写用人单位的统一社会信用代码",
                    "enter the employer's unified social credit code",
                ),
            );
        }
        let inv = Invitations::from_settings(&state.settings)
            .map_err(|e| crate::http::problem::AppError::Internal(e.to_string()))?;
        let Some(inv) = inv else {
            shown.fault(
                "mode",
                lang.pick(
                    "本系统未启用邀请邮件（accounts.invite_on_registration），请设置密码",
                    "invitations are switched off here (accounts.invite_on_registration): set a password",
                ),
            );
            return new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY);
        };
        if shown.has_faults() {
            return new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let uscc = uscc.unwrap_or_default();
        let email = given(&f.email).map(str::to_owned);
        let u2 = uscc.clone();
        let done = state
            .db
            .run(move |c| {
                Ok(invite_employer(
                    c,
                    &inv,
                    &u2,
                    email.as_deref(),
                    &actor,
                    rid.as_deref(),
                ))
            })
            .await?;
        return match done {
            Ok(_) => Ok(message(
                lang,
                StatusCode::OK,
                ("邀请已发出", "Invitation sent"),
                match lang {
                    Language::Zh => format!(
                        "已向单位 {uscc} 发送激活邀请邮件；单位打开邮件中的链接设置密码后，以统一社会信用代码登录。"
                    ),
                    Language::En => format!(
                        "The activation invitation of employer {uscc} is on its way; once it sets its password from the mail's link it signs in with its unified social credit code."
                    ),
                },
                Some((
                    signed.link("/admin/users"),
                    lang.pick("返回用户列表", "Back to the users").to_owned(),
                )),
            )?),
            Err(e) => {
                faults_into(&mut shown, e, lang)?;
                new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY)
            }
        };
    }
    let password = f.password.clone().unwrap_or_default();
    if f.confirm_password.as_deref().unwrap_or_default() != password {
        shown.fault(
            "confirm_password",
            lang.pick("两次输入的密码不一致", "the two passwords differ"),
        );
    }
    let Some(role) = role else {
        return new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if shown.has_faults() {
        return new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let account = NewAccount {
        username: given(&f.username).unwrap_or_default().to_owned(),
        display_name: given(&f.display_name).map(str::to_owned),
        role,
        employer: given(&f.employer).map(str::to_owned),
        region: given(&f.region).map(str::to_owned),
    };
    let settings = state.settings.accounts.clone();
    let done = state
        .db
        .run(move |c| Ok(create_user(c, &account, &password, &settings, &actor)))
        .await?;
    match done {
        Ok(u) => Ok(see_other(&user_view(&u, &signed).href, &[])),
        Err(e) => {
            faults_into(&mut shown, e, lang)?;
            new_page(&signed, &state, shown, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/admin/user.html")]
struct UserPage {
    layout: Layout,
    nav: Nav,
    user: UserView,
    form: FormState,
    disable_action: String,
    password_action: String,
    reset_link_action: String,
    reset_hours: u32,
    pw_label: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "pages/admin/reset_letter.html")]
struct LetterView {
    layout: Layout,
    nav: Nav,
    text: String,
    back: String,
}

async fn find(state: &AppState, signed: &SignedIn, username: &str) -> Result<UserRow, PageRefusal> {
    let name = username.to_owned();
    state
        .db
        .run(move |c| repo::by_username(c, &name))
        .await?
        .ok_or_else(|| signed.not_found())
}

/// The user of a form POST on its page, after the role and the form's token: `Err` is
/// the answer to a forged form (403, nothing changed).
async fn posted_user(
    state: &AppState,
    signed: &SignedIn,
    username: &str,
    token: Option<&str>,
) -> Result<Result<UserRow, HttpResponse>, PageRefusal> {
    let back = format!("/admin/users/{username}");
    if let Some(r) = admin_form(signed, token, &back)? {
        return Ok(Err(r));
    }
    Ok(Ok(find(state, signed, username).await?))
}

/// A refusal of the registry that no field of the form explains: 404 for a user gone,
/// else the fault below the page.
fn no_field(signed: &SignedIn, e: AccountError) -> PageRefusal {
    match e {
        AccountError::NotFound(_) => signed.not_found(),
        AccountError::Db(d) => d.into(),
        e => crate::http::problem::AppError::Internal(e.to_string()).into(),
    }
}

fn user_page(
    signed: &SignedIn,
    state: &AppState,
    u: &UserRow,
    form: FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageRefusal> {
    let view = user_view(u, signed);
    let base = format!(
        "/admin/users/{}",
        percent_encoding::utf8_percent_encode(&u.username, percent_encoding::NON_ALPHANUMERIC)
    );
    let is_self =
        matches!(signed.who().credential, crate::auth::Credential::User(id) if id == u.id);
    let html = render(&UserPage {
        layout: Layout::new(signed.lang),
        nav: Nav::new(signed, "/admin/users"),
        user: view,
        form,
        disable_action: signed.link(&format!("{base}/disable")),
        password_action: signed.link(&format!("{base}/password")),
        reset_link_action: signed.link(&format!("{base}/reset-link")),
        reset_hours: state.settings.accounts.reset_valid_hours,
        pw_label: pw_label(signed.lang, state),
        is_self,
    })?;
    Ok(page_kit::page(status, html, &[]))
}

#[get("/admin/users/{username}")]
async fn show(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageRefusal> {
    admin(&signed)?;
    let u = find(&state, &signed, &path).await?;
    user_page(
        &signed,
        &state,
        &u,
        FormState::new(signed.csrf()),
        StatusCode::OK,
    )
}

#[post("/admin/users/{username}/disable")]
async fn disable(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageRefusal> {
    let u = match posted_user(&state, &signed, &path, form.csrf_token.as_deref()).await? {
        Ok(u) => u,
        Err(forged) => return Ok(forged),
    };
    let lang = signed.lang;
    if matches!(signed.who().credential, crate::auth::Credential::User(id) if id == u.id) {
        let mut shown = FormState::new(signed.csrf());
        shown.message = Some(
            lang.pick(
                "不能停用自己的账户。",
                "You cannot disable your own account.",
            )
            .to_owned(),
        );
        return user_page(&signed, &state, &u, shown, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let actor = signed.audit().actor;
    let name = u.username.clone();
    let done = state
        .db
        .run(move |c| Ok(disable_user(c, &name, &actor)))
        .await?;
    match done {
        Ok(_) => Ok(see_other(&user_view(&u, &signed).href, &[])),
        Err(e) => Err(no_field(&signed, e)),
    }
}

#[post("/admin/users/{username}/password")]
async fn new_password(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageRefusal> {
    let u = match posted_user(&state, &signed, &path, form.csrf_token.as_deref()).await? {
        Ok(u) => u,
        Err(forged) => return Ok(forged),
    };
    let lang = signed.lang;
    let f = form.into_inner();
    let password = f.password.unwrap_or_default();
    let mut shown = FormState::new(signed.csrf());
    if f.confirm_password.as_deref().unwrap_or_default() != password {
        shown.fault(
            "confirm_password",
            lang.pick("两次输入的密码不一致", "the two passwords differ"),
        );
        return user_page(&signed, &state, &u, shown, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let actor = signed.audit().actor;
    let settings = state.settings.accounts.clone();
    let name = u.username.clone();
    let done = state
        .db
        .run(move |c| Ok(reset_password(c, &name, &password, &settings, &actor)))
        .await?;
    match done {
        Ok(ended) => {
            shown.message = Some(match lang {
                Language::Zh => format!("密码已重置；该用户的 {ended} 个登录已结束。"),
                Language::En => {
                    format!("The password was reset; {ended} sign-in(s) of this user ended.")
                }
            });
            user_page(&signed, &state, &u, shown, StatusCode::OK)
        }
        Err(e) => {
            faults_into(&mut shown, e, lang)?;
            user_page(&signed, &state, &u, shown, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[post("/admin/users/{username}/reset-link")]
async fn reset_link(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageRefusal> {
    let u = match posted_user(&state, &signed, &path, form.csrf_token.as_deref()).await? {
        Ok(u) => u,
        Err(forged) => return Ok(forged),
    };
    let lang = signed.lang;
    let templates = Templates::from_settings(&state.settings.mail)
        .map_err(|e| crate::http::problem::AppError::Internal(format!("mail templates: {e}")))?;
    let audit = signed.audit();
    let settings = state.settings.accounts.clone();
    let name = u.username.clone();
    let done = state
        .db
        .run(move |c| {
            Ok(send_reset(
                c,
                &settings,
                &templates,
                &name,
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    let mut shown = FormState::new(signed.csrf());
    match done {
        Ok(ResetSent::Mailed {
            recipient,
            expires_at,
        }) => {
            let until = china_time(expires_at);
            shown.message = Some(match lang {
                Language::Zh => format!(
                    "重设密码链接已发往 {recipient}，有效期至{until}（北京时间）止；此前发出的链接已作废。"
                ),
                Language::En => format!(
                    "The reset link is on its way to {recipient}, valid until {until} (China time); any earlier link is void."
                ),
            });
            user_page(&signed, &state, &u, shown, StatusCode::OK)
        }
        Ok(ResetSent::Letter(letter)) => {
            let html = render(&LetterView {
                layout: Layout::new(lang),
                nav: Nav::new(&signed, "/admin/users"),
                text: letter.render(&state.settings.server.public_base_url),
                back: user_view(&u, &signed).href,
            })?;
            Ok(page_kit::page(StatusCode::OK, html, &[]))
        }
        Err(AccountError::Conflict(_)) => {
            shown.message = Some(
                lang.pick(
                    "该账户已停用，未发送重设链接。",
                    "The account is disabled: no reset link was sent.",
                )
                .to_owned(),
            );
            user_page(&signed, &state, &u, shown, StatusCode::CONFLICT)
        }
        Err(e) => Err(no_field(&signed, e)),
    }
}

/// Registers the user pages (`/admin/users/new` before `/admin/users/{username}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(new_form)
        .service(create)
        .service(show)
        .service(disable)
        .service(new_password)
        .service(reset_link);
}
