//! The headers every response carries, error responses included: CSP without inline script,
//! no referrer (links carry tokens), nosniff, no caching of pages, HSTS under https. Forms post
//! to this site only, and to the single sign-on providers' origins: the "Sign in with ..."
//! form's answer redirects there, which `form-action` governs too.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The policy for this server: `CONTENT_SECURITY_POLICY`, with each provider's origin (scheme,
/// host and port of its issuer) allowed as a form's destination.
pub fn content_security_policy(providers: &[crate::config::OidcProvider]) -> HeaderValue {
    let mut policy = CONTENT_SECURITY_POLICY.to_string();
    let mut origins: Vec<String> = providers
        .iter()
        .filter_map(|p| {
            let uri: actix_web::http::Uri = p.issuer.parse().ok()?;
            Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
        })
        .collect();
    origins.sort();
    origins.dedup();
    for origin in origins {
        policy.push(' ');
        policy.push_str(&origin);
    }
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static(CONTENT_SECURITY_POLICY))
}

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .cloned();
    let https = state.as_ref().is_some_and(|s| s.settings.is_https());
    // Inner middleware answer with responses rather than errors (the CSRF check renders its
    // page, the session store degrades when the database is away), so every answer passes here.
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        state.as_ref().map_or_else(
            || HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            |s| s.content_security_policy.clone(),
        ),
    );
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
