//! `GET /tax/payments/import`: the form that uploads a bank's file of payments (CSV or
//! XLSX); `POST` (multipart, with the session's CSRF token) imports it as
//! `POST /api/v1/imports/payments` does ([`crate::import::payments`]) and shows the
//! report: what was recorded, what was recorded before, each fault by row and column.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::multipart::{parse, Part};
use super::{officer, page_year, TaxNav, YearQuery};
use crate::http::page_kit::{forged, page, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::AppState;
use crate::import::{self, Encoding, Input, Options, Report, Silent};

#[derive(Template)]
#[template(path = "pages/tax/import.html")]
struct ImportView {
    layout: Layout,
    nav: TaxNav,
    levy_year: i32,
    action: String,
    csrf: String,
    fault: Option<String>,
    report: Option<Report>,
    summary: String,
}

impl ImportView {
    /// The faults, then the notes (rows recorded before), each with its caption.
    fn tables(&self) -> Vec<(&'static str, &[crate::import::RowIssue])> {
        let l = self.layout.lang;
        match &self.report {
            Some(r) => vec![
                (l.pick("错误", "Faults"), r.rows.as_slice()),
                (l.pick("提示", "Notes"), r.warnings.as_slice()),
            ],
            None => Vec::new(),
        }
    }
}

fn view(s: &SignedIn, levy_year: i32, fault: Option<String>, report: Option<Report>) -> ImportView {
    ImportView {
        layout: Layout::new(s.lang),
        nav: TaxNav::new(s, levy_year, "import"),
        levy_year,
        action: s.link("/tax/payments/import"),
        csrf: s.csrf().to_owned(),
        fault,
        summary: report
            .as_ref()
            .map(|r| r.summary(s.lang))
            .unwrap_or_default(),
        report,
    }
}

/// The form.
pub async fn form(
    state: web::Data<AppState>,
    s: SignedIn,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, PageRefusal> {
    officer(&s)?;
    let levy_year = page_year(q.levy_year.as_deref(), state.clock.today())?;
    let html = render(&view(&s, levy_year, None, None))?;
    Ok(page(StatusCode::OK, html, &[]))
}

fn field<'a>(parts: &'a [Part], name: &str) -> Option<&'a Part> {
    parts.iter().find(|p| p.name == name)
}

/// The upload.
pub async fn upload(
    state: web::Data<AppState>,
    s: SignedIn,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let who = officer(&s)?;
    let lang = s.lang;
    let back = s.link("/tax/payments/import");
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Not a form from this page: the token cannot be read, so it is refused as one.
    let Ok(parts) = parse(ct, &body) else {
        return Ok(forged(lang, back)?);
    };
    if !s.form_ok(field(&parts, "csrf_token").and_then(Part::text)) {
        return Ok(forged(lang, back)?);
    }
    let today = state.clock.today();
    let year_text = field(&parts, "levy_year")
        .and_then(Part::text)
        .map(str::to_owned);
    let levy_year = match page_year(year_text.as_deref(), today) {
        Ok(y) => y,
        Err(_) => {
            let y = page_year(None, today)?;
            let fault = lang.pick(
                "征收年度无效（2016–2100）",
                "The levy year is not valid (2016–2100)",
            );
            let html = render(&view(&s, y, Some(fault.to_owned()), None))?;
            return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, html, &[]));
        }
    };
    let file = field(&parts, "file").filter(|p| !p.data.is_empty());
    let Some(file) = file.cloned() else {
        let fault = lang.pick("请选择要导入的文件", "Choose the file to import");
        let html = render(&view(&s, levy_year, Some(fault.to_owned()), None))?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, html, &[]));
    };
    let opts = Options {
        partial: false,
        submit: false,
        actor: who.actor(),
        import_id: s.request_id.clone().unwrap_or_else(import::new_import_id),
        scope: who.region,
        lang,
        secret: state.secret().await?,
        today,
        invitations: None,
    };
    let limits = import::Limits::from(&state.settings.import);
    let report = state
        .call(move |c, _| {
            let input = Input {
                bytes: &file.data,
                format: None,
                encoding: Encoding::Auto,
                file_name: file.filename.as_deref(),
                limits,
            };
            import::payments::import_payments(c, levy_year, &input, &opts, &Silent)
        })
        .await?;
    let status = if report.rows.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&view(&s, levy_year, None, Some(report)))?;
    Ok(page(status, html, &[]))
}
