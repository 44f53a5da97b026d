//! `/my/{uscc}/assessment/{year}`: the current assessment explained — the same figures,
//! steps and parameters as `GET /api/v1/employers/{uscc}/assessments/{year}` (replayed
//! from the stored inputs and policy values and checked against the stored figures),
//! shown as the calculator shows a result (`templates/pages/result_body.html`).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{own_employer, page_year, MyFrame, Section};
use crate::db::assessments as repo;
use crate::http::page_kit::{PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::site::calculator::ResultView;
use crate::http::site::result::result_view;
use crate::http::AppState;
use crate::registry::assessments::replay;

#[derive(Template)]
#[template(path = "pages/my/assessment.html")]
struct AssessmentView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    data_year: i32,
    result: Option<ResultView>,
    version: i32,
    computed_on: String,
    statement_href: String,
    declaration_href: String,
}

/// The assessment page.
#[get("/my/{uscc}/assessment/{year}")]
pub async fn assessment(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let lang = s.lang;
    let id = e.id;
    let found = state
        .db
        .run(move |c| {
            let Some(a) = repo::current(c, id, year)? else {
                return Ok(None);
            };
            Ok(Some((replay(c, &a, lang), a)))
        })
        .await?;
    let (result, version, computed_on) = match found {
        None => (None, 0, String::new()),
        Some((r, a)) => {
            // Figures that no longer reproduce are an integrity fault, as in the API.
            let r = r.map_err(AppError::Internal)?;
            let rows: Vec<usize> = (0..r.employees.len()).collect();
            let china = a.computed_at + chrono::Duration::hours(8);
            (
                Some(result_view(&state, &r, &rows, Vec::new(), lang)),
                a.declaration_version,
                crate::http::site::date_text(china.date(), lang),
            )
        }
    };
    let u = &e.uscc;
    let html = render(&AssessmentView {
        layout: Layout::new(lang),
        frame: MyFrame::new(&s, &e, Section::Assessment, year),
        year,
        data_year: year - 1,
        result,
        version,
        computed_on,
        statement_href: s.link(&format!("/my/{u}/statement/{year}")),
        declaration_href: s.link(&format!("/my/{u}/declaration/{year}")),
    })?;
    Ok(super::respond(StatusCode::OK, html))
}
