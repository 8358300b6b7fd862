//! The decisions: invite, accept, approve, import a roster row, create an account. Plain
//! functions on a connection, called inside one transaction by the web handlers, the command
//! line and housekeeping alike. Nothing here knows about HTTP.

pub mod accounts;
pub mod contacts;
pub mod conversations;
pub mod guests;
pub mod invitations;
pub mod join_links;
pub mod links;
pub mod membership;
pub mod message_templates;
pub mod organisation_invitations;
pub mod organisations;
pub mod passwords;
pub mod patients;
pub mod roles;
pub mod roster;
pub mod setup;
pub mod sign_in;
pub mod sign_up;
pub mod sso;
pub mod teams;
pub mod trust;
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

/// What a decision came to: done, with what to tell the person, or refused with the reason
/// (a sentence by default; a field and a sentence where a form shows it). A refusal rolls back
/// everything the decision wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<T = String, R = String> {
    Done(T),
    Refused(R),
}

impl<T> Decision<T> {
    pub fn refused(reason: impl Into<String>) -> Self {
        Decision::Refused(reason.into())
    }
}

impl<T, R> Decision<T, R> {
    pub fn is_done(&self) -> bool {
        matches!(self, Decision::Done(_))
    }
}

/// A refusal that belongs beside one field of the form that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Runs `decide` in one transaction: committed when done, rolled back when refused or failed.
pub async fn decide<T, R, F>(pool: &PgPool, decide: F) -> AppResult<Decision<T, R>>
where
    F: FnOnce(&mut PgConnection) -> AppResult<Decision<T, R>> + Send + 'static,
    T: Send + 'static,
    R: Send + 'static,
{
    crate::db::transaction_keeping(pool, decide, Decision::is_done).await
}

/// The same on a connection the caller holds (the command line, housekeeping).
pub fn decide_on<T, R>(
    conn: &mut PgConnection,
    decide: impl FnOnce(&mut PgConnection) -> AppResult<Decision<T, R>>,
) -> AppResult<Decision<T, R>> {
    crate::db::in_transaction(conn, decide, Decision::is_done)
}
