//! Who is asking: passwords, authenticator codes, recovery codes, sessions, CSRF, permissions
//! and throttling. The extractors handlers take are the web layer's (`web::context`, `web::guards`).

pub mod csrf;
pub mod hash_gate;
pub mod oidc;
pub mod password;
pub mod permissions;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;

pub use session::TypedSession;
