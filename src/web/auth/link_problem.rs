//! The page a dead link shows: it says why (expired, already used, not valid) and what to do.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use crate::auth::TypedSession;
use crate::db::models::tokens::TokenState;
use crate::error::AppResult;
use crate::web::layout::Layout;

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
pub fn render(session: &TypedSession, state: TokenState, kind: &str) -> AppResult<HttpResponse> {
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
