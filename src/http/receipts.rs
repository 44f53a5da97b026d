//! Signed computation receipts over HTTP: an assessment's receipt
//! (`GET /api/v1/employers/{uscc}/assessments/{levy_year}/receipt`, the same walls as the
//! assessment), the deployment's public key (`GET /api/v1/receipt-key`), a check of a
//! receipt (`POST /api/v1/receipts/verify`, public: it reveals nothing the receipt does
//! not hold), and the public pages a printed QR code leads to (`/receipts/{digest}`) or
//! where a receipt is pasted to be checked (`/receipts/verify`).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::EmployerYear;
use super::page_kit::{page, LangQuery};
use super::pages::{page_lang, render, Layout};
use super::problem::AppError;
use super::{session, AppState};
use crate::db::assessments as assessments_repo;
use crate::db::receipts as repo;
use crate::domain::{Language, Said};
use crate::registry::receipts::{self, Verdict};

/// The address a printed document's QR code leads to, to check its receipt.
pub fn verification_path(digest: &str) -> String {
    format!("/receipts/{digest}")
}

/// The receipt of an employer's current assessment of a year, issued now if it has
/// none yet; `None` without an assessment. Printed documents carry its digest.
pub async fn current_receipt(
    state: &AppState,
    employer: &crate::db::employers::Employer,
    levy_year: i32,
) -> Result<Option<crate::db::receipts::ReceiptRow>, AppError> {
    let secret = state.secret().await?;
    let employer = employer.clone();
    Ok(state
        .db
        .run(move |c| {
            let Some(a) = assessments_repo::current(c, employer.id, levy_year)? else {
                return Ok(None);
            };
            let now = chrono::Utc::now().naive_utc();
            receipts::issue(c, &secret, &employer, &a, now).map(Some)
        })
        .await?)
}

#[get("/api/v1/employers/{uscc}/assessments/{levy_year}/receipt")]
async fn receipt(state: web::Data<AppState>, at: EmployerYear) -> Result<HttpResponse, AppError> {
    let levy_year = at.levy_year()?.get();
    let row = current_receipt(&state, &at.employer, levy_year)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Said::new(
                "该单位没有本征收年度的核定，无法出具回执",
                "this employer has no assessment for the levy year: there is no receipt",
            ))
        })?;
    let doc: Value = serde_json::from_str(&row.document_json)
        .map_err(|e| AppError::Internal(format!("stored receipt unreadable: {e}")))?;
    Ok(HttpResponse::Ok().json(doc))
}

#[get("/api/v1/receipt-key")]
async fn public_key(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let secret = state.secret().await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(receipts::public_key_document(&secret)))
}

/// The check of a receipt as the API answers it.
async fn check(state: &AppState, doc: &Value, lang: Language) -> Result<Value, AppError> {
    let secret = state.secret().await?;
    let key = receipts::signing_key(&secret).verifying_key();
    let verdict = receipts::verify(doc, &key);
    let (valid, digest, reason) = match &verdict {
        Verdict::Valid { digest } => (true, Some(digest.clone()), None),
        Verdict::Invalid(f) => (false, None, Some(*f)),
    };
    let issued_here = match &digest {
        Some(d) => {
            let d = d.clone();
            state
                .db
                .run(move |c| repo::by_digest(c, &d))
                .await?
                .is_some()
        }
        None => false,
    };
    Ok(json!({
        "valid": valid,
        "digest": digest,
        "key_id": receipts::key_id(&key),
        "issued_here": issued_here,
        "reason": reason.map(|f| json!({"code": f.code(), "message": f.message(lang)})),
    }))
}

#[post("/api/v1/receipts/verify")]
async fn verify_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    doc: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let lang = super::lang_of(&req);
    Ok(HttpResponse::Ok().json(check(&state, &doc, lang).await?))
}

/// What the public receipt pages show: the verdict and, for a valid receipt, the
/// figures it certifies (no personal data: a receipt holds none unmasked).
#[derive(Debug, Default)]
pub struct ReceiptPage {
    valid: bool,
    reason: Option<String>,
    digest: String,
    key_id: String,
    issued_here: bool,
    facts: Vec<(String, String)>,
    csrf: String,
    pasted: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/receipts/receipt.html")]
struct ReceiptView {
    layout: Layout,
    page: ReceiptPage,
}

/// The facts of a receipt a reader checks against the paper: employer, year, figures.
fn facts(doc: &Value, lang: Language) -> Vec<(String, String)> {
    let r = &doc["receipt"];
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    let mut out = vec![
        (
            lang.pick("单位名称", "Employer").to_owned(),
            s(&r["assessment"]["employer_name"]),
        ),
        (
            lang.pick("统一社会信用代码", "Unified social credit code")
                .to_owned(),
            s(&r["assessment"]["uscc"]),
        ),
        (
            lang.pick("征收年度", "Levy year").to_owned(),
            s(&r["assessment"]["levy_year"]),
        ),
        (
            lang.pick("核定时间", "Computed at").to_owned(),
            s(&r["assessment"]["computed_at"]),
        ),
    ];
    for (key, zh, en) in [
        ("fee_due", "应缴保障金（减免前）", "Levy before reductions"),
        ("levy_payable", "应缴保障金", "Levy payable"),
        ("reward", "超比例奖励", "Over-quota reward"),
    ] {
        let v = &r["result"][key];
        if !v.is_null() {
            out.push((lang.pick(zh, en).to_owned(), format!("{} 元", s(v))));
        }
    }
    out.push((
        lang.pick("软件版本", "Software version").to_owned(),
        s(&r["software"]["version"]),
    ));
    out
}

async fn checked_page(
    state: &AppState,
    lang: Language,
    doc: &Value,
) -> Result<ReceiptPage, AppError> {
    let c = check(state, doc, lang).await?;
    let valid = c["valid"].as_bool().unwrap_or(false);
    Ok(ReceiptPage {
        valid,
        reason: c["reason"]["message"].as_str().map(str::to_owned),
        digest: c["digest"].as_str().unwrap_or_default().to_owned(),
        key_id: c["key_id"].as_str().unwrap_or_default().to_owned(),
        issued_here: c["issued_here"].as_bool().unwrap_or(false),
        facts: if valid { facts(doc, lang) } else { Vec::new() },
        checked: true,
        ..ReceiptPage::default()
    })
}

async fn verify_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let (csrf, set) = session::anonymous_token(&state, &req).await?;
    let html = render(&ReceiptView {
        layout: Layout::new(lang),
        page: ReceiptPage {
            csrf,
            ..ReceiptPage::default()
        },
    })?;
    Ok(page(StatusCode::OK, html, set.as_slice()))
}

/// The pasted receipt.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PastedForm {
    csrf_token: Option<String>,
    receipt: String,
}

async fn verify_pasted(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
    form: web::Form<PastedForm>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let form = form.into_inner();
    if !session::anonymous_token_ok(&state, &req, form.csrf_token.as_deref()).await? {
        return super::page_kit::forged(lang, "/receipts/verify".into());
    }
    let (csrf, set) = session::anonymous_token(&state, &req).await?;
    let mut p = match serde_json::from_str::<Value>(&form.receipt) {
        Ok(doc) => checked_page(&state, lang, &doc).await?,
        Err(_) => ReceiptPage {
            checked: true,
            reason: Some(receipts::Fault::Malformed.message(lang).to_owned()),
            ..ReceiptPage::default()
        },
    };
    p.csrf = csrf;
    // Shown back only when short enough to be a receipt: a pasted novel is not echoed.
    if form.receipt.len() <= PASTED_LIMIT {
        p.pasted = form.receipt;
    }
    let status = if p.valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&ReceiptView {
        layout: Layout::new(lang),
        page: p,
    })?;
    Ok(page(status, html, set.as_slice()))
}

#[get("/receipts/{digest}")]
async fn by_digest(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = page_lang(&req, q.lang.as_deref())?;
    let digest = path.into_inner().to_ascii_lowercase();
    let found = if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        state.db.run(move |c| repo::by_digest(c, &digest)).await?
    } else {
        None
    };
    let Some(row) = found else {
        return super::page_kit::message(
            lang,
            StatusCode::NOT_FOUND,
            ("未找到回执", "No such receipt"),
            lang.pick(
                "本系统没有签发过该摘要的核定回执。请核对二维码或链接。",
                "This deployment issued no receipt with this digest. Check the QR code or the link.",
            )
            .to_owned(),
            Some(("/receipts/verify".into(), lang.pick("核验回执文件", "Check a receipt file").into())),
        );
    };
    let doc: Value = serde_json::from_str(&row.document_json)
        .map_err(|e| AppError::Internal(format!("stored receipt unreadable: {e}")))?;
    let html = render(&ReceiptView {
        layout: Layout::new(lang),
        page: checked_page(&state, lang, &doc).await?,
    })?;
    Ok(page(StatusCode::OK, html, &[]))
}

/// The QR code of a receipt's verification address, as SVG, for printed documents
/// (served from here, so a page loads nothing from elsewhere and needs no inline SVG).
#[get("/receipts/{digest}/qr.svg")]
async fn qr(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let digest = path.into_inner().to_ascii_lowercase();
    let known = if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        let d = digest.clone();
        state
            .db
            .run(move |c| repo::by_digest(c, &d))
            .await?
            .is_some()
    } else {
        false
    };
    if !known {
        return Err(AppError::NotFound(Said::new(
            "没有该回执",
            "no such receipt",
        )));
    }
    let address = format!(
        "{}{}",
        state.settings.server.public_base_url.trim_end_matches('/'),
        verification_path(&digest)
    );
    let code = qrcode::QrCode::with_error_correction_level(address.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "public, max-age=86400"))
        .body(svg))
}

/// The largest receipt the form takes: a receipt with a long roster and its full
/// explanation runs to tens of kilobytes, past the 16 KiB forms get by default.
const PASTED_LIMIT: usize = 512 * 1024;

/// Registers the routes (`/receipts/verify` before `/receipts/{digest}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(receipt)
        .service(public_key)
        .service(verify_api)
        .service(
            web::resource("/receipts/verify")
                .app_data(web::FormConfig::default().limit(PASTED_LIMIT))
                .route(web::get().to(verify_form))
                .route(web::post().to(verify_pasted)),
        )
        .service(qr)
        .service(by_digest);
}
