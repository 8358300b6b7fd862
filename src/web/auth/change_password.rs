//! `/account/password`: a signed-in person changes their password with the current one
//! (`services::passwords::change`). This browser stays signed in, on a fresh session.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::DomainError;
use crate::error::AppResult;
use crate::services::passwords::{self, PasswordChange};
use crate::services::sign_in::Attempt;
use crate::services::Actor;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangePasswordForm {
    current_password: String,
    password: String,
}

#[derive(Template)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage {
    layout: Layout,
    errors: FormErrors,
}

/// The form, with its errors; the typed passwords are never sent back.
async fn render(
    signed: &Signed,
    status: StatusCode,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let page = signed.page(|_, _| Ok(())).await?;
    crate::web::render_with(
        status,
        &ChangePasswordPage {
            layout: page.layout,
            errors,
        },
    )
}

pub async fn change_password_form(signed: Signed) -> AppResult<HttpResponse> {
    render(&signed, StatusCode::OK, FormErrors::default()).await
}

pub async fn change_password(
    signed: Signed,
    form: web::Form<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let unchanged = form.password == form.current_password;
    let (ip, base_url) = (signed.ip.clone(), signed.base_url());
    let _turn = signed.state.hashing.admit().await?;
    let (attempt, refused) = signed
        .change(move |conn, user| {
            // The rules refuse a password holding the account's names, known only here.
            let (new, refused) = match passwords::parse_for(user, &form.password) {
                Ok(new) => (Some(new).filter(|_| !unchanged), None),
                Err(why) => (None, Some(why)),
            };
            let change = PasswordChange {
                current: SecretString::from(form.current_password),
                new,
            };
            let attempt = passwords::change(conn, &Actor::person(user, &ip), &base_url, &change)?;
            Ok((attempt, refused))
        })
        .await?;
    let (status, errors) = refusals(attempt, refused, unchanged);
    if !errors.is_empty() {
        return render(&signed, status, errors).await;
    }
    // A new session id, saved as a new row when the response goes out: after the change
    // ended every session of the account.
    signed.session.complete_sign_in(signed.id())?;
    signed.done(
        "Your password has been changed. Other devices have been signed out.",
        "/",
    )
}

/// Why the password was not changed, beside each field; none when it was.
fn refusals(
    attempt: Attempt<()>,
    new_refused: Option<DomainError>,
    unchanged: bool,
) -> (StatusCode, FormErrors) {
    let mut errors = FormErrors::default();
    match attempt {
        Attempt::Throttled(wait) => {
            errors.add("current_password", wait);
            return (StatusCode::TOO_MANY_REQUESTS, errors);
        }
        Attempt::Failed => errors.add("current_password", "Enter your current password correctly"),
        Attempt::Passed(()) if unchanged && new_refused.is_none() => errors.add(
            "password",
            "Your new password must be different from your current one",
        ),
        Attempt::Passed(()) => {}
    }
    if let Some(why) = new_refused {
        errors.add("password", why.0);
    }
    (StatusCode::UNPROCESSABLE_ENTITY, errors)
}
