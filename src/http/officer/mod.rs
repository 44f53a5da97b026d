//! Pages every officer shares (tax, inspector, federation, admin), within their region.

pub mod employer;

use actix_web::web;

/// Registers the officers' pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(employer::show)
        .service(employer::record_payment);
}
