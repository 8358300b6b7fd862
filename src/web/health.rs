//! `/healthz` (liveness: the process is up and answering) and `/readyz` (readiness: send it
//! traffic, because the database accepts writes and every migration is applied). Both stay
//! outside the request's held connection (`web::context::hold_connection`), and `/readyz`
//! answers within `READY_WITHIN` whatever the database does, so a load balancer never hangs.

use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::db::migrations::{self, Readiness};
use crate::state::AppState;

/// The longest `/readyz` waits for a pooled connection.
const CHECKOUT_WAIT: Duration = Duration::from_secs(1);
/// The longest `/readyz` takes to answer, even when the database host stops answering.
const READY_WITHIN: Duration = Duration::from_secs(3);

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health))
        .route("/readyz", web::get().to(ready));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let check = web::block(move || migrations::readiness(&pool, CHECKOUT_WAIT));
    let readiness = match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(Ok(readiness)) => readiness,
        _ => Readiness::Unreachable,
    };
    let status = match readiness {
        Readiness::Ready => actix_web::http::StatusCode::OK,
        _ => actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
    };
    HttpResponse::build(status)
        .content_type("text/plain")
        .body(readiness.describe())
}
