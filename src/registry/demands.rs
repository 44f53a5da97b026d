//! Written demands (催缴通知书): the tax bureau's warning with a deadline to an employer
//! in arrears (残疾人就业条例 第二十七条; 72号 第二十六条). Issuing one records the figures
//! it prints (the statement on the day of issue) and its deadline, audited in the same
//! transaction; under `collection.surcharge_from = "written_demand"` the surcharge runs
//! only once that deadline has passed (docs/rules.md §6).

use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;

use crate::config::SurchargeFrom;
use crate::db::audit::{self, AuditEntry};
use crate::db::demands::{self as repo, DemandRow, NewDemand};
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};
use crate::domain::money::{format_money, from_fen, to_fen};
use crate::domain::{PolicyProvider, Said};
use crate::registry::payments::{statement_under, Statement, StatementError};

/// Why a demand was not issued.
#[derive(Debug, thiserror::Error)]
pub enum DemandError {
    /// The employer owes nothing for the year on the day of issue.
    #[error("{0}")]
    NothingOwed(Said),
    /// The statement could not be drawn up.
    #[error(transparent)]
    Statement(#[from] StatementError),
}

impl From<DbError> for DemandError {
    fn from(e: DbError) -> Self {
        DemandError::Statement(StatementError::Db(e))
    }
}

impl From<diesel::result::Error> for DemandError {
    fn from(e: diesel::result::Error) -> Self {
        DemandError::Statement(StatementError::Db(DbError::Query(e)))
    }
}

fn fen(s: &str) -> Result<i64, StatementError> {
    s.parse::<rust_decimal::Decimal>()
        .ok()
        .and_then(to_fen)
        .ok_or_else(|| StatementError::Internal(format!("statement amount unreadable: {s}")))
}

/// Issues a written demand to `employer` for `levy_year` on `issued_on`, with a
/// deadline `deadline_days` later: the outstanding principal and the surcharge owed on
/// the day (the statement under `trigger`) are recorded with it. Refused when nothing
/// is owed.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    conn: &mut AnyConnection,
    provider: &dyn PolicyProvider,
    employer: &Employer,
    levy_year: i32,
    issued_on: NaiveDate,
    deadline_days: u32,
    trigger: SurchargeFrom,
    actor: &str,
    request_id: Option<&str>,
) -> Result<(DemandRow, Statement), DemandError> {
    crate::db::write_transaction(conn, |c| {
        let s = statement_under(c, provider, employer, levy_year, issued_on, trigger)?;
        let (principal_fen, surcharge_fen) = (
            fen(&s.outstanding_principal)?,
            fen(&s.outstanding_surcharge)?,
        );
        if principal_fen == 0 && surcharge_fen == 0 {
            return Err(DemandError::NothingOwed(Said::new(
                format!("{} 本征收年度无欠缴，未发出催缴通知书", employer.uscc),
                format!(
                    "{} owes nothing for the levy year: no demand was issued",
                    employer.uscc
                ),
            )));
        }
        let new = NewDemand {
            employer_id: employer.id,
            levy_year,
            issued_on,
            deadline: issued_on + Duration::days(i64::from(deadline_days)),
            principal_fen,
            surcharge_fen,
            issued_by: actor.to_owned(),
            request_id: request_id.map(str::to_owned),
            issued_at: Utc::now().naive_utc(),
        };
        let id = repo::insert(c, &new)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "demand.issue",
                entity_type: "written_demand",
                entity_id: &format!("{}/{}/{}", employer.uscc, levy_year, id),
                before: None,
                after: Some(json!({
                    "issued_on": new.issued_on, "deadline": new.deadline,
                    "principal": format_money(from_fen(principal_fen)),
                    "surcharge": format_money(from_fen(surcharge_fen)),
                })),
                request_id,
            },
        )?;
        let row = repo::by_ids(c, &[id])?
            .pop()
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        Ok((row, s))
    })
}
