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
pub mod input;
pub mod invitations;
pub mod layout;
pub mod security_headers;
pub mod setup;
pub mod sso;
pub mod teams;
pub mod workspaces;

use actix_web::web::ServiceConfig;
use actix_web::{http::header, HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppResult;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.configure(assets::config)
        .configure(health::config)
        .configure(auth::config)
        .configure(sso::config)
        .configure(setup::config)
        .configure(home::config)
        .configure(workspaces::config)
        .configure(invitations::config)
        .configure(admin::config)
        .configure(conversations::config)
        .configure(teams::config)
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

/// Post/Redirect/Get: 303 to a page. Build `location` from encoded parts (`encode_part` for
/// anything taken from the request); whatever it holds, the header stays valid: a byte that is
/// not visible ASCII is percent-encoded here rather than failing the response.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, visible_ascii(location)))
        .finish()
}

/// One path segment or query value, as a URL carries it: everything but RFC 3986's
/// unreserved characters (letters, digits, `-._~`) percent-encoded, so that a token holding
/// `/`, `?`, `%` or a NUL stays one segment and changes nothing else.
pub fn encode_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/login?next=...` back to `path` (itself built from encoded parts).
pub fn sign_in_then(path: &str) -> String {
    format!("/login?next={}", encode_part(path))
}

fn visible_ascii(location: &str) -> String {
    let mut out = String::with_capacity(location.len());
    for byte in location.bytes() {
        if byte.is_ascii_graphic() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_encoded_into_one_segment_and_a_location_is_always_a_valid_header() {
        assert_eq!(encode_part("AbZ09-._~"), "AbZ09-._~");
        assert_eq!(encode_part("a/b?c=%\0"), "a%2Fb%3Fc%3D%25%00");
        assert_eq!(encode_part("é"), "%C3%A9");
        assert_eq!(
            sign_in_then(&format!("/join/{}", encode_part("\0"))),
            "/login?next=%2Fjoin%2F%2500"
        );
        for location in ["/é", "/a\r\nSet-Cookie: x", "/\0", "/ok?x=1#y"] {
            let response = see_other(location);
            assert_eq!(response.status(), 303, "{location:?}");
            let header = response.headers().get(header::LOCATION).unwrap();
            assert!(header
                .to_str()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_graphic()));
        }
        assert_eq!(
            see_other("/ok?x=1#y")
                .headers()
                .get(header::LOCATION)
                .unwrap(),
            "/ok?x=1#y"
        );
    }
}
