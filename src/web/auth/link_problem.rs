//! The pages of links that carry a token (`services::links`): the page for a live link's
//! account and what its form came to, and the page a link that does not work shows, saying why
//! (expired, already used, not valid, too many guesses) and what to do.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use crate::auth::TypedSession;
use crate::db::models::tokens::TokenState;
use crate::db::models::users::User;
use crate::domain::TokenPurpose;
use crate::error::AppResult;
use crate::services::links::{self, Link, LinkProblem};
use crate::services::Decision;
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
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

/// The page of a link that leads to an account (confirm the address, reset the password).
pub trait OwnerPage: Template {
    const PURPOSE: TokenPurpose;

    fn new(layout: Layout, errors: FormErrors, owner: User) -> Self;
}

/// The page for the account a live link belongs to (with the password's error, if any), or
/// the page saying why the link is dead.
pub async fn owner_page<P: OwnerPage>(
    visitor: &Visitor,
    token: String,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let link = visitor
        .change(move |conn, actor| links::owner(conn, actor, P::PURPOSE, &token))
        .await?;
    match link {
        Link::Live(owner) => crate::web::render_with(
            errors.status(),
            &P::new(Layout::anonymous(&visitor.session)?, errors, owner),
        ),
        Link::Problem(problem) => render(&visitor.session, problem, P::PURPOSE),
    }
}

/// What the page's form came to: done (on to sign in, saying `flash`), the password refused
/// (the page again, the reason beside it), or why the link is dead.
pub async fn answer<P: OwnerPage>(
    visitor: &Visitor,
    token: String,
    link: Link<Decision<()>>,
    flash: &str,
) -> AppResult<HttpResponse> {
    match link {
        Link::Live(Decision::Done(())) => visitor.done(flash, "/login"),
        Link::Live(Decision::Refused(reason)) => {
            let mut errors = FormErrors::default();
            errors.add("password", reason);
            owner_page::<P>(visitor, token, errors).await
        }
        Link::Problem(problem) => render(&visitor.session, problem, P::PURPOSE),
    }
}

/// Why the link for `purpose` does not work, and what to do instead.
pub fn render(
    session: &TypedSession,
    problem: LinkProblem,
    purpose: TokenPurpose,
) -> AppResult<HttpResponse> {
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
    let (next_step, next_href) = match (purpose, state) {
        (TokenPurpose::VerifyEmail, TokenState::Used) => ("Sign in", "/login"),
        (TokenPurpose::VerifyEmail, _) => (
            "Sign in to get a new confirmation email, or ask your trust administrator to resend it",
            "/login",
        ),
        (TokenPurpose::ResetPassword, _) => {
            ("Ask for a new password reset link", "/password/forgot")
        }
        (TokenPurpose::Setup, _) => ("Go to sign in", "/login"),
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
