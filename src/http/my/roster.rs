//! The roster by file: `GET /my/{uscc}/roster-template.xlsx` (the columns with their
//! Chinese headers, an instructions sheet and a sheet of examples, clearly marked),
//! and `GET|POST /my/{uscc}/declaration/{year}/roster`, a form that uploads an XLSX or
//! CSV of roster lines into the declaration: they replace its roster, staff and wages
//! kept, and the whole declaration is checked by the API's own validation. Any fault
//! (a cell, a row, the declaration) is reported by row and column, and then nothing is
//! written: there is no partial mode, a roster is one person's list and is corrected
//! and sent again whole. Certificate numbers are never shown in full.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::Value;

use super::multipart;
use super::{own_employer, page_year, MyFrame, Section};
use crate::db::declarations as repo;
use crate::db::employers::Employer;
use crate::domain::Language;
use crate::http::page_kit::{forged, see_other, PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::AppState;
use crate::import::columns::DECLARATION_COLUMNS;
use crate::import::roster::read_roster;
use crate::import::{Limits, RowIssue};
use crate::registry::declarations::{self as registry, mask_number, SaveOptions};

/// The roster columns of the template, in order, with the note each header carries
/// (the reader ignores a note in brackets).
const TEMPLATE_COLUMNS: [(&str, &str); 11] = [
    ("certificate_no", ""),
    ("certificate_kind", ""),
    ("grade", "（残疾军人证填写）"),
    ("months", ""),
    ("employed_from", ""),
    ("employed_to", ""),
    ("on_establishment", ""),
    ("contract_months", "（月）"),
    ("social_insurance_paid", ""),
    ("monthly_wage", "（元）"),
    ("fresh_graduate", ""),
];

/// The Chinese header of a roster key.
fn zh(key: &str) -> &'static str {
    DECLARATION_COLUMNS
        .iter()
        .find(|c| c.key == key)
        .map_or("", |c| c.zh)
}

/// What the instructions sheet says, one line a row.
const INSTRUCTIONS: &[&str] = &[
    "残疾职工名单填写说明 (How to fill in the roster)",
    "",
    "1. 在第一张工作表“残疾职工名单”中，表头下每行填写一名残疾职工；不要改动表头，不要填写姓名或身份证号（残疾证号已可识别本人）。",
    "   One disabled employee a row on the first sheet, under the headers; do not change the headers; no names or ID numbers.",
    "2. 残疾证号：第二代残疾人证 20 位（身份证号 + 类别 + 等级），或残疾军人证号。该列已设为“文本”格式，请勿改为数字，否则末尾数字会丢失。",
    "   Certificate number: 20 characters (ID number, category, grade) or a veteran's number; the column is text, keep it so.",
    "3. 证件类型：残疾人证（默认）或 残疾军人证；残疾军人证须填写残疾等级（1–8）。",
    "   Kind: 残疾人证 (default) or 残疾军人证; a veteran's certificate needs its grade (1-8).",
    "4. 在职月份：如 1-12、1,2,3 或 1-6,9；也可改填入职日期、离职日期（如 2024-03-01）。",
    "   Months employed, e.g. 1-12, 1,2,3 or 1-6,9; or the dates employed from and to.",
    "5. 是否在编、是否足额缴纳社会保险、是否应届高校毕业生：填 是 或 否（社会保险不填视为 是）。",
    "   Yes/no columns: 是 or 否 (social insurance defaults to 是).",
    "6. 劳动合同期限填月数；月工资填元。",
    "   Contract in months; monthly wage in yuan.",
    "7. 上传后名单将替换申报草稿中的残疾职工名单（职工人数和工资不变）；有任何错误时不会写入，请按提示的行号和列更正后重新上传。",
    "   The upload replaces the roster of the declaration (staff and wages kept); with any fault nothing is written: correct the rows named and upload again.",
    "8. 第三张工作表“示例”仅为示例，证号是虚构的，请勿上传示例行。",
    "   The third sheet holds examples with made-up numbers: do not upload them.",
];

/// Example rows (made-up, valid-looking numbers), marked as examples on their sheet.
const EXAMPLES: [[&str; 11]; 2] = [
    [
        "11010519491231002X42",
        "残疾人证",
        "",
        "1-12",
        "",
        "",
        "否",
        "24",
        "是",
        "3200",
        "否",
    ],
    [
        "41120219800101001X13",
        "残疾人证",
        "",
        "",
        "2024-07-01",
        "2024-12-31",
        "否",
        "12",
        "是",
        "2800",
        "是",
    ],
];

/// The template workbook.
pub fn template_workbook() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let note = Format::new().set_bold().set_font_color("#B00020");
    {
        let ws = wb.add_worksheet();
        ws.set_name("残疾职工名单")?;
        for (col, (key, extra)) in (0u16..).zip(TEMPLATE_COLUMNS) {
            ws.write_string_with_format(0, col, format!("{}{extra}", zh(key)), &bold)?;
            ws.set_column_width(col, if key == "certificate_no" { 24 } else { 14 })?;
            // Text cells keep a certificate number whole (a number cell keeps 15 digits).
            ws.set_column_format(col, &text)?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("填写说明")?;
        ws.set_column_width(0, 120)?;
        for (row, line) in (0u32..).zip(INSTRUCTIONS) {
            if row == 0 {
                ws.write_string_with_format(row, 0, *line, &bold)?;
            } else {
                ws.write_string(row, 0, *line)?;
            }
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("示例（请勿上传）")?;
        ws.write_string_with_format(
            0,
            0,
            "以下为示例，证号为虚构，仅供参考，请勿上传 (examples only: made-up numbers, do not upload)",
            &note,
        )?;
        for (col, (key, extra)) in (0u16..).zip(TEMPLATE_COLUMNS) {
            ws.write_string_with_format(1, col, format!("{}{extra}", zh(key)), &bold)?;
            ws.set_column_width(col, if key == "certificate_no" { 24 } else { 14 })?;
        }
        for (row, ex) in (2u32..).zip(EXAMPLES) {
            for (col, v) in (0u16..).zip(ex) {
                ws.write_string_with_format(row, col, v, &text)?;
            }
        }
    }
    wb.save_to_buffer()
}

/// The template download (the employer's own pages only).
#[get("/my/{uscc}/roster-template.xlsx")]
pub async fn template(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageRefusal> {
    own_employer(&state, &s, &path).await?;
    let bytes =
        template_workbook().map_err(|e| AppError::Internal(format!("roster template: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::http::imports::XLSX_MEDIA_TYPE))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"roster-template.xlsx\"; filename*=UTF-8''%E6%AE%8B%E7%96%BE%E8%81%8C%E5%B7%A5%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.xlsx",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// One line of the upload's report.
pub struct ReportLine {
    /// The row as the user sees it (header = 1); `None` for the declaration itself.
    pub row: Option<usize>,
    /// The column as written in the file.
    pub column: String,
    /// The certificate of the row, masked.
    pub certificate: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Template)]
#[template(path = "pages/my/roster.html")]
struct RosterView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    data_year: i32,
    action: String,
    csrf: String,
    template_href: String,
    back_href: String,
    report: Vec<ReportLine>,
}

fn page(
    s: &SignedIn,
    e: &Employer,
    year: i32,
    report: Vec<ReportLine>,
) -> Result<String, AppError> {
    let u = &e.uscc;
    render(&RosterView {
        layout: Layout::new(s.lang),
        frame: MyFrame::new(s, e, Section::Declaration, year),
        year,
        data_year: year - 1,
        action: s.link(&format!("/my/{u}/declaration/{year}/roster")),
        csrf: s.csrf().to_owned(),
        template_href: s.link(&format!("/my/{u}/roster-template.xlsx")),
        back_href: s.link(&format!("/my/{u}/declaration/{year}")),
        report,
    })
}

/// The upload form.
#[get("/my/{uscc}/declaration/{year}/roster")]
pub async fn upload_form(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    Ok(super::respond(
        StatusCode::OK,
        page(&s, &e, year, Vec::new())?,
    ))
}

fn line(issue: &RowIssue, certificate: Option<&str>) -> ReportLine {
    ReportLine {
        row: (issue.row > 0).then_some(issue.row),
        column: issue.column.clone(),
        certificate: certificate.map(mask_number).unwrap_or_default(),
        message: issue.message.clone(),
    }
}

fn whole(message: String) -> ReportLine {
    ReportLine {
        row: None,
        column: String::new(),
        certificate: String::new(),
        message,
    }
}

/// An uploaded roster: into the declaration, or a report and nothing written.
#[post("/my/{uscc}/declaration/{year}/roster")]
pub async fn upload(
    state: web::Data<AppState>,
    s: SignedIn,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let here = format!("/my/{uscc}/declaration/{y}/roster");
    let parts = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
        .and_then(|b| multipart::parts(&body, &b))
        .unwrap_or_default();
    let token = parts
        .iter()
        .find(|p| p.name == "csrf_token")
        .and_then(|p| std::str::from_utf8(&p.data).ok());
    if !s.form_ok(token) {
        return Ok(forged(s.lang, s.link(&here))?);
    }
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let lang = s.lang;
    let refuse = |report: Vec<ReportLine>| -> Result<HttpResponse, PageRefusal> {
        let html = page(&s, &e, year, report)?;
        Ok(super::respond(StatusCode::UNPROCESSABLE_ENTITY, html))
    };
    let Some(file) = parts
        .iter()
        .find(|p| p.name == "file" && !p.data.is_empty())
    else {
        return refuse(vec![whole(
            lang.pick(
                "请选择要上传的名单文件（XLSX 或 CSV）",
                "choose the roster file to upload (XLSX or CSV)",
            )
            .to_owned(),
        )]);
    };
    let limits = Limits::from(&state.settings.import);
    let roster = match read_roster(&file.data, file.filename.as_deref(), limits, lang) {
        Ok(r) => r,
        Err(faults) => {
            return refuse(
                faults
                    .issues
                    .iter()
                    .map(|i| line(i, faults.certificate_of_row(i.row)))
                    .collect(),
            );
        }
    };
    let id = e.id;
    let current = state.db.run(move |c| repo::current(c, id, year)).await?;
    let Some(current) = current else {
        return refuse(vec![whole(
            lang.pick(
                "本年度还没有申报：请先在申报表中填写职工人数和工资并保存草稿，再上传名单。",
                "There is no declaration for the year yet: fill in staff and wages on the declaration form and save the draft, then upload the roster.",
            )
            .to_owned(),
        )]);
    };
    let mut body: Value = serde_json::from_str(&current.body_json)
        .map_err(|e| AppError::Internal(format!("stored declaration is not JSON: {e}")))?;
    if let Some(o) = body.as_object_mut() {
        o.remove("disabled_count");
        o.insert(
            "disabled_employees".into(),
            Value::Array(roster.lines.clone()),
        );
    }
    let parsed =
        match registry::parse_declaration_lang(state.policy.as_ref(), &e, year, &body, lang) {
            Ok((p, _)) => p,
            Err(errors) => {
                let report = errors
                    .iter()
                    .map(|fe| match roster.locate(fe) {
                        Some(i) => line(&i, roster.certificate_of_row(i.row)),
                        None => whole(match lang {
                            Language::Zh => format!("申报表：{}", fe.message),
                            Language::En => format!("declaration: {}", fe.message),
                        }),
                    })
                    .collect();
                return refuse(report);
            }
        };
    let (audit, emp, secret, tag) = (s.audit(), e.clone(), state.secret().await?, current.etag());
    let saved = state
        .call(move |c, _| {
            registry::put(
                c,
                &emp,
                year,
                &parsed,
                &SaveOptions {
                    actor: &audit.actor,
                    request_id: audit.rid(),
                    if_match: Some(&tag),
                    secret: &secret,
                },
            )
        })
        .await;
    match saved {
        Ok(_) => Ok(see_other(
            &s.link(&format!("/my/{uscc}/declaration/{year}?done=roster")),
            &[],
        )),
        Err(AppError::PreconditionFailed(m)) | Err(AppError::Conflict(m)) => {
            refuse(vec![whole(m.get(lang).to_owned())])
        }
        Err(other) => Err(other.into()),
    }
}
