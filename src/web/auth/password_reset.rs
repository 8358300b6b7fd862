//! `/password/forgot` and `/password/reset/{token}` (`services::passwords`). The forgot page
//! answers the same whether or not the address has an account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::link_problem::{answer, owner_page, OwnerPage};
use crate::auth::TypedSession;
use crate::db::models::users::User;
use crate::domain::{EmailAddress, TokenPurpose};
use crate::error::AppResult;
use crate::services::passwords;
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

#[derive(Template)]
#[template(path = "auth/password_forgot.html")]
struct ForgotPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/password_reset.html")]
struct ResetPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    heading: &'static str,
    explanation: &'static str,
}

pub async fn forgot_form(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&ForgotPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
        email: String::new(),
    })
}

pub async fn send_reset_link(
    visitor: Visitor,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let (status, error) = match EmailAddress::parse(&form.email) {
        Ok(email) => {
            let base_url = visitor.base_url();
            let refused = visitor
                .change(move |conn, actor| passwords::request_reset(conn, actor, &base_url, &email))
                .await?;
            match refused {
                None => return Ok(crate::web::see_other("/password/forgot/check-email")),
                Some(why) => (StatusCode::TOO_MANY_REQUESTS, why),
            }
        }
        Err(why) => (StatusCode::UNPROCESSABLE_ENTITY, why.0),
    };
    let mut errors = FormErrors::default();
    errors.add("email", error);
    crate::web::render_with(
        status,
        &ForgotPage {
            layout: Layout::anonymous(&visitor.session)?,
            errors,
            email: form.email,
        },
    )
}

pub async fn check_email_page(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&CheckEmailPage {
        layout: Layout::anonymous(&session)?,
        heading: "Check your email",
        explanation: "If the address you entered has a Staffroom account, we have sent it a link to choose a new password. The link works for 1 hour.",
    })
}

impl OwnerPage for ResetPage {
    const PURPOSE: TokenPurpose = TokenPurpose::ResetPassword;

    fn new(layout: Layout, errors: FormErrors, owner: User) -> Self {
        Self {
            layout,
            errors,
            email: owner.email,
        }
    }
}

pub async fn reset_form(visitor: Visitor, token: web::Path<String>) -> AppResult<HttpResponse> {
    owner_page::<ResetPage>(&visitor, token.into_inner(), FormErrors::default()).await
}

pub async fn reset(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<ResetForm>,
) -> AppResult<HttpResponse> {
    let (token, password) = (token.into_inner(), form.into_inner().password);
    let (base_url, link_token) = (visitor.base_url(), token.clone());
    let _turn = visitor.state.hashing.admit().await?;
    let link = visitor
        .change(move |conn, actor| passwords::reset(conn, actor, &base_url, &link_token, &password))
        .await?;
    let flash = "Your password has been changed. Sign in with your new password.";
    answer::<ResetPage>(&visitor, token, link, flash).await
}
