//! Batch work: assessment runs (and, later, notice publication and reminder passes).

pub mod assess;
pub mod demo;
pub mod reminders;
