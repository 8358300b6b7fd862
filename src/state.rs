//! What every request may use: the pool, the settings and the admission to hashing. A low module, so that every layer
//! can take it without importing the web layer or start-up.

use crate::config::Settings;
use crate::db::PgPool;

pub struct AppState {
    pub pool: PgPool,
    pub settings: Settings,
    /// Signs the cookies: the session's, and a signed-out visitor's CSRF token.
    pub cookie_key: actix_web::cookie::Key,
    /// The OpenID Connect providers offered at sign-in, with what was learnt of each.
    pub oidc: std::sync::Arc<crate::auth::oidc::Providers>,
    /// Content-Security-Policy, with the providers' origins as forms' destinations.
    pub content_security_policy: actix_web::http::header::HeaderValue,
    /// Admission to password hashing, shared by the server's workers.
    pub hashing: std::sync::Arc<crate::auth::hash_gate::HashGate>,
}

impl AppState {
    /// Whether /dev/mailbox exists (`STAFFROOM_DEV_MAILBOX`).
    pub fn mailbox_enabled(&self) -> bool {
        self.settings.dev_mailbox
    }
}
