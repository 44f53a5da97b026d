//! `GET /inspector/violations.csv` and `.xlsx`: the filtered list (every row of every
//! employer passing the filters), as the API's CSV (UTF-8 with a BOM, the Chinese
//! header) or as a workbook. Both are read from the stored list in its order a chunk
//! at a time, never whole in memory: the CSV streams as it is written, the workbook
//! goes to a temporary file first. Rows never carry a certificate or ID number: the
//! registry counts roster lines and names none.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpResponse};
use std::io::{Seek, SeekFrom};

use super::filters::{Filters, ListQuery};
use super::list::entry_filter;
use super::page::inspector;
use super::xlsx::{write_workbook, Written};
use crate::db::DbError;
use crate::http::page_kit::{message, PageRefusal, SignedIn};
use crate::http::problem::AppError;
use crate::http::roll::file_chunks;
use crate::http::violations::{csv_body, csv_response, CsvWalk};
use crate::http::AppState;
use crate::registry::roll::xlsx::XLSX_CONTENT_TYPE;
use crate::registry::violator_list::{current, for_each};

/// The checked filters and the stored list they read, or the page of their faults.
async fn checked(
    state: &AppState,
    signed: &SignedIn,
    q: &ListQuery,
) -> Result<Result<(Filters, i64), HttpResponse>, PageRefusal> {
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
    let (levy_year, as_of) = (f.levy_year, f.as_of);
    // A file is what an inspector acts on and carries no notice of its age: unlike a
    // page, a download waits for the list of the register as it is now (deciding it, or
    // the background refresh a page began): docs/architecture.md, "The violator list".
    let list = state
        .call(move |c, st| current(c, st.book.as_ref(), levy_year, as_of))
        .await?;
    Ok(Ok((f, list)))
}

#[get("/inspector/violations.csv")]
pub(super) async fn csv(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let (f, list) = match checked(&state, &signed, &q).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let filter = entry_filter(&f);
    let walk: CsvWalk = Box::new(move |c, emit| {
        for_each(c, list, &filter, &mut |e| {
            for r in &e.violations {
                emit(r)?;
            }
            Ok(true)
        })
    });
    Ok(csv_response(
        format!("violations-{}.csv", f.levy_year),
        csv_body(state.db.clone(), walk),
    ))
}

#[get("/inspector/violations.xlsx")]
pub(super) async fn workbook(
    state: web::Data<AppState>,
    signed: SignedIn,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageRefusal> {
    let (f, list) = match checked(&state, &signed, &q).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let filter = entry_filter(&f);
    let built = state
        .db
        .run(move |c| {
            let io = |e: std::io::Error| DbError::Task(format!("violator list workbook file: {e}"));
            // Removed by the system when closed.
            let mut file = tempfile::tempfile().map_err(io)?;
            let written = write_workbook(&mut file, |emit| {
                for_each(c, list, &filter, &mut |e| {
                    for r in &e.violations {
                        emit(r)?;
                    }
                    Ok(true)
                })
            })?;
            let len = file.seek(SeekFrom::End(0)).map_err(io)?;
            file.rewind().map_err(io)?;
            Ok((written, file, len))
        })
        .await
        .map_err(AppError::from)?;
    let lang = signed.lang;
    let (file, len) = match built {
        (Written::Done, file, len) => (file, len),
        (Written::TooManyRows, _, _) => {
            return Ok(message(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                ("行数超过一张工作表的上限", "Too many rows for one sheet"),
                lang.pick(
                    "请缩小筛选范围（区划、类型或金额），或下载 CSV",
                    "narrow the filters (region, kind or amount), or download the CSV",
                )
                .to_owned(),
                Some((
                    signed.link("/inspector"),
                    lang.pick("返回名单", "Back to the list").to_owned(),
                )),
            )?);
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"violations-{}.xlsx\"", f.levy_year),
        ))
        .no_chunking(len)
        .streaming(file_chunks(file)))
}
