//! Creating an account: signing up with an address an organisation admits, or from an
//! invitation, and confirming the address by the emailed link (choosing a password there when
//! an administrator made the account).

use diesel::PgConnection;

use super::links::{self, Link};
use super::{passwords, Actor, Decision};
use crate::auth::{password, throttle};
use crate::db::models::invitations::Invitation;
use crate::db::models::users::{self, User};
use crate::db::models::{audit, organisations, roles, sessions, tokens};
use crate::domain::{AuditAction, EmailAddress, Password, PersonName, Token, TokenPurpose, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// A sign-up form that passed its rules.
pub struct NewAccount {
    pub first_name: PersonName,
    pub surname: PersonName,
    pub email: EmailAddress,
    pub password: Password,
}

impl NewAccount {
    /// Its row, created verified where something already proved the address.
    pub(super) fn row<'a>(&'a self, password_hash: &'a str, verified: bool) -> users::NewUser<'a> {
        users::NewUser {
            id: UserId::new(),
            email: self.email.as_str(),
            first_name: self.first_name.as_str(),
            surname: self.surname.as_str(),
            password_hash: Some(password_hash),
            email_verified_at: verified.then(chrono::Utc::now),
            medical_secretary: false,
            imported: false,
        }
    }
}

/// Signs up with an address an organisation admits; refused (the reason is the email field's)
/// for any other.
pub fn sign_up(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    account: &NewAccount,
) -> AppResult<Decision<()>> {
    if organisations::admitting(conn, &account.email)?.is_empty() {
        return Ok(Decision::refused(
            "Enter your NHS email address, like name@nhs.net. Staffroom only accepts addresses from organisations that use it",
        ));
    }
    create_or_tell_owner(conn, actor, base_url, account)?;
    Ok(Decision::Done(()))
}

/// Creates the account and sends the confirmation link or, for an address that already has an
/// account, emails its owner instead: the person asking sees the same either way. Any address
/// (a guest invited by text message need not be in an organisation).
///
/// An account made by signing up and never confirmed belongs to nobody yet: a sign-up for its
/// address replaces its names and password and kills its links, and only the newest email's
/// link works, whose page asks for the password again (`confirm_address`). So a stranger who
/// signed up first with a colleague's address never holds the colleague's account.
///
/// Each address gets a few such emails an hour (`throttle::Mail::Account`), counted for the
/// address typed whether or not it has an account; past that nothing is hashed or sent, and
/// the person asking sees the usual answer.
fn create_or_tell_owner(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    account: &NewAccount,
) -> AppResult<()> {
    if !throttle::mail_allowed(conn, throttle::Mail::Account, account.email.as_str())? {
        return Ok(());
    }
    // Hashed whether or not the account exists, so both answers take the same time.
    let password_hash = password::hash_blocking(&account.password)?;
    match users::find_by_email(conn, &account.email)? {
        Some(existing) if existing.is_verified() || !existing.is_active() => {
            let email = messages::AccountExists {
                first_name: existing.first_name.clone(),
                sign_in_link: format!("{base_url}/login"),
                reset_link: format!("{base_url}/password/forgot"),
            };
            mail::enqueue(conn, &existing.email, &email)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::SignUpExistingAccount)
                    .target(existing.id),
            )?;
        }
        Some(unclaimed) if unclaimed.password_hash.is_some() => {
            let replaced = users::replace_unconfirmed(
                conn,
                unclaimed.id,
                account.first_name.as_str(),
                account.surname.as_str(),
                &password_hash,
            )?;
            tokens::revoke_live(conn, TokenPurpose::ResetPassword, Some(replaced.id))?;
            send_verification(conn, base_url, &replaced)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::SignUpUnconfirmedAccount)
                    .target(replaced.id)
                    .detail("a new sign-up replaced the unconfirmed account's names and password; earlier links stopped working"),
            )?;
        }
        Some(unconfirmed) => {
            // Created by an administrator, never confirmed: the person gets a fresh link that
            // lets them choose their password.
            send_verification(conn, base_url, &unconfirmed)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::SignUpUnconfirmedAccount)
                    .target(unconfirmed.id),
            )?;
        }
        None => {
            let user = users::insert(conn, &account.row(&password_hash, false))?;
            send_verification(conn, base_url, &user)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::SignUp)
                    .actor(user.id)
                    .target(user.id),
            )?;
        }
    }
    Ok(())
}

/// Sign-up from an invitation. Sent by text message, the invitation leaves the address to the
/// person, confirmed by email as usual (any address: guests need not be in an organisation);
/// done with `None`. Emailed, its address is the account's and its link confirmed it, so the
/// account is created verified; done with the account, whose second factor is next. An account
/// never confirmed (made by an administrator, or by a sign-up nobody confirmed) is completed
/// instead, with the password typed here, but not one that holds a role: a forwarded
/// invitation must not claim a prepared administrator, who uses their own confirmation email.
pub fn sign_up_invited(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    invitation: &Invitation,
    account: &NewAccount,
) -> AppResult<Decision<Option<UserId>>> {
    if invitation.email.is_none() {
        create_or_tell_owner(conn, actor, base_url, account)?;
        return Ok(Decision::Done(None));
    }
    let existing = users::find_by_email(conn, &account.email)?;
    if let Some(existing) = &existing {
        if existing.is_verified() || !existing.is_active() || roles::holds_any(conn, existing.id)? {
            return Ok(Decision::refused(
                "There is already a Staffroom account for this address. Sign in to join (if it was made for you by an administrator, first choose its password from the confirmation email).",
            ));
        }
    }
    let password_hash = password::hash_blocking(&account.password)?;
    let (user, action, what) = match existing {
        Some(unconfirmed) => {
            // A sign-up nobody confirmed gives way to the invited person, as another sign-up
            // would (`create_or_tell_owner`); an administrator's names are kept.
            let completed = match unconfirmed.password_hash {
                Some(_) => users::replace_unconfirmed(
                    conn,
                    unconfirmed.id,
                    account.first_name.as_str(),
                    account.surname.as_str(),
                    &password_hash,
                )?,
                None => {
                    users::set_password_hash(conn, unconfirmed.id, &password_hash)?;
                    unconfirmed
                }
            };
            users::mark_verified(conn, completed.id)?;
            for purpose in [TokenPurpose::VerifyEmail, TokenPurpose::ResetPassword] {
                tokens::revoke_live(conn, purpose, Some(completed.id))?;
            }
            (completed, AuditAction::PasswordSet, "chose a password")
        }
        None => (
            users::insert(conn, &account.row(&password_hash, true))?,
            AuditAction::SignUp,
            "created an account",
        ),
    };
    audit::record(
        conn,
        &actor
            .event(action)
            .actor(user.id)
            .target(user.id)
            .workspace(invitation.workspace_id)
            .detail(format!(
                "{} {what} from an invitation (address confirmed by the invitation link)",
                user.full_name()
            )),
    )?;
    Ok(Decision::Done(Some(user.id)))
}

/// Issues a 24-hour confirmation link (the previous one stops working) and queues its email.
pub fn send_verification(conn: &mut PgConnection, base_url: &str, user: &User) -> AppResult<()> {
    let message = messages::VerifyEmail {
        first_name: user.first_name.clone(),
        link: confirmation_link(conn, base_url, user)?,
    };
    mail::enqueue(conn, &user.email, &message)?;
    Ok(())
}

/// A new 24-hour `/verify/{token}` link for the account (earlier ones stop working); only the
/// token's hash is kept.
pub fn confirmation_link(
    conn: &mut PgConnection,
    base_url: &str,
    user: &User,
) -> AppResult<String> {
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::VerifyEmail,
        Some(user.id),
        &token.hash(),
        chrono::Duration::hours(super::accounts::CONFIRMATION_HOURS),
    )?;
    Ok(format!("{base_url}/verify/{}", token.plain()))
}

/// Confirms the address of the link's account and sets `password` as its password, whether or
/// not it has one: whoever holds the mailbox chooses it here (the one typed at sign-up, or a
/// new one), so a password a stranger set by signing up with this address never survives the
/// link. The password is checked before the link is used, so a refused one has written nothing
/// and the link still works. The link signs nobody in.
pub fn confirm_address(
    conn: &mut PgConnection,
    actor: &Actor,
    token: &str,
    password: &str,
) -> AppResult<Link<Decision<()>>> {
    let purpose = TokenPurpose::VerifyEmail;
    links::owner(conn, actor, purpose, token)?.and_then(|owner| {
        let new_hash = match passwords::parse_for(&owner, password) {
            Ok(password) => password::hash_blocking(&password)?,
            Err(why) => return Ok(Link::Live(Decision::Refused(why.0))),
        };
        links::use_up(conn, purpose, token)?.and_then(|used| {
            let owner = used.user_id.ok_or(AppError::NotFound)?;
            let account = users::find(conn, owner)?;
            users::mark_verified(conn, owner)?;
            users::set_password_hash(conn, owner, &new_hash)?;
            // Nothing signed in with the password before it, nor goes on failing against it.
            sessions::delete_for_user(conn, owner)?;
            throttle::record_success(conn, &throttle::account_key(&account.email))?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::PasswordSet)
                    .actor(owner)
                    .target(owner)
                    .detail("chose a password when confirming the address"),
            )?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::EmailVerified)
                    .actor(owner)
                    .target(owner),
            )?;
            Ok(Link::Live(Decision::Done(())))
        })
    })
}
