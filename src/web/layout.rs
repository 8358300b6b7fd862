//! What every page's layout needs: the CSRF token for its forms, who is signed in (for the
//! header and the workspace switcher), and a one-time confirmation message.

use crate::auth::TypedSession;
use crate::db::models::users::User;
use crate::error::AppResult;

pub struct Layout {
    pub csrf_token: String,
    pub user: Option<NavUser>,
    pub flash: Option<String>,
}

pub struct NavUser {
    pub name: String,
    pub email: String,
}

impl Layout {
    /// For error pages, rendered without the request.
    pub fn bare() -> Self {
        Self {
            csrf_token: String::new(),
            user: None,
            flash: None,
        }
    }

    pub fn anonymous(session: &TypedSession) -> AppResult<Self> {
        Ok(Self {
            csrf_token: session.csrf_token()?,
            user: None,
            flash: session.take_flash(),
        })
    }

    pub fn signed_in(session: &TypedSession, user: &User) -> AppResult<Self> {
        Ok(Self {
            user: Some(NavUser {
                name: user.full_name(),
                email: user.email.clone(),
            }),
            ..Self::anonymous(session)?
        })
    }
}
