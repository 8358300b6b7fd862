//! `GET /organisations/{org_id}/admin/roles`: the organisation's roles with their permissions
//! and how many hold each; "Trust administrator" is built in and has them all. `POST` creates
//! another (name, and a checkbox per permission).

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::AdminNav;
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::roles::{self, Permissions, Role};
use crate::domain::OrganisationId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

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
    user: &crate::db::models::users::User,
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

pub async fn roles_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let (nav, rows, may_create) =
        crate::db::run(&state.pool, move |conn| load(conn, &user, org_id)).await?;
    crate::web::render(&RolesPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        nav,
        rows,
        may_create,
        errors: FormErrors::default(),
        form: RoleForm::default(),
    })
}

pub async fn create(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let (user, org_id, form) = (current.user.clone(), org_id.into_inner(), form.into_inner());
    let ip = crate::web::client_ip(&req);
    let refused = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::administer_roles(conn, &user, org_id)?;
        let mut errors = FormErrors::default();
        let name = form.name.trim();
        if name.is_empty() {
            errors.add("name", "Enter a name for the role");
        } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.add("name", "The name must be 100 characters or fewer");
        }
        let created = if errors.is_empty() {
            roles::create(conn, org.id, name, form.permissions())?
        } else {
            None
        };
        let Some(role) = created else {
            if errors.is_empty() {
                errors.add("name", "The organisation already has a role with this name");
            }
            let (nav, rows, may_create) = load(conn, &user, org_id)?;
            return Ok(Some((nav, rows, may_create, errors, form)));
        };
        let granted = role.permission_names();
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::RoleCreated, Some(ip))
                .actor(user.id)
                .organisation(org.id)
                .detail(format!(
                    "{} created the role {} ({})",
                    user.full_name(),
                    role.name,
                    if granted.is_empty() {
                        "no permissions".to_string()
                    } else {
                        granted.join(", ")
                    }
                )),
        )?;
        Ok(None)
    })
    .await?;
    match refused {
        None => {
            session.set_flash("Role created.")?;
            Ok(crate::web::see_other(&format!(
                "/organisations/{org_id}/admin/roles"
            )))
        }
        Some((nav, rows, may_create, errors, form)) => crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RolesPage {
                layout: Layout::signed_in(&session, &current.user, &current.nav)?,
                nav,
                rows,
                may_create,
                errors,
                form,
            },
        ),
    }
}
