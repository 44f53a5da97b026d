//! `/my/{uscc}/statement/{year}`: the employer's account for the levy year, as of today
//! (`registry::payments::statement`, the function the API, the roll and the reminders
//! use), with how to pay — the payee, bank and tax office configured for the region
//! (`[mail.payment.<region>]`, read as the pay mails read it) — and
//! `/my/{uscc}/statement/{year}/notice`, the printable 缴款通知书 (print CSS: no
//! navigation, one A4 page).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{own_employer, page_year, MyFrame, Section};
use crate::config::PaymentInstructions;
use crate::db::employers::Employer;
use crate::http::page_kit::{PageRefusal, SignedIn};
use crate::http::pages::{render, Layout};
use crate::http::problem::AppError;
use crate::http::site::date_text;
use crate::http::AppState;
use crate::registry::payments::{statement, Statement};

/// A statement as the page shows it: dates in words.
pub struct StatementShown {
    /// The figures.
    pub s: Statement,
    /// As of, in words.
    pub as_of: String,
    /// Due date, in words.
    pub due: String,
    /// Payments: date in words, amount, reference.
    pub payments: Vec<(String, String, String)>,
    /// Surcharge stretches: from–to, days, principal, surcharge.
    pub segments: Vec<(String, i64, String, String)>,
    /// How the surcharge stands, in the reader's language.
    pub surcharge_note: String,
    /// What "provisional" means, in the reader's language, when a value is.
    pub provisional_note: Option<String>,
}

/// The part of a statement's note in `lang`: the API writes them Chinese first, the
/// English after it in brackets (`未产生滞纳金 (no surcharge has accrued)`).
pub fn note_in(text: &str, lang: crate::domain::Language) -> String {
    let split = text
        .strip_suffix(')')
        .and_then(|t| t.find(" (").map(|i| (&t[..i], &t[i + 2..])));
    match (split, lang) {
        (Some((zh, _)), crate::domain::Language::Zh) => zh.trim().to_owned(),
        (Some((_, en)), crate::domain::Language::En) => en.trim().to_owned(),
        (None, _) => text.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "pages/my/statement.html")]
struct StatementView {
    layout: Layout,
    frame: MyFrame,
    year: i32,
    st: Option<StatementShown>,
    unavailable: Option<String>,
    pay: Option<PaymentInstructions>,
    notice_href: String,
    assessment_href: String,
}

#[derive(Template)]
#[template(path = "pages/my/payment_notice.html")]
struct NoticeView {
    layout: Layout,
    name: String,
    uscc: String,
    year: i32,
    data_year: i32,
    st: Option<StatementShown>,
    unavailable: Option<String>,
    pay: Option<PaymentInstructions>,
    issued: String,
    back_href: String,
    /// The digest of the assessment's signed receipt, printed with the QR code of its
    /// verification address (docs/receipts.md).
    receipt: Option<String>,
}

async fn drawn_up(
    state: &AppState,
    e: &Employer,
    year: i32,
    lang: crate::domain::Language,
) -> Result<Result<StatementShown, String>, AppError> {
    let today = state.clock.today();
    let emp = e.clone();
    let r = state
        .call(move |c, st| {
            Ok::<_, crate::db::DbError>(statement(c, st.book.as_ref(), &emp, year, today))
        })
        .await?;
    Ok(match r {
        Ok(s) => Ok(StatementShown {
            as_of: date_text(s.as_of, lang),
            due: date_text(s.due_date, lang),
            payments: s
                .payments
                .iter()
                .map(|p| {
                    (
                        date_text(p.paid_on, lang),
                        p.amount.clone(),
                        p.reference.clone(),
                    )
                })
                .collect(),
            segments: s
                .segments
                .iter()
                .map(|g| {
                    (
                        format!(
                            "{}{}{}",
                            date_text(g.from, lang),
                            lang.pick("至", " to "),
                            date_text(g.to, lang)
                        ),
                        g.days,
                        g.principal.clone(),
                        g.surcharge.clone(),
                    )
                })
                .collect(),
            surcharge_note: note_in(&s.surcharge_note, lang),
            provisional_note: s.provisional_note.as_deref().map(|n| note_in(n, lang)),
            s,
        }),
        Err(crate::registry::payments::StatementError::Policy(m)) => Err(format!(
            "{}{m}",
            lang.pick(
                "政策参数中暂无本地区本年度的缴款期限：",
                "the policy packs give no payment dates for the region and year yet: "
            )
        )),
        Err(other) => return Err(other.into()),
    })
}

/// The payment instructions configured for the employer's region (its own, its
/// city's, its province's), as the pay mails print them.
fn instructions(state: &AppState, e: &Employer) -> Option<PaymentInstructions> {
    state.settings.mail.payment.for_region(&e.region).cloned()
}

/// The statement page.
#[get("/my/{uscc}/statement/{year}")]
pub async fn statement_page(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let (st, unavailable) = match drawn_up(&state, &e, year, s.lang).await? {
        Ok(st) => (Some(st), None),
        Err(m) => (None, Some(m)),
    };
    let u = &e.uscc;
    let html = render(&StatementView {
        layout: Layout::new(s.lang),
        frame: MyFrame::new(&s, &e, Section::Statement, year),
        year,
        st,
        unavailable,
        pay: instructions(&state, &e),
        notice_href: s.link(&format!("/my/{u}/statement/{year}/notice")),
        assessment_href: s.link(&format!("/my/{u}/assessment/{year}")),
    })?;
    Ok(super::respond(StatusCode::OK, html))
}

/// The printable payment notice (缴款通知书).
#[get("/my/{uscc}/statement/{year}/notice")]
pub async fn payment_notice(
    state: web::Data<AppState>,
    s: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageRefusal> {
    let (uscc, y) = path.into_inner();
    let e = own_employer(&state, &s, &uscc).await?;
    let year = page_year(&s, &y)?;
    let (st, unavailable) = match drawn_up(&state, &e, year, s.lang).await? {
        Ok(st) => (Some(st), None),
        Err(m) => (None, Some(m)),
    };
    let html = render(&NoticeView {
        layout: Layout::new(s.lang),
        name: e.name.clone(),
        uscc: e.uscc.clone(),
        year,
        data_year: year - 1,
        st,
        unavailable,
        pay: instructions(&state, &e),
        issued: date_text(state.clock.today(), s.lang),
        back_href: s.link(&format!("/my/{}/statement/{year}", e.uscc)),
        receipt: crate::http::receipts::current_receipt(&state, &e, year)
            .await?
            .map(|r| r.digest),
    })?;
    Ok(super::respond(StatusCode::OK, html))
}

#[cfg(test)]
mod tests {
    use super::note_in;
    use crate::domain::Language;

    #[test]
    fn a_note_is_read_in_one_language() {
        let n = "滞纳金按日加收千分之五（5‰），以逾期未缴的金额 10.00 元为上限              (5‰ a day on the unpaid principal, capped at the amount in default, 10.00 yuan)";
        assert_eq!(
            note_in(n, Language::Zh),
            "滞纳金按日加收千分之五（5‰），以逾期未缴的金额 10.00 元为上限"
        );
        assert!(note_in(n, Language::En).starts_with("5‰ a day"));
        assert_eq!(note_in("plain", Language::En), "plain");
        let p = "本结果使用了暂定参数（标为暂定的数值）。 (This result uses provisional values (those marked provisional).)";
        assert_eq!(
            note_in(p, Language::Zh),
            "本结果使用了暂定参数（标为暂定的数值）。"
        );
        assert!(note_in(p, Language::En).ends_with("(those marked provisional)."));
    }
}
