//! An organisation's roles and who holds them: creating a role, and giving, changing and
//! taking away a person's role, which needs "manage roles" and is never done to oneself.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::roles::{self, Permissions, Role, RoleAssignment};
use crate::db::models::users;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{AuditAction, OrganisationId, RoleId, UserId, WorkspaceId};
use crate::error::{AppError, AppResult};

/// A role as the Roles page's form gives it, its name already checked.
pub struct NewRole {
    pub name: String,
    pub permissions: Permissions,
}

/// Creates the role, with its audit; refused when the organisation has one by that name.
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    new: &NewRole,
) -> AppResult<Decision<Role>> {
    let user = actor.user()?;
    let org = permissions::administer_roles(conn, user, org)?;
    let Some(role) = roles::create(conn, org.id, &new.name, new.permissions)? else {
        return Ok(Decision::refused(
            "The organisation already has a role with this name",
        ));
    };
    let granted = role.permission_names();
    audit::record(
        conn,
        &actor
            .event(AuditAction::RoleCreated)
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
    Ok(Decision::Done(role))
}

/// Where a role applies, as the form names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Organisation,
    Workspace(WorkspaceId),
    /// Not a workspace id at all.
    Unknown,
}

/// What an add or edit form asks for; `role` is `None` when it is not a role id at all.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    pub role: Option<RoleId>,
    pub scope: Scope,
}

pub const OWN_ROLES: &str = "You cannot change your own roles: ask another administrator";
const UNKNOWN_ROLE: &str = "Choose one of the organisation's roles";
/// The one refusal about the scope rather than the role.
pub const UNKNOWN_SCOPE: &str =
    "Choose one of the organisation's workspaces, or the whole organisation";

/// The checks every change shares: the right to assign, the person in the organisation, and
/// not one's own roles.
fn may_change(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
) -> AppResult<Option<Decision>> {
    let admin = actor.user()?;
    permissions::administer_roles(conn, admin, org)?;
    permissions::administer_user(conn, admin, org, person)?;
    Ok((person == admin.id).then(|| Decision::refused(OWN_ROLES)))
}

/// The role and workspace the choice names in the organisation, or why it names none.
fn resolve(
    conn: &mut PgConnection,
    org: OrganisationId,
    choice: &Choice,
) -> AppResult<Decision<(Role, Option<Workspace>)>> {
    let role = match choice.role.map(|id| roles::find_in(conn, org, id)) {
        Some(Ok(role)) => Some(role),
        Some(Err(diesel::result::Error::NotFound)) | None => None,
        Some(Err(e)) => return Err(e.into()),
    };
    let workspace = match choice.scope {
        Scope::Organisation => Some(None),
        Scope::Workspace(id) => match workspaces::find_live(conn, id) {
            Ok(w) if w.organisation_id == org => Some(Some(w)),
            Ok(_) | Err(diesel::result::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Scope::Unknown => None,
    };
    Ok(match (role, workspace) {
        (Some(role), Some(workspace)) => Decision::Done((role, workspace)),
        (None, _) => Decision::refused(UNKNOWN_ROLE),
        (Some(_), None) => Decision::refused(UNKNOWN_SCOPE),
    })
}

fn scope_name(workspace: &Option<Workspace>) -> String {
    workspace
        .as_ref()
        .map_or_else(|| "the whole organisation".into(), |w| w.name.clone())
}

/// Refused when the person already holds the role there (apart from `except`, the one being
/// edited).
fn already_holds(
    conn: &mut PgConnection,
    role: &Role,
    person: UserId,
    workspace: &Option<Workspace>,
    except: Option<uuid::Uuid>,
) -> AppResult<Option<Decision>> {
    let scope = workspace.as_ref().map(|w| w.id);
    Ok(roles::holds(conn, role, person, scope, except)?.then(|| {
        Decision::Refused(format!(
            "They already have {} for {}",
            role.name,
            scope_name(workspace)
        ))
    }))
}

/// Gives the person the chosen role. Done says what to show.
pub fn assign(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    choice: &Choice,
) -> AppResult<Decision> {
    if let Some(refusal) = may_change(conn, actor, org, person)? {
        return Ok(refusal);
    }
    let (role, ws) = match resolve(conn, org, choice)? {
        Decision::Done(chosen) => chosen,
        Decision::Refused(reason) => return Ok(Decision::Refused(reason)),
    };
    if let Some(refusal) = already_holds(conn, &role, person, &ws, None)? {
        return Ok(refusal);
    }
    let admin = actor.user()?;
    let target = users::find(conn, person)?;
    roles::assign(conn, &role, person, ws.as_ref().map(|w| w.id), admin.id)?;
    let mut event = actor
        .event(AuditAction::RoleAssigned)
        .target(person)
        .organisation(org)
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
    Ok(Decision::Done(format!("{} added.", role.name)))
}

/// Changes one of the person's assignments to the chosen role and scope.
pub fn change(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    assignment: uuid::Uuid,
    choice: &Choice,
) -> AppResult<Decision> {
    let refusal = may_change(conn, actor, org, person)?;
    let assignment = roles::find_assignment(conn, org, person, assignment)?;
    if let Some(refusal) = refusal {
        return Ok(refusal);
    }
    let (role, ws) = match resolve(conn, org, choice)? {
        Decision::Done(chosen) => chosen,
        Decision::Refused(reason) => return Ok(Decision::Refused(reason)),
    };
    if let Some(refusal) = already_holds(conn, &role, person, &ws, Some(assignment.id))? {
        return Ok(refusal);
    }
    let before = describe(conn, org, &assignment)?;
    roles::change_assignment(conn, &assignment, &role, ws.as_ref().map(|w| w.id))?;
    let target = users::find(conn, person)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::RoleChanged)
            .target(person)
            .organisation(org)
            .detail(format!(
                "{} changed {}'s role from {} to {} for {}",
                actor.user()?.full_name(),
                target.full_name(),
                before,
                role.name,
                scope_name(&ws)
            )),
    )?;
    Ok(Decision::Done(format!("Role changed to {}.", role.name)))
}

/// Takes one of the person's assignments away.
pub fn remove(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    assignment: uuid::Uuid,
) -> AppResult<Decision> {
    let refusal = may_change(conn, actor, org, person)?;
    let assignment = roles::find_assignment(conn, org, person, assignment)?;
    if let Some(refusal) = refusal {
        return Ok(refusal);
    }
    let what = describe(conn, org, &assignment)?;
    roles::delete_assignment(conn, &assignment)?;
    let target = users::find(conn, person)?;
    let mut event = actor
        .event(AuditAction::RoleRemoved)
        .target(person)
        .organisation(org)
        .detail(format!(
            "{} removed the role {} from {}",
            actor.user()?.full_name(),
            what,
            target.full_name()
        ));
    if let Some(ws) = assignment.scope_workspace_id {
        event = event.workspace(ws);
    }
    audit::record(conn, &event)?;
    Ok(Decision::Done("Role removed.".into()))
}

/// "Trust administrator for the whole organisation".
pub fn describe(
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
