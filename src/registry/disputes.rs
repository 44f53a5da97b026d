//! Certificates claimed twice (docs/rules.md §4.2): a person on two employers' rosters for
//! the same month is counted by neither until the disabled persons' federation names
//! the employer that counts them. Employers see only that a line is disputed — never
//! who else claims the person.

use serde::Serialize;
use std::collections::HashMap;

use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{self as repo, overlaps, resolutions};
use crate::db::{AnyConnection, DbError};
use crate::domain::ids::mask_numbers_in;
use crate::secret::ServerSecret;

/// Where a disputed line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    /// Claimed by another employer too; counted by neither until resolved.
    Pending,
    /// The federation decided this employer counts the person.
    CountedHere,
    /// The federation decided another employer counts the person.
    CountedElsewhere,
}

/// A disputed roster line of one employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineDispute {
    /// Roster index.
    pub line_no: i32,
    /// Months not counted on this line because of the dispute (bit 0 = January).
    pub excluded_mask: i32,
    /// Where it stands.
    pub state: DisputeState,
}

/// Disputed lines of these employers for a year: employer id → lines.
pub fn disputes_for(
    conn: &mut AnyConnection,
    levy_year: i32,
    employer_ids: &[i64],
) -> Result<HashMap<i64, Vec<LineDispute>>, DbError> {
    let mut found = overlaps(conn, levy_year, employer_ids)?;
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    // docs/rules.md §4.4: two lines that agree on a dispatch are no dispute.
    let mut ids: Vec<i64> = found
        .iter()
        .flat_map(|o| [o.employer_id, o.other_employer_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let agreements = DispatchLines::load(conn, levy_year, &ids)?;
    found.retain(|o| !agreements.agreed(&o.holder_id, o.employer_id, o.other_employer_id));
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    let mut holders: Vec<String> = found.iter().map(|o| o.holder_id.clone()).collect();
    holders.sort();
    holders.dedup();
    let decided = resolutions(conn, levy_year, &holders)?;
    let mut lines: HashMap<(i64, i32), (i32, DisputeState)> = HashMap::new();
    for o in &found {
        let state = match decided.get(&o.holder_id) {
            None => DisputeState::Pending,
            Some(w) if *w == o.employer_id => DisputeState::CountedHere,
            Some(_) => DisputeState::CountedElsewhere,
        };
        let overlap = if state == DisputeState::CountedHere {
            0
        } else {
            o.months_mask & o.other_months_mask
        };
        let e = lines
            .entry((o.employer_id, o.line_no))
            .or_insert((0, state));
        e.0 |= overlap;
    }
    let mut out: HashMap<i64, Vec<LineDispute>> = HashMap::new();
    for ((emp, line_no), (excluded_mask, state)) in lines {
        out.entry(emp).or_default().push(LineDispute {
            line_no,
            excluded_mask,
            state,
        });
    }
    for v in out.values_mut() {
        v.sort_by_key(|l| l.line_no);
    }
    Ok(out)
}

/// The months of a mask as a list (1 = January).
pub fn mask_months(mask: i32) -> Vec<u8> {
    (1..=12u8).filter(|m| mask & (1 << (m - 1)) != 0).collect()
}

/// One employer's claim on a disputed person, for the federation.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Employer.
    pub uscc: String,
    /// Its name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Roster index on its declaration.
    pub line_no: i32,
    /// Months claimed.
    pub months: Vec<u8>,
}

/// A person claimed by more than one employer, for the federation.
#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    /// The certificate as declared by the first claimant (the federation needs it).
    pub certificate_no: String,
    /// The claims.
    pub claims: Vec<Claim>,
    /// The employer named to count the person, if resolved.
    pub counted_by: Option<String>,
}

/// Every person on two or more filed rosters of the year whose claims share a month,
/// limited to claims by employers whose region starts with `region_prefix`.
pub fn list(
    conn: &mut AnyConnection,
    levy_year: i32,
    region_prefix: &str,
) -> Result<Vec<Dispute>, DbError> {
    let holders = repo::contested_holders(conn, levy_year)?;
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    let rows = repo::claims(conn, levy_year, &holders)?;
    let decided = resolutions(conn, levy_year, &holders)?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.7).collect();
    ids.sort_unstable();
    ids.dedup();
    let agreements = DispatchLines::load(conn, levy_year, &ids)?;
    // The employer ids of each holder's claims, in claim order.
    let mut claim_ids: HashMap<String, Vec<i64>> = HashMap::new();
    let mut by_holder: Vec<(String, Dispute)> = Vec::new();
    for (holder, cert, line_no, mask, uscc, name, region, emp_id) in rows {
        if by_holder.last().is_none_or(|(h, _)| *h != holder) {
            by_holder.push((
                holder.clone(),
                Dispute {
                    certificate_no: cert,
                    claims: Vec::new(),
                    counted_by: None,
                },
            ));
        }
        claim_ids.entry(holder.clone()).or_default().push(emp_id);
        if let Some((_, d)) = by_holder.last_mut() {
            if decided.get(&holder) == Some(&emp_id) {
                d.counted_by = Some(uscc.clone());
            }
            d.claims.push(Claim {
                uscc,
                name,
                region,
                line_no,
                months: mask_months(mask),
            });
        }
    }
    Ok(by_holder
        .into_iter()
        // A dispute needs two employers sharing a month, and not agreed on a dispatch
        // (docs/rules.md §4.4).
        .filter(|(holder, d)| {
            let emp = claim_ids.get(holder).map(Vec::as_slice).unwrap_or_default();
            let overlapping = d.claims.iter().enumerate().any(|(i, a)| {
                d.claims[i + 1..].iter().enumerate().any(|(j, b)| {
                    b.uscc != a.uscc
                        && a.months.iter().any(|m| b.months.contains(m))
                        && !matches!(
                            (emp.get(i), emp.get(i + 1 + j)),
                            (Some(&x), Some(&y)) if agreements.agreed(holder, x, y)
                        )
                })
            });
            overlapping && d.claims.iter().any(|c| c.region.starts_with(region_prefix))
        })
        .map(|(_, d)| d)
        .collect())
}

/// Why a resolution was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The named employer does not claim the person that year.
    #[error("{0}")]
    NotAClaimant(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ResolveError {
    fn from(e: diesel::result::Error) -> Self {
        ResolveError::Db(DbError::Query(e))
    }
}

/// The refusal of a resolution naming an employer that does not claim the person. A
/// caller names an employer outside its region gets the same answer, so that it learns
/// nothing about who else declares the certificate.
pub fn not_a_claimant() -> ResolveError {
    ResolveError::NotAClaimant(
        "names no employer of your region that declares the certificate for that levy year"
            .to_owned(),
    )
}

/// A federation's decision on a disputed person.
#[derive(Debug, Clone, Copy)]
pub struct Resolution<'a> {
    /// The levy year.
    pub levy_year: i32,
    /// The person: an ID number, or `V:` and a veteran's certificate number.
    pub holder_id: &'a str,
    /// The employer that counts the person.
    pub counted_by_uscc: &'a str,
    /// Why, in the federation's words.
    pub note: Option<&'a str>,
}

/// The audit log's name for a disputed person: a keyed digest of the holder, so that
/// the entries about one person can be found by whoever holds the server secret, and by
/// nobody else (a plain digest of an ID number is reversed by trying every birth date
/// and sequence number of a county).
pub fn holder_key(secret: &ServerSecret, holder_id: &str) -> String {
    let digest = secret.keyed_digest("certificate-holder", holder_id.as_bytes());
    digest[..16].to_owned()
}

/// Names the employer that counts the person in the levy year (replacing an earlier
/// decision), audited. The affected employers need re-assessing afterwards.
pub fn resolve(
    conn: &mut AnyConnection,
    r: &Resolution<'_>,
    actor: &str,
    request_id: Option<&str>,
    secret: &ServerSecret,
) -> Result<(), ResolveError> {
    let Resolution {
        levy_year,
        holder_id,
        counted_by_uscc,
        note,
    } = *r;
    crate::db::write_transaction(conn, |c| {
        let emp = repo::claimant(c, levy_year, holder_id, counted_by_uscc)?;
        let emp = emp.ok_or_else(not_a_claimant)?;
        let before = repo::resolution_of(c, levy_year, holder_id)?;
        repo::replace_resolution(c, levy_year, holder_id, emp, actor, note)?;
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "certificate.resolve",
                entity_type: "certificate_dispute",
                entity_id: &format!("{levy_year}/{}", holder_key(secret, holder_id)),
                before: before.map(|id| serde_json::json!({ "employer_id": id })),
                // The note is the federation's free text: a certificate number typed
                // into it is masked here (it is kept whole with the decision).
                after: Some(serde_json::json!({
                    "counted_by": counted_by_uscc,
                    "note": note.map(mask_numbers_in),
                })),
                request_id,
            },
        )?;
        Ok(())
    })
}

/// The dispatch agreements declared on the current declarations of some employers
/// (docs/rules.md §4.4): by employer and person, the line's `dispatch`, and each
/// employer's USCC. Read from the declaration bodies, which the request layer checked
/// when they were saved.
struct DispatchLines {
    lines: HashMap<(i64, String), LineDispatch>,
    uscc: HashMap<i64, String>,
}

/// One line's `dispatch`, as declared.
struct LineDispatch {
    role: String,
    counted_by: String,
    partner: String,
}

impl DispatchLines {
    fn load(conn: &mut AnyConnection, levy_year: i32, ids: &[i64]) -> Result<Self, DbError> {
        let mut out = DispatchLines {
            lines: HashMap::new(),
            uscc: HashMap::new(),
        };
        for (emp, decl) in repo::current_many(conn, ids, levy_year)? {
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&decl.body_json) else {
                continue;
            };
            let roster = body.get("disabled_employees").and_then(|r| r.as_array());
            for line in roster.into_iter().flatten() {
                let Some(d) = line.get("dispatch").filter(|d| d.is_object()) else {
                    continue;
                };
                let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                let Some(holder) = holder_of(line) else {
                    continue;
                };
                out.lines.insert(
                    (emp, holder),
                    LineDispatch {
                        role: text("role").to_owned(),
                        counted_by: text("counted_by").to_owned(),
                        partner: text("partner_uscc").to_ascii_uppercase(),
                    },
                );
            }
        }
        if !out.lines.is_empty() {
            for &id in ids {
                if let Some(e) = crate::db::employers::by_id(conn, id)? {
                    out.uscc.insert(id, e.uscc);
                }
            }
        }
        Ok(out)
    }

    /// True when the lines of employers `a` and `b` on the person are the two sides of
    /// one dispatch, each naming the other, and agree on who counts the person.
    fn agreed(&self, holder: &str, a: i64, b: i64) -> bool {
        let key = |e: i64| (e, holder.to_owned());
        let (Some(x), Some(y)) = (self.lines.get(&key(a)), self.lines.get(&key(b))) else {
            return false;
        };
        let names = |line: &LineDispatch, other: i64| {
            self.uscc.get(&other).is_some_and(|u| *u == line.partner)
        };
        x.role != y.role && x.counted_by == y.counted_by && names(x, b) && names(y, a)
    }
}

/// The holder key of a body's roster line, as the roster lines store it: the ID number
/// of a 残疾人证, `V:` and the number of a 残疾军人证.
fn holder_of(line: &serde_json::Value) -> Option<String> {
    let no = line.get("certificate_no")?.as_str()?;
    if line.get("certificate_kind").and_then(|k| k.as_str()) == Some("veteran") {
        let v = crate::domain::ids::VeteranCertificate::parse(no).ok()?;
        Some(format!("V:{}", v.expose()))
    } else {
        let c = crate::domain::ids::DisabilityCertificate::parse(no).ok()?;
        Some(c.holder().expose().to_owned())
    }
}
