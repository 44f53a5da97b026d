//! Opening one certificate number of a roster for the federation: the pages show every
//! number masked until an officer opens one line, and each opening is audited (who,
//! when, which line of which version; never the number), so that who saw whose
//! disability certificate can be answered (个人信息保护法 第二十八条).

use serde_json::json;

use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{self as repo, RosterLine};
use crate::db::employers::Employer;
use crate::db::{AnyConnection, DbError};

/// The roster line `line_no` of the current declaration of `employer` for `levy_year`,
/// its opening audited in the same transaction; `None` (nothing audited) when there is
/// no such line.
pub fn reveal_line(
    conn: &mut AnyConnection,
    employer: &Employer,
    levy_year: i32,
    line_no: i32,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Option<RosterLine>, DbError> {
    crate::db::write_transaction(conn, |c| {
        let Some(d) = repo::current(c, employer.id, levy_year)? else {
            return Ok(None);
        };
        let Some(line) = repo::roster(c, d.id)?
            .into_iter()
            .find(|l| l.line_no == line_no)
        else {
            return Ok(None);
        };
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "roster_line.reveal",
                entity_type: "declaration",
                entity_id: &format!("{}/{}", employer.uscc, levy_year),
                before: None,
                after: Some(json!({ "version": d.version, "line_no": line_no })),
                request_id,
            },
        )?;
        Ok(Some(line))
    })
}
