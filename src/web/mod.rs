//! The pages, one folder or file per feature; each exposes `config` to register its routes.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod confirm;
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
        .configure(dev_mailbox::config)
        .configure(confirm::config);
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

/// The address the request came from: the TCP peer, or behind a trusted proxy the address it
/// forwarded for (`STAFFROOM_TRUSTED_PROXIES`).
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr() else {
        return "unknown".to_string();
    };
    let trusted = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(&[][..], |state| &state.settings.trusted_proxies[..]);
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    crate::domain::client_address::client_address(peer.ip(), forwarded, trusted).to_string()
}
