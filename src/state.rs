//! What every request may use: the pool and the settings. A low module, so that every layer
//! can take it without importing the web layer or start-up.

use crate::config::Settings;
use crate::db::PgPool;

pub struct AppState {
    pub pool: PgPool,
    pub settings: Settings,
}

impl AppState {
    /// With no SMTP server configured, mail is read at /dev/mailbox.
    pub fn mailbox_enabled(&self) -> bool {
        self.settings.smtp_url.is_none()
    }
}
