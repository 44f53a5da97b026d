//! Region codes (GB/T 2260) and employer kinds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A six-digit GB/T 2260 administrative division code, e.g. `411200` (Sanmenxia).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode([u8; 6]);

/// Why a string is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    /// Not exactly six ASCII digits.
    #[error("a region code is six digits (GB/T 2260), e.g. 411200")]
    Format,
}

impl RegionCode {
    /// The national level: not a GB/T 2260 code, used as the root of every chain.
    pub const NATIONAL: RegionCode = RegionCode(*b"000000");

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// True for the national root.
    pub fn is_national(&self) -> bool {
        *self == Self::NATIONAL
    }

    /// The province this code belongs to (`41xxxx` → `410000`).
    pub fn province(&self) -> RegionCode {
        RegionCode([self.0[0], self.0[1], b'0', b'0', b'0', b'0'])
    }

    /// The city (prefecture) this code belongs to (`411202` → `411200`).
    pub fn city(&self) -> RegionCode {
        RegionCode([self.0[0], self.0[1], self.0[2], self.0[3], b'0', b'0'])
    }

    /// The resolution chain, nearest first: county → city → province → national.
    /// Levels equal to the one below are skipped, so a province yields `[province, national]`.
    pub fn chain(&self) -> Vec<RegionCode> {
        let mut out = vec![*self];
        for up in [self.city(), self.province()] {
            if out.last() != Some(&up) {
                out.push(up);
            }
        }
        if !self.is_national() {
            out.push(Self::NATIONAL);
        }
        out
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(RegionCodeError::Format);
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Ok(RegionCode(a))
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RegionCode> for String {
    fn from(r: RegionCode) -> String {
        r.as_str().to_owned()
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The legal kind of an employer (docs/rules.md §2: only enterprises can be exempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployerKind {
    /// 企业
    Enterprise,
    /// 机关
    GovernmentAgency,
    /// 事业单位
    PublicInstitution,
    /// 社会团体
    SocialOrganization,
    /// 民办非企业单位
    PrivateNonEnterprise,
}

impl EmployerKind {
    /// Every kind, in declaration order.
    pub const ALL: [EmployerKind; 5] = [
        EmployerKind::Enterprise,
        EmployerKind::GovernmentAgency,
        EmployerKind::PublicInstitution,
        EmployerKind::SocialOrganization,
        EmployerKind::PrivateNonEnterprise,
    ];

    /// The API spelling (`enterprise`, `government_agency`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            EmployerKind::Enterprise => "enterprise",
            EmployerKind::GovernmentAgency => "government_agency",
            EmployerKind::PublicInstitution => "public_institution",
            EmployerKind::SocialOrganization => "social_organization",
            EmployerKind::PrivateNonEnterprise => "private_non_enterprise",
        }
    }

    /// The Chinese name, as shown to employers and officers.
    pub fn name_zh(&self) -> &'static str {
        match self {
            EmployerKind::Enterprise => "企业",
            EmployerKind::GovernmentAgency => "机关",
            EmployerKind::PublicInstitution => "事业单位",
            EmployerKind::SocialOrganization => "社会团体",
            EmployerKind::PrivateNonEnterprise => "民办非企业单位",
        }
    }

    /// The English name, as the English pages show it.
    pub fn name_en(&self) -> &'static str {
        match self {
            EmployerKind::Enterprise => "Enterprise",
            EmployerKind::GovernmentAgency => "Government agency",
            EmployerKind::PublicInstitution => "Public institution",
            EmployerKind::SocialOrganization => "Social organization",
            EmployerKind::PrivateNonEnterprise => "Private non-enterprise unit",
        }
    }

    /// The name in `lang`.
    pub fn name(&self, lang: crate::domain::Language) -> &'static str {
        lang.pick(self.name_zh(), self.name_en())
    }

    /// The name of a stored kind in `lang`; text that is no known kind is shown as stored.
    pub fn name_of(stored: &str, lang: crate::domain::Language) -> String {
        match stored.parse::<EmployerKind>() {
            Ok(k) => k.name(lang).to_owned(),
            Err(_) => stored.to_owned(),
        }
    }

    /// True for public bodies (机关, 事业单位), which must lead (docs/rules.md §8).
    pub fn is_public_body(&self) -> bool {
        matches!(
            self,
            EmployerKind::GovernmentAgency | EmployerKind::PublicInstitution
        )
    }
}

impl EmployerKind {
    /// The kind named by its API spelling (any case) or by its Chinese name as forms,
    /// registers and Excel files write it (企业, 机关, 事业单位, 社会团体, 民办非企业单位)
    /// and their common variants.
    pub fn from_name(s: &str) -> Option<EmployerKind> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        if let Some(k) = Self::ALL.into_iter().find(|k| k.as_str() == lower) {
            return Some(k);
        }
        if let Some(k) = Self::ALL.into_iter().find(|k| k.name_zh() == s) {
            return Some(k);
        }
        match s {
            "国家机关" | "党政机关" | "行政机关" | "机关单位" => {
                Some(EmployerKind::GovernmentAgency)
            }
            "民办非企业" | "社会服务机构" => Some(EmployerKind::PrivateNonEnterprise),
            "社团" => Some(EmployerKind::SocialOrganization),
            "企业单位" => Some(EmployerKind::Enterprise),
            _ => None,
        }
    }
}

impl FromStr for EmployerKind {
    type Err = String;
    /// See [`EmployerKind::from_name`]: the API spelling or the Chinese name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            "unknown employer kind; expected one of enterprise (企业), government_agency (机关), \
             public_institution (事业单位), social_organization (社会团体), \
             private_non_enterprise (民办非企业单位)"
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_goes_county_city_province_national() {
        let c: RegionCode = "411202".parse().unwrap();
        let got: Vec<String> = c.chain().iter().map(|r| r.to_string()).collect();
        assert_eq!(got, ["411202", "411200", "410000", "000000"]);
        let p: RegionCode = "410000".parse().unwrap();
        assert_eq!(p.chain().len(), 2);
        assert_eq!(RegionCode::NATIONAL.chain(), vec![RegionCode::NATIONAL]);
    }

    #[test]
    fn rejects_non_codes() {
        assert!("41120".parse::<RegionCode>().is_err());
        assert!("41120a".parse::<RegionCode>().is_err());
    }
}
