//! `/verify/{token}`: GET shows a page with a button (mail scanners follow links and must not
//! use them up); POST confirms the address (`services::sign_up::confirm_address`). Where the
//! account has no password yet (created by an administrator) the same page asks for one.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::link_problem;
use crate::domain::TokenPurpose;
use crate::error::AppResult;
use crate::services::links::Link;
use crate::services::{sign_up, Decision};
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyForm {
    password: String,
}

#[derive(Template)]
#[template(path = "auth/verify.html")]
struct VerifyPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
    needs_password: bool,
}

/// The page for a live link (with the password's error, if any), or why the link is dead.
async fn render(visitor: &Visitor, token: String, errors: FormErrors) -> AppResult<HttpResponse> {
    let purpose = TokenPurpose::VerifyEmail;
    link_problem::owner_page(visitor, purpose, token, errors, |layout, errors, owner| {
        VerifyPage {
            layout,
            errors,
            needs_password: owner.password_hash.is_none(),
            email: owner.email,
        }
    })
    .await
}

pub async fn verify_form(visitor: Visitor, token: web::Path<String>) -> AppResult<HttpResponse> {
    render(&visitor, token.into_inner(), FormErrors::default()).await
}

pub async fn verify(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<VerifyForm>,
) -> AppResult<HttpResponse> {
    let (token, password) = (token.into_inner(), form.into_inner().password);
    let link_token = token.clone();
    let link = visitor
        .change(move |conn, actor| sign_up::confirm_address(conn, actor, &link_token, &password))
        .await?;
    match link {
        Link::Live(Decision::Done(())) => visitor.done(
            "Your email address is confirmed. Sign in to continue.",
            "/login",
        ),
        Link::Live(Decision::Refused(reason)) => {
            let mut errors = FormErrors::default();
            errors.add("password", reason);
            render(&visitor, token, errors).await
        }
        Link::Problem(problem) => {
            link_problem::render(&visitor.session, problem, TokenPurpose::VerifyEmail)
        }
    }
}
