//! The Roles tab of a person: `GET .../users/{user_id}/roles` lists their role assignments;
//! `POST .../roles` (role_id, optional scope_workspace_id) adds one, `GET/POST
//! .../roles/{assignment_id}` edits one, `POST .../roles/{assignment_id}/delete` removes it.
//! The decisions are `services::roles`.

use actix_web::{web, HttpResponse};

use super::user::{RoleForm, UserPage, UserView};
use super::user_path;
use crate::auth::permissions;
use crate::db::models::roles;
use crate::domain::{OrganisationId, UserId};
use crate::error::AppResult;
use crate::services::roles::{self as role_service, Choice, Scope, UNKNOWN_SCOPE};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;

pub async fn roles_tab(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    let (org_id, person) = path.into_inner();
    UserPage::load(&signed, org_id, person, "roles")
        .await?
        .render()
}

pub async fn edit_form(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let (org_id, person, assignment_id) = path.into_inner();
    let page = signed
        .page(move |conn, frame| {
            permissions::administer_roles(conn, &frame.user, org_id)?;
            let view = UserView::load(conn, &frame.user, org_id, person)?;
            let assignment = roles::find_assignment(conn, org_id, person, assignment_id)?;
            Ok((view, assignment))
        })
        .await?;
    let (view, assignment) = page.data;
    let mut user_page = UserPage::new(page.layout, view, "roles");
    user_page.editing = Some(assignment.id);
    user_page.role_form = RoleForm {
        role_id: assignment.role_id.to_string(),
        scope_workspace_id: assignment
            .scope_workspace_id
            .map_or_else(String::new, |w| w.to_string()),
    };
    user_page.render()
}

impl RoleForm {
    /// The ids as typed; whether they name the organisation's role and workspace is the
    /// service's to say.
    fn choice(&self) -> Choice {
        let scope = self.scope_workspace_id.trim();
        Choice {
            role: self.role_id.trim().parse().ok(),
            scope: if scope.is_empty() {
                Scope::Organisation
            } else {
                scope.parse().map_or(Scope::Unknown, Scope::Workspace)
            },
        }
    }
}

pub async fn add(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person), form) = (path.into_inner(), form.into_inner());
    let (choice, ip) = (form.choice(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            role_service::assign(conn, &Actor::person(user, &ip), org_id, person, &choice)
        })
        .await?;
    respond(&signed, (org_id, person), decision, form, None).await
}

pub async fn change(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person, assignment), form) = (path.into_inner(), form.into_inner());
    let (choice, ip) = (form.choice(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            let actor = Actor::person(user, &ip);
            role_service::change(conn, &actor, org_id, person, assignment, &choice)
        })
        .await?;
    respond(&signed, (org_id, person), decision, form, Some(assignment)).await
}

pub async fn delete(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let (org_id, person, assignment) = path.into_inner();
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            role_service::remove(conn, &Actor::person(user, &ip), org_id, person, assignment)
        })
        .await?;
    let form = RoleForm::default();
    respond(&signed, (org_id, person), decision, form, None).await
}

/// Back to the Roles tab, or the tab again with the refusal beside its field and the form as
/// typed (`editing` the assignment whose edit was refused).
async fn respond(
    signed: &Signed,
    (org_id, person): (OrganisationId, UserId),
    decision: Decision,
    form: RoleForm,
    editing: Option<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let reason = match decision {
        Decision::Done(flash) => {
            return signed.done(&flash, &format!("{}/roles", user_path(org_id, person)))
        }
        Decision::Refused(reason) => reason,
    };
    let field = if reason == UNKNOWN_SCOPE {
        "scope_workspace_id"
    } else {
        "role_id"
    };
    let mut errors = FormErrors::default();
    errors.add(field, reason);
    let mut page = UserPage::load(signed, org_id, person, "roles").await?;
    page.errors = errors;
    page.role_form = form;
    page.editing = editing;
    page.render()
}
