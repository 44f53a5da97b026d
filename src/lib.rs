//! quota-levy: the employment-quota and disabled persons' employment security fund levy
//! service. See README.md for what it does; the layers are described in design.md.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod policy;
pub mod telemetry;
