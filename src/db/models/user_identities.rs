//! The `user_identities` table: a person's identity at an OpenID Connect provider (provider +
//! `sub`), linked to one account.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::user_identities;
use crate::domain::{IdentityId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = user_identities)]
pub struct Identity {
    pub id: IdentityId,
    pub provider: String,
    pub subject: String,
    pub user_id: UserId,
    pub email: Option<String>,
    pub role_names: Vec<Option<String>>,
    pub first_sign_in_at: DateTime<Utc>,
    pub last_sign_in_at: DateTime<Utc>,
}

impl Identity {
    pub fn role_names(&self) -> Vec<String> {
        self.role_names.iter().flatten().cloned().collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = user_identities)]
pub struct NewIdentity<'a> {
    pub id: IdentityId,
    pub provider: &'a str,
    pub subject: &'a str,
    pub user_id: UserId,
    pub email: Option<&'a str>,
    pub role_names: Vec<Option<String>>,
}

/// Links the identity; `None` when it (or another identity of this provider for the account)
/// was linked meanwhile.
pub fn insert(conn: &mut PgConnection, new: &NewIdentity) -> QueryResult<Option<Identity>> {
    diesel::insert_into(user_identities::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(Identity::as_returning())
        .get_result(conn)
        .optional()
}

pub fn find(
    conn: &mut PgConnection,
    provider: &str,
    subject: &str,
) -> QueryResult<Option<Identity>> {
    user_identities::table
        .filter(user_identities::provider.eq(provider))
        .filter(user_identities::subject.eq(subject))
        .select(Identity::as_select())
        .first(conn)
        .optional()
}

/// A sign-in through it: when, and what the provider now says of the person.
pub fn signed_in(
    conn: &mut PgConnection,
    id: IdentityId,
    email: Option<&str>,
    role_names: Vec<Option<String>>,
) -> QueryResult<usize> {
    diesel::update(user_identities::table.find(id))
        .set((
            user_identities::last_sign_in_at.eq(diesel::dsl::now),
            user_identities::email.eq(email),
            user_identities::role_names.eq(role_names),
        ))
        .execute(conn)
}

pub fn of_user(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<Identity>> {
    user_identities::table
        .filter(user_identities::user_id.eq(user))
        .select(Identity::as_select())
        .order(user_identities::first_sign_in_at)
        .load(conn)
}

/// Removes one of the account's identities; 0 when it is not theirs.
pub fn delete(conn: &mut PgConnection, user: UserId, id: IdentityId) -> QueryResult<usize> {
    diesel::delete(
        user_identities::table
            .filter(user_identities::id.eq(id))
            .filter(user_identities::user_id.eq(user)),
    )
    .execute(conn)
}
