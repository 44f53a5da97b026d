//! Public compliance notices (公示): the federation freezes, for a region and levy year,
//! every employer's status (compliant, below quota, exempt, not declared) with its
//! staff, required and counted figures, and publishes it with a SHA-256 digest.
//!
//! What is published is employer-level only: no roster line, certificate number, ID
//! number or name of a disabled employee ever enters the content (docs/rules.md §8, §9).
//! The content is canonical JSON (object keys sorted, no whitespace), so anyone can
//! check the digest: `sha256(json.dumps(content, ensure_ascii=False,
//! separators=(",", ":"), sort_keys=True))` in Python gives the published value.

use crate::domain::Said;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::scope_prefix;
use crate::config::NoticeSettings;
use crate::db::audit::{self, AuditEntry};
use crate::db::notices::{self as repo, NewNotice, NoticeRow};
use crate::db::outbox;
use crate::db::{AnyConnection, DbError};
use crate::domain::money::format_count;
use crate::domain::{EmployerKind, RegionCode};
use crate::mail::plan::{notice_mail, NoticeFacts};
use crate::mail::Templates;
use crate::policy::PolicyBook;

/// Objection period when the request names none: seven calendar days, the usual
/// 公示期 of federation notices. The end date is printed on the notice, so the rule
/// never has to be guessed by a reader.
pub const DEFAULT_OBJECTION_DAYS: i64 = 7;
/// The longest objection period accepted.
pub const MAX_OBJECTION_DAYS: i64 = 60;
/// How many blocking employers a refusal names.
const BLOCKERS_NAMED: usize = 5;

/// An employer's status in a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Counted disabled employees reach the quota.
    Compliant,
    /// Below the quota and not exempt.
    BelowQuota,
    /// Exempt small enterprise.
    Exempt,
    /// No declaration filed for the levy year.
    NotDeclared,
}

impl NoticeStatus {
    /// The status of an assessed employer: exempt, else below the quota while a
    /// shortfall remains, else compliant. The notice, the levy roll and the mails all
    /// say it in these words.
    pub fn of_assessment(exempt: bool, shortfall_positive: bool) -> NoticeStatus {
        if exempt {
            NoticeStatus::Exempt
        } else if shortfall_positive {
            NoticeStatus::BelowQuota
        } else {
            NoticeStatus::Compliant
        }
    }

    /// The status of its stored spelling.
    pub fn parse(s: &str) -> Option<NoticeStatus> {
        [
            NoticeStatus::Compliant,
            NoticeStatus::BelowQuota,
            NoticeStatus::Exempt,
            NoticeStatus::NotDeclared,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Compliant => "compliant",
            NoticeStatus::BelowQuota => "below_quota",
            NoticeStatus::Exempt => "exempt",
            NoticeStatus::NotDeclared => "not_declared",
        }
    }

    /// As printed on the notice.
    pub fn name_zh(self) -> &'static str {
        match self {
            NoticeStatus::Compliant => "已达到规定比例",
            NoticeStatus::BelowQuota => "未达到规定比例",
            NoticeStatus::Exempt => "依规定免征",
            NoticeStatus::NotDeclared => "未申报",
        }
    }
}

/// One employer in a notice. Figures are `None` for an employer that did not declare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeEntry {
    /// Disabled employees counted, `D` (4 decimals).
    pub counted: Option<String>,
    /// Kind code.
    pub kind: String,
    /// Kind as printed.
    pub kind_zh: String,
    /// Registered name.
    pub name: String,
    /// Region code of the employer.
    pub region: String,
    /// Its name (Chinese), as the nearest policy pack names it.
    pub region_name: String,
    /// Disabled employees required, `N × q` (4 decimals).
    pub required: Option<String>,
    /// Average in-service staff `N` (4 decimals).
    pub staff: Option<String>,
    /// Status.
    pub status: NoticeStatus,
    /// Status as printed.
    pub status_zh: String,
    /// Unified social credit code (an organisation's public identifier).
    pub uscc: String,
}

/// Count of employers per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSummary {
    /// Below quota.
    pub below_quota: i64,
    /// Compliant.
    pub compliant: i64,
    /// Employers listed.
    pub employers: i64,
    /// Exempt.
    pub exempt: i64,
    /// Not declared.
    pub not_declared: i64,
}

impl NoticeSummary {
    fn add(&mut self, s: NoticeStatus) {
        self.employers += 1;
        match s {
            NoticeStatus::Compliant => self.compliant += 1,
            NoticeStatus::BelowQuota => self.below_quota += 1,
            NoticeStatus::Exempt => self.exempt += 1,
            NoticeStatus::NotDeclared => self.not_declared += 1,
        }
    }
}

/// The notice a correction replaces, as the correction's content names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaced {
    /// Its id.
    pub id: i64,
    /// Its digest, so the link cannot be bent later.
    pub sha256: String,
}

/// Where objections to a notice are received (异议受理), as configured for its issuer
/// when it was published. A field not configured is `None` and not printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectionContact {
    /// Postal address.
    pub address: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
}

/// Everything a notice publishes: hashed, stored and served as it is. Fields of this
/// and the types in it are declared in code-point order: serialised as declared, they
/// are the canonical form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeContent {
    /// Why it was corrected.
    pub correction_reason: Option<String>,
    /// The employers by county (region code), then name (by code point), then USCC.
    pub entries: Vec<NoticeEntry>,
    /// Levy year.
    pub levy_year: i32,
    /// Where objections go, when the issuer's contact is configured; `None` also in
    /// notices published before there was such a setting (their content has no key).
    #[serde(default)]
    pub objection_contact: Option<ObjectionContact>,
    /// How to object (Chinese).
    pub objection_note: String,
    /// Last day of the objection period.
    pub objection_until: NaiveDate,
    /// Publication date.
    pub published_on: NaiveDate,
    /// Publisher, the issuing body that signs the notice (Chinese).
    pub publisher: String,
    /// Region code covered (and the regions below it).
    pub region: String,
    /// Region name (Chinese).
    pub region_name: String,
    /// Region name (English).
    pub region_name_en: String,
    /// The notice this one corrects.
    pub replaces: Option<Replaced>,
    /// Counts per status.
    pub summary: NoticeSummary,
    /// Title (Chinese).
    pub title: String,
    /// Title (English).
    pub title_en: String,
}

/// Serialises a JSON value canonically: object keys sorted by code point, no
/// whitespace, strings escaped as serde_json does (as Python's `json.dumps(...,
/// ensure_ascii=False, separators=(",", ":"), sort_keys=True)` does too). Written out
/// here so the digest does not depend on serde_json's map ordering feature.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(x) = map.get(k) {
                    write_canonical(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 (lower-case hex) of a canonical JSON text.
pub fn digest(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// The Chinese title of a notice (also shown in the public index).
pub fn title_zh(region_name: &str, levy_year: i32, replaces: Option<i64>) -> String {
    let correction = replaces
        .map(|id| format!("（更正第{id}号公示）"))
        .unwrap_or_default();
    format!("{region_name}{levy_year}年度用人单位按比例安排残疾人就业情况公示{correction}")
}

/// A date as a Chinese text writes it, without leading zeros: 2026年12月1日.
pub fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The issuing body of a notice of `region` and its objection contact: the nearest
/// configured entry up the region chain, else the region's federation by name, with no
/// contact (none is made up).
fn issuer(
    issuers: &NoticeSettings,
    region: RegionCode,
    region_name: &str,
) -> (String, Option<ObjectionContact>) {
    let Some((_, entry)) = issuers.issuer_for(region) else {
        return (format!("{region_name}残疾人联合会"), None);
    };
    let set = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let contact = ObjectionContact {
        address: set(&entry.objection_address),
        email: set(&entry.objection_email),
        phone: set(&entry.objection_phone),
    };
    let any = contact.address.is_some() || contact.email.is_some() || contact.phone.is_some();
    (entry.name.trim().to_owned(), any.then_some(contact))
}

/// A validated publication request.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// Region covered.
    pub region: RegionCode,
    /// Levy year.
    pub levy_year: i32,
    /// Calendar days from publication to the end of the objection period.
    pub objection_days: i64,
    /// The notice corrected, with why.
    pub replaces: Option<(i64, String)>,
}

/// Why a notice could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The notice to correct does not exist.
    #[error("notice {0} does not exist")]
    ReplacedMissing(i64),
    /// A field contradicts the notice it corrects (JSON pointer, message).
    #[error("{1}")]
    Field(&'static str, String),
    /// The state does not allow publishing (already corrected, unassessed employers).
    #[error("{0}")]
    Conflict(Said),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Templates could not be read.
    #[error("mail templates: {0}")]
    Mail(String),
}

impl From<diesel::result::Error> for PublishError {
    fn from(e: diesel::result::Error) -> Self {
        PublishError::Db(e.into())
    }
}

/// What publishing did.
#[derive(Debug, Clone)]
pub struct Published {
    /// The new notice.
    pub row: NoticeRow,
    /// Its content, without the entries (stored as rows); `summary` counts them.
    pub content: NoticeContent,
    /// Mails are owed to the employers named with a contact address, for
    /// [`plan_mails`] to queue.
    pub mails_owed: bool,
}

/// Mail to queue with the notice. Its link carries no base address: the sender puts in
/// the one in force when the mail goes out.
pub struct NoticeMail<'a> {
    /// Loaded templates.
    pub templates: &'a Templates,
}

/// Employers read per statement while a notice is composed: large enough that the
/// statements cost little, small enough that a region of any size is held a chunk at a
/// time.
const CHUNK: i64 = 2_000;
/// Entries a preview shows (the whole content is served by the API's preview and, once
/// published, by the notice itself).
pub const PREVIEW_ENTRIES: usize = 100;

/// What is known of the entries of a notice being composed, as they are read.
pub enum Part<'a> {
    /// The canonical text before the first entry.
    Start(&'a str),
    /// A chunk of entries in order, with the canonical text of the chunk (entries joined
    /// by commas, a leading comma after the first chunk).
    Entries(&'a [NoticeEntry], &'a str),
}

/// Where composing sends the entries it reads.
pub type Sink<'s> = dyn FnMut(&mut AnyConnection, Part<'_>) -> Result<(), PublishError> + 's;

/// The entry of an employer of the notice, `Err` with its USCC when it blocks
/// publication: declared but not assessed on its current declaration (a notice shows
/// assessed figures only, never figures made up for it).
fn entry_of_row(
    row: repo::SnapshotRow,
    book: &PolicyBook,
    names: &mut std::collections::HashMap<String, String>,
) -> Result<NoticeEntry, String> {
    let repo::SnapshotRow {
        uscc,
        name,
        kind,
        region,
        status,
        version,
        body_digest,
        assessed_version,
        assessed_body_digest,
        staff_x12_e4: staff,
        required_e4: required,
        disabled_x12_e4: counted,
        shortfall_e4: shortfall,
        exempt,
    } = row;
    let assessed_current = assessed_version == version
        || (body_digest.is_some() && assessed_body_digest == body_digest);
    let filed = status
        .as_deref()
        .and_then(crate::db::declarations::Status::parse)
        .is_some_and(|s| s.is_filed());
    let per_year = |x12_e4: i64| format_count(Decimal::new(x12_e4, 4) / Decimal::from(12), 4);
    let (status, staff, required, counted) = if !filed {
        (NoticeStatus::NotDeclared, None, None, None)
    } else {
        match (staff, required, counted, shortfall, exempt) {
            (Some(n), Some(r), Some(d), Some(s), Some(x)) if assessed_current => {
                let st = NoticeStatus::of_assessment(x, s > 0);
                (
                    st,
                    Some(per_year(n)),
                    Some(format_count(Decimal::new(r, 4), 4)),
                    Some(per_year(d)),
                )
            }
            _ => return Err(uscc),
        }
    };
    let kind_zh = kind
        .parse::<EmployerKind>()
        .map(|k| k.name_zh().to_owned())
        .unwrap_or_else(|_| kind.clone());
    // Looked up before it is inserted: a county's name is computed once, and the key
    // is not copied for every employer.
    let region_name = match names.get(&region) {
        Some(n) => n.clone(),
        None => {
            let n = match region.parse::<RegionCode>() {
                Ok(code) => book.region_names(code).0,
                Err(_) => region.clone(),
            };
            names.insert(region.clone(), n.clone());
            n
        }
    };
    Ok(NoticeEntry {
        uscc,
        name,
        kind,
        kind_zh,
        region_name,
        region,
        status,
        status_zh: status.name_zh().to_owned(),
        staff,
        required,
        counted,
    })
}

/// The key `entries` as the canonical text of a content without entries has it.
const NO_ENTRIES: &str = ",\"entries\":[]";

/// The canonical text of a content whose `entries` is empty, cut where the entries go:
/// the text before the first entry and the text from the array's end. The first match
/// is the key itself: a string value cannot hold an unescaped quote, and the only key
/// before `entries` is `correction_reason`.
pub fn entries_split(head_text: &str) -> Result<(&str, &str), DbError> {
    let at = head_text
        .find(NO_ENTRIES)
        .ok_or_else(|| DbError::Task("notice content has no entries key".into()))?;
    Ok(head_text.split_at(at + NO_ENTRIES.len() - 1))
}

/// A notice composed but not stored: its content without the entries (read and passed
/// on as they came), the canonical text of that and the digest of the whole content.
pub struct Composed {
    /// What would be published, `entries` empty; `summary` counts them.
    pub content: NoticeContent,
    /// The canonical JSON text of `content` (entries empty).
    pub text: String,
    /// SHA-256 of the canonical text of the whole content, entries included.
    pub sha256: String,
    /// The first entries, at most [`PREVIEW_ENTRIES`].
    pub sample: Vec<NoticeEntry>,
}

/// Checks the request against the database (the notice corrected, employers not
/// assessed, an empty region) and composes the notice as it would be published today.
///
/// The employers are read a chunk at a time in the notice's order, by county (region
/// code), then name, then USCC, compared by code point: the database reads them in that
/// order from an index (`db::notices::snapshot_chunk`). The digest is taken as the
/// canonical text goes by: the text before the entries, each chunk of entries, then
/// the text after them (the summary counts the entries and comes after them by the
/// code-point order of keys). It is the SHA-256 of the same canonical text as before.
/// Each chunk goes to `sink` while nothing blocks publication; once an employer does,
/// the rest is read only to count the employers that block it.
fn compose(
    c: &mut AnyConnection,
    book: &PolicyBook,
    issuers: &NoticeSettings,
    req: &PublishRequest,
    today: NaiveDate,
    sink: &mut Sink<'_>,
) -> Result<Composed, PublishError> {
    let replaces = match &req.replaces {
        None => None,
        Some((id, reason)) => {
            let old = repo::by_id(c, *id)?.ok_or(PublishError::ReplacedMissing(*id))?;
            if old.region != req.region.as_str() || old.levy_year != req.levy_year {
                return Err(PublishError::Field(
                    "/replaces",
                    format!(
                        "notice {id} is for region {} and levy year {}; a correction \
                         covers the same region and year",
                        old.region, old.levy_year
                    ),
                ));
            }
            if let Some(next) = repo::successor_of(c, *id)? {
                return Err(PublishError::Conflict(Said::new(
                    format!("第 {id} 号公示已由第 {next} 号公示更正；请更正第 {next} 号公示"),
                    format!(
                        "notice {id} was already corrected by notice {next}; correct \
                         notice {next} instead"
                    ),
                )));
            }
            Some((
                Replaced {
                    id: *id,
                    sha256: old.content_sha256,
                },
                reason.clone(),
            ))
        }
    };
    let (region_name, region_name_en) = book.region_names(req.region);
    let (publisher, objection_contact) = issuer(issuers, req.region, &region_name);
    let objection_until = today + Duration::days(req.objection_days);
    let (replaces, correction_reason) = match replaces {
        Some((r, why)) => (Some(r), Some(why)),
        None => (None, None),
    };
    let mut content = NoticeContent {
        title: title_zh(&region_name, req.levy_year, replaces.as_ref().map(|r| r.id)),
        title_en: format!(
            "{region_name_en}: employers' employment of disabled persons by quota, levy \
             year {}{}",
            req.levy_year,
            replaces
                .as_ref()
                .map(|r| format!(" (correction of notice {})", r.id))
                .unwrap_or_default()
        ),
        objection_note: format!(
            "公示期自{}至{}。对公示内容有异议的，请于公示期内向{publisher}书面提出，\
             并提供相关证明材料。",
            date_zh(today),
            date_zh(objection_until)
        ),
        objection_contact,
        publisher,
        region: req.region.as_str().to_owned(),
        region_name: region_name.clone(),
        region_name_en: region_name_en.clone(),
        levy_year: req.levy_year,
        published_on: today,
        objection_until,
        replaces,
        correction_reason,
        summary: NoticeSummary::default(),
        entries: Vec::new(),
    };
    // The fields are declared in code-point order and never skipped, so serde's output
    // is already canonical (a test holds this).
    let canonical = |content: &NoticeContent| {
        serde_json::to_string(content).map_err(|e| DbError::Task(format!("notice content: {e}")))
    };
    let mut hasher = Sha256::new();
    {
        let text = canonical(&content)?;
        let (before, _) = entries_split(&text)?;
        hasher.update(before.as_bytes());
        sink(c, Part::Start(before))?;
    }

    let year_end = NaiveDate::from_ymd_opt(req.levy_year, 12, 31)
        .ok_or_else(|| DbError::Task(format!("levy year {} out of range", req.levy_year)))?;
    let prefix = scope_prefix(&req.region);
    let mut names = std::collections::HashMap::new();
    let mut summary = NoticeSummary::default();
    let mut blockers: Vec<String> = Vec::new();
    let mut blocked: usize = 0;
    let mut sample = Vec::new();
    let mut after = repo::SnapshotKey::default();
    // The chunk's canonical text, written in place: one buffer for the whole notice.
    let mut text: Vec<u8> = Vec::new();
    loop {
        let rows = repo::snapshot_chunk(c, prefix, req.levy_year, year_end, &after, CHUNK)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = repo::SnapshotKey {
            region: last.region.clone(),
            name: last.name.clone(),
            uscc: last.uscc.clone(),
        };
        let complete = i64::try_from(rows.len()).unwrap_or(i64::MAX) < CHUNK;
        let mut named = Vec::with_capacity(rows.len());
        for row in rows {
            match entry_of_row(row, book, &mut names) {
                Ok(x) => named.push(x),
                Err(uscc) => {
                    blocked += 1;
                    if blockers.len() < BLOCKERS_NAMED {
                        blockers.push(uscc);
                    }
                }
            }
        }
        if blocked == 0 {
            text.clear();
            for entry in &named {
                if summary.employers > 0 {
                    text.push(b',');
                }
                summary.add(entry.status);
                serde_json::to_writer(&mut text, entry)
                    .map_err(|e| DbError::Task(format!("notice entry: {e}")))?;
                if sample.len() < PREVIEW_ENTRIES {
                    sample.push(entry.clone());
                }
            }
            hasher.update(&text);
            let text = std::str::from_utf8(&text)
                .map_err(|e| DbError::Task(format!("notice entry: {e}")))?;
            sink(c, Part::Entries(&named, text))?;
        }
        if complete {
            break;
        }
    }
    if blocked > 0 {
        let shown = blockers.join("、");
        return Err(PublishError::Conflict(Said::new(
            format!(
                "{blocked} 家单位已提交 {} 年度申报但尚无现行核定（例如 {shown}）；请先核定\
                 （POST /api/v1/assessment-runs），公示才能列出核定数字",
                req.levy_year,
            ),
            format!(
                "{blocked} employer(s) filed a declaration for {} that has no current \
                 assessment (e.g. {}); assess them first (POST /api/v1/assessment-runs) \
                 so the notice shows assessed figures",
                req.levy_year,
                blockers.join(", ")
            ),
        )));
    }
    if summary.employers == 0 {
        return Err(PublishError::Conflict(Said::new(
            format!(
                "地区 {} 在 {} 年没有用人单位：没有可公示的内容",
                req.region, req.levy_year
            ),
            format!(
                "no employer of region {} existed in {}: there is nothing to publish",
                req.region, req.levy_year
            ),
        )));
    }
    content.summary = summary;
    let text = canonical(&content)?;
    hasher.update(entries_split(&text)?.1.as_bytes());
    Ok(Composed {
        content,
        text,
        sha256: hex::encode(hasher.finalize()),
        sample,
    })
}

/// What publishing `req` today would publish, without storing anything: for the
/// federation to check a notice that can never be edited once out. `sink` sees the
/// entries as they are read (pass a no-op to have the digest and counts only).
pub fn preview(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    issuers: &NoticeSettings,
    req: &PublishRequest,
    today: NaiveDate,
    sink: &mut Sink<'_>,
) -> Result<Composed, PublishError> {
    compose(conn, book, issuers, req, today, sink)
}

/// Publishes a notice: freezes the snapshot, stores it with its digest, writes the
/// audit entry and, when `mail` is given, records that every employer named with a
/// contact address is owed a mail, all in one transaction. The mails themselves are
/// queued after it by [`plan_mails`], a chunk of entries per transaction (docs/notices.md,
/// "Mails"): a notice of a million employers would otherwise hold its transaction for
/// the rendering and writing of hundreds of thousands of mails, and the record makes
/// sure none is lost should the process stop in between.
///
/// The entries are stored as rows while the region is read, a chunk at a time, under
/// the notice number reserved first; the notice row, with the digest and counts, comes
/// last. Refused half-way, the transaction leaves nothing.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    issuers: &NoticeSettings,
    req: &PublishRequest,
    today: NaiveDate,
    mail: Option<&NoticeMail<'_>>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Published, PublishError> {
    crate::db::write_transaction(conn, |c| -> Result<Published, PublishError> {
        let id = repo::reserve_id(c)?;
        let objection_until = today + Duration::days(req.objection_days);
        let mut entry_no: i32 = 0;
        let mut store = |c: &mut AnyConnection, part: Part<'_>| -> Result<(), PublishError> {
            let Part::Entries(named, _) = part else {
                return Ok(());
            };
            let mut rows = Vec::with_capacity(named.len());
            for e in named {
                entry_no = entry_no.checked_add(1).ok_or_else(too_many)?;
                rows.push(entry_row(id, entry_no, e));
            }
            repo::insert_entries(c, &rows)?;
            Ok(())
        };
        let Composed {
            content,
            text,
            sha256: sha,
            ..
        } = compose(c, book, issuers, req, today, &mut store)?;
        let entries = i32::try_from(content.summary.employers).map_err(|_| too_many())?;
        repo::insert(
            c,
            &NewNotice {
                id,
                region: req.region.as_str(),
                levy_year: req.levy_year,
                published_on: today,
                objection_until,
                replaces_id: content.replaces.as_ref().map(|r| r.id),
                entries,
                content_json: &text,
                content_sha256: &sha,
                published_by: actor,
                published_at: Utc::now().naive_utc(),
                entries_in_rows: true,
            },
        )
        .map_err(|e| match e {
            // Two corrections of one notice at once: replaces_id is unique, one wins.
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                let id = content.replaces.as_ref().map_or(0, |r| r.id);
                PublishError::Conflict(Said::new(
                    format!("第 {id} 号公示刚刚已被另一次发布更正"),
                    format!("notice {id} was just corrected by another publication"),
                ))
            }
            other => PublishError::Db(other),
        })?;
        if mail.is_some() {
            repo::open_mailing(c, id)?;
        }
        audit::record(
            c,
            AuditEntry {
                actor,
                action: "notice.publish",
                entity_type: "notice",
                entity_id: &id.to_string(),
                before: None,
                after: Some(json!({
                    "region": req.region.as_str(), "levy_year": req.levy_year,
                    "entries": entries, "sha256": sha,
                    "replaces": content.replaces.as_ref().map(|r| r.id),
                })),
                request_id,
            },
        )?;
        let row = repo::by_id(c, id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        Ok(Published {
            row,
            content,
            mails_owed: mail.is_some(),
        })
    })
}

/// Entries whose mails are planned per transaction.
const MAIL_CHUNK: i64 = 2_000;

/// What a planning of notice mails did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailPlan {
    /// Notices whose mails were planned to the end.
    pub notices: usize,
    /// Mails newly queued.
    pub queued: u64,
}

/// Queues the mails that published notices owe (only notice `only`'s when given): for
/// every entry of each, in order, a mail to the employer it names when that has a
/// contact address, a chunk of entries per transaction that also records how far the
/// planning got. Run after [`publish`], by the reminder planner and worker, and again
/// at any time: a chunk planned twice (after a crash between its mails and its record,
/// which one transaction excludes, or by two planners at once) queues nothing twice,
/// since the outbox keeps one reminder per employer, kind, year and stage
/// (`notice-ID`).
pub fn plan_mails(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    templates: &Templates,
    only: Option<i64>,
) -> Result<MailPlan, PublishError> {
    let ids = match only {
        Some(id) => vec![id],
        None => repo::open_mailings(conn)?,
    };
    let mut plan = MailPlan::default();
    for id in ids {
        let Some(row) = repo::by_id(conn, id)? else {
            continue;
        };
        let region = match row.region.parse::<RegionCode>() {
            Ok(code) => book.region_names(code),
            Err(_) => (row.region.clone(), row.region.clone()),
        };
        let mut facts = NoticeFacts {
            notice_id: id,
            levy_year: row.levy_year,
            region,
            status: String::new(),
            published_on: row.published_on,
            objection_until: row.objection_until,
            url: crate::mail::plan::deferred_link(&crate::mail::plan::notice_path(id)),
        };
        loop {
            let step = crate::db::write_transaction(conn, |c| -> Result<_, PublishError> {
                let Some(m) = repo::mailing_for_update(c, id)? else {
                    return Ok(None);
                };
                if m.finished {
                    return Ok(None);
                }
                let entries = repo::mail_entries_after(c, id, m.planned_through, MAIL_CHUNK)?;
                let now = Utc::now().naive_utc();
                let Some(last) = entries.last().map(|e| e.entry_no) else {
                    repo::advance_mailing(c, id, m.planned_through, m.queued, Some(now))?;
                    return Ok(Some((0, true)));
                };
                let mut mails = Vec::with_capacity(entries.len());
                for e in &entries {
                    let Some(employer_id) = e.employer_id else {
                        continue;
                    };
                    facts.status.clone_from(&e.status);
                    let to = crate::mail::plan::NoticeAddressee {
                        employer_id,
                        uscc: &e.uscc,
                        name: &e.name,
                        contact_email: e.contact_email.as_deref(),
                    };
                    if let Some(r) = notice_mail(templates, &to, &facts)
                        .map_err(|e| PublishError::Mail(e.to_string()))?
                    {
                        mails.push(r);
                    }
                }
                let queued = outbox::enqueue_many_at(c, &mails, now)?;
                let queued = u64::try_from(queued).unwrap_or(u64::MAX);
                let complete = i64::try_from(entries.len()).unwrap_or(i64::MAX) < MAIL_CHUNK;
                let total = m
                    .queued
                    .saturating_add(i64::try_from(queued).unwrap_or(i64::MAX));
                repo::advance_mailing(c, id, last, total, complete.then_some(now))?;
                Ok(Some((queued, complete)))
            })?;
            match step {
                None => break,
                Some((queued, complete)) => {
                    plan.queued += queued;
                    if complete {
                        plan.notices += 1;
                        break;
                    }
                }
            }
        }
    }
    Ok(plan)
}

fn too_many() -> PublishError {
    PublishError::Conflict(Said::new(
        "一份公示的单位过多",
        "too many employers for one notice",
    ))
}

/// The mails of notice `id` queued right after its publication committed, for a
/// publication made from a page or the API: how many were queued. Should the planning
/// fail, the notice stands and its mails stay owed, for the reminder planner to queue
/// (the failure is logged, and the count is what got queued before it).
pub fn plan_mails_now(
    conn: &mut AnyConnection,
    book: &PolicyBook,
    templates: &Templates,
    id: i64,
) -> u64 {
    match plan_mails(conn, book, templates, Some(id)) {
        Ok(p) => p.queued,
        Err(e) => {
            tracing::warn!(notice = id, error = %e, "notice mails left to the reminder planner");
            crate::db::notices::mailing_for_update(conn, id)
                .ok()
                .flatten()
                .map_or(0, |m| u64::try_from(m.queued).unwrap_or(0))
        }
    }
}

/// The row to store of entry `entry_no` of notice `id`.
fn entry_row(id: i64, entry_no: i32, e: &NoticeEntry) -> repo::NewEntry<'_> {
    repo::NewEntry {
        notice_id: id,
        entry_no,
        uscc: &e.uscc,
        name: &e.name,
        kind: &e.kind,
        kind_zh: &e.kind_zh,
        region: &e.region,
        region_name: &e.region_name,
        staff: e.staff.as_deref(),
        required: e.required.as_deref(),
        counted: e.counted.as_deref(),
        status: e.status.as_str(),
        status_zh: &e.status_zh,
    }
}

/// The entry a stored row holds.
fn entry_of_stored(r: repo::EntryRow) -> Result<NoticeEntry, DbError> {
    let status = NoticeStatus::parse(&r.status).ok_or_else(|| {
        DbError::Task(format!(
            "notice {} entry {} has an unknown status",
            r.notice_id, r.entry_no
        ))
    })?;
    Ok(NoticeEntry {
        counted: r.counted,
        kind: r.kind,
        kind_zh: r.kind_zh,
        name: r.name,
        region: r.region,
        region_name: r.region_name,
        required: r.required,
        staff: r.staff,
        status,
        status_zh: r.status_zh,
        uscc: r.uscc,
    })
}

/// A stored notice as served: the row (with the content exactly as hashed) and the
/// correction that replaces it, if any.
#[derive(Debug, Clone)]
pub struct NoticeView {
    /// The row.
    pub row: NoticeRow,
    /// The correction that replaces it, if any.
    pub superseded_by: Option<i64>,
}

impl NoticeView {
    /// The content typed: without the entries when they are stored as rows (they are
    /// read with [`for_each_entry`] or [`entries_page`]), with them in a notice
    /// published before entries were rows. The JSON form serves the stored text
    /// itself, so what is served is byte for byte what was hashed.
    pub fn head(&self) -> Result<NoticeContent, DbError> {
        head_of(&self.row)
    }
}

/// The content of a stored notice (see [`NoticeView::head`]).
pub fn head_of(row: &NoticeRow) -> Result<NoticeContent, DbError> {
    serde_json::from_str(&row.content_json)
        .map_err(|e| DbError::Task(format!("notice {} content unreadable: {e}", row.id)))
}

/// What is called with each chunk of a notice's entries and the place of its first.
pub type EachChunk<'e> = dyn FnMut(usize, &[NoticeEntry]) -> Result<(), DbError> + 'e;

/// Entries read per statement when a whole notice is served.
const SERVE_CHUNK: i64 = 2_000;

/// Calls `each` with the entries of notice `row` in order, a chunk at a time, with the
/// place (from 1) of the first entry of the chunk.
pub fn for_each_entry(
    conn: &mut AnyConnection,
    row: &NoticeRow,
    each: &mut EachChunk<'_>,
) -> Result<(), DbError> {
    if !row.entries_in_rows {
        return each(1, &head_of(row)?.entries);
    }
    let mut after = 0;
    loop {
        let rows = repo::entries_after(conn, row.id, after, SERVE_CHUNK)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        let first = usize::try_from(after).unwrap_or(0) + 1;
        after = last.entry_no;
        let complete = i64::try_from(rows.len()).unwrap_or(i64::MAX) < SERVE_CHUNK;
        let entries = rows
            .into_iter()
            .map(entry_of_stored)
            .collect::<Result<Vec<_>, _>>()?;
        each(first, &entries)?;
        if complete {
            return Ok(());
        }
    }
}

/// Calls `each` with the canonical text of notice `row`'s whole content, piece after
/// piece: joined, they are the bytes its digest is of.
pub fn for_each_text(
    conn: &mut AnyConnection,
    row: &NoticeRow,
    each: &mut dyn FnMut(&str) -> Result<(), DbError>,
) -> Result<(), DbError> {
    if !row.entries_in_rows {
        return each(&row.content_json);
    }
    let (before, after) = entries_split(&row.content_json)?;
    each(before)?;
    let mut text = String::new();
    for_each_entry(conn, row, &mut |first, entries| {
        text.clear();
        for (i, e) in entries.iter().enumerate() {
            if first + i > 1 {
                text.push(',');
            }
            text.push_str(
                &serde_json::to_string(e)
                    .map_err(|e| DbError::Task(format!("notice entry: {e}")))?,
            );
        }
        each(&text)
    })?;
    each(after)
}

/// Which entries of a notice a page shows.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    /// Only entries whose name contains this.
    pub name: Option<String>,
    /// Entries after this place (a "next" link).
    pub after: Option<i32>,
    /// Entries before this place (a "previous" link); wins over `after`.
    pub before: Option<i32>,
    /// At most this many.
    pub limit: i64,
}

/// A page of a notice's entries.
#[derive(Debug, Clone, Default)]
pub struct EntryPage {
    /// The entries with their places (from 1), in order.
    pub entries: Vec<(i32, NoticeEntry)>,
    /// The place to page back from, when entries come before this page.
    pub prev_before: Option<i32>,
    /// The place to page on from, when entries come after it.
    pub next_after: Option<i32>,
    /// With a name searched, how many entries match.
    pub matched: Option<i64>,
}

/// A keyset page of notice `row`'s entries (by place; a search by name filters them).
pub fn entries_page(
    conn: &mut AnyConnection,
    row: &NoticeRow,
    q: &EntryQuery,
) -> Result<EntryPage, DbError> {
    let limit = q.limit.max(1);
    let name = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    // One more than shown says whether there is a next (or previous) page.
    let probe = limit + 1;
    let (mut entries, matched): (Vec<(i32, NoticeEntry)>, Option<i64>) = if row.entries_in_rows {
        let rows = repo::entries_page(conn, row.id, name, q.after, q.before, probe)?;
        let entries = rows
            .into_iter()
            .map(|r| Ok((r.entry_no, entry_of_stored(r)?)))
            .collect::<Result<Vec<_>, DbError>>()?;
        let matched = name
            .map(|n| repo::count_named(conn, row.id, n))
            .transpose()?;
        (entries, matched)
    } else {
        let all: Vec<(i32, NoticeEntry)> = head_of(row)?
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| (i32::try_from(i + 1).unwrap_or(i32::MAX), e))
            .filter(|(_, e)| name.is_none_or(|n| e.name.contains(n)))
            .collect();
        let matched = name.map(|_| i64::try_from(all.len()).unwrap_or(i64::MAX));
        let probe = usize::try_from(probe).unwrap_or(usize::MAX);
        let entries = match q.before {
            Some(b) => {
                let before: Vec<_> = all.into_iter().filter(|(n, _)| *n < b).collect();
                let skip = before.len().saturating_sub(probe);
                before.into_iter().skip(skip).collect()
            }
            None => all
                .into_iter()
                .filter(|(n, _)| *n > q.after.unwrap_or(0))
                .take(probe)
                .collect(),
        };
        (entries, matched)
    };
    let shown = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = entries.len() > shown;
    if more {
        match q.before {
            // Paging back, the extra one is the first.
            Some(_) => {
                entries.remove(0);
            }
            None => entries.truncate(shown),
        }
    }
    let (first, last) = match (entries.first(), entries.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => {
            return Ok(EntryPage {
                matched,
                ..EntryPage::default()
            })
        }
    };
    let has_prev = match q.before {
        Some(_) => more,
        None => {
            q.after.is_some_and(|a| a > 0) && {
                if row.entries_in_rows {
                    repo::any_entry_before(conn, row.id, name, first)?
                } else {
                    true
                }
            }
        }
    };
    let has_next = match q.before {
        Some(_) => true,
        None => more,
    };
    Ok(EntryPage {
        entries,
        prev_before: has_prev.then_some(first),
        next_after: has_next.then_some(last),
        matched,
    })
}

/// The entry of `uscc` in notice `row`, if it names that employer.
pub fn entry_in(
    conn: &mut AnyConnection,
    row: &NoticeRow,
    uscc: &str,
) -> Result<Option<NoticeEntry>, DbError> {
    if !row.entries_in_rows {
        return Ok(head_of(row)?.entries.into_iter().find(|e| e.uscc == uscc));
    }
    repo::entry_of(conn, row.id, uscc)?
        .map(entry_of_stored)
        .transpose()
}

/// The entries of `usccs` in notice `row` (those it names).
pub fn entries_in(
    conn: &mut AnyConnection,
    row: &NoticeRow,
    usccs: &[String],
) -> Result<Vec<NoticeEntry>, DbError> {
    if !row.entries_in_rows {
        return Ok(head_of(row)?
            .entries
            .into_iter()
            .filter(|e| usccs.contains(&e.uscc))
            .collect());
    }
    repo::entries_of(conn, row.id, usccs)?
        .into_iter()
        .map(entry_of_stored)
        .collect()
}

/// Reads a notice; `None` when there is none with that id.
pub fn load(conn: &mut AnyConnection, id: i64) -> Result<Option<NoticeView>, DbError> {
    let Some(row) = repo::by_id(conn, id)? else {
        return Ok(None);
    };
    let superseded_by = repo::successor_of(conn, id)?;
    Ok(Some(NoticeView { row, superseded_by }))
}

/// What identifies a representation without reading the content: the digest and the
/// correction, if any (the only thing about a notice that changes, by a new row).
pub fn version_of(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(String, Option<i64>)>, DbError> {
    let Some(sha) = repo::digest_of(conn, id)? else {
        return Ok(None);
    };
    Ok(Some((sha, repo::successor_of(conn, id)?)))
}

/// The CSV header of a notice's table (Chinese, with the English key in brackets).
pub const CSV_HEADER: [&str; 10] = [
    "序号 (no)",
    "统一社会信用代码 (uscc)",
    "单位名称 (name)",
    "单位类型 (kind)",
    "行政区划代码 (region)",
    "行政区划 (region_name)",
    "在职职工年平均人数 (staff)",
    "应安排残疾人数 (required)",
    "已安排残疾人数 (counted)",
    "状态 (status)",
];

/// The start of the notice as CSV for Chinese Excel: BOM, a block of what it is
/// (title, dates, digest, whether superseded), a blank line, then the table's header;
/// [`csv_lines`] gives the table.
pub fn csv_head(
    view: &NoticeView,
    content: &NoticeContent,
    url_of: &dyn Fn(i64) -> String,
) -> String {
    let mut out = String::from("\u{feff}");
    let mut line = |fields: &[&str]| out.push_str(&super::csv::line(fields));
    line(&["公示 (notice)", &view.row.id.to_string()]);
    line(&["标题 (title)", &content.title]);
    line(&["发布单位 (publisher)", &content.publisher]);
    if let Some(o) = &content.objection_contact {
        for (label, value) in [
            ("异议受理地址 (objection_address)", &o.address),
            ("异议受理电话 (objection_phone)", &o.phone),
            ("异议受理电子邮箱 (objection_email)", &o.email),
        ] {
            if let Some(v) = value {
                line(&[label, v]);
            }
        }
    }
    line(&["发布日期 (published_on)", &content.published_on.to_string()]);
    line(&[
        "异议期截止 (objection_until)",
        &content.objection_until.to_string(),
    ]);
    line(&["内容摘要 SHA-256 (sha256)", &view.row.content_sha256]);
    if let Some(r) = &content.replaces {
        line(&["更正 (replaces)", &url_of(r.id)]);
        line(&[
            "更正原因 (correction_reason)",
            content.correction_reason.as_deref().unwrap_or(""),
        ]);
    }
    match view.superseded_by {
        Some(next) => line(&["状态 (state)", "已被更正 (superseded)", &url_of(next)]),
        None => line(&["状态 (state)", "有效 (in force)"]),
    }
    line(&[]);
    line(&CSV_HEADER);
    out
}

/// The table lines of `entries`, the first at place `first` (from 1).
pub fn csv_lines(first: usize, entries: &[NoticeEntry]) -> String {
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        out.push_str(&super::csv::line(&[
            &(first + i).to_string(),
            &e.uscc,
            &e.name,
            &e.kind_zh,
            &e.region,
            &e.region_name,
            e.staff.as_deref().unwrap_or(""),
            e.required.as_deref().unwrap_or(""),
            e.counted.as_deref().unwrap_or(""),
            &e.status_zh,
        ]));
    }
    out
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
