//! Links that carry a token: looking the token up for its page (without using it up), with
//! guessing throttled per address, and the page a dead link shows: it says why (expired,
//! already used, not valid) and what to do.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use crate::auth::{throttle, TypedSession};
use crate::db::models::tokens::{self, OneTimeToken, TokenState};
use crate::db::models::users::{self, User};
use crate::domain::{token::sha256_hex, TokenPurpose};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::layout::Layout;

/// Why a link's page cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Dead(TokenState),
    /// This address guessed too many links.
    Throttled,
}

/// The token while its link is live. An unknown token counts as a failure for the address.
pub async fn live_token(
    state: &AppState,
    purpose: TokenPurpose,
    token: &str,
    ip: &str,
) -> AppResult<Result<OneTimeToken, LinkProblem>> {
    let (hash, ip) = (sha256_hex(token), ip.to_string());
    crate::db::transaction(&state.pool, move |conn| {
        if throttle::check_address(conn, &ip)? != throttle::Verdict::Allowed {
            return Ok(Err(LinkProblem::Throttled));
        }
        match tokens::find(conn, purpose, &hash)? {
            None => {
                throttle::record_address_failure(conn, &ip)?;
                Ok(Err(LinkProblem::Dead(TokenState::Unknown)))
            }
            Some(found) if found.state() == TokenState::Valid => Ok(Ok(found)),
            Some(found) => Ok(Err(LinkProblem::Dead(found.state()))),
        }
    })
    .await
}

/// The account a live link belongs to.
pub async fn live_token_owner(
    state: &AppState,
    purpose: TokenPurpose,
    token: &str,
    ip: &str,
) -> AppResult<Result<User, LinkProblem>> {
    let found = match live_token(state, purpose, token, ip).await? {
        Ok(found) => found,
        Err(problem) => return Ok(Err(problem)),
    };
    let Some(owner) = found.user_id else {
        return Ok(Err(LinkProblem::Dead(TokenState::Unknown)));
    };
    let user = crate::db::run(&state.pool, move |conn| Ok(users::find(conn, owner)?)).await?;
    Ok(Ok(user))
}

#[derive(Template)]
#[template(path = "auth/link_problem.html")]
struct LinkProblemPage {
    layout: Layout,
    heading: &'static str,
    explanation: &'static str,
    next_step: &'static str,
    next_href: &'static str,
}

/// `kind` is what the link was for: "verify", "reset" or "setup".
pub fn render(session: &TypedSession, problem: LinkProblem, kind: &str) -> AppResult<HttpResponse> {
    let state = match problem {
        LinkProblem::Throttled => {
            let page = LinkProblemPage {
                layout: Layout::anonymous(session)?,
                heading: "Too many attempts",
                explanation: "Too many links that do not work were tried from your network. Wait a few minutes and try again.",
                next_step: "Go to sign in",
                next_href: "/login",
            };
            return crate::web::render_with(StatusCode::TOO_MANY_REQUESTS, &page);
        }
        LinkProblem::Dead(state) => state,
    };
    let (heading, explanation) = match state {
        TokenState::Expired => (
            "This link has expired",
            "For your security, links in our emails only work for a limited time.",
        ),
        TokenState::Used => (
            "This link has already been used",
            "Each link in our emails works once only.",
        ),
        TokenState::Unknown | TokenState::Valid => (
            "This link is not valid",
            "Check you copied the whole link from the email. If a newer email was sent, only its link works.",
        ),
    };
    let (next_step, next_href) = match (kind, state) {
        ("verify", TokenState::Used) => ("Sign in", "/login"),
        ("verify", _) => (
            "Sign in to get a new confirmation email, or ask your trust administrator to resend it",
            "/login",
        ),
        ("reset", _) => ("Ask for a new password reset link", "/password/forgot"),
        _ => ("Go to sign in", "/login"),
    };
    let page = LinkProblemPage {
        layout: Layout::anonymous(session)?,
        heading,
        explanation,
        next_step,
        next_href,
    };
    crate::web::render_with(StatusCode::GONE, &page)
}
