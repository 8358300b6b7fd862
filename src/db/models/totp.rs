//! The `user_totp` table: each user's authenticator secret and the last time step accepted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::user_totp;
use crate::domain::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_totp)]
pub struct UserTotp {
    pub user_id: UserId,
    pub secret: Vec<u8>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_step: Option<i64>,
}

pub fn find(conn: &mut PgConnection, user: UserId) -> QueryResult<Option<UserTotp>> {
    user_totp::table
        .find(user)
        .select(UserTotp::as_select())
        .first(conn)
        .optional()
}

pub fn is_enrolled(conn: &mut PgConnection, user: UserId) -> QueryResult<bool> {
    Ok(find(conn, user)?.is_some_and(|t| t.confirmed_at.is_some()))
}

/// Starts (or restarts) an enrolment with a new, unconfirmed secret.
pub fn begin_enrolment(
    conn: &mut PgConnection,
    user: UserId,
    secret: &[u8],
) -> QueryResult<UserTotp> {
    diesel::insert_into(user_totp::table)
        .values((user_totp::user_id.eq(user), user_totp::secret.eq(secret)))
        .on_conflict(user_totp::user_id)
        .do_update()
        .set((
            user_totp::secret.eq(secret),
            user_totp::confirmed_at.eq(None::<DateTime<Utc>>),
            user_totp::last_step.eq(None::<i64>),
        ))
        .returning(UserTotp::as_returning())
        .get_result(conn)
}

/// Records `step` as accepted, only if it is later than the last accepted one. Returns false
/// when another request already used this step (or a later one): the code is a replay.
pub fn accept_step(conn: &mut PgConnection, user: UserId, step: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        user_totp::table.find(user).filter(
            user_totp::last_step
                .is_null()
                .or(user_totp::last_step.lt(step)),
        ),
    )
    .set(user_totp::last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn confirm(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::update(user_totp::table.find(user))
        .set(user_totp::confirmed_at.eq(diesel::dsl::now))
        .execute(conn)
}

pub fn remove(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(user_totp::table.find(user)).execute(conn)
}
