//! `/login/two-factor`: the authenticator code (or a recovery code) after the password
//! (`services::sign_in::second_factor`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::after_sign_in;
use crate::db::models::totp;
use crate::error::AppResult;
use crate::services::sign_in::{self, Attempt, Proof};
use crate::web::forms::FormErrors;
use crate::web::guards::PendingUser;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct TwoFactorPage {
    layout: Layout,
    errors: FormErrors,
}

fn render(
    pending: &PendingUser,
    status: StatusCode,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    crate::web::render_with(
        status,
        &TwoFactorPage {
            layout: Layout::anonymous(&pending.visitor.session)?,
            errors,
        },
    )
}

pub async fn two_factor_form(pending: PendingUser) -> AppResult<HttpResponse> {
    let user = pending.user.id;
    if !pending
        .change(move |conn, _| Ok(totp::is_enrolled(conn, user)?))
        .await?
    {
        return Ok(crate::web::see_other("/account/two-factor/setup"));
    }
    render(&pending, StatusCode::OK, FormErrors::default())
}

pub async fn check_code(
    pending: PendingUser,
    form: web::Form<CodeForm>,
) -> AppResult<HttpResponse> {
    let code = form.into_inner().code;
    let blank = code.trim().is_empty();
    let attempt = pending
        .change(move |conn, actor| sign_in::second_factor(conn, actor, &code))
        .await?;
    let (status, message) = match attempt {
        Attempt::Passed(proof) => {
            let session = &pending.visitor.session;
            let next = session.complete_sign_in(pending.user.id)?;
            crate::web::sso::login::link_waiting(&pending).await?;
            if let Proof::RecoveryCode { remaining } = proof {
                session.set_flash(&format!(
                    "You signed in with a recovery code. You have {remaining} recovery code{} left.",
                    if remaining == 1 { "" } else { "s" }
                ))?;
            }
            return Ok(crate::web::see_other(&after_sign_in(next)));
        }
        Attempt::Throttled(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
        Attempt::Failed if blank => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the 6-digit code from your authenticator app".into(),
        ),
        Attempt::Failed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter a correct code. Each code works once: wait for the next one to appear in your app".into(),
        ),
    };
    let mut errors = FormErrors::default();
    errors.add("code", message);
    render(&pending, status, errors)
}
