//! `GET/POST /organisations/{org_id}/admin/users/{user_id}`: one person's Details tab. An
//! administrator corrects the names; the email address, the password and the "Medical
//! secretary" flag are not theirs to change (the server ignores any attempt). The page also
//! carries the "..." account actions, the Roles tab (see `user_roles`) and likely duplicates
//! to merge.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::{status_of, user_path, AdminNav};
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::roles::{self, Role};
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::User;
use crate::db::models::{people, totp};
use crate::db::schema::workspaces;
use crate::domain::{OrganisationId, PersonName, UserId, WorkspaceId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DetailsForm {
    pub first_name: String,
    pub surname: String,
}

/// The Roles tab's add (or edit) form.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct RoleForm {
    pub role_id: String,
    pub scope_workspace_id: String,
}

pub struct AssignmentRow {
    pub id: uuid::Uuid,
    pub role: String,
    pub scope: String,
    pub role_id: String,
    pub scope_workspace_id: String,
}

/// Everything the person's page shows, whichever tab is open.
pub struct UserView {
    pub nav: AdminNav,
    pub person: User,
    pub status: &'static str,
    pub status_tag: &'static str,
    pub enrolled: bool,
    pub grade: String,
    pub assignments: Vec<AssignmentRow>,
    pub roles: Vec<Role>,
    pub workspaces: Vec<(WorkspaceId, String)>,
    /// Holds "manage roles": may add, edit and delete assignments.
    pub may_assign: bool,
    pub is_self: bool,
    pub duplicates: Vec<User>,
    pub profiles: Vec<RosterProfile>,
}

impl UserView {
    pub fn load(
        conn: &mut PgConnection,
        admin: &User,
        org_id: OrganisationId,
        person: UserId,
    ) -> AppResult<Self> {
        let (org, person) = permissions::administer_user(conn, admin, org_id, person)?;
        let nav = AdminNav::load(conn, &org, admin, "users")?;
        let may_assign = permissions::administer_roles(conn, admin, org.id).is_ok();
        let assignments = roles::assignments_of(conn, org.id, person.id)?
            .into_iter()
            .map(|(a, role, ws)| AssignmentRow {
                id: a.id,
                role: role.name,
                scope: ws.unwrap_or_else(|| "Whole organisation".into()),
                role_id: role.id.to_string(),
                scope_workspace_id: a
                    .scope_workspace_id
                    .map_or_else(String::new, |w| w.to_string()),
            })
            .collect();
        let workspaces = workspaces::table
            .filter(workspaces::organisation_id.eq(org.id))
            .filter(workspaces::archived_at.is_null())
            .order(workspaces::name)
            .select((workspaces::id, workspaces::name))
            .load(conn)?;
        let (status, status_tag) = status_of(&person);
        Ok(Self {
            enrolled: totp::is_enrolled(conn, person.id)?,
            grade: roster_profiles::of_user(conn, org.id, person.id)?
                .map_or_else(String::new, |p| p.grade),
            roles: roles::in_organisation(conn, org.id)?,
            duplicates: people::likely_duplicates_of(conn, org.id, &person)?,
            profiles: roster_profiles::unlinked_named(
                conn,
                org.id,
                &person.first_name,
                &person.surname,
            )?,
            is_self: person.id == admin.id,
            nav,
            status,
            status_tag,
            assignments,
            workspaces,
            may_assign,
            person,
        })
    }

    pub fn path(&self) -> String {
        user_path(self.nav.org_id, self.person.id)
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub layout: Layout,
    pub view: UserView,
    /// "details" or "roles".
    pub tab: &'static str,
    pub errors: FormErrors,
    pub form: DetailsForm,
    pub role_form: RoleForm,
    /// The assignment being edited (the pencil), if any.
    pub editing: Option<uuid::Uuid>,
}

impl UserPage {
    pub fn new(layout: Layout, view: UserView, tab: &'static str) -> Self {
        let form = DetailsForm {
            first_name: view.person.first_name.clone(),
            surname: view.person.surname.clone(),
        };
        Self {
            layout,
            view,
            tab,
            errors: FormErrors::default(),
            form,
            role_form: RoleForm::default(),
            editing: None,
        }
    }
}

/// The person's page again with one error, for an action that was refused.
pub async fn refused(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    org_id: OrganisationId,
    person: UserId,
    field: &'static str,
    message: String,
) -> AppResult<HttpResponse> {
    let admin = current.user.clone();
    let tab = if field == "role_id" {
        "roles"
    } else {
        "details"
    };
    let view = crate::db::run(&state.pool, move |conn| {
        UserView::load(conn, &admin, org_id, person)
    })
    .await?;
    let mut page = UserPage::new(
        Layout::signed_in(session, &current.user, &current.nav)?,
        view,
        tab,
    );
    page.errors.add(field, message);
    crate::web::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub async fn details_page(
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
        "details",
    ))
}

pub async fn update_details(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<DetailsForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person), admin) = (path.into_inner(), current.user.clone());
    let (form, ip) = (form.into_inner(), crate::web::client_ip(&req));
    let refused = crate::db::transaction(&state.pool, move |conn| {
        let (org, person) = permissions::administer_user(conn, &admin, org_id, person)?;
        let mut errors = FormErrors::default();
        let first_name = errors.check(
            "first_name",
            PersonName::parse(&form.first_name, "first name"),
        );
        let surname = errors.check("surname", PersonName::parse(&form.surname, "surname"));
        let (Some(first_name), Some(surname)) = (first_name, surname) else {
            let view = UserView::load(conn, &admin, org.id, person.id)?;
            return Ok(Some((view, errors, form)));
        };
        if first_name.as_str() != person.first_name || surname.as_str() != person.surname {
            if let Some(refusal) = super::account_actions::shared_account(conn, &org, &person)? {
                errors.add("first_name", refusal);
                let view = UserView::load(conn, &admin, org.id, person.id)?;
                return Ok(Some((view, errors, form)));
            }
            people::rename(conn, person.id, first_name.as_str(), surname.as_str())?;
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::AccountDetailsChanged, Some(ip))
                    .actor(admin.id)
                    .target(person.id)
                    .organisation(org.id)
                    .detail(format!(
                        "{} renamed {} to {} {}",
                        admin.full_name(),
                        person.full_name(),
                        first_name.as_str(),
                        surname.as_str()
                    )),
            )?;
        }
        Ok(None)
    })
    .await?;
    match refused {
        None => {
            session.set_flash("Details saved.")?;
            Ok(crate::web::see_other(&user_path(org_id, person)))
        }
        Some((view, errors, form)) => {
            let mut page = UserPage::new(
                Layout::signed_in(&session, &current.user, &current.nav)?,
                view,
                "details",
            );
            page.errors = errors;
            page.form = form;
            crate::web::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
