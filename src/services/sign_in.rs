//! Signing in: the password, then the authenticator code or a recovery code (or, the first
//! time, enrolling an authenticator), each attempt throttled and audited; and signing out.

use diesel::PgConnection;
use secrecy::SecretString;

use super::{sign_up, Actor, Decision};
use crate::auth::{password, recovery, throttle, totp};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{organisations, recovery_codes, totp as totp_rows, users};
use crate::domain::{AuditAction, EmailAddress, UserId};
use crate::error::AppResult;

/// What checking a secret (a password, a code) came to. Not a `Decision`: a wrong one is
/// counted by the throttles, so every attempt commits.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Right: what follows.
    Passed(T),
    /// Wrong, and counted against the account and the address.
    Failed,
    /// Too many wrong ones lately, so not even checked: how long to wait.
    Throttled(String),
}

/// The client's address, which the throttles count by.
pub fn address<'a>(actor: &'a Actor) -> &'a str {
    actor.ip.as_deref().unwrap_or("unknown")
}

/// The email and password typed on the sign-in page.
pub struct Credentials {
    pub email: String,
    pub password: SecretString,
}

/// Where a right password leads.
#[derive(Debug)]
pub enum Entry {
    /// To the second factor: the authenticator's code, or (not `enrolled`) setting one up.
    SecondFactor {
        user: UserId,
        enrolled: bool,
    },
    Deactivated,
    /// The person belongs to an organisation whose members sign in with single sign-on only.
    SsoOnly,
    /// The address is not confirmed yet: a new confirmation link was sent, unless the address
    /// had its few emails this hour (`link_sent` false).
    Unconfirmed {
        link_sent: bool,
    },
}

/// The first factor. An unknown address and a wrong password are the same failure (the
/// password is checked either way, so both take as long), counted against the address typed
/// and the client's address.
pub fn password(
    conn: &mut PgConnection,
    actor: &Actor,
    base_url: &str,
    credentials: &Credentials,
) -> AppResult<Attempt<Entry>> {
    let (key, ip) = (throttle::account_key(&credentials.email), address(actor));
    if let Some(wait) = throttle::message(throttle::attempt(conn, &key, ip)?) {
        return Ok(Attempt::Throttled(wait));
    }
    let user = match EmailAddress::parse(&credentials.email) {
        Ok(email) => users::find_by_email(conn, &email)?,
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let right = password::verify_blocking(&credentials.password, stored)?;
    let target = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| right) else {
        throttle::record_failure(conn, ip)?;
        let mut event = actor
            .event(AuditAction::SignInFailed)
            .detail("wrong email or password");
        if let Some(target) = target {
            event = event.target(target);
        }
        audit::record(conn, &event)?;
        return Ok(Attempt::Failed);
    };
    // The password was right: the run of failures ends, whatever comes next.
    throttle::record_success(conn, &key)?;
    if !user.is_active() {
        return Ok(Attempt::Passed(Entry::Deactivated));
    }
    if organisations::in_sso_only_organisation(conn, user.id)? {
        audit::record(
            conn,
            &actor
                .event(AuditAction::SignInFailed)
                .target(user.id)
                .detail("password refused: the organisation signs in with single sign-on only"),
        )?;
        return Ok(Attempt::Passed(Entry::SsoOnly));
    }
    if !user.is_verified() {
        // Throttled like a sign-up's email: whoever signed up with someone's address knows its
        // password, and each sign-in would mail the address's owner again.
        let link_sent = throttle::mail_allowed(conn, throttle::Mail::Account, &user.email)?;
        if link_sent {
            sign_up::send_verification(conn, base_url, &user)?;
        }
        return Ok(Attempt::Passed(Entry::Unconfirmed { link_sent }));
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::PasswordAccepted)
            .actor(user.id)
            .target(user.id),
    )?;
    Ok(Attempt::Passed(Entry::SecondFactor {
        user: user.id,
        enrolled: totp_rows::is_enrolled(conn, user.id)?,
    }))
}

/// How the second factor was proved, for the audit trail and the page after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    AuthenticatorCode,
    RecoveryCode { remaining: i64 },
}

/// The second factor of the person whose password was accepted: an authenticator code, or one
/// of their recovery codes. A code is accepted only for a time step later than the last one
/// accepted, recorded by a conditional UPDATE: a replayed code fails, and of two parallel
/// requests with one code, one wins. A blank code is wrong but not counted.
pub fn second_factor(
    conn: &mut PgConnection,
    actor: &Actor,
    code: &str,
) -> AppResult<Attempt<Proof>> {
    let user = actor.user()?.id;
    if code.trim().is_empty() {
        return Ok(Attempt::Failed);
    }
    let (key, ip) = (throttle::code_key(user), address(actor));
    if let Some(wait) = throttle::message(throttle::attempt(conn, &key, ip)?) {
        return Ok(Attempt::Throttled(wait));
    }
    let Some(proof) = prove(conn, user, code)? else {
        throttle::record_failure(conn, ip)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::TwoFactorFailed, actor.ip.clone()).target(user),
        )?;
        return Ok(Attempt::Failed);
    };
    throttle::record_success(conn, &key)?;
    let how = match proof {
        Proof::AuthenticatorCode => "authenticator code".to_string(),
        Proof::RecoveryCode { remaining } => format!("recovery code ({remaining} left)"),
    };
    audit::record(
        conn,
        &actor.event(AuditAction::SignIn).target(user).detail(how),
    )?;
    Ok(Attempt::Passed(proof))
}

/// Checks the code and, when it is good, records its use.
fn prove(conn: &mut PgConnection, user: UserId, code: &str) -> AppResult<Option<Proof>> {
    if totp::looks_like_code(code) {
        let Some(enrolment) = totp_rows::find(conn, user)?.filter(|t| t.confirmed_at.is_some())
        else {
            return Ok(None);
        };
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(step) = totp::matching_step(&enrolment.secret, &digits, totp::current_step())
        else {
            return Ok(None);
        };
        Ok(totp_rows::accept_step(conn, user, step)?.then_some(Proof::AuthenticatorCode))
    } else if recovery_codes::consume(conn, user, &recovery::hash(code))? {
        let remaining = recovery_codes::remaining(conn, user)?;
        Ok(Some(Proof::RecoveryCode { remaining }))
    } else {
        Ok(None)
    }
}

/// The unconfirmed secret being enrolled, created on first visit and kept across reloads so
/// that a code from an app that already scanned it still works. `None`: already enrolled.
pub fn enrolment_secret(conn: &mut PgConnection, user: UserId) -> AppResult<Option<Vec<u8>>> {
    Ok(match totp_rows::find(conn, user)? {
        Some(t) if t.confirmed_at.is_some() => None,
        Some(t) => Some(t.secret),
        None => Some(totp_rows::begin_enrolment(conn, user, &totp::generate_secret())?.secret),
    })
}

/// What enrolling came to.
#[derive(Debug)]
pub enum Enrolment {
    /// Confirmed, and the person is signed in: their recovery codes, to be shown this once.
    Confirmed { recovery_codes: Vec<String> },
    /// Already enrolled (perhaps by a parallel request with the same code): the code is next.
    AlreadyEnrolled,
}

/// A first good code confirms the secret being enrolled and signs the person in; refused
/// (with what to do) for a blank or wrong code.
pub fn enrol(conn: &mut PgConnection, actor: &Actor, code: &str) -> AppResult<Decision<Enrolment>> {
    let user = actor.user()?.id;
    let Some(secret) = enrolment_secret(conn, user)? else {
        return Ok(Decision::Done(Enrolment::AlreadyEnrolled));
    };
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp::matching_step(&secret, &digits, totp::current_step()) else {
        return Ok(Decision::refused(if digits.is_empty() {
            "Enter the 6-digit code from your authenticator app"
        } else {
            "Enter a correct code: check your app shows Staffroom and try the newest code"
        }));
    };
    if !totp_rows::accept_step(conn, user, step)? {
        return Ok(Decision::Done(Enrolment::AlreadyEnrolled));
    }
    totp_rows::confirm(conn, user)?;
    let codes = recovery::generate();
    let hashes: Vec<String> = codes.iter().map(|c| recovery::hash(c)).collect();
    recovery_codes::replace(conn, user, &hashes)?;
    audit::record(
        conn,
        &actor.event(AuditAction::TwoFactorEnrolled).target(user),
    )?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::SignIn)
            .target(user)
            .detail("authenticator enrolment"),
    )?;
    Ok(Decision::Done(Enrolment::Confirmed {
        recovery_codes: codes,
    }))
}

/// Records the sign-out of the session's person (signed in, or half-way through).
pub fn sign_out(conn: &mut PgConnection, actor: &Actor, user: UserId) -> AppResult<()> {
    audit::record(
        conn,
        &actor.event(AuditAction::SignOut).actor(user).target(user),
    )?;
    Ok(())
}
