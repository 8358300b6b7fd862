//! The pages, one folder or file per feature; each exposes `config` to register its routes.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod context;
pub mod conversations;
pub mod dev_mailbox;
pub mod errors;
pub mod forms;
pub mod guards;
pub mod health;
pub mod home;
pub mod invitations;
pub mod layout;
pub mod security_headers;
pub mod setup;
pub mod workspaces;

use actix_web::web::ServiceConfig;
use actix_web::{http::header, HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppResult;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.configure(assets::config)
        .configure(health::config)
        .configure(auth::config)
        .configure(setup::config)
        .configure(home::config)
        .configure(workspaces::config)
        .configure(invitations::config)
        .configure(admin::config)
        .configure(conversations::config)
        .configure(dev_mailbox::config);
}

/// Renders a page with 200 OK.
pub fn render(page: &impl Template) -> AppResult<HttpResponse> {
    render_with(actix_web::http::StatusCode::OK, page)
}

/// Renders a page with another status: 422 for a form with errors, 429 when throttled.
pub fn render_with(
    status: actix_web::http::StatusCode,
    page: &impl Template,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// Post/Redirect/Get: 303 to a page.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The address the request came from (the TCP peer: forwarded headers are not trusted).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
}
