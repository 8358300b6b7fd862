//! Throttling of sign-in, code and token attempts, per account and per address. The counters
//! live in PostgreSQL (see `db::models::throttles`) so that the limit holds across servers.
//!
//! An account's (or a code's) attempt is counted before it is checked (`attempt`), in the
//! attempt's own transaction: parallel guesses take turns on the counter's row, so fifty at once
//! are fifty attempts and only the free ones are checked. The address's counter is read and
//! bumped after a failure instead: it is shared by everyone behind one NAT, and holding its row
//! through a password hash would make a whole trust's sign-ins queue behind each other.
//!
//! What a signed-out visitor can make the server do (hash a password, send an email) is
//! counted before it is done, in windows of an hour: per client address (`visit`, sized for a
//! trust's NAT) and per recipient (`mail_allowed`, a few an hour). The counter is read and the
//! use reserved in one statement, so parallel requests cannot all slip under the limit.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;

use crate::db::models::throttles::{self, Throttle};
use crate::error::AppResult;

/// Failures allowed before waiting starts, then 30 s, doubling, at most 15 minutes.
const FREE_FAILURES_PER_ACCOUNT: i32 = 5;
/// Sized for a trust's NAT, where thousands of staff share one address: a few hundred typos an
/// hour from everyone together are normal; a guesser is still held to a trickle.
const FREE_FAILURES_PER_ADDRESS: i32 = 200;
/// Guessed links (unknown tokens) per address: a real link is never "mistyped" fifty times.
const FREE_LINK_GUESSES_PER_ADDRESS: i32 = 50;
/// Consecutive failures after which only a password reset opens the account again.
pub const ACCOUNT_LOCK_FAILURES: i32 = 100;
/// An address's failures are forgotten after an hour without one.
const ADDRESS_MEMORY: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    WaitUntil(DateTime<Utc>),
    /// Too many consecutive failures: a password reset is needed.
    Locked,
}

/// The key for an account: by the address typed, so unknown addresses are throttled the same
/// way as real ones (no account enumeration through throttling).
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

pub fn code_key(user: crate::domain::UserId) -> String {
    format!("code:{user}")
}

/// An address's sign-in failures, IPv6 by its /64 (one device or household gets a whole /64).
pub fn address_key(address: &str) -> String {
    format!("address:{}", network(address))
}

/// An address's guessed links: a bucket of its own, so that scanning links cannot lock
/// everyone behind the same NAT out of signing in.
fn link_key(address: &str) -> String {
    format!("link:{}", network(address))
}

fn network(address: &str) -> String {
    address.parse().map_or_else(
        |_| address.to_string(),
        crate::domain::client_address::throttle_key,
    )
}

fn wait_after(failures: i32, free: i32) -> Option<Duration> {
    if failures < free {
        return None;
    }
    let doublings = (failures - free).min(5) as u32;
    Some(Duration::seconds(30 * 2i64.pow(doublings)).min(Duration::minutes(15)))
}

fn verdict_for(throttle: Option<Throttle>, free: i32, lockable: bool) -> Verdict {
    let Some(t) = throttle else {
        return Verdict::Allowed;
    };
    if lockable && t.failures >= ACCOUNT_LOCK_FAILURES {
        return Verdict::Locked;
    }
    if !lockable && t.last_failure_at < Utc::now() - ADDRESS_MEMORY {
        return Verdict::Allowed;
    }
    match wait_after(t.failures, free) {
        Some(wait) if t.last_failure_at + wait > Utc::now() => {
            Verdict::WaitUntil(t.last_failure_at + wait)
        }
        _ => Verdict::Allowed,
    }
}

/// Counts this attempt against the account (or code), then gives the stricter of the account's
/// and the address's verdicts. An attempt refused here is not counted; one that goes on counts
/// as a failure until `record_success` clears the run.
pub fn attempt(conn: &mut PgConnection, account: &str, address: &str) -> AppResult<Verdict> {
    let reserved = throttles::reserve(conn, account)?;
    // The verdict the account had before this attempt, from the count this attempt just read.
    let before = Throttle {
        key: account.to_string(),
        failures: reserved.failures - 1,
        last_failure_at: reserved.previous,
    };
    let mut verdict = verdict_for(Some(before), FREE_FAILURES_PER_ACCOUNT, true);
    if verdict == Verdict::Allowed {
        verdict = verdict_for(
            throttles::find(conn, &address_key(address))?,
            FREE_FAILURES_PER_ADDRESS,
            false,
        );
    }
    if verdict != Verdict::Allowed {
        throttles::release(conn, account, reserved.previous)?;
    }
    Ok(verdict)
}

/// The verdict on guessing links from this address (there is no account to count against).
pub fn check_address(conn: &mut PgConnection, address: &str) -> AppResult<Verdict> {
    Ok(verdict_for(
        throttles::find(conn, &link_key(address))?,
        FREE_LINK_GUESSES_PER_ADDRESS,
        false,
    ))
}

/// An unknown token was tried from this address.
pub fn record_link_guess(conn: &mut PgConnection, address: &str) -> AppResult<()> {
    forget_or_count(conn, &link_key(address))
}

/// A checked attempt failed: the account's count already holds it (`attempt`); the address's
/// is bumped now.
pub fn record_failure(conn: &mut PgConnection, address: &str) -> AppResult<()> {
    record_address_failure(conn, address)
}

fn record_address_failure(conn: &mut PgConnection, address: &str) -> AppResult<()> {
    forget_or_count(conn, &address_key(address))
}

/// Counts a failure under an address's key, forgetting failures older than an hour first.
fn forget_or_count(conn: &mut PgConnection, key: &str) -> AppResult<()> {
    if let Some(t) = throttles::find(conn, key)? {
        if t.last_failure_at < Utc::now() - ADDRESS_MEMORY {
            throttles::clear(conn, key)?;
        }
    }
    throttles::record_failure(conn, key)?;
    Ok(())
}

/// A success ends the account's run of consecutive failures, this attempt's reservation
/// included (not the address's).
pub fn record_success(conn: &mut PgConnection, account: &str) -> AppResult<()> {
    throttles::clear(conn, account)?;
    Ok(())
}

// ---------------------------------------------------------------- what signed-out visitors cause

/// The window the signed-out counts are kept for.
const VISIT_WINDOW_SECONDS: i64 = 3600;
/// Emails of one kind that signed-out visitors may cause to one recipient in an hour: enough
/// for a person who asks again because the first one is slow, not for mail bombing.
pub const MAILS_PER_RECIPIENT_PER_HOUR: i32 = 3;

/// Work a signed-out visitor can cause, counted per client address (IPv6 by its /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Creating an account: an argon2 hash and an email.
    SignUp,
    /// Asking for a password reset link.
    PasswordReset,
    /// "Ask for a new invitation" on a dead invitation link: emails the workspace's admins.
    NewInvitation,
}

impl Visit {
    /// Per client address and hour. A trust's NAT puts thousands of staff behind one address,
    /// and a roll-out brings hundreds of sign-ups an hour from it; one address is still held
    /// to a few hashes a minute, and each recipient to `MAILS_PER_RECIPIENT_PER_HOUR`.
    pub const fn per_hour(self) -> i32 {
        match self {
            Visit::SignUp => 300,
            Visit::PasswordReset => 300,
            Visit::NewInvitation => 60,
        }
    }

    fn key(self, address: &str) -> String {
        let kind = match self {
            Visit::SignUp => "sign-up",
            Visit::PasswordReset => "reset-request",
            Visit::NewInvitation => "invitation-request",
        };
        format!("{kind}:{}", network(address))
    }

    fn refusal(self) -> &'static str {
        match self {
            Visit::SignUp => "Too many accounts have been created from your network in the last hour. Try again later",
            Visit::PasswordReset => "Too many password resets have been asked for from your network in the last hour. Try again later",
            Visit::NewInvitation => "Too many new invitations have been asked for from your network in the last hour. Try again later",
        }
    }
}

/// The kinds of email a signed-out visitor can cause, each counted per recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mail {
    /// About an account's address: the confirmation link (after a sign-up, or a sign-in to an
    /// unconfirmed account) or "you already have an account".
    Account,
    PasswordReset,
    /// To a workspace admin: someone asks for a new invitation.
    NewInvitationAsked,
}

impl Mail {
    fn key(self, recipient: &str) -> String {
        let kind = match self {
            Mail::Account => "account",
            Mail::PasswordReset => "reset",
            Mail::NewInvitationAsked => "invitation-asked",
        };
        format!("mail-{kind}:{}", recipient.trim().to_lowercase())
    }
}

/// Counts this visit against the client's address before the work is done: `None` when it may
/// go ahead, or what to tell the visitor (it says nothing about any account: the count is the
/// visitor's own network's). A refused visit still counts, so hammering does not help.
pub fn visit(conn: &mut PgConnection, visit: Visit, address: &str) -> AppResult<Option<String>> {
    let count = throttles::count_in_window(conn, &visit.key(address), VISIT_WINDOW_SECONDS)?;
    Ok((count > visit.per_hour()).then(|| visit.refusal().to_string()))
}

/// Counts an email of this kind to `recipient` before it is written: false when the
/// recipient already had their few this hour, and the email is then not sent. Callers count
/// whatever the address was typed for, account or not, so that the count reveals nothing.
pub fn mail_allowed(conn: &mut PgConnection, mail: Mail, recipient: &str) -> AppResult<bool> {
    let count = throttles::count_in_window(conn, &mail.key(recipient), VISIT_WINDOW_SECONDS)?;
    Ok(count <= MAILS_PER_RECIPIENT_PER_HOUR)
}

/// What to tell the person, the same whether or not the account exists.
pub fn message(verdict: Verdict) -> Option<String> {
    match verdict {
        Verdict::Allowed => None,
        Verdict::WaitUntil(until) => {
            let minutes = ((until - Utc::now()).num_seconds() as f64 / 60.0)
                .ceil()
                .max(1.0);
            Some(format!(
                "Too many attempts. Wait {minutes} minute{} and try again, or reset your password",
                if minutes == 1.0 { "" } else { "s" }
            ))
        }
        Verdict::Locked => {
            Some("Too many attempts. Reset your password to sign in again".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(failures: i32, seconds_ago: i64) -> Option<Throttle> {
        Some(Throttle {
            key: "k".into(),
            failures,
            last_failure_at: Utc::now() - Duration::seconds(seconds_ago),
        })
    }

    #[test]
    fn a_few_failures_are_free_then_waiting_starts_and_doubles() {
        assert_eq!(verdict_for(throttle(4, 0), 5, true), Verdict::Allowed);
        assert!(matches!(
            verdict_for(throttle(5, 0), 5, true),
            Verdict::WaitUntil(_)
        ));
        assert_eq!(verdict_for(throttle(5, 31), 5, true), Verdict::Allowed);
        assert!(matches!(
            verdict_for(throttle(6, 31), 5, true),
            Verdict::WaitUntil(_)
        ));
    }

    #[test]
    fn a_hundred_failures_lock_the_account_until_a_reset() {
        assert_eq!(verdict_for(throttle(100, 86_400), 5, true), Verdict::Locked);
    }
}
