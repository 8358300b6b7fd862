//! The `sessions` table behind actix-session. Rows are keyed by a SHA-256 of the cookie's
//! session key, and carry the signed-in user so that their sessions can be ended at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::domain::UserId;

/// No session outlives this, however active: 12 hours from sign-in (the id is renewed then).
pub const ABSOLUTE_LIFETIME_HOURS: i64 = 12;

pub fn load_state(conn: &mut PgConnection, key_hash: &str) -> QueryResult<Option<String>> {
    sessions::table
        .find(key_hash)
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .filter(
            sessions::created_at.gt(Utc::now() - chrono::Duration::hours(ABSOLUTE_LIFETIME_HOURS)),
        )
        .select(sessions::state)
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut PgConnection,
    key_hash: &str,
    user: Option<UserId>,
    state: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::key_hash.eq(key_hash),
            sessions::user_id.eq(user),
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
    state: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(key_hash))
        .set((
            sessions::user_id.eq(user),
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

pub fn delete_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(diesel::dsl::now))).execute(conn)
}
