//! actix-session's `SessionStore` on PostgreSQL, so that logout, password change, deactivation
//! and two-factor reset end sessions at once, on every server.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::Utc;
use rand::distributions::{Alphanumeric, DistString};

use super::models::{frame, sessions};
use super::PgPool;
use crate::auth::session::{
    PENDING_USER_ID_KEY, SSO_PROVIDER_KEY, SSO_SID_KEY, STORE_UNAVAILABLE_KEY, USER_ID_KEY,
};
use crate::domain::{token::sha256_hex, UserId};

type SessionState = HashMap<String, String>;

#[derive(Clone)]
pub struct PgSessionStore {
    pool: PgPool,
    /// The frames of people's pages, read again only when their version moves.
    frames: std::sync::Arc<frame::Cache>,
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            frames: Default::default(),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut diesel::PgConnection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        // On the request's own connection when it holds one: a request never waits for a
        // second connection while it holds one.
        crate::db::using(&self.pool, |_| Ok(()), move |conn, ()| Ok(f(conn)?))
            .await
            .map_err(anyhow::Error::from)
    }
}

/// The session's user, kept in a column of its own so that all their sessions can be ended:
/// signed in, or still owing the second factor (a password reset must end that one too).
fn user_of(state: &SessionState) -> Option<UserId> {
    [USER_ID_KEY, PENDING_USER_ID_KEY]
        .iter()
        .find_map(|key| state.get(*key))
        .and_then(|value| serde_json::from_str(value).ok())
}

/// The provider session the session came from, kept in columns of their own so that a
/// back-channel logout can end it.
fn sso_of(state: &SessionState) -> sessions::SsoSession {
    let read = |key: &str| {
        state
            .get(key)
            .and_then(|value| serde_json::from_str::<String>(value).ok())
    };
    sessions::SsoSession {
        provider: read(SSO_PROVIDER_KEY),
        sid: read(SSO_SID_KEY),
    }
}

fn expiry(ttl: &Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(ttl.whole_seconds())
}

impl SessionStore for PgSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let key_hash = sha256_hex(session_key.as_ref());
        let pool = self.pool.clone();
        let idle = chrono::Duration::minutes(sessions::IDLE_TIMEOUT_MINUTES);
        let page = crate::db::request::wants_frame();
        let frames = self.frames.clone();
        // The first statement of every request: a dead pooled connection is retried here. For
        // a page, the user and the page's frame come with the session, and the connection
        // stays with the request for the page's own queries.
        let loaded = actix_web::web::block(move || {
            if !page {
                return crate::db::with_first(
                    &pool,
                    |conn| sessions::load_state(conn, &key_hash, idle),
                    |_, state| Ok((state, None)),
                );
            }
            let (mut conn, found) = crate::db::checkout_with_first(&pool, |conn| {
                frame::session_with_version(conn, &key_hash, idle)
            })?;
            let Some(found) = found else {
                return Ok((None, Some((conn, None))));
            };
            let frame = match found.user_id {
                None => None,
                Some(user) => match frames.get(user, found.version) {
                    Some(held) => Some(held),
                    None => {
                        let read = frame::load(&mut conn, user)?;
                        if let Some(read) = &read {
                            frames.put(found.version, read);
                        }
                        read
                    }
                },
            };
            let state = Some(found.state);
            Ok((state, Some((conn, frame))))
        })
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r: crate::error::AppResult<_>| r.map_err(anyhow::Error::from))
        .map(|(state, held)| {
            if let Some((conn, frame)) = held {
                crate::db::request::hold(conn, frame);
            }
            state
        });
        let state = match loaded {
            Ok(state) => state,
            Err(e) => {
                // The database is away. Failing here would make the middleware answer an
                // opaque 500; an empty session would sign the person out. Instead the state
                // says the store is unavailable: signed-in pages answer 503, and the cookie is
                // kept for when the database is back.
                tracing::warn!(error = %e, "session store unavailable");
                return Ok(Some(SessionState::from([(
                    STORE_UNAVAILABLE_KEY.to_string(),
                    "true".to_string(),
                )])));
            }
        };
        state
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        if state.contains_key(STORE_UNAVAILABLE_KEY) {
            // Never write a state that stands for one that could not be read.
            return Err(SaveError::Other(anyhow::anyhow!(
                "session store unavailable"
            )));
        }
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
        let key_hash = sha256_hex(&key);
        let (user, sso) = (user_of(&state), sso_of(&state));
        let expires_at = expiry(ttl);
        // A session that was not saved gets no cookie: the request fails instead.
        self.blocking(move |conn| {
            Ok(sessions::insert(
                conn, &key_hash, user, &sso, &json, expires_at,
            )?)
        })
        .await
        .map_err(SaveError::Other)?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if state.contains_key(STORE_UNAVAILABLE_KEY) {
            // The real state is still in the database: leave it, and keep the cookie.
            return Ok(session_key);
        }
        let json =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let key_hash = sha256_hex(session_key.as_ref());
        let (user, sso) = (user_of(&state), sso_of(&state));
        let expires_at = expiry(ttl);
        let updated = match self
            .blocking(move |conn| {
                Ok(sessions::update(
                    conn, &key_hash, user, &sso, &json, expires_at,
                )?)
            })
            .await
        {
            Ok(updated) => updated,
            Err(e) => {
                tracing::warn!(error = %e, "session store unavailable; session not updated");
                return Ok(session_key);
            }
        };
        if updated == 1 {
            Ok(session_key)
        } else {
            // The session ended meanwhile (signed out elsewhere): start a fresh, empty one
            // rather than bring the old state back to life.
            self.save(HashMap::new(), ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            })
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let key_hash = sha256_hex(session_key.as_ref());
        let expires_at = expiry(ttl);
        if let Err(e) = self
            .blocking(move |conn| Ok(sessions::extend(conn, &key_hash, expires_at)?))
            .await
        {
            tracing::warn!(error = %e, "session store unavailable; expiry not extended");
        }
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let key_hash = sha256_hex(session_key.as_ref());
        self.blocking(move |conn| Ok(sessions::delete(conn, &key_hash)?))
            .await?;
        Ok(())
    }
}
