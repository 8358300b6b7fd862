//! `GET /organisations/{org_id}/admin/roles`: the organisation's roles with their permissions
//! and how many hold each; "Trust administrator" is built in and has them all. `POST` creates
//! another (name, and a checkbox per permission).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::AdminNav;
use crate::auth::permissions;
use crate::db::models::roles::{self, Permissions, Role};
use crate::db::models::users::User;
use crate::domain::{OrganisationId, Text, TextRules};
use crate::error::{AppError, AppResult};
use crate::services::roles::{self as role_service, NewRole};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

const ROLE_NAME: TextRules = TextRules::line("The name", 100);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    name: String,
    manage_users: String,
    manage_roles: String,
    import_users: String,
    view_audit: String,
    manage_workspaces: String,
}

impl RoleForm {
    /// Each permission's field, label and whether it is ticked.
    fn fields(&self) -> Vec<(&'static str, &'static str, bool)> {
        vec![
            (
                "manage_users",
                "Manage users",
                !self.manage_users.is_empty(),
            ),
            (
                "manage_roles",
                "Manage roles",
                !self.manage_roles.is_empty(),
            ),
            (
                "import_users",
                "Import users",
                !self.import_users.is_empty(),
            ),
            ("view_audit", "View audit", !self.view_audit.is_empty()),
            (
                "manage_workspaces",
                "Manage workspaces",
                !self.manage_workspaces.is_empty(),
            ),
        ]
    }

    fn permissions(&self) -> Permissions {
        Permissions {
            manage_users: !self.manage_users.is_empty(),
            manage_roles: !self.manage_roles.is_empty(),
            import_users: !self.import_users.is_empty(),
            view_audit: !self.view_audit.is_empty(),
            manage_workspaces: !self.manage_workspaces.is_empty(),
        }
    }
}

pub struct RoleRow {
    pub role: Role,
    pub holders: i64,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    layout: Layout,
    nav: AdminNav,
    rows: Vec<RoleRow>,
    may_create: bool,
    errors: FormErrors,
    form: RoleForm,
}

fn load(
    conn: &mut diesel::PgConnection,
    user: &User,
    org_id: OrganisationId,
) -> AppResult<(AdminNav, Vec<RoleRow>, bool)> {
    let org = permissions::see_roles(conn, user, org_id)?;
    let may_create = permissions::administer_roles(conn, user, org.id).is_ok();
    let nav = AdminNav::load(conn, &org, user, "roles")?;
    let counts = roles::holder_counts(conn, org.id)?;
    let rows = roles::in_organisation(conn, org.id)?
        .into_iter()
        .map(|role| RoleRow {
            holders: counts
                .iter()
                .find(|(id, _)| *id == role.id)
                .map_or(0, |(_, n)| *n),
            role,
        })
        .collect();
    Ok((nav, rows, may_create))
}

/// The page; answering the create form (`answering`), for those who may create roles only.
async fn render(
    signed: &Signed,
    org_id: OrganisationId,
    answering: bool,
    errors: FormErrors,
    form: RoleForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| load(conn, &frame.user, org_id))
        .await?;
    let (nav, rows, may_create) = page.data;
    if answering && !may_create {
        return Err(AppError::NotFound);
    }
    crate::web::render_with(
        errors.status(),
        &RolesPage {
            layout: page.layout,
            nav,
            rows,
            may_create,
            errors,
            form,
        },
    )
}

pub async fn roles_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let form = RoleForm::default();
    render(
        &signed,
        org_id.into_inner(),
        false,
        FormErrors::default(),
        form,
    )
    .await
}

impl RoleForm {
    /// The name's own rules; its uniqueness in the organisation is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<NewRole> {
        let name = errors.check(
            "name",
            Text::required(&self.name, ROLE_NAME, "Enter a name for the role"),
        )?;
        Some(NewRole {
            name: name.into_string(),
            permissions: self.permissions(),
        })
    }
}

pub async fn create(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let (org_id, form) = (org_id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(role) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                role_service::create(conn, &Actor::person(user, &ip), org_id, &role)
            })
            .await?;
        match decision {
            Decision::Done(_) => {
                return signed.done(
                    "Role created.",
                    &format!("/organisations/{org_id}/admin/roles"),
                )
            }
            // The only refusal: the name is taken.
            Decision::Refused(reason) => errors.add("name", reason),
        }
    }
    render(&signed, org_id, true, errors, form).await
}
