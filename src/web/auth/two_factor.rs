//! `/login/two-factor`: the authenticator code (or a recovery code) after the password. A code
//! is accepted only for a time step later than the last one accepted for this user, recorded by
//! a conditional UPDATE in the transaction that signs in: a replayed code fails, and of two
//! parallel requests with one code, one wins.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::after_sign_in;
use crate::auth::guards::PendingUser;
use crate::auth::{recovery, throttle, totp, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{recovery_codes, totp as totp_rows};
use crate::domain::UserId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
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

pub async fn two_factor_form(
    session: TypedSession,
    state: web::Data<AppState>,
    pending: PendingUser,
) -> AppResult<HttpResponse> {
    let user = pending.user.id;
    if !crate::db::run(&state.pool, move |conn| {
        Ok(totp_rows::is_enrolled(conn, user)?)
    })
    .await?
    {
        return Ok(crate::web::see_other("/account/two-factor/setup"));
    }
    crate::web::render(&TwoFactorPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
    })
}

/// How the second factor was proved, for the audit trail.
enum Proof {
    AuthenticatorCode,
    RecoveryCode { remaining: i64 },
}

/// Checks the code and, when it is good, records its use; all in the caller's transaction.
fn accept(conn: &mut diesel::PgConnection, user: UserId, code: &str) -> AppResult<Option<Proof>> {
    if totp::looks_like_code(code) {
        let Some(enrolment) = totp_rows::find(conn, user)?.filter(|t| t.confirmed_at.is_some())
        else {
            return Ok(None);
        };
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(step) = totp::matching_step(&enrolment.secret, &digits, totp::current_step())
        else {
            return Ok(None);
        };
        Ok(totp_rows::accept_step(conn, user, step)?.then_some(Proof::AuthenticatorCode))
    } else if recovery_codes::consume(conn, user, &recovery::hash(code))? {
        let remaining = recovery_codes::remaining(conn, user)?;
        Ok(Some(Proof::RecoveryCode { remaining }))
    } else {
        Ok(None)
    }
}

pub async fn check_code(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    pending: PendingUser,
    form: web::Form<CodeForm>,
) -> AppResult<HttpResponse> {
    let user = pending.user.id;
    let ip = crate::web::client_ip(&req);
    let key = throttle::code_key(user);
    let refuse = |status: StatusCode, message: &str| -> AppResult<HttpResponse> {
        let mut errors = FormErrors::default();
        errors.add("code", message);
        crate::web::render_with(
            status,
            &TwoFactorPage {
                layout: Layout::anonymous(&session)?,
                errors,
            },
        )
    };

    let verdict = {
        let (key, ip) = (key.clone(), ip.clone());
        crate::db::run(&state.pool, move |conn| throttle::check(conn, &key, &ip)).await?
    };
    if let Some(message) = throttle::message(verdict) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &message);
    }
    if form.code.trim().is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the 6-digit code from your authenticator app",
        );
    }

    let code = form.code.clone();
    let (tx_key, tx_ip) = (key.clone(), ip.clone());
    let proof = crate::db::transaction(&state.pool, move |conn| {
        let proof = accept(conn, user, &code)?;
        if let Some(proof) = &proof {
            throttle::record_success(conn, &tx_key)?;
            let how = match proof {
                Proof::AuthenticatorCode => "authenticator code".to_string(),
                Proof::RecoveryCode { remaining } => format!("recovery code ({remaining} left)"),
            };
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::SignIn, Some(tx_ip))
                    .actor(user)
                    .target(user)
                    .detail(how),
            )?;
        }
        Ok(proof)
    })
    .await?;

    let Some(proof) = proof else {
        crate::db::transaction(&state.pool, move |conn| {
            throttle::record_failure(conn, &key, &ip)?;
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::TwoFactorFailed, Some(ip)).target(user),
            )?;
            Ok(())
        })
        .await?;
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter a correct code. Each code works once: wait for the next one to appear in your app",
        );
    };

    let next = session.complete_sign_in(user)?;
    if let Proof::RecoveryCode { remaining } = proof {
        session.set_flash(&format!(
            "You signed in with a recovery code. You have {remaining} recovery code{} left.",
            if remaining == 1 { "" } else { "s" }
        ))?;
    }
    Ok(crate::web::see_other(&after_sign_in(next)))
}
