//! `GET/POST /organisations/{org_id}/admin/users/{user_id}`: one person's Details tab. An
//! administrator corrects the names; the email address, the password and the "Medical
//! secretary" flag are not theirs to change (the server ignores any attempt). The page also
//! carries the "..." account actions, the Roles tab (see `user_roles`) and likely duplicates
//! to merge.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::{status_of, user_path, AdminNav};
use crate::auth::permissions;
use crate::db::models::organisations::{self, Standing};
use crate::db::models::roles::{self, Role};
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::User;
use crate::db::models::{people, totp};
use crate::db::schema::workspaces;
use crate::domain::{OrganisationId, PersonName, UserId, WorkspaceId};
use crate::error::AppResult;
use crate::services::accounts::{self, Names};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
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
    /// Suspended by this organisation.
    pub suspended: bool,
    /// Also belongs to another organisation: the account itself is not this one's to change.
    pub shared: bool,
    pub duplicates: Vec<User>,
    pub profiles: Vec<RosterProfile>,
    /// Each linked single sign-on provider with the role names it gave (CIS2's RBAC roles).
    pub identities: Vec<(String, Vec<String>)>,
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
        let suspended = organisations::standing(conn, org.id, person.id)? == Standing::Suspended;
        let (status, status_tag) = status_of(&person, suspended);
        let identities = crate::db::models::user_identities::of_user(conn, person.id)?
            .into_iter()
            .map(|i| {
                let roles = i.role_names();
                (i.provider, roles)
            })
            .collect();
        Ok(Self {
            identities,
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
            suspended,
            shared: people::in_other_organisations(conn, org.id, person.id)?,
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

    /// The person's page with `tab` open.
    pub async fn load(
        signed: &Signed,
        org_id: OrganisationId,
        person: UserId,
        tab: &'static str,
    ) -> AppResult<Self> {
        let page = signed
            .page(move |conn, frame| UserView::load(conn, &frame.user, org_id, person))
            .await?;
        Ok(Self::new(page.layout, page.data, tab))
    }

    /// 200, or 422 when the page carries errors.
    pub fn render(&self) -> AppResult<HttpResponse> {
        crate::web::render_with(self.errors.status(), self)
    }
}

/// The person's page again with one error, for an action that was refused.
pub async fn refused(
    signed: &Signed,
    org_id: OrganisationId,
    person: UserId,
    field: &'static str,
    message: String,
) -> AppResult<HttpResponse> {
    let tab = if field == "role_id" {
        "roles"
    } else {
        "details"
    };
    let mut page = UserPage::load(signed, org_id, person, tab).await?;
    page.errors.add(field, message);
    page.render()
}

pub async fn details_page(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    let (org_id, person) = path.into_inner();
    UserPage::load(&signed, org_id, person, "details")
        .await?
        .render()
}

impl DetailsForm {
    fn parse(&self, errors: &mut FormErrors) -> Option<Names> {
        let first_name = errors.check(
            "first_name",
            PersonName::parse(&self.first_name, "first name"),
        );
        let surname = errors.check("surname", PersonName::parse(&self.surname, "surname"));
        Some(Names {
            first_name: first_name?,
            surname: surname?,
        })
    }
}

pub async fn update_details(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<DetailsForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, person), form) = (path.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(names) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                accounts::rename(conn, &Actor::person(user, &ip), org_id, person, &names)
            })
            .await?;
        match decision {
            Decision::Done(()) => return signed.done("Details saved.", &user_path(org_id, person)),
            Decision::Refused(reason) => errors.add("first_name", reason),
        }
    }
    let mut page = UserPage::load(&signed, org_id, person, "details").await?;
    page.errors = errors;
    page.form = form;
    page.render()
}
