//! The stylesheet, compiled into the binary so that the server runs from any directory.

use actix_web::{http::header, web, HttpResponse};

const STYLESHEET: &str = include_str!("../../static/css/staffroom.css");

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/css/staffroom.css", web::get().to(stylesheet));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
