//! The `roles` and `role_assignments` tables ("Manage Users & Roles").

use diesel::prelude::*;

use crate::db::schema::{role_assignments, roles};
use crate::domain::{OrganisationId, RoleId, UserId, WorkspaceId};

pub const TRUST_ADMINISTRATOR: &str = "Trust administrator";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct Role {
    pub id: RoleId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub built_in: bool,
    pub manage_users: bool,
    pub manage_roles: bool,
    pub import_users: bool,
    pub view_audit: bool,
    pub manage_workspaces: bool,
}

/// Every organisation has "Trust administrator", holding every permission.
pub fn create_built_in(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Role> {
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(RoleId::new()),
            roles::organisation_id.eq(org),
            roles::name.eq(TRUST_ADMINISTRATOR),
            roles::built_in.eq(true),
            roles::manage_users.eq(true),
            roles::manage_roles.eq(true),
            roles::import_users.eq(true),
            roles::view_audit.eq(true),
            roles::manage_workspaces.eq(true),
        ))
        .returning(Role::as_returning())
        .get_result(conn)
}

pub fn trust_administrator(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Role> {
    roles::table
        .filter(roles::organisation_id.eq(org))
        .filter(roles::built_in.eq(true))
        .filter(roles::name.eq(TRUST_ADMINISTRATOR))
        .select(Role::as_select())
        .first(conn)
}

/// Gives `user` the role across the whole organisation.
pub fn assign_organisation_wide(
    conn: &mut PgConnection,
    role: &Role,
    user: UserId,
    by: Option<UserId>,
) -> QueryResult<usize> {
    diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::id.eq(uuid::Uuid::new_v4()),
            role_assignments::organisation_id.eq(role.organisation_id),
            role_assignments::role_id.eq(role.id),
            role_assignments::user_id.eq(user),
            role_assignments::created_by.eq(by),
        ))
        .execute(conn)
}

/// The roles `user` holds organisation-wide in `org`.
pub fn organisation_wide_of(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<Vec<Role>> {
    roles::table
        .inner_join(role_assignments::table)
        .filter(role_assignments::organisation_id.eq(org))
        .filter(role_assignments::user_id.eq(user))
        .filter(role_assignments::scope_workspace_id.is_null())
        .select(Role::as_select())
        .load(conn)
}

/// Whether `user` holds "manage workspaces" for this workspace: organisation-wide, or scoped to
/// exactly this workspace.
pub fn manages_workspace(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
    workspace: WorkspaceId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        roles::table
            .inner_join(role_assignments::table)
            .filter(role_assignments::organisation_id.eq(org))
            .filter(role_assignments::user_id.eq(user))
            .filter(roles::manage_workspaces.eq(true))
            .filter(
                role_assignments::scope_workspace_id
                    .is_null()
                    .or(role_assignments::scope_workspace_id.eq(workspace)),
            ),
    ))
    .get_result(conn)
}

/// Whether `user` holds "manage workspaces" across the whole organisation.
pub fn manages_all_workspaces(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<bool> {
    Ok(organisation_wide_of(conn, org, user)?
        .iter()
        .any(|r| r.manage_workspaces))
}
