//! The conformance kit for payroll and HR software (docs/conformance.md), public:
//! `GET /api/v1/conformance` (the contract, every golden case with its figures, the
//! archive's address and digest) and `GET /api/v1/conformance.zip` (the archive: README,
//! cases, contract and the runner script). Both are built once per process from the
//! golden cases embedded in the build.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::problem::AppError;
use crate::conformance::{kit, ARCHIVE_ROOT};

fn the_kit() -> Result<&'static crate::conformance::Kit, AppError> {
    kit().map_err(|e| AppError::Internal(e.to_owned()))
}

/// True when `If-None-Match` names `tag` (or is `*`).
fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| matches!(t.trim(), "*") || t.trim() == tag)
        })
}

/// The contract, the cases and the archive's address.
#[get("/api/v1/conformance")]
async fn index(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let kit = the_kit()?;
    // The index names the archive's digest, so the digest tags the index too.
    let tag = format!("\"{}\"", kit.archive_sha256);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(kit.index.as_slice()))
}

/// The archive a vendor downloads.
#[get("/api/v1/conformance.zip")]
async fn archive(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let kit = the_kit()?;
    let tag = format!("\"{}\"", kit.archive_sha256);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{ARCHIVE_ROOT}.zip"))],
        })
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(kit.archive.as_slice()))
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(index).service(archive);
}
