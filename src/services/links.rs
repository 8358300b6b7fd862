//! Links that carry a one-time token (confirm an address, reset a password, first-run setup):
//! looked up without being used, with guessing throttled per address, then used once.

use diesel::PgConnection;

use super::sign_in::address;
use super::Actor;
use crate::auth::throttle;
use crate::db::models::tokens::{self, OneTimeToken, TokenState};
use crate::db::models::users::{self, User};
use crate::domain::{token::sha256_hex, TokenPurpose};
use crate::error::AppResult;

/// Why a link's page cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Dead(TokenState),
    /// This address guessed too many links.
    Throttled,
}

/// A link looked up: live, with what it leads to, or why not. Not a `Decision`: an unknown
/// token counts against the address, and that count must stay when the link is dead.
#[derive(Debug)]
pub enum Link<T> {
    Live(T),
    Problem(LinkProblem),
}

impl<T> Link<T> {
    /// Goes on with what a live link leads to; a dead link stays dead.
    pub fn and_then<U>(self, next: impl FnOnce(T) -> AppResult<Link<U>>) -> AppResult<Link<U>> {
        match self {
            Link::Live(value) => next(value),
            Link::Problem(problem) => Ok(Link::Problem(problem)),
        }
    }
}

/// The token while its link is live. An unknown token counts as a failure for the address.
pub fn live(
    conn: &mut PgConnection,
    actor: &Actor,
    purpose: TokenPurpose,
    token: &str,
) -> AppResult<Link<OneTimeToken>> {
    let ip = address(actor);
    if throttle::check_address(conn, ip)? != throttle::Verdict::Allowed {
        return Ok(Link::Problem(LinkProblem::Throttled));
    }
    Ok(match tokens::find(conn, purpose, &sha256_hex(token))? {
        None => {
            throttle::record_link_guess(conn, ip)?;
            Link::Problem(LinkProblem::Dead(TokenState::Unknown))
        }
        Some(found) if found.state() == TokenState::Valid => Link::Live(found),
        Some(found) => Link::Problem(LinkProblem::Dead(found.state())),
    })
}

/// The account a live link belongs to.
pub fn owner(
    conn: &mut PgConnection,
    actor: &Actor,
    purpose: TokenPurpose,
    token: &str,
) -> AppResult<Link<User>> {
    live(conn, actor, purpose, token)?.and_then(|found| match found.user_id {
        Some(owner) => Ok(Link::Live(users::find(conn, owner)?)),
        None => Ok(Link::Problem(LinkProblem::Dead(TokenState::Unknown))),
    })
}

/// Uses a live link up, in one conditional statement: of two requests with one link, one wins,
/// and the other hears that it was already used.
pub fn use_up(
    conn: &mut PgConnection,
    purpose: TokenPurpose,
    token: &str,
) -> AppResult<Link<OneTimeToken>> {
    Ok(match tokens::consume(conn, purpose, &sha256_hex(token))? {
        Some(used) => Link::Live(used),
        None => Link::Problem(LinkProblem::Dead(TokenState::Used)),
    })
}
