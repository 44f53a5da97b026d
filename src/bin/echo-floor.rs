//! The floor of `scripts/bench-http.sh`: a bare actix-web server that parses a JSON body
//! and answers it back as JSON, with no middleware, no validation and no calculation.
//! What the calculator adds on top of this is the service's own cost per request.
//!
//! Usage: `cargo run --release --bin echo-floor -- PORT [WORKERS]` (workers default to
//! actix's default, one per core, as `quota-levy serve` with `server.workers = 0`).

use actix_web::{post, web, App, HttpResponse, HttpServer};

/// Parses the body and sends it back, as a JSON API that reads its input would.
#[post("/echo")]
async fn echo(body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(_) => HttpResponse::UnprocessableEntity().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8099);
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    actix_rt::System::new().block_on(async move {
        let mut server = HttpServer::new(|| App::new().service(echo)).bind(("127.0.0.1", port))?;
        if workers > 0 {
            server = server.workers(workers);
        }
        server.run().await
    })
}
