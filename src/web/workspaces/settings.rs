//! `GET /workspaces/{id}/settings` (the workspace's details) and `GET .../settings/users`: its
//! members with role and status, pending requests with their message, and each row's Actions.
//! Actions are shown to admins only; a pending member sees only how to withdraw their request.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::permissions::{self, WorkspaceAccess};
use crate::auth::{CurrentUser, TypedSession};
use crate::db::models::specialties;
use crate::db::models::workspace_members::{self, ADMIN};
use crate::db::models::workspaces::Workspace;
use crate::domain::{UserId, WorkspaceId};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

struct MemberRow {
    user_id: UserId,
    name: String,
    email: String,
    role: String,
    pending: bool,
    is_admin: bool,
    message: String,
    requested_on: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "workspaces/users.html")]
struct UsersPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    manages: bool,
    viewer_pending: bool,
    members: Vec<MemberRow>,
    requests: Vec<MemberRow>,
}

#[derive(Template)]
#[template(path = "workspaces/settings.html")]
struct SettingsPage {
    layout: Layout,
    workspace: Workspace,
    specialty: String,
}

async fn load_users(
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
) -> AppResult<(WorkspaceAccess, Vec<MemberRow>)> {
    let user = current.user.clone();
    crate::db::run(&state.pool, move |conn| {
        let access = permissions::see_members(conn, &user, id)?;
        let rows = if access.is_approved() || access.manages {
            workspace_members::with_users(conn, id)?
                .into_iter()
                .map(|(m, u)| MemberRow {
                    user_id: u.id,
                    name: u.full_name(),
                    email: u.email.clone(),
                    is_admin: m.role == ADMIN,
                    role: m.role.clone(),
                    pending: !m.is_approved(),
                    message: m.request_message.clone(),
                    requested_on: m.requested_at.format("%-d %B %Y").to_string(),
                    is_self: u.id == user.id,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok((access, rows))
    })
    .await
}

async fn render_users(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (access, rows) = load_users(state, current, id).await?;
    let (requests, members): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.pending);
    let page = UsersPage {
        layout: Layout::signed_in(session, &current.user, &current.nav)?,
        errors,
        manages: access.manages,
        viewer_pending: access.is_pending(),
        workspace: access.workspace,
        // Pending requests are for the admins' eyes.
        requests: if access.manages { requests } else { Vec::new() },
        members,
    };
    crate::web::render_with(status, &page)
}

pub async fn users_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    render_users(
        &session,
        &state,
        &current,
        id.into_inner(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// The Users page again, saying why an action was refused.
pub async fn users_page_with_error(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    message: &str,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    errors.add("members", message);
    render_users(session, state, current, id, errors, status).await
}

pub async fn settings_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let (user, id) = (current.user.clone(), id.into_inner());
    let (access, specialty) = crate::db::run(&state.pool, move |conn| {
        let access = permissions::see_members(conn, &user, id)?;
        let specialty = specialties::all(conn)?
            .into_iter()
            .find(|s| s.code == access.workspace.specialty_code)
            .map_or_else(String::new, |s| s.name);
        Ok((access, specialty))
    })
    .await?;
    crate::web::render(&SettingsPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        workspace: access.workspace,
        specialty,
    })
}
