//! The system of record's operations, shared by HTTP, the CLI and bulk import: each
//! validates its whole input first (every fault with its pointer), then writes and
//! audits in one transaction.

pub mod accounts;
pub mod assessments;
pub mod csv;
pub mod declarations;
pub mod disputes;
pub mod employers;
pub mod fields;
pub mod notices;
pub mod objections;
pub mod payments;
pub mod receipts;
pub mod returns;
pub mod reveal;
pub mod roll;
pub mod violations;

pub use fields::Fields;
