//! The `users` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::users;
use crate::domain::{EmailAddress, UserId};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub surname: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub medical_secretary: bool,
    pub imported: bool,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.surname)
    }

    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub first_name: &'a str,
    pub surname: &'a str,
    pub password_hash: Option<&'a str>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub medical_secretary: bool,
    pub imported: bool,
}

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
}

/// Locks the account's row: changes to one account (its invitations, its deactivation) take
/// turns.
pub fn lock(conn: &mut PgConnection, id: UserId) -> QueryResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .for_update()
        .first(conn)
}

pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

pub fn find_optional(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<User>> {
    find(conn, id).optional()
}

pub fn find_by_email(conn: &mut PgConnection, email: &EmailAddress) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn any_exist(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
}

/// Marks the address verified (once: a verified address keeps its first date).
pub fn mark_verified(conn: &mut PgConnection, id: UserId) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .filter(users::email_verified_at.is_null())
        .set((
            users::email_verified_at.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

pub fn set_password_hash(conn: &mut PgConnection, id: UserId, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Gives an account nobody has confirmed new names and a new password (a newer sign-up for its
/// address); a confirmed account is left alone (`NotFound`).
pub fn replace_unconfirmed(
    conn: &mut PgConnection,
    id: UserId,
    first_name: &str,
    surname: &str,
    hash: &str,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .filter(users::email_verified_at.is_null())
        .set((
            users::first_name.eq(first_name),
            users::surname.eq(surname),
            users::password_hash.eq(hash),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(User::as_returning())
        .get_result(conn)
}
