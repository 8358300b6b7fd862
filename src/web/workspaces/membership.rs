//! Asking to join a workspace (`POST /workspaces/{id}/join`) and leaving it
//! (`POST /workspaces/{id}/leave`). The last approved admin cannot leave while others remain;
//! the last member leaving archives the workspace.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::settings::users_page_with_error;
use crate::auth::{permissions, CurrentUser, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::users::User;
use crate::db::models::workspace_members::{self, MEMBER, PENDING};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::WorkspaceId;
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};
use crate::startup::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JoinForm {
    message: String,
}

pub async fn request_to_join(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<JoinForm>,
) -> AppResult<HttpResponse> {
    let (user, id, ip) = (current.user, id.into_inner(), crate::web::client_ip(&req));
    let message: String = form.message.trim().chars().take(500).collect();
    let base_url = state.settings.base_url.clone();
    let workspace = crate::db::transaction(&state.pool, move |conn| {
        // Under the lock a concurrent last leave cannot archive the workspace mid-request.
        workspaces::lock(conn, id)?;
        let access = permissions::request_to_join(conn, &user, id)?;
        let ws = access.workspace;
        if workspace_members::insert(conn, ws.id, user.id, PENDING, MEMBER, &message, None)?
            .is_none()
        {
            // Already pending or a member: nothing to ask.
            return Ok(ws);
        }
        tell_admins_of_request(conn, &base_url, &ws, &user, &message)?;
        audit::record(
            conn,
            &NewAuditEvent::new("join_requested", Some(ip))
                .actor(user.id)
                .target(user.id)
                .organisation(ws.organisation_id)
                .workspace(ws.id)
                .detail(format!("{} asked to join", user.full_name())),
        )?;
        Ok(ws)
    })
    .await?;
    session.set_current_workspace(Some(workspace.id))?;
    session.set_flash(&format!(
        "Your request to join {} has been sent to its admins. You can use your personal features until they approve it.",
        workspace.name
    ))?;
    Ok(crate::web::see_other("/"))
}

/// Emails every approved admin of the workspace that `user` is waiting for approval, with
/// their message (asked to join, shareable link, text-message invitation).
pub fn tell_admins_of_request(
    conn: &mut diesel::PgConnection,
    base_url: &str,
    workspace: &Workspace,
    user: &User,
    message: &str,
) -> AppResult<()> {
    for admin in workspace_members::admins(conn, workspace.id)? {
        let email = messages::JoinRequest {
            admin_first_name: admin.first_name.clone(),
            requester_name: user.full_name(),
            requester_email: user.email.clone(),
            workspace: workspace.name.clone(),
            message: message.to_string(),
            link: format!("{base_url}/workspaces/{}/settings/users", workspace.id),
        };
        mail::enqueue(conn, &admin.email, &email)?;
    }
    Ok(())
}

enum Left {
    Left { workspace: String },
    Archived { workspace: String },
    LastAdmin,
}

pub async fn leave(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let (user, id, ip) = (
        current.user.clone(),
        id.into_inner(),
        crate::web::client_ip(&req),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        // The lock makes two last admins leaving at once take turns.
        let ws = workspaces::lock(conn, id)?;
        let access = permissions::workspace(conn, &user, id)?;
        let membership = access.membership.ok_or(AppError::NotFound)?;
        let others = workspace_members::member_count(conn, id)? - 1;
        if membership.is_admin()
            && others > 0
            && workspace_members::approved_admin_count(conn, id)? == 1
        {
            return Ok(Left::LastAdmin);
        }
        workspace_members::remove(conn, id, user.id)?;
        let event = |action: &str, detail: String| {
            NewAuditEvent::new(action, Some(ip.clone()))
                .actor(user.id)
                .target(user.id)
                .organisation(ws.organisation_id)
                .workspace(ws.id)
                .detail(detail)
        };
        let verb = if membership.is_approved() {
            "left"
        } else {
            "withdrew their request"
        };
        audit::record(
            conn,
            &event("member_left", format!("{} {verb}", user.full_name())),
        )?;
        if others == 0 {
            workspaces::archive(conn, id)?;
            audit::record(
                conn,
                &event(
                    "workspace_archived",
                    format!("{} archived: its last member left", ws.name),
                ),
            )?;
            return Ok(Left::Archived { workspace: ws.name });
        }
        Ok(Left::Left { workspace: ws.name })
    })
    .await?;
    match outcome {
        Left::LastAdmin => {
            users_page_with_error(
                &session,
                &state,
                &current,
                id,
                "You are the only admin. Make someone else an admin before you leave, or remove the other members first.",
                StatusCode::CONFLICT,
            )
            .await
        }
        Left::Left { workspace } | Left::Archived { workspace } => {
            if session.current_workspace() == Some(id) {
                session.set_current_workspace(None)?;
            }
            session.set_flash(&format!("You left {workspace}."))?;
            Ok(crate::web::see_other("/"))
        }
    }
}
