//! `/verify/{token}`: GET shows a page with a button (mail scanners follow links and must not
//! use them up); POST confirms the address (`services::sign_up::confirm_address`). The page
//! always asks for the password (field `password`): the one chosen at sign-up or a new one, or
//! a first one where an administrator made the account. Whoever holds the mailbox sets it, so
//! a stranger who signed up first with this address never keeps a way in.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::link_problem::{answer, owner_page, OwnerPage};
use crate::db::models::users::User;
use crate::domain::TokenPurpose;
use crate::error::AppResult;
use crate::services::sign_up;
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
    /// Signed up with a password already (the hint says it may be typed again).
    has_password: bool,
}

impl OwnerPage for VerifyPage {
    const PURPOSE: TokenPurpose = TokenPurpose::VerifyEmail;

    fn new(layout: Layout, errors: FormErrors, owner: User) -> Self {
        Self {
            layout,
            errors,
            has_password: owner.password_hash.is_some(),
            email: owner.email,
        }
    }
}

pub async fn verify_form(visitor: Visitor, token: web::Path<String>) -> AppResult<HttpResponse> {
    owner_page::<VerifyPage>(&visitor, token.into_inner(), FormErrors::default()).await
}

pub async fn verify(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<VerifyForm>,
) -> AppResult<HttpResponse> {
    let (token, password) = (token.into_inner(), form.into_inner().password);
    let link_token = token.clone();
    let _turn = visitor.state.hashing.admit().await?;
    let link = visitor
        .change(move |conn, actor| sign_up::confirm_address(conn, actor, &link_token, &password))
        .await?;
    let flash = "Your email address is confirmed. Sign in to continue.";
    answer::<VerifyPage>(&visitor, token, link, flash).await
}
