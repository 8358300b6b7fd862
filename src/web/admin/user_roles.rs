//! The Roles tab of a person: `GET .../users/{user_id}/roles` lists their role assignments;
//! `POST .../roles` (role_id, optional scope_workspace_id) adds one, `GET/POST
//! .../roles/{assignment_id}` edits one, `POST .../roles/{assignment_id}/delete` removes it.
//! Changing assignments needs "manage roles"; nobody changes their own.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::PgConnection;

use super::user::{RoleForm, UserPage, UserView};
use super::user_path;
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::roles::{self, Role, RoleAssignment};
use crate::db::models::users::User;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{OrganisationId, RoleId, UserId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

pub async fn roles_tab(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    let ((org_id, person), admin) = (path.into_inner(), current.user.clone());
    let view = crate::db::run(&state.pool, move |conn| {
        UserView::load(conn, &admin, org_id, person)
    })
    .await?;
    crate::web::render(&UserPage::new(
        Layout::signed_in(&session, &current.user, &current.nav)?,
        view,
        "roles",
    ))
}

pub async fn edit_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let ((org_id, person, assignment_id), admin) = (path.into_inner(), current.user.clone());
    let (view, assignment) = crate::db::run(&state.pool, move |conn| {
        permissions::administer_roles(conn, &admin, org_id)?;
        let view = UserView::load(conn, &admin, org_id, person)?;
        let assignment = roles::find_assignment(conn, org_id, person, assignment_id)?;
        Ok((view, assignment))
    })
    .await?;
    let mut page = UserPage::new(
        Layout::signed_in(&session, &current.user, &current.nav)?,
        view,
        "roles",
    );
    page.editing = Some(assignment.id);
    page.role_form = RoleForm {
        role_id: assignment.role_id.to_string(),
        scope_workspace_id: assignment
            .scope_workspace_id
            .map_or_else(String::new, |w| w.to_string()),
    };
    crate::web::render(&page)
}

/// What an add or edit form asks for, checked against the organisation.
fn parse(
    conn: &mut PgConnection,
    org: OrganisationId,
    form: &RoleForm,
    errors: &mut FormErrors,
) -> AppResult<Option<(Role, Option<Workspace>)>> {
    let role = match form.role_id.trim().parse::<RoleId>() {
        Ok(id) => match roles::find_in(conn, org, id) {
            Ok(role) => Some(role),
            Err(diesel::result::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    if role.is_none() {
        errors.add("role_id", "Choose one of the organisation's roles");
    }
    let scope = form.scope_workspace_id.trim();
    let workspace = if scope.is_empty() {
        None
    } else {
        let found = match scope.parse::<WorkspaceId>() {
            Ok(id) => match workspaces::find_live(conn, id) {
                Ok(w) if w.organisation_id == org => Some(w),
                Ok(_) | Err(diesel::result::Error::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        if found.is_none() {
            errors.add(
                "scope_workspace_id",
                "Choose one of the organisation's workspaces, or the whole organisation",
            );
            return Ok(None);
        }
        found
    };
    Ok(role.map(|r| (r, workspace)))
}

fn scope_name(workspace: &Option<Workspace>) -> String {
    workspace
        .as_ref()
        .map_or_else(|| "the whole organisation".into(), |w| w.name.clone())
}

enum Done {
    Saved(String),
    Refused(Box<UserView>, FormErrors, RoleForm, Option<uuid::Uuid>),
}

/// The checks every change shares: the right to assign, and not one's own roles.
fn may_change(
    conn: &mut PgConnection,
    admin: &User,
    org: OrganisationId,
    person: UserId,
) -> AppResult<()> {
    permissions::administer_roles(conn, admin, org)?;
    permissions::administer_user(conn, admin, org, person)?;
    Ok(())
}

const OWN_ROLES: &str = "You cannot change your own roles: ask another administrator";

pub async fn add(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person), admin) = (path.into_inner(), current.user.clone());
    let (form, ip) = (form.into_inner(), crate::web::client_ip(&req));
    let done = crate::db::transaction(&state.pool, move |conn| {
        may_change(conn, &admin, org_id, person)?;
        let mut errors = FormErrors::default();
        if person == admin.id {
            errors.add("role_id", OWN_ROLES);
        }
        let parsed = parse(conn, org_id, &form, &mut errors)?;
        if let Some((role, ws)) = &parsed {
            if roles::holds(conn, role, person, ws.as_ref().map(|w| w.id), None)? {
                errors.add(
                    "role_id",
                    format!("They already have {} for {}", role.name, scope_name(ws)),
                );
            }
        }
        let Some((role, ws)) = parsed.filter(|_| errors.is_empty()) else {
            let view = UserView::load(conn, &admin, org_id, person)?;
            return Ok(Done::Refused(Box::new(view), errors, form, None));
        };
        let target = crate::db::models::users::find(conn, person)?;
        roles::assign(conn, &role, person, ws.as_ref().map(|w| w.id), admin.id)?;
        let mut event = NewAuditEvent::new(AuditAction::RoleAssigned, Some(ip))
            .actor(admin.id)
            .target(person)
            .organisation(org_id)
            .detail(format!(
                "{} gave {} the role {} for {}",
                admin.full_name(),
                target.full_name(),
                role.name,
                scope_name(&ws)
            ));
        if let Some(w) = &ws {
            event = event.workspace(w.id);
        }
        audit::record(conn, &event)?;
        Ok(Done::Saved(format!("{} added.", role.name)))
    })
    .await?;
    respond(&session, &current, org_id, person, done)
}

pub async fn change(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person, assignment_id), admin) = (path.into_inner(), current.user.clone());
    let (form, ip) = (form.into_inner(), crate::web::client_ip(&req));
    let done = crate::db::transaction(&state.pool, move |conn| {
        may_change(conn, &admin, org_id, person)?;
        let assignment = roles::find_assignment(conn, org_id, person, assignment_id)?;
        let mut errors = FormErrors::default();
        if person == admin.id {
            errors.add("role_id", OWN_ROLES);
        }
        let parsed = parse(conn, org_id, &form, &mut errors)?;
        if let Some((role, ws)) = &parsed {
            if roles::holds(
                conn,
                role,
                person,
                ws.as_ref().map(|w| w.id),
                Some(assignment.id),
            )? {
                errors.add(
                    "role_id",
                    format!("They already have {} for {}", role.name, scope_name(ws)),
                );
            }
        }
        let Some((role, ws)) = parsed.filter(|_| errors.is_empty()) else {
            let view = UserView::load(conn, &admin, org_id, person)?;
            return Ok(Done::Refused(
                Box::new(view),
                errors,
                form,
                Some(assignment.id),
            ));
        };
        let before = describe(conn, org_id, &assignment)?;
        roles::change_assignment(conn, &assignment, &role, ws.as_ref().map(|w| w.id))?;
        let target = crate::db::models::users::find(conn, person)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::RoleChanged, Some(ip))
                .actor(admin.id)
                .target(person)
                .organisation(org_id)
                .detail(format!(
                    "{} changed {}'s role from {} to {} for {}",
                    admin.full_name(),
                    target.full_name(),
                    before,
                    role.name,
                    scope_name(&ws)
                )),
        )?;
        Ok(Done::Saved(format!("Role changed to {}.", role.name)))
    })
    .await?;
    respond(&session, &current, org_id, person, done)
}

pub async fn delete(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let ((org_id, person, assignment_id), admin) = (path.into_inner(), current.user.clone());
    let ip = crate::web::client_ip(&req);
    let done = crate::db::transaction(&state.pool, move |conn| {
        may_change(conn, &admin, org_id, person)?;
        let assignment = roles::find_assignment(conn, org_id, person, assignment_id)?;
        if person == admin.id {
            let mut errors = FormErrors::default();
            errors.add("role_id", OWN_ROLES);
            let view = UserView::load(conn, &admin, org_id, person)?;
            return Ok(Done::Refused(
                Box::new(view),
                errors,
                RoleForm::default(),
                None,
            ));
        }
        let what = describe(conn, org_id, &assignment)?;
        roles::delete_assignment(conn, &assignment)?;
        let target = crate::db::models::users::find(conn, person)?;
        let mut event = NewAuditEvent::new(AuditAction::RoleRemoved, Some(ip))
            .actor(admin.id)
            .target(person)
            .organisation(org_id)
            .detail(format!(
                "{} removed the role {} from {}",
                admin.full_name(),
                what,
                target.full_name()
            ));
        if let Some(ws) = assignment.scope_workspace_id {
            event = event.workspace(ws);
        }
        audit::record(conn, &event)?;
        Ok(Done::Saved("Role removed.".into()))
    })
    .await?;
    respond(&session, &current, org_id, person, done)
}

/// "Trust administrator for the whole organisation".
fn describe(
    conn: &mut PgConnection,
    org: OrganisationId,
    assignment: &RoleAssignment,
) -> AppResult<String> {
    let role = roles::find_in(conn, org, assignment.role_id)?;
    let scope = match assignment.scope_workspace_id {
        Some(ws) => workspaces::find_live(conn, ws)
            .map(|w| w.name)
            .or_else(|e| match e {
                diesel::result::Error::NotFound => Ok("an archived workspace".into()),
                e => Err(AppError::from(e)),
            })?,
        None => "the whole organisation".into(),
    };
    Ok(format!("{} for {scope}", role.name))
}

fn respond(
    session: &TypedSession,
    current: &CurrentUser,
    org_id: OrganisationId,
    person: UserId,
    done: Done,
) -> AppResult<HttpResponse> {
    match done {
        Done::Saved(flash) => {
            session.set_flash(&flash)?;
            Ok(crate::web::see_other(&format!(
                "{}/roles",
                user_path(org_id, person)
            )))
        }
        Done::Refused(view, errors, form, editing) => {
            let mut page = UserPage::new(
                Layout::signed_in(session, &current.user, &current.nav)?,
                *view,
                "roles",
            );
            page.errors = errors;
            page.role_form = form;
            page.editing = editing;
            crate::web::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
