//! The labour inspectors' pages (`/inspector`): the violator list of their region
//! with filters, one row per employer with all its violations and the reasons in
//! Chinese, paged by keyset, and its CSV and XLSX downloads. Read-only: the only form
//! is the GET of the filters; every employer links to the shared read-only employer
//! page (`/officer/employers/{uscc}`).

mod download;
mod filters;
mod list;
mod page;
mod xlsx;

pub use filters::encode_query;

use actix_web::web;

use crate::domain::Language;
use crate::registry::violations::ViolationKind;

/// The name of a kind of violation in `lang` (the Chinese is the registry's).
pub fn kind_label(k: ViolationKind, lang: Language) -> &'static str {
    let en = match k {
        ViolationKind::NotDeclared => "not declared",
        ViolationKind::BelowQuotaUnpaid => "below quota, levy unpaid",
        ViolationKind::Overdue => "overdue",
        ViolationKind::PublicBodyWithoutDisabledEmployee => {
            "public body employing no disabled person"
        }
        ViolationKind::CommitteeMemberWithoutDisabledEmployee => {
            "committee member employing no disabled person"
        }
        ViolationKind::BelowMinimumWage => "disabled employees below the minimum wage",
        ViolationKind::NoSocialInsurance => "disabled employees without social insurance",
        ViolationKind::ShortContract => "disabled employees without a 12-month contract",
        ViolationKind::DuplicateCertificate => "certificate claimed twice",
        ViolationKind::SurchargeUnpaid => "surcharge unpaid",
    };
    lang.pick(k.name_zh(), en)
}

/// Registers the inspectors' pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page::list_page)
        .service(download::csv)
        .service(download::workbook);
}
