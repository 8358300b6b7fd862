//! The `sessions` table behind actix-session. Rows are keyed by a SHA-256 of the cookie's
//! session key, and carry the signed-in user so that their sessions can be ended at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::domain::UserId;

/// Sessions end after this many idle minutes.
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;

/// No session outlives this, however active: 12 hours from sign-in (the id is renewed then).
pub const ABSOLUTE_LIFETIME_HOURS: i64 = 12;

/// The idle expiry is written again only when it is more than this stale, so that a page
/// costs no write: the idle rule then holds to the minute.
pub const EXTEND_EVERY_SECONDS: i64 = 60;

#[derive(QueryableByName)]
struct LiveState {
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
}

/// A live session's state, in one statement that also moves its idle expiry to `idle` from
/// now when the stored one is more than a minute old.
pub fn load_state(
    conn: &mut PgConnection,
    key_hash: &str,
    idle: chrono::Duration,
) -> QueryResult<Option<String>> {
    let rows: Vec<LiveState> = crate::db::execute_prepared(
        conn,
        ("staffroom_session", LIVE_SESSION_TYPES, LOAD),
        &live_session_args(key_hash, idle),
    )?;
    Ok(rows.into_iter().next().map(|live| live.state))
}

/// The live session `$1` (idle seconds `$2`, absolute hours `$3`), and the statement that moves
/// its idle expiry on when it is more than `$4` seconds stale; the start of `LOAD` and of
/// `frame::load_with_session`.
macro_rules! live_session {
    () => {
        "WITH live AS (
           SELECT key_hash, state, expires_at, user_id FROM sessions
            WHERE key_hash = $1 AND expires_at > now()
              AND created_at > now() - make_interval(hours => $3)
         ), extended AS (
           UPDATE sessions SET expires_at = now() + make_interval(secs => $2)
             FROM live
            WHERE sessions.key_hash = live.key_hash
              AND live.expires_at < now() + make_interval(secs => $2 - $4)
         ) "
    };
}
pub(crate) use live_session;

/// The parameter types of `live_session!`.
pub(crate) const LIVE_SESSION_TYPES: &str = "text, float8, int4, float8";

/// The arguments of `live_session!`, as literals.
pub(crate) fn live_session_args(key_hash: &str, idle: chrono::Duration) -> Vec<String> {
    vec![
        crate::db::literal(key_hash),
        crate::db::literal(idle.num_seconds()),
        crate::db::literal(ABSOLUTE_LIFETIME_HOURS),
        crate::db::literal(EXTEND_EVERY_SECONDS),
    ]
}

/// Prepared once per connection as `staffroom_session`.
const LOAD: &str = concat!(live_session!(), "SELECT state FROM live");

/// The provider session a Staffroom session came from (single sign-on), kept in columns so
/// that a back-channel logout finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoSession {
    pub provider: Option<String>,
    pub sid: Option<String>,
}

pub fn insert(
    conn: &mut PgConnection,
    key_hash: &str,
    user: Option<UserId>,
    sso: &SsoSession,
    state: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::key_hash.eq(key_hash),
            sessions::user_id.eq(user),
            sessions::sso_provider.eq(&sso.provider),
            sessions::sso_sid.eq(&sso.sid),
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Updates a live session; 0 rows when it has ended meanwhile (logout elsewhere).
pub fn update(
    conn: &mut PgConnection,
    key_hash: &str,
    user: Option<UserId>,
    sso: &SsoSession,
    state: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(key_hash))
        .set((
            sessions::user_id.eq(user),
            sessions::sso_provider.eq(&sso.provider),
            sessions::sso_sid.eq(&sso.sid),
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

pub fn extend(
    conn: &mut PgConnection,
    key_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(key_hash))
        .set(sessions::expires_at.eq(expires_at))
        .execute(conn)
}

pub fn delete(conn: &mut PgConnection, key_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(key_hash)).execute(conn)
}

/// Ends every session of this user (password change, deactivation, two-factor reset).
pub fn delete_for_user(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn)
}

/// Ends the sessions that came from this provider session (back-channel logout by `sid`).
pub fn delete_for_sso_sid(
    conn: &mut PgConnection,
    provider: &str,
    sid: &str,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::sso_provider.eq(provider))
            .filter(sessions::sso_sid.eq(sid)),
    )
    .execute(conn)
}

/// Ends the person's sessions that came from this provider (back-channel logout by `sub`).
pub fn delete_for_sso_user(
    conn: &mut PgConnection,
    provider: &str,
    user: UserId,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::sso_provider.eq(provider))
            .filter(sessions::user_id.eq(user)),
    )
    .execute(conn)
}

pub fn delete_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(diesel::dsl::now))).execute(conn)
}
