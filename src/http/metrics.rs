//! `GET /metrics`: the service's figures in the Prometheus text format, for a scraper
//! on an allowed address (`[metrics]` in config/default.toml). Requests and their
//! latency by route, method and status are counted as they are answered
//! ([`observe`], called by the request middleware); the database pool, the reminder
//! outbox and the batch assessment runs are read when scraped.
//!
//! The route label is the matched pattern (`/api/v1/employers/{uscc}`), never the path
//! itself, so no identifier reaches the figures and their number stays bounded.

use std::net::IpAddr;
use std::sync::OnceLock;

use actix_web::{get, web, HttpRequest, HttpResponse};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use super::problem::AppError;
use super::AppState;
use crate::domain::Said;

/// The figures kept between scrapes, in one registry of this module's own.
struct Figures {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    outbox: IntGaugeVec,
    outbox_oldest_age: IntGauge,
    outbox_failed_attempts: IntGauge,
    run_progress: IntGaugeVec,
    scrape: Histogram,
}

fn figures() -> &'static Figures {
    static FIGURES: OnceLock<Figures> = OnceLock::new();
    FIGURES.get_or_init(|| {
        let registry = Registry::new_custom(Some("quota_levy".into()), None)
            .unwrap_or_else(|_| Registry::new());
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        // From 1 ms to 10 s: the calculator answers in about a millisecond, a levy
        // roll export in seconds.
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from the request's arrival to its answer's head",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let f = Figures {
            pool_connections: gauge("db_pool_connections", "Database connections open"),
            pool_idle: gauge("db_pool_idle_connections", "Database connections idle"),
            pool_max: gauge("db_pool_max_connections", "Database pool size"),
            outbox: IntGaugeVec::new(
                Opts::new("outbox_reminders", "Reminders in the outbox by status"),
                &["status"],
            )
            .expect("valid metric"),
            outbox_oldest_age: gauge(
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest reminder still to be sent (0 when none)",
            ),
            outbox_failed_attempts: gauge(
                "outbox_send_failures",
                "Refusals by the mail server so far of the reminders still pending or \
                 given up (dead)",
            ),
            run_progress: IntGaugeVec::new(
                Opts::new(
                    "assessment_run_employers",
                    "The latest batch assessment run: employers to assess and processed",
                ),
                &["run", "status", "what"],
            )
            .expect("valid metric"),
            scrape: Histogram::with_opts(HistogramOpts::new(
                "metrics_scrape_duration_seconds",
                "Time to read the database figures of a scrape",
            ))
            .expect("valid metric"),
            registry,
            requests,
            latency,
        };
        for c in [
            Box::new(f.requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(f.latency.clone()),
            Box::new(f.pool_connections.clone()),
            Box::new(f.pool_idle.clone()),
            Box::new(f.pool_max.clone()),
            Box::new(f.outbox.clone()),
            Box::new(f.outbox_oldest_age.clone()),
            Box::new(f.outbox_failed_attempts.clone()),
            Box::new(f.run_progress.clone()),
            Box::new(f.scrape.clone()),
        ] {
            // Names are fixed and distinct: registering cannot fail.
            let _ = f.registry.register(c);
        }
        f
    })
}

/// Counts one answered request (the request middleware calls it for every answer).
pub fn observe(route: &str, method: &str, status: u16, seconds: f64) {
    let f = figures();
    let status = status.to_string();
    let labels = [route, method, status.as_str()];
    f.requests.with_label_values(&labels).inc();
    f.latency.with_label_values(&labels).observe(seconds);
}

/// Whether `peer` may read the figures under `allowed`.
fn allowed(allowed: &[IpAddr], peer: Option<IpAddr>) -> bool {
    peer.is_some_and(|p| {
        // An IPv4 peer reaching a dual-stack socket shows as ::ffff:a.b.c.d.
        let p = match p {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(p, IpAddr::V4),
            v4 => v4,
        };
        allowed.contains(&p)
    })
}

/// The Prometheus scrape: 404 when `metrics.enabled` is false (as if there were no such
/// page), 403 from an address not in `metrics.allow_from`.
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let settings = &state.settings.metrics;
    if !settings.enabled {
        return Err(AppError::NotFound(Said::new("没有该页面", "no such page")));
    }
    if !allowed(&settings.allowed(), req.peer_addr().map(|a| a.ip())) {
        return Err(AppError::Forbidden(Said::new(
            "该地址不能读取运行指标",
            "the metrics are not served to this address",
        )));
    }
    let f = figures();
    let timer = f.scrape.start_timer();
    let pool = state.db.pool_state();
    f.pool_connections.set(i64::from(pool.connections));
    f.pool_idle.set(i64::from(pool.idle));
    f.pool_max.set(i64::from(pool.max));
    let now = chrono::Utc::now().naive_utc();
    let figures_read = state
        .db
        .run(move |c| {
            let outbox = crate::db::outbox::health(c)?;
            let run = crate::db::assessments::latest_run(c)?;
            Ok((outbox, run))
        })
        .await;
    // The request figures are still worth serving when the database is away; the
    // database figures are then left as last read, and `up`-style alerting sees the
    // 503s of the other routes.
    if let Ok((outbox, run)) = figures_read {
        f.outbox.reset();
        for (status, n) in &outbox.by_status {
            f.outbox.with_label_values(&[status]).set(*n);
        }
        f.outbox_oldest_age.set(
            outbox
                .oldest_pending
                .map_or(0, |t| (now - t).num_seconds().max(0)),
        );
        f.outbox_failed_attempts.set(outbox.failed_attempts);
        f.run_progress.reset();
        if let Some(r) = run {
            let id = r.id.to_string();
            f.run_progress
                .with_label_values(&[&id, &r.status, "total"])
                .set(r.total);
            f.run_progress
                .with_label_values(&[&id, &r.status, "processed"])
                .set(r.processed);
            f.run_progress
                .with_label_values(&[&id, &r.status, "failed"])
                .set(r.failed);
        }
    }
    timer.observe_duration();
    let mut body = Vec::with_capacity(8 * 1024);
    TextEncoder::new()
        .encode(&f.registry.gather(), &mut body)
        .map_err(|e| AppError::Internal(format!("metrics encoding: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_addresses_are_served() {
        let list: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        assert!(allowed(&list, Some("127.0.0.1".parse().unwrap())));
        assert!(allowed(&list, Some("::ffff:127.0.0.1".parse().unwrap())));
        assert!(allowed(&list, Some("::1".parse().unwrap())));
        assert!(!allowed(&list, Some("10.1.2.3".parse().unwrap())));
        assert!(!allowed(&list, None));
        assert!(!allowed(&[], Some("127.0.0.1".parse().unwrap())));
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        observe("/api/v1/levy/calculate", "POST", 200, 0.002);
        let text = {
            let mut b = Vec::new();
            TextEncoder::new()
                .encode(&figures().registry.gather(), &mut b)
                .unwrap();
            String::from_utf8(b).unwrap()
        };
        assert!(text.contains(
            "quota_levy_http_requests_total{method=\"POST\",route=\"/api/v1/levy/calculate\",status=\"200\"}"
        ));
        assert!(text.contains("quota_levy_http_request_duration_seconds_bucket"));
    }
}
