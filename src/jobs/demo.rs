//! `quota-levy demo generate`: realistic synthetic employers and declarations for demos
//! and benchmarks, written fast through multi-row inserts.
//!
//! Every employer is derived from `(seed, index)` alone, so a seed always gives the same
//! data (on a fresh database) whatever the chunking or the number of threads. Codes are
//! valid: USCCs carry their GB 32100 check character, certificate numbers a valid
//! resident-ID check character, a category 1–7 and a grade 1–4. Every declaration body
//! goes through [`parse_declaration`], so the stored canonical body, digest and typed
//! roster lines are exactly what the API would store.
//!
//! Demo data bypasses the per-row audit: the whole generation writes ONE audit entry.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

use crate::db::audit::{self, AuditEntry};
use crate::db::declarations::{NewRosterLine, Status};
use crate::db::demo::{self as demo_db, DeclarationRow, EmployerRow, VersionRow};
use crate::db::employers::Employer;
use crate::db::{AnyConnection, Db, DbError};
use crate::domain::{EmployerKind, PolicyProvider, RegionCode};
use crate::registry::assessments::CachingProvider;
use crate::registry::declarations::parse_declaration;

/// Employers generated and written per transaction.
pub const DEMO_CHUNK: u64 = 5_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    /// How many employers.
    pub employers: u64,
    /// Levy year of the declarations (their data year is the year before).
    pub levy_year: i32,
    /// The region: employers are spread over the counties below it that the policy
    /// packs know (the region itself when none).
    pub region: RegionCode,
    /// Seed: the same seed gives the same data.
    pub seed: u64,
    /// Status of the declarations (`submitted` so that batch runs pick them up).
    pub status: Status,
    /// Who (for the audit entry).
    pub actor: String,
}

/// What a generation wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DemoReport {
    /// Employers (one declaration each).
    pub employers: u64,
    /// Roster lines.
    pub roster_lines: u64,
    /// Declarations with a roster of disabled employees.
    pub with_roster: u64,
    /// Declarations with a certified disabled count.
    pub with_count: u64,
    /// Lowest and highest employer row id written.
    pub id_range: (i64, i64),
}

/// Why a generation failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database failed (e.g. the USCCs of this seed were already generated).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A generated declaration did not validate: a bug in the generator.
    #[error("generated declaration {index} does not validate: {detail}")]
    Invalid {
        /// Employer index.
        index: u64,
        /// Pointers and codes of the faults.
        detail: String,
    },
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Db(DbError::Query(e))
    }
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and stable forever (the data of a seed never changes with a
/// dependency upgrade).
struct Rng(u64);

impl Rng {
    fn for_index(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        let s = r.next();
        Rng(s ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `permille`/1000.
    fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u64; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ID_WEIGHTS: [u64; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// 31^7: the 7-character serial part of a generated USCC.
const SERIAL_SPACE: u64 = 27_512_614_111;
/// Multiplier coprime to 31, so `index ↦ serial` is a bijection on the serial space.
const SERIAL_MULT: u64 = 1_000_000_007;

/// Appends the GB 32100-2015 check character to 17 code characters.
pub fn uscc_with_check(first17: &[u8; 17]) -> Option<String> {
    let mut sum = 0u64;
    for (&c, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += USCC_ALPHABET.iter().position(|&a| a == c)? as u64 * w;
    }
    let check = USCC_ALPHABET[((31 - sum % 31) % 31) as usize];
    let mut s = String::with_capacity(18);
    s.push_str(std::str::from_utf8(first17).ok()?);
    s.push(char::from(check));
    Some(s)
}

/// Appends the GB 11643-1999 check character to 17 digits.
pub fn resident_id_with_check(first17: &[u8; 17]) -> Option<String> {
    let mut sum = 0u64;
    for (&c, w) in first17.iter().zip(ID_WEIGHTS) {
        if !c.is_ascii_digit() {
            return None;
        }
        sum += u64::from(c - b'0') * w;
    }
    let mut s = String::with_capacity(22);
    s.push_str(std::str::from_utf8(first17).ok()?);
    s.push(char::from(ID_CHECK[(sum % 11) as usize]));
    Some(s)
}

fn uscc_for(kind: EmployerKind, county: &str, index: u64, seed: u64) -> Option<String> {
    let prefix: &[u8; 2] = match kind {
        EmployerKind::Enterprise => b"91",
        EmployerKind::GovernmentAgency => b"11",
        EmployerKind::PublicInstitution => b"12",
        EmployerKind::SocialOrganization => b"51",
        EmployerKind::PrivateNonEnterprise => b"52",
    };
    let mut b = [0u8; 17];
    b[..2].copy_from_slice(prefix);
    b[2..8].copy_from_slice(county.as_bytes().get(..6)?);
    // Enterprises' codes issued since 2015 start with "MA"; public bodies' with digits.
    b[8..10].copy_from_slice(if kind == EmployerKind::Enterprise {
        b"MA"
    } else {
        b"00"
    });
    let mut x = ((u128::from(index % SERIAL_SPACE) * u128::from(SERIAL_MULT)
        + u128::from(seed % SERIAL_SPACE) * 7_919)
        % u128::from(SERIAL_SPACE)) as u64;
    for slot in b[10..17].iter_mut().rev() {
        *slot = USCC_ALPHABET[(x % 31) as usize];
        x /= 31;
    }
    uscc_with_check(&b)
}

/// Days from 1965-01-01 to 2003-12-31: birth dates of working-age holders.
const BIRTH_DAYS: u64 = 14_244;
/// Distinct (birth date, sequence) pairs per county.
const PERSON_SPACE: u64 = BIRTH_DAYS * 1_000;
/// Coprime to 2, 5, 7, 11 and 37 (the factors of PERSON_SPACE): a bijection.
const PERSON_MULT: u64 = 104_729;

/// A disability certificate number for person number `person` (unique per person up to
/// 14 million people per county, so holders do not collide by accident).
fn certificate_for(person: u64, county: &str, rng: &mut Rng) -> Option<String> {
    let p = (u128::from(person % PERSON_SPACE) * u128::from(PERSON_MULT) % u128::from(PERSON_SPACE))
        as u64;
    let birth = NaiveDate::from_ymd_opt(1965, 1, 1)? + Duration::days((p / 1_000) as i64);
    let seq = p % 1_000;
    let mut b = [0u8; 17];
    b[..6].copy_from_slice(county.as_bytes().get(..6)?);
    b[6..14].copy_from_slice(birth.format("%Y%m%d").to_string().as_bytes());
    b[14..17].copy_from_slice(format!("{seq:03}").as_bytes());
    let mut cert = resident_id_with_check(&b)?;
    // Category: physical disabilities are the most common, multiple the rarest.
    let category = *rng.pick(&[4u8, 4, 4, 4, 2, 2, 1, 1, 3, 5, 6, 7]);
    let grade = *rng.pick(&[1u8, 2, 2, 3, 3, 3, 4, 4, 4, 4]);
    cert.push(char::from(b'0' + category));
    cert.push(char::from(b'0' + grade));
    if rng.chance(20) {
        cert.push_str("B1");
    }
    Some(cert)
}

// ---------------------------------------------------------------------------------------
// Employers and declaration bodies
// ---------------------------------------------------------------------------------------

/// A county the employers are spread over.
#[derive(Debug, Clone)]
pub struct County {
    /// GB/T 2260 code.
    pub code: String,
    /// Short name for employer names (湖滨, 灵宝…).
    pub short: String,
}

/// The counties under `region` that the policy packs know, else the region itself.
pub fn counties_of(book: &crate::policy::PolicyBook, region: RegionCode) -> Vec<County> {
    let short = |name: &str| {
        name.trim_end_matches(['市', '区', '县'])
            .chars()
            .take(4)
            .collect::<String>()
    };
    let prefix = crate::auth::scope_prefix(&region).to_owned();
    let mut v: Vec<County> = book
        .packs()
        .filter(|p| {
            let c = p.code.as_str();
            c != region.as_str() && c.starts_with(&prefix) && !c.ends_with("00")
        })
        .map(|p| County {
            code: p.code.to_string(),
            short: short(&p.name),
        })
        .collect();
    v.sort_by(|a, b| a.code.cmp(&b.code));
    if v.is_empty() {
        let name = book
            .pack(region)
            .map(|p| short(&p.name))
            .unwrap_or_else(|| "示范".to_owned());
        v.push(County {
            code: region.to_string(),
            short: name,
        });
    }
    v
}

const WORDS: &[&str] = &[
    "华", "豫", "崤", "函", "黄河", "天鹅", "金", "宏", "恒", "盛", "鑫", "瑞", "安", "泰", "丰",
    "源", "康", "德", "中", "新", "兴", "隆", "昌", "达", "远", "通", "信", "诚",
];
const TRADES: &[&str] = &[
    "机械",
    "果业",
    "矿业",
    "建材",
    "物流",
    "商贸",
    "电子",
    "化工",
    "食品",
    "纺织",
    "建筑",
    "科技",
    "能源",
    "医药",
    "汽车服务",
    "农业",
    "旅游",
    "餐饮",
    "印刷",
    "环保",
];
const BUREAUS: &[&str] = &[
    "人民政府办公室",
    "财政局",
    "教育局",
    "公安局",
    "人力资源和社会保障局",
    "民政局",
    "市场监督管理局",
    "自然资源局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "卫生健康委员会",
    "税务局",
    "统计局",
    "司法局",
];
const INSTITUTIONS: &[&str] = &[
    "人民医院",
    "中医院",
    "妇幼保健院",
    "第一高级中学",
    "第二高级中学",
    "实验小学",
    "职业技术学校",
    "疾病预防控制中心",
    "图书馆",
    "广播电视台",
    "档案馆",
    "社会福利院",
];

/// One generated employer with its declaration body.
struct Generated {
    employer: Employer,
    body: Value,
}

/// Staff size: many small employers, a long tail to tens of thousands.
fn staff_size(rng: &mut Rng, kind: EmployerKind) -> u64 {
    let r = rng.below(1000);
    let public = kind.is_public_body();
    match r {
        _ if public && r < 300 => rng.range(8, 40),
        _ if public && r < 850 => rng.range(41, 300),
        _ if public => rng.range(301, 3_000),
        0..=519 => rng.range(1, 30).min(rng.range(1, 30)).max(1),
        520..=799 => rng.range(31, 100),
        800..=939 => rng.range(101, 300),
        940..=984 => rng.range(301, 1_000),
        985..=997 => rng.range(1_001, 3_000),
        _ => rng.range(3_001, 12_000),
    }
}

fn money(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn generate_one(
    spec: &DemoSpec,
    counties: &[County],
    index: u64,
    id: i64,
    now: NaiveDateTime,
) -> Option<Generated> {
    let mut rng = Rng::for_index(spec.seed, index);
    let county = rng.pick(counties);
    let kind = match rng.below(1000) {
        0..=869 => EmployerKind::Enterprise,
        870..=909 => EmployerKind::PublicInstitution,
        910..=949 => EmployerKind::GovernmentAgency,
        950..=979 => EmployerKind::SocialOrganization,
        _ => EmployerKind::PrivateNonEnterprise,
    };
    let uscc = uscc_for(kind, &county.code, index, spec.seed)?;
    let size = staff_size(&mut rng, kind);
    let name = match kind {
        EmployerKind::Enterprise => format!(
            "{}{}{}{}{}",
            county.short,
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(TRADES),
            if size > 300 && rng.chance(400) {
                "股份有限公司"
            } else {
                "有限公司"
            }
        ),
        EmployerKind::GovernmentAgency => format!("{}{}", county.short, rng.pick(BUREAUS)),
        EmployerKind::PublicInstitution => format!("{}{}", county.short, rng.pick(INSTITUTIONS)),
        EmployerKind::SocialOrganization => {
            format!(
                "{}{}{}协会",
                county.short,
                rng.pick(WORDS),
                rng.pick(TRADES)
            )
        }
        EmployerKind::PrivateNonEnterprise => {
            format!(
                "{}{}{}培训学校",
                county.short,
                rng.pick(WORDS),
                rng.pick(WORDS)
            )
        }
    };
    let data_year = spec.levy_year - 1;
    let registered_on = {
        let (from, to) = if kind.is_public_body() {
            (
                NaiveDate::from_ymd_opt(1978, 1, 1)?,
                NaiveDate::from_ymd_opt(2012, 12, 31)?,
            )
        } else if rng.chance(40) {
            // Newly registered in the data year (small-enterprise rules look at this).
            (
                NaiveDate::from_ymd_opt(data_year, 1, 1)?,
                NaiveDate::from_ymd_opt(data_year, 12, 31)?,
            )
        } else {
            (
                NaiveDate::from_ymd_opt(1993, 1, 1)?,
                NaiveDate::from_ymd_opt(data_year - 1, 12, 31)?,
            )
        };
        let days = (to - from).num_days().max(0) as u64;
        from + Duration::days(rng.below(days + 1) as i64)
    };
    let serial = &uscc[10..17];
    let employer = Employer {
        id,
        uscc: uscc.clone(),
        name,
        kind: kind.as_str().to_owned(),
        region: county.code.clone(),
        registered_on: rng.chance(950).then_some(registered_on),
        contact_email: rng
            .chance(700)
            .then(|| format!("hr.{}@example.cn", serial.to_ascii_lowercase())),
        establishment_size: kind.is_public_body().then(|| {
            let e = size * rng.range(80, 110) / 100;
            i32::try_from(e.max(1)).unwrap_or(i32::MAX)
        }),
        committee_member: kind.is_public_body() && rng.chance(30),
        version: 1,
        created_at: now,
        updated_at: now,
    };

    // Staff: twelve month-end headcounts (most) or an annual average.
    let mut body = Map::new();
    let new_this_year = employer
        .registered_on
        .is_some_and(|d| d.year() == data_year);
    let first_month = match employer.registered_on {
        Some(d) if new_this_year => d.month(),
        _ => 1,
    };
    let mut staff_x12: u64 = 0;
    if rng.chance(700) {
        let mut months = Vec::with_capacity(12);
        let mut n = size;
        for m in 1..=12u32 {
            if m < first_month {
                months.push(0u64);
                continue;
            }
            // Month-to-month drift of up to ±3 %.
            let delta = (n * rng.below(7)) / 100;
            n = if rng.chance(500) {
                n + delta
            } else {
                n.saturating_sub(delta).max(1)
            };
            months.push(n);
            staff_x12 += n;
        }
        body.insert("staff".into(), json!({ "monthly_headcount": months }));
    } else {
        let quarters = rng.below(4) * 25;
        let avg = format!("{}.{:02}", size, quarters);
        staff_x12 = size * 12 + quarters * 12 / 100;
        body.insert("staff".into(), json!({ "average_headcount": avg }));
    }
    let avg_staff = (staff_x12 / 12).max(1);

    // Wages: a yearly average of 40,000–120,000 yuan, higher for big employers.
    let mut wage_yuan = rng.range(40_000, 85_000);
    if size > 500 || kind.is_public_body() {
        wage_yuan += rng.range(5_000, 35_000);
    }
    let wage_fen = wage_yuan * 100 + rng.below(100);
    if rng.chance(850) {
        // Total wages: the average × the average headcount, to the fen.
        let total = wage_fen * staff_x12 / 12 + rng.below(100);
        body.insert("total_wages".into(), json!(money(total)));
    } else {
        body.insert("average_wage".into(), json!(money(wage_fen)));
    }

    // Disabled employees: about 30 % a roster, 15 % a certified count, the rest none.
    let r = rng.below(1000);
    if r < 300 {
        let max_lines = (avg_staff / 4).clamp(1, 8);
        let lines = rng.range(1, max_lines).min(rng.range(1, 8));
        let mut roster = Vec::with_capacity(lines as usize);
        for line in 0..lines {
            let person = index * 8 + line;
            let holder_county = if rng.chance(850) {
                county
            } else {
                rng.pick(counties)
            };
            let cert = certificate_for(person, &holder_county.code, &mut rng)?;
            let mut e = Map::new();
            e.insert("certificate_no".into(), json!(cert));
            match rng.below(100) {
                0..=74 => {
                    let from = first_month;
                    e.insert("months".into(), json!((from..=12).collect::<Vec<u32>>()));
                }
                75..=89 => {
                    let from = rng.range(u64::from(first_month), 12) as u32;
                    let to = rng.range(u64::from(from), 12) as u32;
                    e.insert("months".into(), json!((from..=to).collect::<Vec<u32>>()));
                }
                _ => {
                    let y = data_year - rng.below(3) as i32;
                    let from = NaiveDate::from_ymd_opt(y, rng.range(1, 12) as u32, 1)?;
                    e.insert(
                        "employed_from".into(),
                        json!(from.format("%Y-%m-%d").to_string()),
                    );
                    if rng.chance(200) {
                        let to = NaiveDate::from_ymd_opt(data_year, rng.range(6, 12) as u32, 28)?;
                        if to >= from {
                            e.insert(
                                "employed_to".into(),
                                json!(to.format("%Y-%m-%d").to_string()),
                            );
                        }
                    }
                }
            }
            if kind.is_public_body() && rng.chance(600) {
                e.insert("on_establishment".into(), json!(true));
            } else if rng.chance(900) {
                e.insert(
                    "contract_months".into(),
                    json!(*rng.pick(&[12u32, 12, 24, 36, 36, 60])),
                );
            }
            e.insert("social_insurance_paid".into(), json!(rng.chance(900)));
            if rng.chance(950) {
                e.insert(
                    "monthly_wage".into(),
                    json!(money(rng.range(1_900, 6_500) * 100)),
                );
            }
            if rng.chance(30) {
                e.insert("fresh_graduate".into(), json!(true));
            }
            roster.push(Value::Object(e));
        }
        body.insert("disabled_employees".into(), Value::Array(roster));
    } else if r < 450 {
        let whole = rng.below((avg_staff / 30).clamp(1, 20) + 1);
        let frac = *rng.pick(&["", ".5", ".25", ".75", ".1667"]);
        body.insert(
            "disabled_count".into(),
            json!(if whole == 0 && frac.is_empty() {
                "0".to_owned()
            } else {
                format!("{whole}{frac}")
            }),
        );
    }
    Some(Generated {
        employer,
        body: Value::Object(body),
    })
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// One employer ready to write.
struct Ready {
    employer: Employer,
    body_json: String,
    digest: String,
    roster: Vec<NewRosterLine>,
}

/// Generates and validates employers `first..first+n` on up to two threads.
fn prepare_chunk(
    spec: &DemoSpec,
    counties: &[County],
    provider: &dyn PolicyProvider,
    first_index: u64,
    first_id: i64,
    n: u64,
    now: NaiveDateTime,
) -> Result<Vec<Ready>, DemoError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4) as u64;
    let per = n.div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Ready>, DemoError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let lo = t * per;
                let hi = ((t + 1) * per).min(n);
                s.spawn(move || {
                    let mut out = Vec::with_capacity(hi.saturating_sub(lo) as usize);
                    for k in lo..hi {
                        let index = first_index + k;
                        let id = first_id + k as i64;
                        let g = generate_one(spec, counties, index, id, now).ok_or_else(|| {
                            DemoError::Invalid {
                                index,
                                detail: "a code could not be generated".into(),
                            }
                        })?;
                        let parsed =
                            parse_declaration(provider, &g.employer, spec.levy_year, &g.body)
                                .map_err(|errs| DemoError::Invalid {
                                    index,
                                    detail: errs
                                        .iter()
                                        .map(|f| format!("{} {}: {}", f.pointer, f.code, f.message))
                                        .collect::<Vec<_>>()
                                        .join("; "),
                                })?;
                        out.push(Ready {
                            employer: g.employer,
                            body_json: parsed.body_json,
                            digest: parsed.digest,
                            roster: parsed.roster,
                        });
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DemoError::Db(DbError::Task(
                        "a generator thread panicked".into(),
                    )))
                })
            })
            .collect()
    });
    let mut all = Vec::with_capacity(n as usize);
    for p in parts {
        all.extend(p?);
    }
    Ok(all)
}

fn write_chunk(
    conn: &mut AnyConnection,
    ready: &[Ready],
    first_decl_id: i64,
    spec: &DemoSpec,
    now: NaiveDateTime,
) -> Result<u64, DemoError> {
    let status = spec.status.as_str();
    let submitted_at = spec.status.is_filed().then_some(now);
    let (certified_at, certified_by) = if spec.status == Status::Certified {
        (Some(now), Some(spec.actor.as_str()))
    } else {
        (None, None)
    };
    let emp_rows: Vec<EmployerRow<'_>> = ready
        .iter()
        .map(|r| {
            let e = &r.employer;
            EmployerRow {
                id: e.id,
                uscc: &e.uscc,
                name: &e.name,
                kind: &e.kind,
                region: &e.region,
                registered_on: e.registered_on,
                contact_email: e.contact_email.as_deref(),
                establishment_size: e.establishment_size,
                committee_member: e.committee_member,
                version: 1,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    demo_db::insert_employers(conn, &emp_rows)?;
    drop(emp_rows);
    let decl_rows: Vec<DeclarationRow<'_>> = ready
        .iter()
        .enumerate()
        .map(|(k, r)| DeclarationRow {
            id: first_decl_id + k as i64,
            employer_id: r.employer.id,
            levy_year: spec.levy_year,
            version: 1,
            status,
            body_json: &r.body_json,
            body_digest: &r.digest,
            submitted_at,
            certified_at,
            certified_by,
            created_at: now,
            updated_at: now,
        })
        .collect();
    demo_db::insert_declarations(conn, &decl_rows)?;
    drop(decl_rows);
    let version_rows: Vec<VersionRow<'_>> = ready
        .iter()
        .enumerate()
        .map(|(k, r)| VersionRow {
            declaration_id: first_decl_id + k as i64,
            version: 1,
            status,
            body_json: &r.body_json,
            body_digest: &r.digest,
            created_at: now,
            created_by: &spec.actor,
        })
        .collect();
    demo_db::insert_versions(conn, &version_rows)?;
    drop(version_rows);
    let lines: Vec<NewRosterLine> = ready
        .iter()
        .enumerate()
        .flat_map(|(k, r)| {
            r.roster.iter().map(move |l| NewRosterLine {
                declaration_id: first_decl_id + k as i64,
                ..l.clone()
            })
        })
        .collect();
    demo_db::insert_roster_lines(conn, &lines)?;
    Ok(lines.len() as u64)
}

/// Generates `spec.employers` employers with one declaration each. `progress` gets the
/// number written so far after every chunk. Employer numbering continues after the
/// employers already in the database, so a second generation adds new employers.
pub fn generate(
    db: &Db,
    book: &crate::policy::PolicyBook,
    spec: &DemoSpec,
    progress: &mut dyn FnMut(u64),
) -> Result<DemoReport, DemoError> {
    let counties = counties_of(book, spec.region);
    let provider = CachingProvider::new(book);
    let mut pooled = db.conn()?;
    let conn: &mut AnyConnection = &mut pooled;
    let start_index = u64::try_from(demo_db::count_employers(conn)?).unwrap_or(0);
    let now = Utc::now().naive_utc();
    let mut report = DemoReport::default();
    let mut done = 0u64;
    while done < spec.employers {
        let n = DEMO_CHUNK.min(spec.employers - done);
        // Ids are assigned here (no RETURNING needed for multi-row inserts); the chunk's
        // transaction takes the write lock before reading the maxima.
        let lines = crate::db::write_transaction(conn, |c| -> Result<u64, DemoError> {
            demo_db::lock_for_numbering(c)?;
            let first_id = demo_db::max_id(c, "employers")? + 1;
            let first_decl = demo_db::max_id(c, "declarations")? + 1;
            let ready = prepare_chunk(
                spec,
                &counties,
                &provider,
                start_index + done,
                first_id,
                n,
                now,
            )?;
            if report.id_range.0 == 0 {
                report.id_range.0 = first_id;
            }
            report.id_range.1 = first_id + n as i64 - 1;
            for r in &ready {
                if !r.roster.is_empty() {
                    report.with_roster += 1;
                } else if r.body_json.contains("\"disabled_count\"") {
                    report.with_count += 1;
                }
            }
            let lines = write_chunk(c, &ready, first_decl, spec, now)?;
            demo_db::bump_sequences(c)?;
            Ok(lines)
        })?;
        report.roster_lines += lines;
        done += n;
        report.employers = done;
        progress(done);
    }
    audit::record(
        conn,
        AuditEntry {
            actor: &spec.actor,
            action: "demo.generate",
            entity_type: "demo",
            entity_id: &format!("{}/{}", spec.region, spec.levy_year),
            before: None,
            after: Some(json!({
                "employers": report.employers,
                "roster_lines": report.roster_lines,
                "with_roster": report.with_roster,
                "with_count": report.with_count,
                "first_employer_id": report.id_range.0,
                "last_employer_id": report.id_range.1,
                "seed": spec.seed,
                "levy_year": spec.levy_year,
                "status": spec.status.as_str(),
            })),
            request_id: None,
        },
    )?;
    Ok(report)
}

#[cfg(test)]
#[path = "demo_tests.rs"]
mod tests;
