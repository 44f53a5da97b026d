//! The system of record's operations, shared by HTTP, the CLI and bulk import: each
//! validates its whole input first (every fault with its pointer), then writes and
//! audits in one transaction.

pub mod accounts;
pub mod assessments;
pub mod bank_payments;
pub mod collection;
pub mod csv;
pub mod declarations;
pub mod demands;
pub mod disputes;
pub mod employers;
pub mod fields;
pub mod forecasts;
pub mod hardship;
pub mod impact;
pub mod ledger;
pub mod notices;
pub mod objections;
pub mod payments;
pub mod positions;
pub mod receipts;
pub mod returns;
pub mod reveal;
pub mod rewards;
pub mod roll;
pub mod sheet;
pub mod violations;
pub mod violator_list;

pub use fields::Fields;
