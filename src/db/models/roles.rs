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

// ---------------------------------------------------------------- Manage Users & Roles

/// One person's role, across the organisation (`scope_workspace_id` NULL) or in one workspace.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = role_assignments)]
pub struct RoleAssignment {
    pub id: uuid::Uuid,
    pub organisation_id: OrganisationId,
    pub role_id: RoleId,
    pub user_id: UserId,
    pub scope_workspace_id: Option<WorkspaceId>,
    pub created_by: Option<UserId>,
}

/// The permissions a role grants, as chosen on the Roles page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Permissions {
    pub manage_users: bool,
    pub manage_roles: bool,
    pub import_users: bool,
    pub view_audit: bool,
    pub manage_workspaces: bool,
}

impl Role {
    /// "manage users, view audit": what the Roles page and the audit say it grants.
    pub fn permission_names(&self) -> Vec<&'static str> {
        [
            (self.manage_users, "manage users"),
            (self.manage_roles, "manage roles"),
            (self.import_users, "import users"),
            (self.view_audit, "view audit"),
            (self.manage_workspaces, "manage workspaces"),
        ]
        .into_iter()
        .filter_map(|(held, name)| held.then_some(name))
        .collect()
    }
}

/// The organisation's roles, the built-in one first.
pub fn in_organisation(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Vec<Role>> {
    roles::table
        .filter(roles::organisation_id.eq(org))
        .order((roles::built_in.desc(), roles::name))
        .select(Role::as_select())
        .load(conn)
}

/// A role of this organisation (another organisation's id is not found).
pub fn find_in(conn: &mut PgConnection, org: OrganisationId, id: RoleId) -> QueryResult<Role> {
    roles::table
        .filter(roles::organisation_id.eq(org))
        .filter(roles::id.eq(id))
        .select(Role::as_select())
        .first(conn)
}

/// Creates a role; `None` when the organisation already has one by that name.
pub fn create(
    conn: &mut PgConnection,
    org: OrganisationId,
    name: &str,
    p: Permissions,
) -> QueryResult<Option<Role>> {
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(RoleId::new()),
            roles::organisation_id.eq(org),
            roles::name.eq(name),
            roles::manage_users.eq(p.manage_users),
            roles::manage_roles.eq(p.manage_roles),
            roles::import_users.eq(p.import_users),
            roles::view_audit.eq(p.view_audit),
            roles::manage_workspaces.eq(p.manage_workspaces),
        ))
        .on_conflict_do_nothing()
        .returning(Role::as_returning())
        .get_result(conn)
        .optional()
}

/// How many people hold each role of the organisation.
pub fn holder_counts(
    conn: &mut PgConnection,
    org: OrganisationId,
) -> QueryResult<Vec<(RoleId, i64)>> {
    role_assignments::table
        .filter(role_assignments::organisation_id.eq(org))
        .group_by(role_assignments::role_id)
        .select((
            role_assignments::role_id,
            diesel::dsl::count(role_assignments::id),
        ))
        .load(conn)
}

/// A person's assignments in the organisation, each with its role and its workspace's name.
pub fn assignments_of(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<Vec<(RoleAssignment, Role, Option<String>)>> {
    use crate::db::schema::workspaces;
    role_assignments::table
        .inner_join(roles::table)
        .left_join(workspaces::table)
        .filter(role_assignments::organisation_id.eq(org))
        .filter(role_assignments::user_id.eq(user))
        .order((roles::name, role_assignments::created_at))
        .select((
            RoleAssignment::as_select(),
            Role::as_select(),
            workspaces::name.nullable(),
        ))
        .load(conn)
}

/// Role names (with their workspace) for several people at once: the Users table.
pub fn names_for(
    conn: &mut PgConnection,
    org: OrganisationId,
    people: &[UserId],
) -> QueryResult<Vec<(UserId, String, Option<String>)>> {
    use crate::db::schema::workspaces;
    role_assignments::table
        .inner_join(roles::table)
        .left_join(workspaces::table)
        .filter(role_assignments::organisation_id.eq(org))
        .filter(role_assignments::user_id.eq_any(people))
        .order(roles::name)
        .select((
            role_assignments::user_id,
            roles::name,
            workspaces::name.nullable(),
        ))
        .load(conn)
}

/// One assignment of `user` in `org`.
pub fn find_assignment(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
    id: uuid::Uuid,
) -> QueryResult<RoleAssignment> {
    role_assignments::table
        .filter(role_assignments::organisation_id.eq(org))
        .filter(role_assignments::user_id.eq(user))
        .filter(role_assignments::id.eq(id))
        .select(RoleAssignment::as_select())
        .first(conn)
}

/// Whether `user` already holds this role with this scope.
pub fn holds(
    conn: &mut PgConnection,
    role: &Role,
    user: UserId,
    scope: Option<WorkspaceId>,
    except: Option<uuid::Uuid>,
) -> QueryResult<bool> {
    let mut query = role_assignments::table
        .filter(role_assignments::role_id.eq(role.id))
        .filter(role_assignments::user_id.eq(user))
        .into_boxed();
    query = match scope {
        Some(ws) => query.filter(role_assignments::scope_workspace_id.eq(ws)),
        None => query.filter(role_assignments::scope_workspace_id.is_null()),
    };
    if let Some(except) = except {
        query = query.filter(role_assignments::id.ne(except));
    }
    diesel::select(diesel::dsl::exists(query.select(role_assignments::id))).get_result(conn)
}

pub fn assign(
    conn: &mut PgConnection,
    role: &Role,
    user: UserId,
    scope: Option<WorkspaceId>,
    by: UserId,
) -> QueryResult<uuid::Uuid> {
    diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::id.eq(uuid::Uuid::new_v4()),
            role_assignments::organisation_id.eq(role.organisation_id),
            role_assignments::role_id.eq(role.id),
            role_assignments::user_id.eq(user),
            role_assignments::scope_workspace_id.eq(scope),
            role_assignments::created_by.eq(by),
        ))
        .returning(role_assignments::id)
        .get_result(conn)
}

pub fn change_assignment(
    conn: &mut PgConnection,
    assignment: &RoleAssignment,
    role: &Role,
    scope: Option<WorkspaceId>,
) -> QueryResult<usize> {
    diesel::update(role_assignments::table.find(assignment.id))
        .set((
            role_assignments::role_id.eq(role.id),
            role_assignments::scope_workspace_id.eq(scope),
        ))
        .execute(conn)
}

pub fn delete_assignment(
    conn: &mut PgConnection,
    assignment: &RoleAssignment,
) -> QueryResult<usize> {
    diesel::delete(role_assignments::table.find(assignment.id)).execute(conn)
}

/// Whether the account holds any role, in any organisation.
pub fn holds_any(conn: &mut PgConnection, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        role_assignments::table.filter(role_assignments::user_id.eq(user)),
    ))
    .get_result(conn)
}

/// Takes away every role the person holds in the organisation (organisation-wide or scoped to
/// one of its workspaces); how many there were.
pub fn remove_all_in(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::delete(
        role_assignments::table
            .filter(role_assignments::organisation_id.eq(org))
            .filter(role_assignments::user_id.eq(user)),
    )
    .execute(conn)
}
