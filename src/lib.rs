//! quota-levy: the employment-quota and disabled persons' employment security fund levy
//! service. See README.md for what it does; the layers are described in docs/architecture.md.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conformance;
pub mod db;
pub mod domain;
pub mod http;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod output;
pub mod policy;
pub mod registry;
pub mod secret;
pub mod telemetry;
pub mod wire;
