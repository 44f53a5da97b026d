//! Pure rules: identifiers, money, counts, policy types, the levy calculation and its
//! explanation. Nothing in here performs I/O or knows about diesel, actix, lettre or
//! JSON values (the JSON contract is [`crate::wire`]).

pub mod calendar;
pub mod forecast;
pub mod ids;
pub mod lang;
pub mod levy;
pub mod levy_year;
pub mod money;
pub mod policy;
pub mod region;
pub mod text;

pub use lang::{Language, Said};
pub use levy_year::LevyYear;
pub use money::{round2, Money};
pub use policy::*;
pub use region::{EmployerKind, RegionCode};
