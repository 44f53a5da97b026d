//! Identifiers of docs/rules.md §9: the unified social credit code (GB 32100-2015), the
//! resident ID number (GB 11643-1999) and the second-generation disability certificate
//! number, plus the (free-form) disabled veteran's certificate number.
//!
//! These numbers are personal information (个人信息保护法 Art. 28; docs/rules.md §9):
//! `Display` and `Debug` are masked, there is no `Serialize` impl, and the full value is
//! only available through an explicit [`expose`](ResidentId::expose) call, meant for
//! storage. Parse errors never echo the number either.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use super::lang::Language;
use super::region::EmployerKind;

/// Why a string is not a valid identifier. Each way to be wrong has its own variant;
/// positions are 1-based character positions, as printed on the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong number of characters.
    #[error("must be {expected} characters long, got {got}")]
    Length {
        /// What is expected, e.g. "18" or "20 (or 22 with a re-issue suffix)".
        expected: &'static str,
        /// How many characters were given.
        got: usize,
    },
    /// A character not allowed at that position.
    #[error("character {position} is not allowed at that position")]
    BadCharacter {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// Positions 3–8 of a credit code are not a six-digit region code.
    #[error("characters 3-8 must be a six-digit region code (GB/T 2260)")]
    BadRegion,
    /// Positions 7–14 of an ID number are not a real calendar date.
    #[error("characters 7-14 are not a valid birth date (YYYYMMDD)")]
    BadBirthDate,
    /// The check character does not match the other characters.
    #[error("the check character does not match (mistyped number?)")]
    CheckCharacter,
    /// Character 19 of a disability certificate is not a category 1–7.
    #[error("character 19 must be the disability category, 1 to 7")]
    BadCategory,
    /// Character 20 of a disability certificate is not a grade 1–4.
    #[error("character 20 must be the disability grade, 1 to 4")]
    BadGrade,
    /// Characters 21–22 of a disability certificate are not B1–B9.
    #[error("a re-issue suffix (characters 21-22) must be B1 to B9")]
    BadSuffix,
    /// A veteran's certificate number that is empty or too long or has odd characters.
    #[error("a disabled veteran's certificate number is 4 to 40 letters or digits")]
    BadVeteranNumber,
}

impl IdError {
    /// The message in the requested language (English is the `Display` text).
    pub fn message(&self, lang: Language) -> String {
        match lang {
            Language::En => self.to_string(),
            Language::Zh => match *self {
                IdError::Length { expected, got } => {
                    // The unit goes with each figure: "20 位（补发证 22 位）", "18 位".
                    let expected = match expected {
                        LEN_CERT => "20 位（补发证 22 位）".to_owned(),
                        other => format!("{other} 位"),
                    };
                    format!("长度应为 {expected}，实际为 {got} 位")
                }
                IdError::BadCharacter { position } => format!("第 {position} 位字符不合法"),
                IdError::BadRegion => "第 3–8 位应为六位行政区划代码（GB/T 2260）".into(),
                IdError::BadBirthDate => "第 7–14 位不是有效的出生日期（YYYYMMDD）".into(),
                IdError::CheckCharacter => "校验码不符（号码可能输错）".into(),
                IdError::BadCategory => "第 19 位应为残疾类别 1–7".into(),
                IdError::BadGrade => "第 20 位应为残疾等级 1–4".into(),
                IdError::BadSuffix => "补发标识（第 21–22 位）应为 B1 至 B9".into(),
                IdError::BadVeteranNumber => "残疾军人证号应为 4 至 40 位字母或数字".into(),
            },
        }
    }
}

const LEN_CERT: &str = "20 (or 22 with a re-issue suffix)";

/// Masks an identifier for display: first 4 and last 4 characters kept, the rest `*`
/// (short values keep only their first and last character).
fn mask(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    mask_into(value, &mut out);
    out
}

/// [`mask`], appending to `out` (no allocation of its own).
fn mask_into(value: &str, out: &mut String) {
    let ascii = value.is_ascii();
    let n = if ascii {
        value.len()
    } else {
        value.chars().count()
    };
    let keep = if n >= 12 {
        4
    } else if n >= 3 {
        1
    } else {
        0
    };
    if ascii {
        // Fast path for the usual ASCII numbers: head, stars, tail.
        let keep = keep.min(n / 2);
        out.push_str(&value[..keep]);
        out.extend(std::iter::repeat_n('*', n - 2 * keep));
        out.push_str(&value[n - keep..]);
        return;
    }
    for (i, c) in value.chars().enumerate() {
        out.push(if i < keep || i + keep >= n { c } else { '*' });
    }
}

/// Free text (a note, a bank reference, a name) with every run of letters and digits
/// that holds 15 digits or more masked as identifiers are: such a run may be an ID or
/// certificate number, and the text is about to be written where numbers must not be
/// (the audit log). Text without one is returned as it is.
pub fn mask_numbers_in(text: &str) -> std::borrow::Cow<'_, str> {
    const DIGITS: usize = 15;
    let runs = || {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|run| run.bytes().filter(u8::is_ascii_digit).count() >= DIGITS)
    };
    if runs().next().is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.bytes().filter(u8::is_ascii_digit).count() >= DIGITS {
            mask_into(run, out);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    std::borrow::Cow::Owned(out)
}

/// Shared preparation: surrounding whitespace is ignored (numbers get pasted), letters are
/// upper-cased; a non-ASCII character is reported at its position.
fn ascii_upper<const N: usize>(
    input: &str,
    allowed_lengths: &[usize],
    expected: &'static str,
) -> Result<([u8; N], usize), IdError> {
    let s = input.trim();
    let count = s.chars().count();
    if !allowed_lengths.contains(&count) {
        return Err(IdError::Length {
            expected,
            got: count,
        });
    }
    let mut out = [0u8; N];
    for (i, c) in s.chars().enumerate() {
        if !c.is_ascii() {
            return Err(IdError::BadCharacter { position: i + 1 });
        }
        out[i] = c.to_ascii_uppercase() as u8;
    }
    Ok((out, count))
}

// ---------------------------------------------------------------------------------------
// Unified social credit code (GB 32100-2015)
// ---------------------------------------------------------------------------------------

/// The GB 32100-2015 code alphabet: digits and capitals without I, O, S, V, Z. A
/// character's value is its index.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015 weights for positions 1–17 (3^i mod 31).
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// An employer's unified social credit code (统一社会信用代码, GB 32100-2015).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnifiedSocialCreditCode([u8; 18]);

impl UnifiedSocialCreditCode {
    /// Parses and checks a credit code (docs/rules.md §9). Lowercase letters are accepted and
    /// upper-cased; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let (b, _) = ascii_upper::<18>(input, &[18], "18")?;
        for (i, &c) in b.iter().enumerate() {
            if uscc_value(c).is_none() {
                return Err(IdError::BadCharacter { position: i + 1 });
            }
        }
        // Positions 3–8 are the GB/T 2260 region code of the registration authority.
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(IdError::BadRegion);
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(USCC_WEIGHTS)
            .map(|(&c, w)| uscc_value(c).unwrap_or(0) * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if uscc_value(b[17]) != Some(check) {
            return Err(IdError::CheckCharacter);
        }
        Ok(UnifiedSocialCreditCode(b))
    }

    /// The full code, for storage. Do not log it.
    pub fn expose(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The masked form, e.g. `9135**********0Y43`.
    pub fn masked(&self) -> String {
        mask(self.expose())
    }

    /// The region code in positions 3–8.
    pub fn region_digits(&self) -> &str {
        &self.expose()[2..8]
    }

    /// The employer kind hinted by positions 1–2 (91 enterprise, 11 agency, 12 public
    /// institution, 51 social organization, 52 private non-enterprise unit). The declared
    /// kind decides; a mismatch is a warning for the caller to raise (docs/rules.md §9).
    pub fn kind_hint(&self) -> Option<EmployerKind> {
        match &self.0[..2] {
            b"91" => Some(EmployerKind::Enterprise),
            b"11" => Some(EmployerKind::GovernmentAgency),
            b"12" => Some(EmployerKind::PublicInstitution),
            b"51" => Some(EmployerKind::SocialOrganization),
            b"52" => Some(EmployerKind::PrivateNonEnterprise),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resident ID number (GB 11643-1999)
// ---------------------------------------------------------------------------------------

/// GB 11643-1999 weights for positions 1–17 (2^(17−i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by `Σ mod 11`.
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// A resident ID number (公民身份号码, GB 11643-1999), 18 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId([u8; 18]);

impl ResidentId {
    /// Parses and checks an ID number (docs/rules.md §9); a lowercase `x` is accepted.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let (b, _) = ascii_upper::<18>(input, &[18], "18")?;
        Self::check(b)
    }

    fn check(b: [u8; 18]) -> Result<Self, IdError> {
        if let Some(i) = b[..17].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdError::BadCharacter { position: i + 1 });
        }
        if !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdError::BadCharacter { position: 18 });
        }
        let digits = |r: std::ops::Range<usize>| {
            b[r].iter()
                .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
        };
        let (y, m, d) = (digits(6..10), digits(10..12), digits(12..14));
        // Choice: any real calendar date from 1800 on; the engine has no clock, so "not in
        // the future" is the caller's concern.
        let year = i32::try_from(y).map_err(|_| IdError::BadBirthDate)?;
        if year < 1800 || NaiveDate::from_ymd_opt(year, m, d).is_none() {
            return Err(IdError::BadBirthDate);
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(ID_WEIGHTS)
            .map(|(&c, w)| u32::from(c - b'0') * w)
            .sum();
        if ID_CHECK[(sum % 11) as usize] != b[17] {
            return Err(IdError::CheckCharacter);
        }
        Ok(ResidentId(b))
    }

    /// The full number, for storage. Do not log it.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The masked form, e.g. `1101**********002X`.
    pub fn masked(&self) -> String {
        mask(self.expose())
    }

    /// The birth date in positions 7–14.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let s = self.expose();
        NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").ok()
    }

    /// The holder's sex: GB 11643-1999 gives it in position 17 (the sequence code's
    /// last digit), odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.0[16].wrapping_sub(b'0')) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// A holder's sex as an ID number states it (GB 11643-1999, position 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Odd digit.
    Male,
    /// Even digit.
    Female,
}

// ---------------------------------------------------------------------------------------
// Disability certificate (第二代残疾人证)
// ---------------------------------------------------------------------------------------

/// The disability category in character 19 of a certificate number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisabilityCategory {
    /// 1 视力残疾
    Visual = 1,
    /// 2 听力残疾
    Hearing = 2,
    /// 3 言语残疾
    Speech = 3,
    /// 4 肢体残疾
    Physical = 4,
    /// 5 智力残疾
    Intellectual = 5,
    /// 6 精神残疾
    Psychosocial = 6,
    /// 7 多重残疾
    Multiple = 7,
}

impl DisabilityCategory {
    fn from_digit(d: u8) -> Option<Self> {
        Some(match d {
            1 => Self::Visual,
            2 => Self::Hearing,
            3 => Self::Speech,
            4 => Self::Physical,
            5 => Self::Intellectual,
            6 => Self::Psychosocial,
            7 => Self::Multiple,
            _ => return None,
        })
    }

    /// The digit, 1–7.
    pub fn digit(self) -> u8 {
        self as u8
    }

    /// The name in the requested language.
    pub fn name(self, lang: Language) -> &'static str {
        match self {
            Self::Visual => lang.pick("视力残疾", "visual"),
            Self::Hearing => lang.pick("听力残疾", "hearing"),
            Self::Speech => lang.pick("言语残疾", "speech"),
            Self::Physical => lang.pick("肢体残疾", "physical"),
            Self::Intellectual => lang.pick("智力残疾", "intellectual"),
            Self::Psychosocial => lang.pick("精神残疾", "psychosocial"),
            Self::Multiple => lang.pick("多重残疾", "multiple"),
        }
    }
}

/// A second-generation disability certificate number (残疾人证号): the holder's ID number,
/// the category digit 1–7, the grade digit 1–4 and an optional re-issue suffix B1–B9.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisabilityCertificate {
    bytes: [u8; 22],
    len: u8,
}

impl DisabilityCertificate {
    /// Parses and checks a certificate number (docs/rules.md §9). Errors in the first 18
    /// characters are those of the ID number, at the same positions.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let (b, len) = ascii_upper::<22>(input, &[20, 22], LEN_CERT)?;
        let mut id = [0u8; 18];
        id.copy_from_slice(&b[..18]);
        ResidentId::check(id)?;
        if !b[18].is_ascii_digit() || DisabilityCategory::from_digit(b[18] - b'0').is_none() {
            return Err(IdError::BadCategory);
        }
        if !(b'1'..=b'4').contains(&b[19]) {
            return Err(IdError::BadGrade);
        }
        if len == 22 && !(b[20] == b'B' && (b'1'..=b'9').contains(&b[21])) {
            return Err(IdError::BadSuffix);
        }
        Ok(DisabilityCertificate {
            bytes: b,
            len: len as u8,
        })
    }

    /// The full number, for storage. Do not log it.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// The masked form, e.g. `1101************2X42`.
    pub fn masked(&self) -> String {
        mask(self.expose())
    }

    /// Appends the masked form to `out`.
    pub fn write_masked(&self, out: &mut String) {
        mask_into(self.expose(), out)
    }

    /// The holder's ID number as bytes (for fast comparisons).
    pub(crate) fn holder_bytes(&self) -> &[u8; 18] {
        // Infallible: the buffer is 22 bytes long.
        self.bytes.first_chunk::<18>().unwrap_or(&[0; 18])
    }

    /// The holder's ID number (the first 18 characters).
    pub fn holder(&self) -> ResidentId {
        let mut id = [0u8; 18];
        id.copy_from_slice(&self.bytes[..18]);
        ResidentId(id)
    }

    /// The disability category (character 19).
    pub fn category(&self) -> DisabilityCategory {
        DisabilityCategory::from_digit(self.bytes[18] - b'0')
            .unwrap_or(DisabilityCategory::Multiple)
    }

    /// The disability grade 1–4 (character 20; 1 is the most severe). Levy-rules §9: the
    /// grade in the number is the grade that counts.
    pub fn grade(&self) -> u8 {
        self.bytes[19] - b'0'
    }

    /// The re-issue number 1–9 when the number ends in B1–B9.
    pub fn reissue(&self) -> Option<u8> {
        (self.len == 22).then(|| self.bytes[21] - b'0')
    }

    /// True when both numbers belong to the same holder (same ID number), whatever the
    /// category, grade or re-issue suffix: one person holds one certificate.
    pub fn same_holder(&self, other: &DisabilityCertificate) -> bool {
        self.bytes[..18] == other.bytes[..18]
    }
}

// ---------------------------------------------------------------------------------------
// Disabled veteran's certificate (残疾军人证)
// ---------------------------------------------------------------------------------------

/// A disabled veteran's certificate number (残疾军人证). Choice: docs/rules.md §9 gives no
/// format, so any 4–40 letters or digits (Chinese characters included, e.g. 军残字第…号)
/// are accepted; the grade is declared separately.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VeteranCertificate(String);

impl VeteranCertificate {
    /// Accepts 4–40 alphanumeric characters (Unicode letters and digits, `-`);
    /// surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        let n = s.chars().count();
        if !(4..=40).contains(&n) || !s.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(IdError::BadVeteranNumber);
        }
        Ok(VeteranCertificate(s.to_owned()))
    }

    /// The full number, for storage. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// Appends the masked form to `out`.
    pub fn write_masked(&self, out: &mut String) {
        mask_into(&self.0, out)
    }
}

// ---------------------------------------------------------------------------------------
// Shared trait impls: masked Display/Debug, FromStr, Deserialize through parse.
// ---------------------------------------------------------------------------------------

macro_rules! id_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.masked())
            }
        }

        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_impls!(UnifiedSocialCreditCode);
id_impls!(ResidentId);
id_impls!(DisabilityCertificate);
id_impls!(VeteranCertificate);

#[cfg(test)]
mod tests {
    use super::*;

    // A separate, straightforward implementation of both check-character algorithms, so
    // the tests do not just repeat the code under test.
    fn uscc_check_char(first17: &str) -> char {
        let alphabet: Vec<char> = "0123456789ABCDEFGHJKLMNPQRTUWXY".chars().collect();
        let mut sum = 0usize;
        let mut weight = 1usize;
        for c in first17.chars() {
            let v = alphabet.iter().position(|&a| a == c).expect("test input");
            sum += v * weight;
            weight = weight * 3 % 31;
        }
        alphabet[(31 - sum % 31) % 31]
    }

    fn id_check_char(first17: &str) -> char {
        let mut sum = 0u64;
        for (i, c) in first17.chars().enumerate() {
            let w = (1u64 << (17 - i)) % 11;
            sum += u64::from(c.to_digit(10).expect("test input")) * w;
        }
        "10X98765432"
            .chars()
            .nth((sum % 11) as usize)
            .expect("mod 11")
    }

    fn valid_id(first17: &str) -> String {
        format!("{first17}{}", id_check_char(first17))
    }

    #[test]
    fn spec_examples_are_valid() {
        let c = UnifiedSocialCreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(c.expose(), "91350100M000100Y43");
        assert_eq!(c.kind_hint(), Some(EmployerKind::Enterprise));
        assert_eq!(c.region_digits(), "350100");
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(uscc_check_char("91350100M000100Y4"), '3');
        assert_eq!(id_check_char("11010519491231002"), 'X');
    }

    #[test]
    fn generated_numbers_round_trip() {
        for (i, seq) in [
            "00100000000000000",
            "41120219900229123",
            "44030120001231999",
        ]
        .iter()
        .enumerate()
        {
            let id = valid_id(seq);
            let r = ResidentId::parse(&id);
            // 1990-02-29 does not exist: the second one must fail on the date, not the check.
            if i == 1 {
                assert_eq!(r, Err(IdError::BadBirthDate));
            } else if i == 0 {
                assert_eq!(r, Err(IdError::BadBirthDate), "0010-00-00 is no date");
            } else {
                assert_eq!(r.unwrap().expose(), id);
            }
        }
        for body in [
            "91411200MA3X00001",
            "12410000415801234",
            "52411202MJY000017",
        ] {
            let code = format!("{body}{}", uscc_check_char(body));
            assert!(UnifiedSocialCreditCode::parse(&code).is_ok(), "{code}");
        }
    }

    #[test]
    fn resident_id_errors() {
        assert_eq!(
            ResidentId::parse("11010519491231002"),
            Err(IdError::Length {
                expected: "18",
                got: 17
            })
        );
        assert_eq!(
            ResidentId::parse("1101051949123100AX"),
            Err(IdError::BadCharacter { position: 17 })
        );
        assert_eq!(
            ResidentId::parse("11010519491231002Y"),
            Err(IdError::BadCharacter { position: 18 })
        );
        assert_eq!(
            ResidentId::parse("11010519491331002X"),
            Err(IdError::BadBirthDate)
        );
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            Err(IdError::CheckCharacter)
        );
        assert_eq!(
            ResidentId::parse("１10105194912310021"),
            Err(IdError::BadCharacter { position: 1 })
        );
        // Lowercase x and surrounding blanks are accepted.
        assert_eq!(
            ResidentId::parse(" 11010519491231002x ").unwrap().expose(),
            "11010519491231002X"
        );
        // 29 February exists in leap years only.
        let leap = valid_id("41120220000229123");
        assert!(ResidentId::parse(&leap).is_ok());
    }

    #[test]
    fn uscc_errors() {
        assert_eq!(
            UnifiedSocialCreditCode::parse("91350100M000100Y4"),
            Err(IdError::Length {
                expected: "18",
                got: 17
            })
        );
        assert_eq!(
            UnifiedSocialCreditCode::parse("91350100M0001I0Y43"),
            Err(IdError::BadCharacter { position: 14 })
        );
        assert_eq!(
            UnifiedSocialCreditCode::parse("9135A100M000100Y43"),
            Err(IdError::BadRegion)
        );
        assert_eq!(
            UnifiedSocialCreditCode::parse("91350100M000100Y44"),
            Err(IdError::CheckCharacter)
        );
        assert!(UnifiedSocialCreditCode::parse("91350100m000100y43").is_ok());
        let agency = format!("11410000000000001{}", uscc_check_char("11410000000000001"));
        let c = UnifiedSocialCreditCode::parse(&agency).unwrap();
        assert_eq!(c.kind_hint(), Some(EmployerKind::GovernmentAgency));
    }

    #[test]
    fn certificate_parts_and_errors() {
        let c = DisabilityCertificate::parse("11010519491231002X42").unwrap();
        assert_eq!(c.category(), DisabilityCategory::Physical);
        assert_eq!(c.grade(), 2);
        assert_eq!(c.reissue(), None);
        assert_eq!(c.holder().expose(), "11010519491231002X");
        let b = DisabilityCertificate::parse("11010519491231002x73b2").unwrap();
        assert_eq!(b.reissue(), Some(2));
        assert_eq!(b.category(), DisabilityCategory::Multiple);
        assert!(b.same_holder(&c));
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X4"),
            Err(IdError::Length {
                expected: LEN_CERT,
                got: 19
            })
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002142"),
            Err(IdError::CheckCharacter)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X82"),
            Err(IdError::BadCategory)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X02"),
            Err(IdError::BadCategory)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X45"),
            Err(IdError::BadGrade)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X42B0"),
            Err(IdError::BadSuffix)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491231002X42C1"),
            Err(IdError::BadSuffix)
        );
        assert_eq!(
            DisabilityCertificate::parse("11010519491331002X42"),
            Err(IdError::BadBirthDate)
        );
    }

    #[test]
    fn display_and_debug_are_masked() {
        let c = DisabilityCertificate::parse("11010519491231002X42").unwrap();
        assert_eq!(c.to_string(), "1101************2X42");
        assert!(!format!("{c:?}").contains("19491231"));
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.to_string(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "ResidentId(1101**********002X)");
        let u = UnifiedSocialCreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(u.to_string(), "9135**********0Y43");
        let v = VeteranCertificate::parse("军残字第012345号").unwrap();
        assert_eq!(v.to_string(), "军*********号");
        assert!(VeteranCertificate::parse("ab").is_err());
        assert!(VeteranCertificate::parse("12 34 56").is_err());
        // Error messages never contain the number.
        let e = ResidentId::parse("110105194912310021").unwrap_err();
        assert!(!e.to_string().contains("1101051949"));
        assert!(!e.message(Language::Zh).contains("1101051949"));
    }

    #[test]
    fn numbers_in_free_text_are_masked() {
        assert_eq!(
            mask_numbers_in("持证人 11010519491231002X 已核实"),
            "持证人 1101**********002X 已核实"
        );
        assert_eq!(
            mask_numbers_in("cert 11010519491231002X42, ref BANK-2025-0001"),
            "cert 1101************2X42, ref BANK-2025-0001"
        );
        assert!(matches!(
            mask_numbers_in("电汇 20250301 第 12345678901234 号"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn deserializes_through_parse() {
        let c: DisabilityCertificate = serde_json::from_str("\"11010519491231002X42\"").unwrap();
        assert_eq!(c.grade(), 2);
        let e = serde_json::from_str::<ResidentId>("\"110105194912310021\"").unwrap_err();
        assert!(e.to_string().contains("check character"));
    }
}
