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
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    expires_at: DateTime<Utc>,
}

/// The condition of a live session `$1` (absolute lifetime in hours `$2`), on `sessions s`;
/// the end of `LOAD` and of `frame::SESSION_VERSION`.
macro_rules! live_session {
    () => {
        " FROM sessions s WHERE s.key_hash = $1 AND s.expires_at > now()
            AND s.created_at > now() - make_interval(hours => $2)"
    };
}
pub(crate) use live_session;

const LOAD: &str = concat!("SELECT s.state, s.expires_at", live_session!());

/// A live session's state; its idle expiry moved on as `keep_alive` says.
pub fn load_state(
    conn: &mut PgConnection,
    key_hash: &str,
    idle: chrono::Duration,
) -> QueryResult<Option<String>> {
    let live = live_statement(LOAD, key_hash)
        .load::<LiveState>(conn)?
        .pop();
    if let Some(live) = &live {
        keep_alive(conn, key_hash, live.expires_at, idle)?;
    }
    Ok(live.map(|live| live.state))
}

/// A statement ending in `live_session!`, with its parameters bound.
pub(crate) fn live_statement(sql: &'static str, key_hash: &str) -> crate::db::cached::Sql {
    crate::db::cached::sql(sql)
        .bind::<diesel::sql_types::Text, _>(key_hash.to_string())
        .bind::<diesel::sql_types::Integer, _>(ABSOLUTE_LIFETIME_HOURS as i32)
}

/// Moves a live session's idle expiry to `idle` from now, only when the stored one is more
/// than `EXTEND_EVERY_SECONDS` behind: a page costs no write, and the idle rule holds to the
/// minute. A session ended meanwhile (signed out elsewhere) is not brought back: nothing
/// matches its key.
pub fn keep_alive(
    conn: &mut PgConnection,
    key_hash: &str,
    expires_at: DateTime<Utc>,
    idle: chrono::Duration,
) -> QueryResult<()> {
    let renewed = Utc::now() + idle;
    if renewed - expires_at > chrono::Duration::seconds(EXTEND_EVERY_SECONDS) {
        extend(conn, key_hash, renewed)?;
    }
    Ok(())
}

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
