//! `GET/POST /workspaces/{id}/settings` (the workspace's details; admins change them) and
//! `GET .../settings/users`: its
//! members with role and status, pending requests with their message, and each row's Actions.
//! Actions are shown to admins only; a pending member sees only how to withdraw their request.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions::{self, WorkspaceAccess};
use crate::auth::{CurrentUser, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::join_links::{self, JoinLink};
use crate::db::models::specialties;
use crate::db::models::workspace_members::{self, ADMIN};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{UserId, WorkspaceId, WorkspaceName};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::forms::FormErrors;
use crate::web::invitations::listing::{self, InvitationRow};
use crate::web::invitations::share_link::{self, LinkForm, LinkView};
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
    /// A pending member (withdraw) or a guest (leave) sees only their own way out.
    viewer_pending: bool,
    viewer_guest: bool,
    members: Vec<MemberRow>,
    requests: Vec<MemberRow>,
    /// "Invite colleagues" (approved members, or admins only, per the workspace's setting).
    may_invite: bool,
    invitations: Vec<InvitationRow>,
    /// What the last invite form did to each address: (typed, result, sent).
    invite_results: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "workspaces/settings.html")]
struct SettingsPage {
    layout: Layout,
    workspace: Workspace,
    specialty: String,
    /// Admins get the form; everyone else the summary.
    manages: bool,
    errors: FormErrors,
    form: SettingsForm,
    /// The shareable link's state (admins only).
    link: Option<LinkView>,
    link_form: LinkForm,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    name: String,
    description: String,
    invite_policy: String,
    guests_allowed: String,
}

impl SettingsForm {
    fn from_workspace(w: &Workspace) -> Self {
        Self {
            name: w.name.clone(),
            description: w.description.clone(),
            invite_policy: w.invite_policy.clone(),
            guests_allowed: if w.guests_allowed {
                "yes".into()
            } else {
                String::new()
            },
        }
    }
}

async fn load_users(
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
) -> AppResult<(WorkspaceAccess, Vec<MemberRow>, Vec<InvitationRow>)> {
    let user = current.user.clone();
    crate::db::run(&state.pool, move |conn| {
        let access = permissions::see_members(conn, &user, id)?;
        let rows = if access.is_colleague() || access.manages {
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
        let invitations = if access.is_colleague() || access.manages {
            listing::rows(conn, &access, &user)?
        } else {
            Vec::new()
        };
        Ok((access, rows, invitations))
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
    let (access, rows, invitations) = load_users(state, current, id).await?;
    let (requests, members): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.pending);
    let may_invite = permissions::may_invite(&access);
    let page = UsersPage {
        layout: Layout::signed_in(session, &current.user, &current.nav)?,
        errors,
        manages: access.manages,
        viewer_pending: access.is_pending(),
        viewer_guest: access.is_approved() && !access.is_colleague() && !access.manages,
        workspace: access.workspace,
        // Pending requests are for the admins' eyes.
        requests: if access.manages { requests } else { Vec::new() },
        members,
        may_invite,
        invitations,
        invite_results: session.take_invite_results(),
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

/// The workspace, its specialty's name, and (for its managers) its shareable link.
async fn load_settings(
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
) -> AppResult<(WorkspaceAccess, String, Option<Option<JoinLink>>)> {
    let user = current.user.clone();
    crate::db::run(&state.pool, move |conn| {
        let access = permissions::see_details(conn, &user, id)?;
        let specialty = specialties::all(conn)?
            .into_iter()
            .find(|s| s.code == access.workspace.specialty_code)
            .map_or_else(String::new, |s| s.name);
        let link = if access.manages {
            Some(join_links::find_for_workspace(conn, id)?)
        } else {
            None
        };
        Ok((access, specialty, link))
    })
    .await
}

pub async fn settings_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (access, specialty, link) = load_settings(&state, &current, id).await?;
    crate::web::render(&SettingsPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        manages: access.manages,
        errors: FormErrors::default(),
        form: SettingsForm::from_workspace(&access.workspace),
        link: link.map(|l| share_link::view(l.as_ref(), None)),
        link_form: LinkForm::default(),
        workspace: access.workspace,
        specialty,
    })
}

/// The settings page answering a shareable link form: with its errors and what was typed
/// (422), or with the link just made, shown this once (only its hash is kept anywhere).
pub async fn settings_page_after_link_form(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    errors: FormErrors,
    link_form: LinkForm,
    new_link: Option<String>,
) -> AppResult<HttpResponse> {
    let (access, specialty, link) = load_settings(state, current, id).await?;
    if !access.manages {
        return Err(crate::error::AppError::NotFound);
    }
    let status = errors.status();
    crate::web::render_with(
        status,
        &SettingsPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            manages: access.manages,
            errors,
            form: SettingsForm::from_workspace(&access.workspace),
            link: link.map(|l| share_link::view(l.as_ref(), new_link)),
            link_form,
            workspace: access.workspace,
            specialty,
        },
    )
}

/// `POST /workspaces/{id}/settings`: admins change the name, description, who may invite and
/// whether guests are allowed.
pub async fn update_settings(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<SettingsForm>,
) -> AppResult<HttpResponse> {
    let (user, id, form, ip) = (
        current.user.clone(),
        id.into_inner(),
        form.into_inner(),
        crate::web::client_ip(&req),
    );
    let refused = crate::db::transaction(&state.pool, move |conn| {
        let ws = workspaces::lock(conn, id)?;
        permissions::manage_members(conn, &user, id)?;
        let mut errors = FormErrors::default();
        let name = errors.check("name", WorkspaceName::parse(&form.name));
        if let Some(name) = &name {
            if workspaces::name_taken_by_other(conn, ws.organisation_id, name.as_str(), id)? {
                errors.add(
                    "name",
                    "Another workspace in the organisation already has this name",
                );
            }
        }
        if ![
            workspaces::INVITES_BY_ADMINS,
            workspaces::INVITES_BY_MEMBERS,
        ]
        .contains(&form.invite_policy.as_str())
        {
            errors.add("invite_policy", "Choose who may invite people");
        }
        if form.description.chars().count() > 1000 {
            errors.add(
                "description",
                "The description must be 1,000 characters or fewer",
            );
        }
        let Some(name) = name.filter(|_| errors.is_empty()) else {
            return Ok(Some((errors, form)));
        };
        let changes = workspaces::SettingsChanges {
            name: name.as_str(),
            description: form.description.trim(),
            invite_policy: &form.invite_policy,
            guests_allowed: form.guests_allowed == "yes",
        };
        if !workspaces::update_settings(conn, id, &changes)? {
            errors.add(
                "name",
                "Another workspace in the organisation already has this name",
            );
            return Ok(Some((errors, form)));
        }
        let detail = format!(
            "{} changed the settings: name {}, invites by {}, guests {}",
            user.full_name(),
            changes.name,
            changes.invite_policy,
            if changes.guests_allowed {
                "allowed"
            } else {
                "not allowed"
            }
        );
        audit::record(
            conn,
            &NewAuditEvent::new("workspace_settings_changed", Some(ip))
                .actor(user.id)
                .organisation(ws.organisation_id)
                .workspace(id)
                .detail(detail),
        )?;
        Ok(None)
    })
    .await?;
    let Some((errors, form)) = refused else {
        session.set_flash("Workspace settings saved.")?;
        return Ok(crate::web::see_other(&format!("/workspaces/{id}/settings")));
    };
    let (access, specialty, link) = load_settings(&state, &current, id).await?;
    crate::web::render_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SettingsPage {
            layout: Layout::signed_in(&session, &current.user, &current.nav)?,
            manages: access.manages,
            errors,
            form,
            link: link.map(|l| share_link::view(l.as_ref(), None)),
            link_form: LinkForm::default(),
            workspace: access.workspace,
            specialty,
        },
    )
}
