//! `/healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;

use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health));
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let ok = crate::db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    })
    .await;
    match ok {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable"),
    }
}
