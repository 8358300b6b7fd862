//! The `recovery_codes` table: ten single-use codes per user, stored as SHA-256 hashes.

use diesel::prelude::*;

use crate::db::schema::recovery_codes;
use crate::domain::UserId;

/// Replaces the user's codes with new ones.
pub fn replace(conn: &mut PgConnection, user: UserId, hashes: &[String]) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)?;
    let rows: Vec<_> = hashes
        .iter()
        .map(|hash| {
            (
                recovery_codes::id.eq(uuid::Uuid::new_v4()),
                recovery_codes::user_id.eq(user),
                recovery_codes::code_hash.eq(hash),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table)
        .values(&rows)
        .execute(conn)
}

/// Uses a code in one statement; false when it is unknown or was used before.
pub fn consume(conn: &mut PgConnection, user: UserId, hash: &str) -> QueryResult<bool> {
    let used = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(diesel::dsl::now))
    .execute(conn)?;
    Ok(used == 1)
}

pub fn remaining(conn: &mut PgConnection, user: UserId) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

pub fn remove_all(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)
}
