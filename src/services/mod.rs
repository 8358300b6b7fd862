//! The decisions: invite, accept, approve, import a roster row, create an account. Plain
//! functions on a connection, called inside one transaction by the web handlers, the command
//! line and housekeeping alike. Nothing here knows about HTTP.

pub mod invitations;
pub mod join_links;
pub mod links;
pub mod membership;
pub mod passwords;
pub mod setup;
pub mod sign_in;
pub mod sign_up;
pub mod workspaces;

use diesel::PgConnection;

use crate::db::models::audit::NewAuditEvent;
use crate::db::models::users::User;
use crate::db::PgPool;
use crate::domain::AuditAction;
use crate::error::{AppError, AppResult};

/// Who did it, for the audit: a signed-in person (with their address), or the command line
/// and housekeeping (no one).
pub struct Actor<'a> {
    pub user: Option<&'a User>,
    pub ip: Option<String>,
}

impl<'a> Actor<'a> {
    pub fn person(user: &'a User, ip: &str) -> Self {
        Self {
            user: Some(user),
            ip: Some(ip.to_string()),
        }
    }

    /// The command line or housekeeping.
    pub fn system() -> Self {
        Self {
            user: None,
            ip: None,
        }
    }

    /// The person acting; decisions only people make refuse the system.
    pub fn user(&self) -> AppResult<&'a User> {
        self.user.ok_or(AppError::NotFound)
    }

    pub fn name(&self) -> String {
        self.user
            .map_or_else(|| "The command line".to_string(), User::full_name)
    }

    /// An audit event with this actor and address filled in.
    pub fn event(&self, action: AuditAction) -> NewAuditEvent {
        let event = NewAuditEvent::new(action, self.ip.clone());
        match self.user {
            Some(user) => event.actor(user.id),
            None => event,
        }
    }
}

/// What a decision came to: done, with what to tell the person, or refused with the reason.
/// A refusal rolls back everything the decision wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<T = String> {
    Done(T),
    Refused(String),
}

impl<T> Decision<T> {
    pub fn refused(reason: impl Into<String>) -> Self {
        Decision::Refused(reason.into())
    }
}

/// Runs `decide` in one transaction: committed when done, rolled back when refused or failed.
pub async fn decide<T, F>(pool: &PgPool, decide: F) -> AppResult<Decision<T>>
where
    F: FnOnce(&mut PgConnection) -> AppResult<Decision<T>> + Send + 'static,
    T: Send + 'static,
{
    settle(crate::db::transaction(pool, move |conn| decide(conn)?.into_result()).await)
}

/// The same on a connection the caller holds (the command line, housekeeping).
pub fn decide_on<T>(
    conn: &mut PgConnection,
    decide: impl FnOnce(&mut PgConnection) -> AppResult<Decision<T>>,
) -> AppResult<Decision<T>> {
    use diesel::Connection;
    settle(conn.transaction(|conn| decide(conn)?.into_result()))
}

impl<T> Decision<T> {
    /// A refusal as an error, so that the transaction around it rolls back.
    fn into_result(self) -> AppResult<T> {
        match self {
            Decision::Done(value) => Ok(value),
            Decision::Refused(reason) => Err(AppError::Refused(reason)),
        }
    }
}

/// The transaction's result back as a decision.
fn settle<T>(result: AppResult<T>) -> AppResult<Decision<T>> {
    match result {
        Ok(value) => Ok(Decision::Done(value)),
        Err(AppError::Refused(reason)) => Ok(Decision::Refused(reason)),
        Err(e) => Err(e),
    }
}
