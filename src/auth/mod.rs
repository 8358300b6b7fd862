//! Who is asking: passwords, authenticator codes, sessions, CSRF, throttling and the guards
//! that handlers take as extractors.

pub mod csrf;
pub mod guards;
pub mod password;
pub mod permissions;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;

pub use guards::CurrentUser;
pub use session::TypedSession;
