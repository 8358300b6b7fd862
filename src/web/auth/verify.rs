//! `/verify/{token}`: GET shows a page with a button (mail scanners follow links and must not
//! use them up); POST consumes the token. Where the account has no password yet (created by an
//! administrator) the same page asks for one. The link never signs anyone in.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::link_problem::{self, live_token_owner, LinkProblem};
use crate::auth::{password, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::tokens::{self, TokenState};
use crate::db::models::users;
use crate::domain::{token::sha256_hex, Password, TokenPurpose};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::forms::FormErrors;
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

pub async fn verify_form(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    match live_token_owner(
        &state,
        TokenPurpose::VerifyEmail,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        Ok(user) => crate::web::render(&VerifyPage {
            layout: Layout::anonymous(&session)?,
            errors: FormErrors::default(),
            needs_password: user.password_hash.is_none(),
            email: user.email,
        }),
        Err(problem) => link_problem::render(&session, problem, "verify"),
    }
}

pub async fn verify(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<VerifyForm>,
) -> AppResult<HttpResponse> {
    let user = match live_token_owner(
        &state,
        TokenPurpose::VerifyEmail,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        Ok(user) => user,
        Err(problem) => return link_problem::render(&session, problem, "verify"),
    };
    // Check the chosen password before using the link up, so a refused one costs nothing.
    let new_hash = if user.password_hash.is_none() {
        let parsed = Password::parse(
            &form.password,
            &[&user.first_name, &user.surname, &user.email],
        );
        match parsed {
            Ok(password) => Some(password::hash(password).await?),
            Err(e) => {
                let mut errors = FormErrors::default();
                errors.add("password", e.0);
                return crate::web::render_with(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &VerifyPage {
                        layout: Layout::anonymous(&session)?,
                        errors,
                        email: user.email,
                        needs_password: true,
                    },
                );
            }
        }
    } else {
        None
    };
    let hash = sha256_hex(&token);
    let ip = crate::web::client_ip(&req);
    let consumed = crate::db::transaction(&state.pool, move |conn| {
        let Some(used) = tokens::consume(conn, TokenPurpose::VerifyEmail, &hash)? else {
            return Ok(false);
        };
        let owner = used.user_id.ok_or(AppError::NotFound)?;
        users::mark_verified(conn, owner)?;
        if let Some(new_hash) = &new_hash {
            users::set_password_hash(conn, owner, new_hash)?;
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::PasswordSet, Some(ip.clone()))
                    .actor(owner)
                    .target(owner),
            )?;
        }
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::EmailVerified, Some(ip))
                .actor(owner)
                .target(owner),
        )?;
        Ok(true)
    })
    .await?;
    if !consumed {
        // Another request used the link between our look and our update.
        return link_problem::render(&session, LinkProblem::Dead(TokenState::Used), "verify");
    }
    session.set_flash("Your email address is confirmed. Sign in to continue.")?;
    Ok(crate::web::see_other("/login"))
}
