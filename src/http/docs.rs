//! The OpenAPI 3.1 document (`/api/openapi.json`) and a browsable page (`/api/docs/`).
//!
//! The document is written by hand in `openapi.json` beside this file, so that it says
//! what the API promises rather than what a derive macro guesses; a test checks that
//! every documented path and method is actually routed.

use actix_web::{get, web, HttpResponse};
use std::sync::OnceLock;
use utoipa_swagger_ui::SwaggerUi;

/// The hand-written document.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The document parsed once.
pub fn openapi() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(OPENAPI_JSON).unwrap_or(serde_json::Value::Null))
}

#[get("/api/docs")]
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}

/// Registers `/api/openapi.json` and the Swagger UI (vendored: no CDN, works offline).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(docs_redirect).service(
        SwaggerUi::new("/api/docs/{_:.*}")
            .external_url_unchecked("/api/openapi.json", openapi().clone()),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_is_openapi_3_1() {
        let doc = super::openapi();
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{doc}"
        );
        assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));
    }
}
