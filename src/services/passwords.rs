//! Changing a password: by the emailed reset link when it is forgotten, or signed in with the
//! current one. Either ends every session of the account and tells its owner by email.

use diesel::PgConnection;
use secrecy::SecretString;

use super::links::{self, Link};
use super::sign_in::{address, Attempt};
use super::{Actor, Decision};
use crate::auth::{password, throttle};
use crate::db::models::users::{self, User};
use crate::db::models::{audit, sessions, tokens};
use crate::domain::{AuditAction, DomainError, EmailAddress, Password, Token, TokenPurpose};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

const RESET_LINK_LIFETIME_HOURS: i64 = 1;

/// A password for this account: the rules refuse one holding its owner's name or address.
pub fn parse_for(user: &User, raw: &str) -> Result<Password, DomainError> {
    Password::parse(raw, &[&user.first_name, &user.surname, &user.email])
}

/// Emails a one-hour reset link to the address's account, if it has an active one; the person
/// asking is told the same either way. Counted first: per client address (refused with what to
/// tell them, which says nothing of the account) and per address typed, account or not (past a
/// few an hour the email is just not sent). Run it in a transaction that commits either way.
pub fn request_reset(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    email: &EmailAddress,
) -> AppResult<Option<String>> {
    let visit = throttle::Visit::PasswordReset;
    if let Some(refusal) = throttle::visit(conn, visit, address(actor))? {
        return Ok(Some(refusal));
    }
    if !throttle::mail_allowed(conn, throttle::Mail::PasswordReset, email.as_str())? {
        return Ok(None);
    }
    let Some(user) = users::find_by_email(conn, email)?.filter(User::is_active) else {
        return Ok(None);
    };
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::ResetPassword,
        Some(user.id),
        &token.hash(),
        chrono::Duration::hours(RESET_LINK_LIFETIME_HOURS),
    )?;
    let message = messages::ResetPassword {
        first_name: user.first_name.clone(),
        link: format!("{base_url}/password/reset/{}", token.plain()),
    };
    mail::enqueue(conn, &user.email, &message)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::PasswordResetRequested)
            .target(user.id),
    )?;
    Ok(None)
}

/// Sets the password of the reset link's account. It also clears the account's failed
/// sign-ins, and the address counts as confirmed (the link proved the mailbox). The password is
/// checked before the link is used, so a refused one has written nothing.
pub fn reset(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    token: &str,
    password: &str,
) -> AppResult<Link<Decision<()>>> {
    let purpose = TokenPurpose::ResetPassword;
    links::owner(conn, actor, purpose, token)?.and_then(|owner| {
        let new_hash = match parse_for(&owner, password) {
            Ok(password) => password::hash_blocking(&password)?,
            Err(why) => return Ok(Link::Live(Decision::Refused(why.0))),
        };
        links::use_up(conn, purpose, token)?.and_then(|used| {
            let owner = users::find(conn, used.user_id.ok_or(AppError::NotFound)?)?;
            users::mark_verified(conn, owner.id)?;
            throttle::record_success(conn, &throttle::account_key(&owner.email))?;
            throttle::record_success(conn, &throttle::code_key(owner.id))?;
            replace(conn, base_url, &owner, &new_hash)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::PasswordReset)
                    .actor(owner.id)
                    .target(owner.id),
            )?;
            Ok(Link::Live(Decision::Done(())))
        })
    })
}

/// A signed-in person's change of password.
pub struct PasswordChange {
    pub current: SecretString,
    /// The new password, if it passed the rules and differs from the current one.
    pub new: Option<Password>,
}

/// Proves the current password like a sign-in (a wrong one counts against the account), then,
/// given a new one, sets it. Every session of the account ends, the asking one too: the caller
/// gives that browser a fresh one.
pub fn change(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    change: &PasswordChange,
) -> AppResult<Attempt<()>> {
    let user = actor.user()?;
    let key = throttle::account_key(&user.email);
    if let Some(wait) = throttle::message(throttle::attempt(conn, &key, address(actor))?) {
        return Ok(Attempt::Throttled(wait));
    }
    if !password::verify_blocking(&change.current, user.password_hash.as_deref())? {
        throttle::record_failure(conn, address(actor))?;
        return Ok(Attempt::Failed);
    }
    throttle::record_success(conn, &key)?;
    if let Some(new) = &change.new {
        replace(conn, base_url, user, &password::hash_blocking(new)?)?;
        audit::record(
            conn,
            &actor.event(AuditAction::PasswordChanged).target(user.id),
        )?;
    }
    Ok(Attempt::Passed(()))
}

/// The new hash, every session ended, and the owner told.
fn replace(conn: &mut PgConnection, base_url: &str, owner: &User, hash: &str) -> AppResult<()> {
    users::set_password_hash(conn, owner.id, hash)?;
    sessions::delete_for_user(conn, owner.id)?;
    let notice = messages::PasswordChanged {
        first_name: owner.first_name.clone(),
        reset_link: format!("{base_url}/password/forgot"),
    };
    mail::enqueue(conn, &owner.email, &notice)?;
    Ok(())
}
