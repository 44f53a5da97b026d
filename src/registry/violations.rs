//! The violator list for labour inspectors (docs/rules.md §8): per employer of a region and
//! levy year, every rule it breaks, with the figures (why) and the rule (citation).
//!
//! `decide` is a pure function of one employer's facts; `load` reads the facts chunk by
//! chunk (employers in USCC order) and calls it. Rows never carry certificate or ID
//! numbers: roster lines are only counted.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::db::assessments::snapshot_json;
use crate::db::declarations as db_v;
use crate::db::{AnyConnection, DbError};
use crate::domain::levy::{surcharge, Payment};
use crate::domain::money::{format_money, from_fen};
use crate::domain::{EmployerKind, PolicyProvider, RegionCode, ResolvedPolicy};
use crate::registry::disputes::{disputes_for, DisputeState};

/// Employers read per query.
const CHUNK: i64 = 1_000;

/// What an employer is listed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// No filed declaration once the filing deadline has passed.
    NotDeclared,
    /// Levy payable with principal outstanding.
    BelowQuotaUnpaid,
    /// Principal outstanding after the due date (surcharge accrues).
    Overdue,
    /// A government agency or public institution at or above its establishment
    /// threshold employing no disabled person.
    PublicBodyWithoutDisabledEmployee,
    /// A member unit of the disabled persons' work committee employing no disabled person.
    CommitteeMemberWithoutDisabledEmployee,
    /// Disabled employees paid below the local monthly minimum wage.
    BelowMinimumWage,
    /// Disabled employees without social insurance paid.
    NoSocialInsurance,
    /// Disabled employees neither on the establishment nor on a contract of ≥ 12 months.
    ShortContract,
    /// Roster lines claimed by another employer too, not yet resolved.
    DuplicateCertificate,
    /// The levy is paid but the late-payment surcharge is not.
    SurchargeUnpaid,
}

impl ViolationKind {
    /// Every kind.
    pub const ALL: [ViolationKind; 10] = [
        ViolationKind::NotDeclared,
        ViolationKind::BelowQuotaUnpaid,
        ViolationKind::Overdue,
        ViolationKind::SurchargeUnpaid,
        ViolationKind::PublicBodyWithoutDisabledEmployee,
        ViolationKind::CommitteeMemberWithoutDisabledEmployee,
        ViolationKind::BelowMinimumWage,
        ViolationKind::NoSocialInsurance,
        ViolationKind::ShortContract,
        ViolationKind::DuplicateCertificate,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::NotDeclared => "not_declared",
            ViolationKind::BelowQuotaUnpaid => "below_quota_unpaid",
            ViolationKind::Overdue => "overdue",
            ViolationKind::PublicBodyWithoutDisabledEmployee => {
                "public_body_without_disabled_employee"
            }
            ViolationKind::CommitteeMemberWithoutDisabledEmployee => {
                "committee_member_without_disabled_employee"
            }
            ViolationKind::BelowMinimumWage => "below_minimum_wage",
            ViolationKind::NoSocialInsurance => "no_social_insurance",
            ViolationKind::ShortContract => "short_contract",
            ViolationKind::DuplicateCertificate => "duplicate_certificate",
            ViolationKind::SurchargeUnpaid => "surcharge_unpaid",
        }
    }

    /// The Chinese name (CSV).
    pub fn name_zh(self) -> &'static str {
        match self {
            ViolationKind::NotDeclared => "未申报",
            ViolationKind::BelowQuotaUnpaid => "未达比例未缴保障金",
            ViolationKind::Overdue => "逾期未缴",
            ViolationKind::PublicBodyWithoutDisabledEmployee => "党政机关事业单位未安排残疾人",
            ViolationKind::CommitteeMemberWithoutDisabledEmployee => "残工委成员单位未安排残疾人",
            ViolationKind::BelowMinimumWage => "残疾职工工资低于最低工资",
            ViolationKind::NoSocialInsurance => "未为残疾职工缴纳社会保险",
            ViolationKind::ShortContract => "未与残疾职工签订一年以上劳动合同",
            ViolationKind::DuplicateCertificate => "残疾人证重复申报",
            ViolationKind::SurchargeUnpaid => "滞纳金未缴",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<ViolationKind> {
        ViolationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The place of this kind in [`ViolationKind::ALL`]: the order of an employer's rows.
    pub fn rank(self) -> usize {
        ViolationKind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(ViolationKind::ALL.len())
    }
}

/// The employer's current assessment, as the violator list needs it.
#[derive(Debug, Clone)]
pub struct AssessedFacts {
    /// Levy payable (principal).
    pub payable: Decimal,
    /// Disabled employees counted × 12 × 10⁴ (0 means none).
    pub disabled_x12_e4: i64,
    /// Payments up to the as-of date.
    pub payments: Vec<Payment>,
}

/// Counts over the roster lines of the current filed declaration (no identifiers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterFacts {
    /// Lines on the roster.
    pub lines: u32,
    /// Lines paid below the minimum wage of some employed month.
    pub below_minimum_wage: u32,
    /// Lowest monthly wage among those lines.
    pub lowest_wage: Option<Decimal>,
    /// Highest minimum wage any of those lines fell below.
    pub minimum_wage: Option<Decimal>,
    /// Lines without social insurance paid.
    pub no_social_insurance: u32,
    /// Lines neither on the establishment nor on a contract of ≥ 12 months.
    pub short_contract: u32,
}

/// Everything `decide` looks at for one employer.
#[derive(Debug, Clone)]
pub struct EmployerFacts {
    /// Unified social credit code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind (API spelling).
    pub kind: String,
    /// Region code.
    pub region: String,
    /// Authorised establishment (编制), when known.
    pub establishment_size: Option<i32>,
    /// Member unit of the disabled persons' work committee.
    pub committee_member: bool,
    /// A declaration for the year has been filed (not a draft).
    pub declared: bool,
    /// The filing deadline of the year, when it could be resolved.
    pub filing_deadline: Option<NaiveDate>,
    /// The current assessment, if any.
    pub assessment: Option<AssessedFacts>,
    /// Roster counts of the filed declaration.
    pub roster: RosterFacts,
    /// Roster lines with a pending duplicate-certificate dispute.
    pub pending_disputes: u32,
    /// A published reserved position (岗位预留) is open: [`crate::registry::positions`].
    pub open_reserved_position: bool,
}

/// One line of the violator list.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationRow {
    /// Unified social credit code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Kind of employer.
    pub kind: String,
    /// Region.
    pub region: String,
    /// What rule is broken.
    pub violation: ViolationKind,
    /// The figures, in Chinese.
    pub why_zh: String,
    /// The figures, in English.
    pub why_en: String,
    /// The rule it rests on.
    pub citation: String,
    /// What this row is owed: the principal and surcharge outstanding on the one money
    /// row of a debtor (`below_quota_unpaid`, `overdue` or `surcharge_unpaid`), "0.00"
    /// on every other row, so that the column sums to the debt of the list.
    pub outstanding: String,
    /// All the employer owes for the year, on each of its rows (not to be summed).
    pub employer_outstanding: String,
    /// `employer_outstanding` as a number, for sorting.
    #[serde(skip)]
    pub outstanding_value: Decimal,
}

/// Money with thousands separators, for the why text: 12,000.00.
pub fn grouped(value: Decimal) -> String {
    let s = format_money(value);
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}.{frac}")
}

const LEVY_CITATION: &str = "残疾人就业条例; 财税〔2015〕72号";
const LABOUR_CITATION: &str = "三政〔2016〕23号 §3(4)";
const PUBLIC_BODY_CITATION: &str = "残联发〔2021〕51号; 国办发〔2025〕23号";

fn row(
    f: &EmployerFacts,
    v: ViolationKind,
    zh: String,
    en: String,
    cite: String,
    out: Decimal,
) -> ViolationRow {
    let own = if matches!(
        v,
        ViolationKind::BelowQuotaUnpaid | ViolationKind::Overdue | ViolationKind::SurchargeUnpaid
    ) {
        out
    } else {
        Decimal::ZERO
    };
    ViolationRow {
        uscc: f.uscc.clone(),
        name: f.name.clone(),
        kind: f.kind.clone(),
        region: f.region.clone(),
        violation: v,
        why_zh: zh,
        why_en: en,
        citation: cite,
        outstanding: format_money(own),
        employer_outstanding: format_money(out),
        outstanding_value: out,
    }
}

/// Every violation of one employer on `as_of`. `policy` is the assessment's snapshot
/// (or, unassessed, the region's policy); without one, the checks needing it are skipped.
pub fn decide(
    f: &EmployerFacts,
    policy: Option<&ResolvedPolicy>,
    as_of: NaiveDate,
) -> Result<Vec<ViolationRow>, String> {
    let mut rows = Vec::new();
    // Money first: what is owed sorts every row of this employer.
    let mut owed = Decimal::ZERO;
    let mut money_rows = Vec::new();
    if let (Some(a), Some(p)) = (&f.assessment, policy) {
        if a.payable > Decimal::ZERO {
            let due = p.payment_due.value;
            let s = surcharge(&p.surcharge.value, a.payable, due, &a.payments, as_of)
                .map_err(|e| e.to_string())?;
            let paid: Decimal = a.payments.iter().map(|p| p.amount).sum();
            owed = s.outstanding_principal + s.outstanding_surcharge;
            // One money row per debtor, so that its debt is listed once: unpaid before
            // the due date, overdue after it, or only the surcharge left.
            if s.outstanding_principal > Decimal::ZERO && as_of <= due {
                let cite = format!("{LEVY_CITATION}; {}", p.payment_due.citation);
                money_rows.push((
                    ViolationKind::BelowQuotaUnpaid,
                    format!(
                        "未达安排比例，应缴保障金 {}，已缴 {}，欠缴本金 {}，缴款期限 {due}",
                        grouped(a.payable),
                        grouped(paid),
                        grouped(s.outstanding_principal)
                    ),
                    format!(
                        "below quota: payable {}, paid {}, principal outstanding {}, due {due}",
                        grouped(a.payable),
                        grouped(paid),
                        grouped(s.outstanding_principal)
                    ),
                    cite,
                ));
            } else if s.outstanding_principal > Decimal::ZERO {
                let days = (as_of - due).num_days();
                money_rows.push((
                    ViolationKind::Overdue,
                    format!(
                        "未达安排比例，应缴 {}，已缴 {}，欠缴本金 {}，逾期 {days} 天（缴款期限 {due}），滞纳金 {}",
                        grouped(a.payable),
                        grouped(paid),
                        grouped(s.outstanding_principal),
                        grouped(s.accrued)
                    ),
                    format!(
                        "below quota: payable {}, paid {}, principal outstanding {}, {days} days past due {due}, surcharge {}",
                        grouped(a.payable),
                        grouped(paid),
                        grouped(s.outstanding_principal),
                        grouped(s.accrued)
                    ),
                    format!("{LEVY_CITATION}; {}", p.surcharge.citation),
                ));
            } else if s.outstanding_surcharge > Decimal::ZERO {
                money_rows.push((
                    ViolationKind::SurchargeUnpaid,
                    format!(
                        "保障金 {} 已缴清，滞纳金 {} 已缴 {}，尚欠滞纳金 {}",
                        grouped(a.payable),
                        grouped(s.accrued),
                        grouped(s.surcharge_paid),
                        grouped(s.outstanding_surcharge)
                    ),
                    format!(
                        "levy {} paid; surcharge {} of which {} paid, {} outstanding",
                        grouped(a.payable),
                        grouped(s.accrued),
                        grouped(s.surcharge_paid),
                        grouped(s.outstanding_surcharge)
                    ),
                    format!("{LEVY_CITATION}; {}", p.surcharge.citation),
                ));
            }
        }
    }
    if !f.declared {
        if let Some(deadline) = f.filing_deadline.filter(|d| as_of > *d) {
            let cite = match policy {
                Some(p) => format!("{LEVY_CITATION}; {}", p.filing_deadline.citation),
                None => LEVY_CITATION.to_owned(),
            };
            let days = (as_of - deadline).num_days();
            rows.push(row(
                f,
                ViolationKind::NotDeclared,
                format!("申报截止 {deadline}，已过 {days} 天，未提交申报"),
                format!("no declaration filed; deadline {deadline}, {days} days ago"),
                cite,
                owed,
            ));
        }
    }
    for (k, zh, en, cite) in money_rows {
        rows.push(row(f, k, zh, en, cite, owed));
    }
    // D == 0: the assessment counted nobody, or (unassessed) the roster is empty.
    let no_disabled = match &f.assessment {
        Some(a) => a.disabled_x12_e4 == 0,
        None => f.roster.lines == 0,
    };
    if no_disabled {
        let kind = f.kind.parse::<EmployerKind>().ok();
        if let (Some(kind), Some(size), Some(p)) = (kind, f.establishment_size, policy) {
            if let Some((_, t)) = p.public_body_thresholds.iter().find(|(k, _)| *k == kind) {
                if i64::from(size) >= i64::from(t.value) {
                    rows.push(row(
                        f,
                        ViolationKind::PublicBodyWithoutDisabledEmployee,
                        format!(
                            "{}编制 {size} 人（门槛 {} 人），安排残疾人 0 人；须于2027年底前至少安排1名。中小学、幼儿园不在此列，名册无法区分，请核实",
                            kind.name_zh(),
                            t.value
                        ),
                        format!(
                            "{} with an establishment of {size} (threshold {}) employs no disabled person; at least one is required by the end of 2027. Primary and secondary schools and kindergartens are exempt but cannot be told apart in the register: check before acting",
                            kind.as_str(),
                            t.value
                        ),
                        format!("{PUBLIC_BODY_CITATION}; {}", t.citation),
                        owed,
                    ));
                    crate::registry::positions::note_on(rows.last_mut(), f.open_reserved_position);
                }
            }
        }
        if f.committee_member {
            let cite = if f.region.starts_with("4112") {
                "三政〔2016〕23号".to_owned()
            } else {
                PUBLIC_BODY_CITATION.to_owned()
            };
            rows.push(row(
                f,
                ViolationKind::CommitteeMemberWithoutDisabledEmployee,
                "残工委成员单位，安排残疾人 0 人".to_owned(),
                "member unit of the disabled persons' work committee employs no disabled person"
                    .to_owned(),
                cite,
                owed,
            ));
            crate::registry::positions::note_on(rows.last_mut(), f.open_reserved_position);
        }
    }
    let r = &f.roster;
    if r.below_minimum_wage > 0 {
        let mut zh = format!(
            "名册 {} 行中 {} 行月工资低于当地最低工资",
            r.lines, r.below_minimum_wage
        );
        let mut en = format!(
            "{} of {} roster lines paid below the monthly minimum wage",
            r.below_minimum_wage, r.lines
        );
        if let (Some(low), Some(min)) = (r.lowest_wage, r.minimum_wage) {
            zh.push_str(&format!(
                "（最低 {}，最低工资 {}）",
                grouped(low),
                grouped(min)
            ));
            en.push_str(&format!(
                " (lowest {}, minimum wage {})",
                grouped(low),
                grouped(min)
            ));
        }
        let mut cite = LABOUR_CITATION.to_owned();
        if let Some(c) = policy
            .and_then(|p| p.minimum_wage_by_month.iter().flatten().next())
            .map(|c| c.citation.clone())
        {
            cite.push_str("; ");
            cite.push_str(&c);
        }
        rows.push(row(f, ViolationKind::BelowMinimumWage, zh, en, cite, owed));
    }
    if r.no_social_insurance > 0 {
        rows.push(row(
            f,
            ViolationKind::NoSocialInsurance,
            format!(
                "名册 {} 行中 {} 行未缴纳社会保险",
                r.lines, r.no_social_insurance
            ),
            format!(
                "{} of {} roster lines without social insurance paid",
                r.no_social_insurance, r.lines
            ),
            LABOUR_CITATION.to_owned(),
            owed,
        ));
    }
    if r.short_contract > 0 {
        rows.push(row(
            f,
            ViolationKind::ShortContract,
            format!(
                "名册 {} 行中 {} 行既非在编也未签订一年以上劳动合同",
                r.lines, r.short_contract
            ),
            format!(
                "{} of {} roster lines neither on the establishment nor on a contract of 12 months or more",
                r.short_contract, r.lines
            ),
            LABOUR_CITATION.to_owned(),
            owed,
        ));
    }
    if f.pending_disputes > 0 {
        rows.push(row(
            f,
            ViolationKind::DuplicateCertificate,
            format!(
                "{} 行残疾人证同时被其他单位申报，待残联认定",
                f.pending_disputes
            ),
            format!(
                "{} roster lines claimed by another employer too, pending the federation's decision",
                f.pending_disputes
            ),
            "残疾人就业条例; 财税〔2015〕72号 (docs/rules.md §4.2)".to_owned(),
            owed,
        ));
    }
    Ok(rows)
}

/// Folds one roster line into the counts. `months_mask` bit 0 = January of the data
/// year; the minimum wage of each employed month comes from `policy`.
pub fn add_line(
    r: &mut RosterFacts,
    policy: Option<&ResolvedPolicy>,
    months_mask: i32,
    on_establishment: bool,
    contract_months: Option<i32>,
    social_insurance_paid: bool,
    monthly_wage_fen: Option<i64>,
) {
    r.lines += 1;
    if !social_insurance_paid {
        r.no_social_insurance += 1;
    }
    if !on_establishment && contract_months.is_none_or(|m| m < 12) {
        r.short_contract += 1;
    }
    let (Some(w), Some(p)) = (monthly_wage_fen, policy) else {
        return;
    };
    let wage = from_fen(w);
    let worst = (0..12usize)
        .filter(|m| months_mask & (1 << m) != 0)
        .filter_map(|m| p.minimum_wage_by_month[m].as_ref().map(|c| c.value))
        .filter(|min| wage < *min)
        .max();
    if let Some(min) = worst {
        r.below_minimum_wage += 1;
        r.lowest_wage = Some(r.lowest_wage.map_or(wage, |l| l.min(wage)));
        r.minimum_wage = Some(r.minimum_wage.map_or(min, |m| m.max(min)));
    }
}

/// Reads every employer of `levy_year` whose region starts with `region_prefix`, chunk
/// by chunk, and returns the violations of `kind` (all when `None`) sorted by amount
/// outstanding, largest first (then USCC, then kind).
///
/// The whole list is held in memory: the service reads the stored list
/// ([`crate::registry::violator_list`]) instead; this is its reference in the tests.
pub fn load(
    conn: &mut AnyConnection,
    book: &dyn PolicyProvider,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    kind: Option<ViolationKind>,
) -> Result<Vec<ViolationRow>, DbError> {
    let mut out = Vec::new();
    for_each_chunk(
        conn,
        book,
        levy_year,
        region_prefix,
        as_of,
        &mut |_, chunk| {
            out.extend(
                chunk
                    .into_iter()
                    .flatten()
                    .filter(|r| kind.is_none_or(|k| r.violation == k)),
            );
            Ok(())
        },
    )?;
    out.sort_by(|a, b| {
        b.outstanding_value
            .cmp(&a.outstanding_value)
            .then_with(|| a.uscc.cmp(&b.uscc))
            .then_with(|| a.violation.rank().cmp(&b.violation.rank()))
    });
    Ok(out)
}

/// What [`for_each_chunk`] hands each chunk's rows to.
pub type ChunkSink<'a> =
    dyn FnMut(&mut AnyConnection, Vec<Vec<ViolationRow>>) -> Result<(), DbError> + 'a;

/// Decides every employer of `levy_year` whose region starts with `region_prefix`,
/// [`CHUNK`] employers at a time in USCC order, and hands `emit` the rows of each
/// employer of the chunk that has any (one vector per employer, in
/// [`ViolationKind::ALL`] order), with the connection back for its own writes.
pub fn for_each_chunk(
    conn: &mut AnyConnection,
    book: &dyn PolicyProvider,
    levy_year: i32,
    region_prefix: &str,
    as_of: NaiveDate,
    emit: &mut ChunkSink<'_>,
) -> Result<(), DbError> {
    let mut after = String::new();
    let mut snapshots: HashMap<i64, ResolvedPolicy> = HashMap::new();
    let mut regional: HashMap<String, Option<(NaiveDate, Option<ResolvedPolicy>)>> = HashMap::new();
    loop {
        let emps = db_v::employer_chunk(conn, region_prefix, &after, CHUNK)?;
        let Some(last) = emps.last() else { break };
        after = last.1.clone();
        let ids: Vec<i64> = emps.iter().map(|e| e.0).collect();

        let filed = db_v::filed_ids(conn, levy_year, &ids)?;
        let assessed = db_v::current_figures(conn, levy_year, &ids)?;
        let mut paid = crate::db::payments::of_employers(conn, levy_year, &ids, Some(as_of))?;
        let decl_ids: Vec<i64> = filed.values().copied().collect();
        let lines = db_v::roster_facts(conn, &decl_ids)?;
        let mut lines_by: HashMap<i64, Vec<_>> = HashMap::new();
        for l in lines {
            lines_by.entry(l.0).or_default().push(l);
        }
        // docs/rules.md §6a: approved reductions and deferrals.
        let reliefs = crate::registry::hardship::reliefs(conn, levy_year, &ids)?;
        let open = crate::registry::positions::with_open_position(conn, &ids, as_of)?;
        let pending: HashMap<i64, u32> = disputes_for(conn, levy_year, &ids)?
            .into_iter()
            .map(|(e, ls)| {
                let n = ls
                    .iter()
                    .filter(|l| l.state == DisputeState::Pending)
                    .count();
                (e, u32::try_from(n).unwrap_or(u32::MAX))
            })
            .collect();

        let mut decided = Vec::new();
        for e in emps {
            // The region's deadline and policy (for unassessed employers).
            if !regional.contains_key(&e.4) {
                let resolved = e.4.parse::<RegionCode>().ok().and_then(|region| {
                    let deadline = book.default_as_of(region, levy_year).ok()?;
                    let policy = book.resolve(region, deadline, levy_year - 1).ok();
                    Some((deadline, policy))
                });
                if resolved.is_none() {
                    tracing::warn!(region = %e.4, levy_year, "no policy for the violator list");
                }
                regional.insert(e.4.clone(), resolved);
            }
            let region_info = regional.get(&e.4).and_then(|r| r.as_ref());
            let snapshot = match assessed.get(&e.0) {
                Some(&(_, _, sid)) => {
                    if let std::collections::hash_map::Entry::Vacant(v) = snapshots.entry(sid) {
                        let json = snapshot_json(conn, sid)?;
                        let p: ResolvedPolicy = serde_json::from_str(&json).map_err(|err| {
                            DbError::Task(format!("policy snapshot {sid} unreadable: {err}"))
                        })?;
                        v.insert(p);
                    }
                    snapshots.get(&sid)
                }
                None => None,
            };
            let policy = snapshot.or_else(|| region_info.and_then(|r| r.1.as_ref()));
            let relief = reliefs.get(&e.0);
            let relieved = relief
                .zip(policy)
                .map(|(r, p)| crate::registry::hardship::relieved_policy(p, r));
            let policy = relieved.as_ref().or(policy);
            let mut roster = RosterFacts::default();
            for l in lines_by.remove(&e.0).unwrap_or_default() {
                add_line(&mut roster, policy, l.1, l.2, l.3, l.4, l.5);
            }
            let facts = EmployerFacts {
                declared: filed.contains_key(&e.0),
                filing_deadline: region_info.map(|r| r.0),
                assessment: assessed.get(&e.0).map(|&(p, d, _)| AssessedFacts {
                    payable: relief.map_or(from_fen(p), |r| r.principal(from_fen(p))),
                    disabled_x12_e4: d,
                    payments: paid.remove(&e.0).unwrap_or_default(),
                }),
                roster,
                pending_disputes: pending.get(&e.0).copied().unwrap_or(0),
                open_reserved_position: open.contains(&e.0),
                uscc: e.1,
                name: e.2,
                kind: e.3,
                region: e.4,
                establishment_size: e.5,
                committee_member: e.6,
            };
            let mut rows = decide(&facts, policy, as_of).map_err(DbError::Task)?;
            if !rows.is_empty() {
                rows.sort_by_key(|r| r.violation.rank());
                decided.push(rows);
            }
        }
        emit(conn, decided)?;
    }
    Ok(())
}

/// The CSV header, Chinese with the English key in brackets.
pub const CSV_HEADER: [&str; 9] = [
    "统一社会信用代码 (uscc)",
    "单位名称 (name)",
    "单位类型 (kind)",
    "行政区划 (region)",
    "违规类型 (violation)",
    "事由 (why_zh)",
    "Why (why_en)",
    "依据 (citation)",
    "本行欠缴金额（仅欠款行，可直接求和） (outstanding: on the one money row of a debtor, 0.00 elsewhere, so the column sums)",
];

/// One CSV line (RFC 4180 quoting).
pub fn csv_line(r: &ViolationRow) -> String {
    let kind = r
        .kind
        .parse::<EmployerKind>()
        .map(|k| k.name_zh())
        .unwrap_or(&r.kind);
    let violation = format!("{} ({})", r.violation.name_zh(), r.violation.as_str());
    let fields = [
        r.uscc.as_str(),
        r.name.as_str(),
        kind,
        r.region.as_str(),
        violation.as_str(),
        r.why_zh.as_str(),
        r.why_en.as_str(),
        r.citation.as_str(),
        r.outstanding.as_str(),
    ]
    .map(super::csv::field);
    format!("{}\r\n", fields.join(","))
}

#[cfg(test)]
#[path = "violations_tests.rs"]
mod tests;
