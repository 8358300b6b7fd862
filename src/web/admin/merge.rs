//! `POST .../users/{user_id}/merge` (other = `user:{id}` or `profile:{id}`): merges a likely
//! duplicate into the account kept. Another account's workspace memberships, roles and history
//! in the organisation move over in one transaction and it is deactivated; an email-less
//! rostered profile is linked to the account. Both sides' audit says so.

use crate::domain::AuditAction;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::user::refused;
use super::user_path;
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{people, roster_profiles, sessions, tokens};
use crate::domain::{OrganisationId, TokenPurpose, UserId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::guards::CurrentUser;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MergeForm {
    other: String,
}

pub async fn merge(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<MergeForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, keep), admin) = (path.into_inner(), current.user.clone());
    let ip = crate::web::client_ip(&req);
    let other = form.into_inner().other;
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let (org, kept) = permissions::administer_user(conn, &admin, org_id, keep)?;
        let event = |action: AuditAction| {
            NewAuditEvent::new(action, Some(ip.clone()))
                .actor(admin.id)
                .organisation(org.id)
        };
        if let Some(profile) = other
            .strip_prefix("profile:")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
        {
            let Some(linked) = roster_profiles::link(conn, org.id, profile, kept.id)? else {
                return Ok(Err("Choose a profile to merge".to_string()));
            };
            audit::record(
                conn,
                &event(AuditAction::ProfileMerged).target(kept.id).detail(format!(
                    "{} merged the profile without an email address of {} into {}",
                    admin.full_name(),
                    linked.full_name(),
                    kept.full_name()
                )),
            )?;
            return Ok(Ok(format!(
                "The profile of {} is merged into {}.",
                linked.full_name(),
                kept.full_name()
            )));
        }
        let Some(other) = other
            .strip_prefix("user:")
            .and_then(|id| id.parse::<UserId>().ok())
        else {
            return Ok(Err("Choose a profile to merge".to_string()));
        };
        let other = match people::find_member(conn, org.id, other) {
            Ok(user) => user,
            Err(diesel::result::Error::NotFound) => {
                return Ok(Err("Choose a profile to merge".to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        if other.id == kept.id || other.id == admin.id || kept.id == admin.id {
            return Ok(Err(
                "Merge two other people's profiles: not one into itself, nor your own".to_string(),
            ));
        }
        if !other.is_active() {
            return Ok(Err(format!("{} is deactivated already", other.full_name())));
        }
        // Merging hands the other account's roles to the kept one: that is changing roles.
        if crate::db::models::roles::holds_any(conn, other.id)?
            && permissions::administer_roles(conn, &admin, org.id).is_err()
        {
            return Ok(Err(format!(
                "{} holds roles: merging would give them to {}, and only administrators who may manage roles can do that",
                other.full_name(),
                kept.full_name()
            )));
        }
        if people::in_other_organisations(conn, org.id, other.id)? {
            return Ok(Err(format!(
                "{} also belongs to another organisation, so only its administrators and yours together can merge it",
                other.full_name()
            )));
        }
        people::merge_into(conn, org.id, kept.id, other.id)?;
        people::deactivate(conn, other.id)?;
        sessions::delete_for_user(conn, other.id)?;
        tokens::revoke_live(conn, TokenPurpose::VerifyEmail, Some(other.id))?;
        tokens::revoke_live(conn, TokenPurpose::ResetPassword, Some(other.id))?;
        audit::record(
            conn,
            &event(AuditAction::AccountMerged).target(kept.id).detail(format!(
                "{} merged {} <{}> into {} <{}>",
                admin.full_name(),
                other.full_name(),
                other.email,
                kept.full_name(),
                kept.email
            )),
        )?;
        audit::record(
            conn,
            &event(AuditAction::AccountMergedAway).target(other.id).detail(format!(
                "{} merged {} <{}> into {} <{}> and deactivated it",
                admin.full_name(),
                other.full_name(),
                other.email,
                kept.full_name(),
                kept.email
            )),
        )?;
        Ok(Ok(format!(
            "{} <{}> is merged into this account and deactivated.",
            other.full_name(),
            other.email
        )))
    })
    .await?;
    match outcome {
        Ok(flash) => {
            session.set_flash(&flash)?;
            Ok(crate::web::see_other(&user_path(org_id, keep)))
        }
        Err(message) => refused(&session, &state, &current, org_id, keep, "other", message).await,
    }
}
