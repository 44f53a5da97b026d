//! Who may do what: roles, the signed-in principal, region scope, and token hashing.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

use crate::domain::RegionCode;

/// A role a bearer token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including tokens.
    Admin,
    /// 残联: certify rosters, resolve duplicate certificates, publish notices.
    Federation,
    /// 税务: run assessments, read everything in its region, record payments.
    Tax,
    /// 劳动保障监察: read-only across its region.
    Inspector,
    /// One employer, its own data only.
    Employer,
}

impl Role {
    /// The stored and CLI spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Federation => "federation",
            Role::Tax => "tax",
            Role::Inspector => "inspector",
            Role::Employer => "employer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "federation" => Ok(Role::Federation),
            "tax" => Ok(Role::Tax),
            "inspector" => Ok(Role::Inspector),
            "employer" => Ok(Role::Employer),
            _ => Err(
                "unknown role; expected admin, federation, tax, inspector or employer".to_owned(),
            ),
        }
    }
}

/// What a caller presented: a machine's API token or a person's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API token (its row id).
    Token(i64),
    /// A signed-in user (the user's row id).
    User(i64),
}

/// The caller of a request, from its bearer token or its session. A user and a token of
/// the same role and scope are the same principal: the same walls hold for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Token or user (for the audit log).
    pub credential: Credential,
    /// Role.
    pub role: Role,
    /// For employer tokens: the one USCC it may see.
    pub employer_uscc: Option<String>,
    /// For officer tokens: the region it is limited to (none = everywhere).
    pub region: Option<RegionCode>,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        let (kind, id) = match self.credential {
            Credential::Token(id) => ("token", id),
            Credential::User(id) => ("user", id),
        };
        match (&self.employer_uscc, &self.region) {
            (Some(u), _) => format!("{kind}:{id}:{}:{u}", self.role),
            (None, Some(r)) => format!("{kind}:{id}:{}:{r}", self.role),
            (None, None) => format!("{kind}:{id}:{}", self.role),
        }
    }

    /// True when this caller may see an employer of `uscc` registered in `region`.
    /// Employers see only themselves; officers see their region (and everything below
    /// it); an unscoped officer sees everything.
    pub fn can_see(&self, uscc: &str, region: &RegionCode) -> bool {
        match self.role {
            Role::Employer => self.employer_uscc.as_deref() == Some(uscc),
            _ => self
                .region
                .is_none_or(|scope| region_covers(&scope, region)),
        }
    }

    /// True for roles that may change data at all.
    pub fn can_write(&self) -> bool {
        self.role != Role::Inspector
    }

    /// True when the role is one of `roles` (admin always is).
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.role == Role::Admin || roles.contains(&self.role)
    }
}

/// True when `scope` (a province, city or county) contains `region`.
pub fn region_covers(scope: &RegionCode, region: &RegionCode) -> bool {
    if scope.is_national() {
        return true;
    }
    region.as_str().starts_with(scope_prefix(scope))
}

/// The code prefix a scope covers: 410000 covers 41xxxx, 411200 covers 4112xx, a
/// county only itself. Codes are six digits in pairs, so trailing "00" pairs are levels
/// below the scope.
pub fn scope_prefix(scope: &RegionCode) -> &str {
    scope.as_str().trim_end_matches("00")
}

/// The prefix of every token, so that a leaked one is recognisable in a scanner.
pub const TOKEN_PREFIX: &str = "qlv_";

/// Makes a new random token (shown once) and its stored digest.
pub fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let digest = hash_token(&token);
    (token, digest)
}

/// The stored form of a token: its SHA-256, hex. Tokens are 256 random bits, so a plain
/// hash (no salt, no slow KDF) is enough and lets the lookup be one indexed query.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> RegionCode {
        s.parse().unwrap()
    }

    #[test]
    fn region_scope_covers_what_is_below() {
        assert!(region_covers(&r("410000"), &r("411202")));
        assert!(region_covers(&r("411200"), &r("411202")));
        assert!(region_covers(&r("411200"), &r("411200")));
        assert!(!region_covers(&r("411200"), &r("410100")));
        assert!(!region_covers(&r("411202"), &r("411203")));
        assert!(region_covers(&r("411202"), &r("411202")));
        assert!(!region_covers(&r("410000"), &r("420100")));
        // A city whose code ends in 10 is not a province.
        assert!(region_covers(&r("411000"), &r("411002")));
        assert!(!region_covers(&r("411000"), &r("411102")));
    }

    #[test]
    fn employers_see_only_themselves() {
        let p = Principal {
            credential: Credential::Token(1),
            role: Role::Employer,
            employer_uscc: Some("91350100M000100Y43".into()),
            region: None,
        };
        assert!(p.can_see("91350100M000100Y43", &r("350100")));
        assert!(!p.can_see("91411200MA00000000", &r("411200")));
        assert!(!p.has_any(&[Role::Tax]));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 4 + 64);
        assert_eq!(hash_token(&a), ha);
        assert_ne!(ha, a);
    }
}
