//! The session's contents behind one typed wrapper with constant keys. The session id is
//! renewed when the password is accepted and again after the second factor.

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use rand::distributions::{Alphanumeric, DistString};

use crate::domain::{UserId, WorkspaceId};
use crate::error::{AppError, AppResult};

/// Also read by the session store, which keeps the signed-in user in a column.
pub const USER_ID_KEY: &str = "user_id";
pub const PENDING_USER_ID_KEY: &str = "pending_user_id";
/// Put in the state by the session store when it could not read the session (the database is
/// away); such a state is never written back.
pub const STORE_UNAVAILABLE_KEY: &str = "store_unavailable";
/// The provider a single sign-on session came from and its `sid`: read by the session store
/// into columns, so that the provider's back-channel logout can end the session.
pub const SSO_PROVIDER_KEY: &str = "sso_provider";
pub const SSO_SID_KEY: &str = "sso_sid";
/// An identity waiting to be linked once the person signs in with password and code.
const SSO_LINK_KEY: &str = "sso_link";
const NEXT_KEY: &str = "next";
const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";
const WORKSPACE_KEY: &str = "workspace_id";
const INVITE_RESULTS_KEY: &str = "invite_results";

pub struct TypedSession(Session, Option<AnonymousToken>);

/// The CSRF token of a signed-out visitor, kept in a signed cookie of its own (set by the CSRF
/// check), so that showing a form to someone signed out writes no session row.
#[derive(Clone)]
pub struct AnonymousToken(pub String);

impl TypedSession {
    /// Whether the session could not be read because the database is away.
    pub fn store_unavailable(&self) -> bool {
        self.0.contains_key(STORE_UNAVAILABLE_KEY)
    }

    /// 503 while the session could not be read: the person is still signed in, as far as
    /// anyone knows, and the cookie stays.
    pub fn require_store(&self) -> AppResult<()> {
        if self.store_unavailable() {
            return Err(AppError::Unavailable(anyhow::anyhow!(
                "the session store is unavailable"
            )));
        }
        Ok(())
    }

    /// The user who passed both factors, if any.
    pub fn user_id(&self) -> AppResult<Option<UserId>> {
        self.get(USER_ID_KEY)
    }

    /// The user whose password was accepted and who still owes the second factor.
    pub fn pending_user_id(&self) -> AppResult<Option<UserId>> {
        self.get(PENDING_USER_ID_KEY)
    }

    /// The password was right: a new session id, nobody signed in yet.
    pub fn begin_second_factor(&self, user: UserId, next: Option<&str>) -> AppResult<()> {
        self.0.renew();
        self.0.remove(USER_ID_KEY);
        self.0.remove(CSRF_KEY);
        self.0.remove(SSO_PROVIDER_KEY);
        self.0.remove(SSO_SID_KEY);
        self.insert(PENDING_USER_ID_KEY, user)?;
        match next {
            Some(next) => self.insert(NEXT_KEY, next),
            None => {
                self.0.remove(NEXT_KEY);
                Ok(())
            }
        }
    }

    /// Both factors passed: a new session id again, now signed in. Returns where to go next.
    pub fn complete_sign_in(&self, user: UserId) -> AppResult<Option<String>> {
        let next: Option<String> = self.get(NEXT_KEY)?;
        self.0.renew();
        self.0.remove(PENDING_USER_ID_KEY);
        self.0.remove(NEXT_KEY);
        self.0.remove(CSRF_KEY);
        self.insert(USER_ID_KEY, user)?;
        Ok(next)
    }

    /// A provider vouched for the person but not for a second factor: a new session id, the
    /// authenticator code next, and the provider's session remembered.
    pub fn begin_sso_second_factor(
        &self,
        user: UserId,
        next: Option<&str>,
        provider: &str,
        sid: Option<&str>,
    ) -> AppResult<()> {
        self.0.remove(SSO_LINK_KEY);
        self.begin_second_factor(user, next)?;
        self.remember_provider(provider, sid)
    }

    /// A provider vouched for the person and their second factor: a new session id, signed in.
    pub fn complete_sso_sign_in(
        &self,
        user: UserId,
        provider: &str,
        sid: Option<&str>,
    ) -> AppResult<()> {
        self.0.renew();
        for key in [
            PENDING_USER_ID_KEY,
            NEXT_KEY,
            CSRF_KEY,
            SSO_LINK_KEY,
            SSO_SID_KEY,
        ] {
            self.0.remove(key);
        }
        self.insert(USER_ID_KEY, user)?;
        self.remember_provider(provider, sid)
    }

    fn remember_provider(&self, provider: &str, sid: Option<&str>) -> AppResult<()> {
        self.insert(SSO_PROVIDER_KEY, provider)?;
        match sid {
            Some(sid) => self.insert(SSO_SID_KEY, sid),
            None => {
                self.0.remove(SSO_SID_KEY);
                Ok(())
            }
        }
    }

    /// An identity to link once the person has signed in with password and code.
    pub fn set_pending_link<T: serde::Serialize>(&self, link: &T) -> AppResult<()> {
        self.insert(SSO_LINK_KEY, link)
    }

    pub fn take_pending_link<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        self.take(SSO_LINK_KEY)
    }

    /// Ends the session here and in the store.
    pub fn log_out(&self) {
        self.0.purge();
    }

    /// Whether someone is signed in, or half-way (owes the second factor).
    pub fn has_person(&self) -> bool {
        self.0.contains_key(USER_ID_KEY) || self.0.contains_key(PENDING_USER_ID_KEY)
    }

    /// The token every form carries in its hidden `csrf_token` field: the session's, once
    /// someone is signed in (or half-way); before that the visitor's cookie's.
    pub fn csrf_token(&self) -> AppResult<String> {
        if let Some(token) = self.get::<String>(CSRF_KEY)? {
            return Ok(token);
        }
        if let (false, Some(anonymous)) = (self.has_person(), &self.1) {
            return Ok(anonymous.0.clone());
        }
        let token = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 43);
        self.insert(CSRF_KEY, &token)?;
        Ok(token)
    }

    /// The token as stored, without creating one (the CSRF check).
    pub fn stored_csrf_token(&self) -> Option<String> {
        self.0.get(CSRF_KEY).ok().flatten()
    }

    /// The workspace chosen in the switcher; `None` is the personal "My Workspace".
    pub fn current_workspace(&self) -> Option<WorkspaceId> {
        self.get(WORKSPACE_KEY).ok().flatten()
    }

    pub fn set_current_workspace(&self, workspace: Option<WorkspaceId>) -> AppResult<()> {
        match workspace {
            Some(id) => self.insert(WORKSPACE_KEY, id),
            None => {
                self.0.remove(WORKSPACE_KEY);
                Ok(())
            }
        }
    }

    /// A one-line confirmation shown on the next page ("Email address confirmed").
    pub fn set_flash(&self, message: &str) -> AppResult<()> {
        self.insert(FLASH_KEY, message)
    }

    pub fn take_flash(&self) -> Option<String> {
        self.take(FLASH_KEY)
    }

    /// What happened to each address of an invite form, for the Users page after the redirect.
    pub fn set_invite_results(&self, results: &[(String, String, bool)]) -> AppResult<()> {
        self.insert(INVITE_RESULTS_KEY, results)
    }

    pub fn take_invite_results(&self) -> Vec<(String, String, bool)> {
        self.take(INVITE_RESULTS_KEY).unwrap_or_default()
    }

    /// Removes a one-time value. Only a value that is there is removed: a removal marks the
    /// session changed, and a page that changes nothing must not write the session.
    fn take<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        if !self.0.contains_key(key) {
            return None;
        }
        self.0.remove_as::<T>(key).and_then(Result::ok)
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> AppResult<Option<T>> {
        self.0
            .get(key)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session read failed: {e}")))
    }

    fn insert<T: serde::Serialize>(&self, key: &str, value: T) -> AppResult<()> {
        self.0
            .insert(key, value)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session write failed: {e}")))
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        use actix_web::HttpMessage;
        let anonymous = req.extensions().get::<AnonymousToken>().cloned();
        ready(Ok(TypedSession(req.get_session(), anonymous)))
    }
}
