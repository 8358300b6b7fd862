//! `/password/forgot` and `/password/reset/{token}`. The forgot page answers the same whether or
//! not the address has an account. A reset ends every session of the account, clears its
//! failed sign-ins, and tells the owner by email.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::link_problem::{self, live_token_owner, LinkProblem};
use crate::auth::{password, throttle, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::sessions;
use crate::db::models::tokens::{self, TokenState};
use crate::db::models::users::{self, User};
use crate::domain::{token::sha256_hex, EmailAddress, Password, Token, TokenPurpose};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};
use crate::state::AppState;
use crate::web::forms::FormErrors;
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

const RESET_LINK_LIFETIME_HOURS: i64 = 1;

pub async fn forgot_form(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&ForgotPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
        email: String::new(),
    })
}

pub async fn send_reset_link(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => {
            let mut errors = FormErrors::default();
            errors.add("email", e.0);
            return crate::web::render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForgotPage {
                    layout: Layout::anonymous(&session)?,
                    errors,
                    email: form.email.clone(),
                },
            );
        }
    };
    let ip = crate::web::client_ip(&req);
    let base_url = state.settings.base_url.clone();
    crate::db::transaction(&state.pool, move |conn| {
        let Some(user) = users::find_by_email(conn, &email)?.filter(User::is_active) else {
            return Ok(());
        };
        let token = Token::generate();
        tokens::issue(
            conn,
            TokenPurpose::ResetPassword,
            Some(user.id),
            &token.hash(),
            chrono::Duration::hours(RESET_LINK_LIFETIME_HOURS),
        )?;
        let message = messages::ResetPassword {
            first_name: user.first_name.clone(),
            link: format!("{base_url}/password/reset/{}", token.plain()),
        };
        mail::enqueue(conn, &user.email, &message)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::PasswordResetRequested, Some(ip)).target(user.id),
        )?;
        Ok(())
    })
    .await?;
    Ok(crate::web::see_other("/password/forgot/check-email"))
}

pub async fn check_email_page(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&CheckEmailPage {
        layout: Layout::anonymous(&session)?,
        heading: "Check your email",
        explanation: "If the address you entered has a Staffroom account, we have sent it a link to choose a new password. The link works for 1 hour.",
    })
}

pub async fn reset_form(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    match live_token_owner(
        &state,
        TokenPurpose::ResetPassword,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        Ok(user) => crate::web::render(&ResetPage {
            layout: Layout::anonymous(&session)?,
            errors: FormErrors::default(),
            email: user.email,
        }),
        Err(problem) => link_problem::render(&session, problem, "reset"),
    }
}

pub async fn reset(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ResetForm>,
) -> AppResult<HttpResponse> {
    let user = match live_token_owner(
        &state,
        TokenPurpose::ResetPassword,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        Ok(user) => user,
        Err(problem) => return link_problem::render(&session, problem, "reset"),
    };
    let password = match Password::parse(
        &form.password,
        &[&user.first_name, &user.surname, &user.email],
    ) {
        Ok(password) => password,
        Err(e) => {
            let mut errors = FormErrors::default();
            errors.add("password", e.0);
            return crate::web::render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    layout: Layout::anonymous(&session)?,
                    errors,
                    email: user.email,
                },
            );
        }
    };
    let new_hash = password::hash(password).await?;
    let hash = sha256_hex(&token);
    let ip = crate::web::client_ip(&req);
    let base_url = state.settings.base_url.clone();
    let changed = crate::db::transaction(&state.pool, move |conn| {
        let Some(used) = tokens::consume(conn, TokenPurpose::ResetPassword, &hash)? else {
            return Ok(false);
        };
        let owner = users::find(conn, used.user_id.ok_or(AppError::NotFound)?)?;
        users::set_password_hash(conn, owner.id, &new_hash)?;
        // The link proved the mailbox, so the address counts as verified.
        users::mark_verified(conn, owner.id)?;
        sessions::delete_for_user(conn, owner.id)?;
        throttle::record_success(conn, &throttle::account_key(&owner.email))?;
        throttle::record_success(conn, &throttle::code_key(owner.id))?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::PasswordReset, Some(ip))
                .actor(owner.id)
                .target(owner.id),
        )?;
        let notice = messages::PasswordChanged {
            first_name: owner.first_name.clone(),
            reset_link: format!("{base_url}/password/forgot"),
        };
        mail::enqueue(conn, &owner.email, &notice)?;
        Ok(true)
    })
    .await?;
    if !changed {
        return link_problem::render(&session, LinkProblem::Dead(TokenState::Used), "reset");
    }
    session.set_flash("Your password has been changed. Sign in with your new password.")?;
    Ok(crate::web::see_other("/login"))
}
