//! What admins do to others: `POST /workspaces/{id}/members/{user_id}/approve | decline |
//! remove | role`. Each runs in one transaction that first locks the workspace row and only then
//! checks the caller's rights, so concurrent decisions take turns and see each other's result:
//! one outcome per request, and never a workspace without an admin.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde::Deserialize;

use super::settings::users_page_with_error;
use crate::auth::{permissions, CurrentUser, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members::{self, ADMIN, GUEST, MEMBER};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{UserId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};
use crate::startup::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    role: String,
}

/// What happened, said on the Users page.
enum Outcome {
    Done(String),
    /// Refused, with the reason (already handled, last admin).
    Refused(String),
}

pub async fn act(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, UserId, String)>,
    form: web::Form<ActionForm>,
) -> AppResult<HttpResponse> {
    let (id, target, action) = path.into_inner();
    let (actor, ip) = (current.user.clone(), crate::web::client_ip(&req));
    let base_url = state.settings.base_url.clone();
    let role = form.into_inner().role;
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let ws = workspaces::lock(conn, id)?;
        permissions::manage_members(conn, &actor, id)?;
        // Only someone in this workspace is a target; the answer for anyone else says nothing
        // about whom the id names.
        if workspace_members::find(conn, id, target)?.is_none() {
            return match action.as_str() {
                // Declined or withdrawn meanwhile (or never asked).
                "approve" | "decline" => Ok(Outcome::Refused(
                    "This request has already been handled, or was withdrawn.".into(),
                )),
                _ => Err(AppError::NotFound),
            };
        }
        let target = users::find(conn, target)?;
        let ctx = Context {
            ws: &ws,
            actor: &actor,
            target: &target,
            ip: &ip,
            base_url: &base_url,
        };
        match action.as_str() {
            "approve" => approve(conn, &ctx),
            "decline" => decline(conn, &ctx),
            "remove" => remove(conn, &ctx),
            "role" => change_role(conn, &ctx, &role),
            _ => Err(AppError::NotFound),
        }
    })
    .await?;
    match outcome {
        Outcome::Done(message) => {
            session.set_flash(&message)?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/settings/users"
            )))
        }
        Outcome::Refused(message) => {
            users_page_with_error(
                &session,
                &state,
                &current,
                id,
                &message,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

struct Context<'a> {
    ws: &'a Workspace,
    actor: &'a User,
    target: &'a User,
    ip: &'a str,
    base_url: &'a str,
}

impl Context<'_> {
    fn event(&self, action: &str, detail: String) -> NewAuditEvent {
        NewAuditEvent::new(action, Some(self.ip.to_string()))
            .actor(self.actor.id)
            .target(self.target.id)
            .organisation(self.ws.organisation_id)
            .workspace(self.ws.id)
            .detail(detail)
    }
}

fn already_handled(ctx: &Context) -> Outcome {
    Outcome::Refused(format!(
        "{}'s request has already been handled by another admin.",
        ctx.target.full_name()
    ))
}

fn approve(conn: &mut PgConnection, ctx: &Context) -> AppResult<Outcome> {
    if !workspace_members::approve(conn, ctx.ws.id, ctx.target.id, ctx.actor.id)? {
        return Ok(already_handled(ctx));
    }
    let detail = format!(
        "{} approved by {}",
        ctx.target.full_name(),
        ctx.actor.full_name()
    );
    audit::record(conn, &ctx.event("member_approved", detail))?;
    let email = messages::JoinOutcome {
        first_name: ctx.target.first_name.clone(),
        workspace: ctx.ws.name.clone(),
        approved: true,
        decided_by: ctx.actor.full_name(),
        link: format!("{}/", ctx.base_url),
    };
    mail::enqueue(conn, &ctx.target.email, &email)?;
    Ok(Outcome::Done(format!(
        "{} can now use {}.",
        ctx.target.full_name(),
        ctx.ws.name
    )))
}

fn decline(conn: &mut PgConnection, ctx: &Context) -> AppResult<Outcome> {
    if !workspace_members::decline(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(already_handled(ctx));
    }
    let detail = format!(
        "{}'s request declined by {}",
        ctx.target.full_name(),
        ctx.actor.full_name()
    );
    audit::record(conn, &ctx.event("request_declined", detail))?;
    let email = messages::JoinOutcome {
        first_name: ctx.target.first_name.clone(),
        workspace: ctx.ws.name.clone(),
        approved: false,
        decided_by: ctx.actor.full_name(),
        link: format!("{}/", ctx.base_url),
    };
    mail::enqueue(conn, &ctx.target.email, &email)?;
    Ok(Outcome::Done(format!(
        "You declined {}'s request.",
        ctx.target.full_name()
    )))
}

/// Whether taking `target`'s admin role away would leave no approved admin.
fn is_last_admin(conn: &mut PgConnection, ws: WorkspaceId, target: UserId) -> AppResult<bool> {
    let membership = workspace_members::find(conn, ws, target)?;
    Ok(membership.is_some_and(|m| m.is_admin())
        && workspace_members::approved_admin_count(conn, ws)? == 1)
}

fn remove(conn: &mut PgConnection, ctx: &Context) -> AppResult<Outcome> {
    if ctx.target.id == ctx.actor.id {
        return Ok(Outcome::Refused(
            "To take yourself out, use Leave workspace.".into(),
        ));
    }
    if is_last_admin(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Outcome::Refused(format!(
            "{} is the only admin and cannot be removed.",
            ctx.target.full_name()
        )));
    }
    if !workspace_members::remove(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Outcome::Refused(format!(
            "{} is no longer in this workspace.",
            ctx.target.full_name()
        )));
    }
    let detail = format!(
        "{} removed by {}",
        ctx.target.full_name(),
        ctx.actor.full_name()
    );
    audit::record(conn, &ctx.event("member_removed", detail))?;
    let email = messages::RemovedFromWorkspace {
        first_name: ctx.target.first_name.clone(),
        workspace: ctx.ws.name.clone(),
        removed_by: ctx.actor.full_name(),
    };
    mail::enqueue(conn, &ctx.target.email, &email)?;
    if workspace_members::member_count(conn, ctx.ws.id)? == 0 {
        workspaces::archive(conn, ctx.ws.id)?;
        let detail = format!("{} archived: its last member was removed", ctx.ws.name);
        audit::record(conn, &ctx.event("workspace_archived", detail))?;
    }
    Ok(Outcome::Done(format!(
        "{} was removed from {}.",
        ctx.target.full_name(),
        ctx.ws.name
    )))
}

fn change_role(conn: &mut PgConnection, ctx: &Context, role: &str) -> AppResult<Outcome> {
    let role = match role {
        "admin" => ADMIN,
        "member" => MEMBER,
        "guest" => GUEST,
        _ => {
            return Ok(Outcome::Refused(
                "Choose a role: admin, member or guest.".into(),
            ))
        }
    };
    // Colleagues need an address the organisation admits: a guest from outside cannot be
    // promoted to member or admin.
    if role != GUEST && !organisations::is_member(conn, ctx.ws.organisation_id, ctx.target.id)? {
        return Ok(Outcome::Refused(format!(
            "{} is not in {}'s organisation, so can only be a guest.",
            ctx.target.full_name(),
            ctx.ws.name
        )));
    }
    if role != ADMIN && is_last_admin(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Outcome::Refused(format!(
            "{} is the only admin. Make someone else an admin first.",
            ctx.target.full_name()
        )));
    }
    if !workspace_members::set_role(conn, ctx.ws.id, ctx.target.id, role)? {
        return Ok(Outcome::Refused(format!(
            "{} is not an approved member.",
            ctx.target.full_name()
        )));
    }
    let detail = format!(
        "{} made {} by {}",
        ctx.target.full_name(),
        role,
        ctx.actor.full_name()
    );
    audit::record(conn, &ctx.event("role_changed", detail))?;
    Ok(Outcome::Done(format!(
        "{} is now {} {}.",
        ctx.target.full_name(),
        if role == ADMIN { "an" } else { "a" },
        role
    )))
}
