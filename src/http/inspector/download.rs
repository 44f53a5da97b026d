//! `GET /inspector/violations.csv` and `.xlsx`: the filtered list (every row of every
//! employer passing the filters), as the API's CSV (UTF-8 with a BOM, the Chinese
//! header) or as a workbook. Rows never carry a certificate or ID number: the registry
//! counts roster lines and names none.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpResponse};

use super::filters::ListQuery;
use super::page::{entries, inspector};
use super::xlsx::write_workbook;
use crate::http::page_kit::{message, PageRefusal, SignedIn};
use crate::http::AppState;
use crate::registry::roll::xlsx::XLSX_CONTENT_TYPE;
use crate::registry::violations::{csv_line, ViolationRow, CSV_HEADER};

async fn rows(
    state: &AppState,
    signed: &SignedIn,
    q: &ListQuery,
) -> Result<Result<(i32, Vec<ViolationRow>), HttpResponse>, PageRefusal> {
    inspector(signed)?;
    let lang = signed.lang;
    let f = match q.check(signed.who(), state.clock.today()) {
        Ok(f) => f,
        Err(faults) => {
            let text = faults
                .iter()
                .map(|f| f.message(lang))
                .collect::<Vec<_>>()
                .join("；");
            return Ok(Err(message(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                ("筛选条件有误", "The filters are wrong"),
                text,
                Some((
                    signed.link("/inspector"),
                    lang.pick("返回名单", "Back to the list").to_owned(),
                )),
            )?));
        }
    };
    let all = entries(state, &f).await?;
    Ok(Ok((
        f.levy_year,
        all.into_iter().flat_map(|e| e.violations).collect(),
    )))
}

fn attachment(kind: &str, name: String, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, kind.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

#[get("/inspector/violations.csv")]
pub(super) async fn csv(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let (year, rows) = match rows(&state, &signed, &q).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    // The BOM makes Excel read the file as UTF-8 (Chinese Excel assumes GBK).
    let mut body = format!("\u{feff}{}\r\n", CSV_HEADER.join(","));
    for r in &rows {
        body.push_str(&csv_line(r));
    }
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("violations-{year}.csv"),
        body.into_bytes(),
    ))
}

#[get("/inspector/violations.xlsx")]
pub(super) async fn workbook(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let (year, rows) = match rows(&state, &signed, &q).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let body = web::block(move || write_workbook(&rows))
        .await
        .map_err(|e| crate::http::problem::AppError::Internal(e.to_string()))?
        .map_err(crate::http::problem::AppError::Internal)?;
    Ok(attachment(
        XLSX_CONTENT_TYPE,
        format!("violations-{year}.xlsx"),
        body,
    ))
}
