//! Batch work: assessment runs, notice publication, reminder passes, demo data.

pub mod assess;
pub mod demo;
pub mod notices;
pub mod reminders;
