//! The "..." menu of a person: `POST .../users/{user_id}/resend-confirmation` (a new 24-hour
//! link; the old one dies; only while the address is unconfirmed), `/deactivate` (every session
//! ends at once), `/reactivate` and `/reset-two-factor` (the next sign-in enrols a new
//! authenticator). Each is audited with the administrator's name; nobody acts on themselves.

use crate::domain::AuditAction;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::PgConnection;

use super::accounts;
use super::user::refused;
use super::user_path;
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::Organisation;
use crate::db::models::users::User;
use crate::db::models::{people, recovery_codes, sessions, tokens, totp};
use crate::domain::{OrganisationId, TokenPurpose, UserId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::guards::CurrentUser;

/// What one action does in its transaction: `Ok(flash)` or `Err(why it was refused)`.
type Action = fn(
    &mut PgConnection,
    &str,
    &Organisation,
    &User,
    &User,
    String,
) -> AppResult<Result<String, String>>;

async fn act(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
    action: Action,
) -> AppResult<HttpResponse> {
    let ((org_id, person), admin) = (path.into_inner(), current.user.clone());
    let ip = crate::web::client_ip(&req);
    let base_url = state.settings.base_url.clone();
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let (org, target) = permissions::administer_user(conn, &admin, org_id, person)?;
        action(conn, &base_url, &org, &admin, &target, ip)
    })
    .await?;
    match outcome {
        Ok(flash) => {
            session.set_flash(&flash)?;
            Ok(crate::web::see_other(&user_path(org_id, person)))
        }
        Err(message) => {
            refused(
                &session, &state, &current, org_id, person, "actions", message,
            )
            .await
        }
    }
}

/// Why an action on the whole account is refused to this organisation's administrators: the
/// account also belongs to another organisation, whose administrators it would reach too.
pub fn shared_account(
    conn: &mut diesel::PgConnection,
    org: &Organisation,
    target: &User,
) -> AppResult<Option<String>> {
    Ok(people::in_other_organisations(conn, org.id, target.id)?.then(|| {
        format!(
            "{} also belongs to another organisation, so this would change their account there too. Remove their roles here, or ask them (or the administrators of every organisation they belong to) instead",
            target.full_name()
        )
    }))
}

fn event(
    action: AuditAction,
    ip: String,
    org: &Organisation,
    admin: &User,
    target: &User,
    detail: String,
) -> NewAuditEvent {
    NewAuditEvent::new(action, Some(ip))
        .actor(admin.id)
        .target(target.id)
        .organisation(org.id)
        .detail(detail)
}

pub async fn resend_confirmation(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(
        req,
        session,
        state,
        current,
        path,
        |conn, base_url, org, admin, target, ip| {
            if target.is_verified() {
                return Ok(Err(format!(
                    "{} has already confirmed their account",
                    target.full_name()
                )));
            }
            if !target.is_active() {
                return Ok(Err(format!(
                    "{}'s account is deactivated: reactivate it first",
                    target.full_name()
                )));
            }
            accounts::send_confirmation(conn, base_url, org, target)?;
            audit::record(
                conn,
                &event(
                    AuditAction::AccountConfirmationResent,
                    ip,
                    org,
                    admin,
                    target,
                    format!(
                        "{} resent the account confirmation to {} <{}>",
                        admin.full_name(),
                        target.full_name(),
                        target.email
                    ),
                ),
            )?;
            Ok(Ok(format!(
            "We have emailed {} a new link, valid for 24 hours. The earlier link no longer works.",
            target.email
        )))
        },
    )
    .await
}

pub async fn deactivate(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(
        req,
        session,
        state,
        current,
        path,
        |conn, _, org, admin, target, ip| {
            if let Some(refusal) = shared_account(conn, org, target)? {
                return Ok(Err(refusal));
            }
            if target.id == admin.id {
                return Ok(Err("You cannot deactivate your own account".into()));
            }
            if !people::deactivate(conn, target.id)? {
                return Ok(Err(format!(
                    "{} is already deactivated",
                    target.full_name()
                )));
            }
            sessions::delete_for_user(conn, target.id)?;
            tokens::revoke_live(conn, TokenPurpose::VerifyEmail, Some(target.id))?;
            tokens::revoke_live(conn, TokenPurpose::ResetPassword, Some(target.id))?;
            audit::record(
                conn,
                &event(
                    AuditAction::AccountDeactivated,
                    ip,
                    org,
                    admin,
                    target,
                    format!("{} deactivated {}", admin.full_name(), target.full_name()),
                ),
            )?;
            Ok(Ok(format!(
                "{} is deactivated and signed out everywhere.",
                target.full_name()
            )))
        },
    )
    .await
}

pub async fn reactivate(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(
        req,
        session,
        state,
        current,
        path,
        |conn, _, org, admin, target, ip| {
            if let Some(refusal) = shared_account(conn, org, target)? {
                return Ok(Err(refusal));
            }
            if !people::reactivate(conn, target.id)? {
                return Ok(Err(format!("{} is already active", target.full_name())));
            }
            audit::record(
                conn,
                &event(
                    AuditAction::AccountReactivated,
                    ip,
                    org,
                    admin,
                    target,
                    format!("{} reactivated {}", admin.full_name(), target.full_name()),
                ),
            )?;
            Ok(Ok(format!("{} is active again.", target.full_name())))
        },
    )
    .await
}

pub async fn reset_two_factor(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(req, session, state, current, path, |conn, _, org, admin, target, ip| {
        if let Some(refusal) = shared_account(conn, org, target)? {
            return Ok(Err(refusal));
        }
        if target.id == admin.id {
            return Ok(Err(
                "You cannot reset your own two-factor: ask another administrator".into(),
            ));
        }
        totp::remove(conn, target.id)?;
        recovery_codes::remove_all(conn, target.id)?;
        sessions::delete_for_user(conn, target.id)?;
        audit::record(
            conn,
            &event(
                AuditAction::TwoFactorReset,
                ip,
                org,
                admin,
                target,
                format!(
                    "{} reset the two-factor authentication of {}",
                    admin.full_name(),
                    target.full_name()
                ),
            ),
        )?;
        Ok(Ok(format!(
            "{}'s two-factor is reset: they set up their authenticator again when they next sign in.",
            target.full_name()
        )))
    })
    .await
}
