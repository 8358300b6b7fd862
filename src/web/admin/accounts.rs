//! Creating an account for someone, shared by "Add new user", the CSV import and the command
//! line's import: a new account gets a 24-hour link to confirm the address and choose a
//! password; an address that already has an account (compared case-insensitively) refers to
//! that account instead, which joins the organisation if it was not in it yet.

use crate::domain::AuditAction;
use diesel::prelude::*;

use crate::db::models::audit;
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::tokens;
use crate::db::models::users::{self, User};
use crate::db::schema::users as users_table;
use crate::domain::{EmailAddress, PersonName, Token, TokenPurpose, UserId};
use crate::error::AppResult;
use crate::mail::{self, messages};

/// How long the emailed confirmation link works.
pub const CONFIRMATION_HOURS: i64 = 24;

/// Someone to create an account for, already parsed.
pub struct Newcomer {
    pub first_name: PersonName,
    pub surname: PersonName,
    pub email: EmailAddress,
    pub medical_secretary: bool,
    pub imported: bool,
}

pub enum Outcome {
    Created(User),
    /// The address already had an account; `joined` when it was added to the organisation now.
    Existing {
        user: User,
        joined: bool,
    },
}

impl Outcome {
    pub fn user(&self) -> &User {
        match self {
            Outcome::Created(user) | Outcome::Existing { user, .. } => user,
        }
    }
}

pub use crate::services::Actor;

/// Whether the organisation's allowed domains admit the address.
pub fn admits(
    conn: &mut PgConnection,
    org: &Organisation,
    email: &EmailAddress,
) -> AppResult<bool> {
    Ok(organisations::admits(conn, org.id, email.as_str())?)
}

/// Creates the account (or refers to the existing one) in the caller's transaction, with its
/// audit event and its email.
pub fn create_or_refer(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    who: &Newcomer,
    actor: &Actor,
) -> AppResult<Outcome> {
    // ON CONFLICT waits for a concurrent insert of the same address and then yields to it.
    let inserted: Option<User> = diesel::insert_into(users_table::table)
        .values(&users::NewUser {
            id: UserId::new(),
            email: who.email.as_str(),
            first_name: who.first_name.as_str(),
            surname: who.surname.as_str(),
            password_hash: None,
            email_verified_at: None,
            medical_secretary: who.medical_secretary,
            imported: who.imported,
        })
        .on_conflict_do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .optional()?;
    let Some(user) = inserted else {
        let user =
            users::find_by_email(conn, &who.email)?.ok_or(crate::error::AppError::NotFound)?;
        let joined = organisations::add_member(conn, org.id, user.id)? == 1;
        if joined {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::OrganisationMemberAdded)
                    .target(user.id)
                    .organisation(org.id)
                    .detail(format!(
                        "{} added {} (an existing account) to {}",
                        actor.name(),
                        user.full_name(),
                        org.name
                    )),
            )?;
        }
        return Ok(Outcome::Existing { user, joined });
    };
    organisations::add_member(conn, org.id, user.id)?;
    send_confirmation(conn, base_url, org, &user)?;
    let mut flags = Vec::new();
    if user.medical_secretary {
        flags.push("medical secretary");
    }
    if user.imported {
        flags.push("imported");
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::AccountCreated)
            .target(user.id)
            .organisation(org.id)
            .detail(format!(
                "{} created the account for {} <{}>{}",
                actor.name(),
                user.full_name(),
                user.email,
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", flags.join(", "))
                }
            )),
    )?;
    Ok(Outcome::Created(user))
}

/// Issues a new 24-hour confirmation link (earlier ones stop working) and queues its email:
/// "choose a password" for an account without one, "confirm your address" otherwise.
pub fn send_confirmation(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    user: &User,
) -> AppResult<()> {
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::VerifyEmail,
        Some(user.id),
        &token.hash(),
        chrono::Duration::hours(CONFIRMATION_HOURS),
    )?;
    let link = format!("{base_url}/verify/{}", token.plain());
    if user.password_hash.is_none() {
        let message = messages::SetPassword {
            first_name: user.first_name.clone(),
            organisation: org.name.clone(),
            link,
        };
        mail::enqueue(conn, &user.email, &message)?;
    } else {
        let message = messages::VerifyEmail {
            first_name: user.first_name.clone(),
            link,
        };
        mail::enqueue(conn, &user.email, &message)?;
    }
    Ok(())
}
