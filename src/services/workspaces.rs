//! A workspace's own details: creating one (or an example's), and its settings, changed by
//! those who manage it.

use diesel::PgConnection;

use super::{Actor, Decision, FieldError};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::organisations::Organisation;
use crate::db::models::specialties;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, NewWorkspace, Workspace};
use crate::domain::{
    AuditAction, InvitePolicy, MembershipStatus, OrganisationId, Text, TextRules, WorkspaceId,
    WorkspaceName, WorkspaceRole,
};
use crate::error::{AppError, AppResult};

/// What a workspace's description may be.
pub const DESCRIPTION: TextRules = TextRules::lines("The description", 1_000);

/// A new workspace as parsed from the form.
pub struct NewDetails {
    pub name: WorkspaceName,
    pub specialty: String,
    pub description: Text,
}

/// Creates a workspace in the organisation with the actor as its approved admin. Refused
/// beside the field when the name is taken or the specialty is not one of the list.
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    details: &NewDetails,
) -> AppResult<Decision<Workspace, FieldError>> {
    let user = actor.user()?;
    let org = permissions::member_organisation(conn, user, org)?;
    if !permissions::may_create_workspace(conn, user, &org)? {
        return Err(AppError::NotFound);
    }
    if !specialties::all(conn)?
        .iter()
        .any(|s| s.code == details.specialty)
    {
        return Ok(Decision::Refused(FieldError::new(
            "specialty",
            "Select the workspace's specialty",
        )));
    }
    match insert_with_admin(
        conn,
        actor,
        &org,
        &details.name,
        &details.specialty,
        details.description.as_str(),
    )? {
        Some(workspace) => Ok(Decision::Done(workspace)),
        None => Ok(Decision::Refused(FieldError::new(
            "name",
            name_taken(&org, &details.name),
        ))),
    }
}

/// "East London NHS Foundation Trust already has a workspace called Ward 2 ...".
pub fn name_taken(org: &Organisation, name: &WorkspaceName) -> String {
    format!(
        "{} already has a workspace called {}. Ask to join it, or choose a name specific to your team",
        org.name,
        name.as_str()
    )
}

/// Creates the example workspace of a specialty that has none yet, with the actor as admin
/// (named after the specialty, or "... team" where that name is taken).
pub fn join_example(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    specialty: &str,
) -> AppResult<Workspace> {
    let user = actor.user()?;
    let org = permissions::member_organisation(conn, user, org)?;
    if !permissions::may_create_workspace(conn, user, &org)? {
        return Err(AppError::NotFound);
    }
    // Only a specialty that still has no workspace is an example.
    let listed = workspaces::listed_in(conn, org.id)?;
    let specialty = specialties::all(conn)?
        .into_iter()
        .filter(|s| !listed.iter().any(|l| l.workspace.specialty_code == s.code))
        .find(|s| s.code == specialty)
        .ok_or(AppError::NotFound)?;
    let mut name = specialty.name.clone();
    if workspaces::name_taken(conn, org.id, &name)? {
        name = format!("{name} team");
    }
    let name = WorkspaceName::parse(&name).map_err(|e| anyhow::anyhow!(e.0))?;
    insert_with_admin(conn, actor, &org, &name, &specialty.code, "")?
        .ok_or_else(|| anyhow::anyhow!("the example's name was taken at the same moment").into())
}

/// The workspace with the actor as its approved admin; `None` when the name was taken at the
/// same moment.
fn insert_with_admin(
    conn: &mut PgConnection,
    actor: &Actor,
    org: &Organisation,
    name: &WorkspaceName,
    specialty: &str,
    description: &str,
) -> AppResult<Option<Workspace>> {
    let creator = actor.user()?;
    let Some(workspace) = workspaces::insert_unless_name_taken(
        conn,
        &NewWorkspace {
            id: WorkspaceId::new(),
            organisation_id: org.id,
            name: name.as_str(),
            specialty_code: specialty,
            description,
            created_by: Some(creator.id),
        },
    )?
    else {
        return Ok(None);
    };
    workspace_members::insert(
        conn,
        workspace.id,
        creator.id,
        MembershipStatus::Approved,
        WorkspaceRole::Admin,
        "",
        Some(creator.id),
    )?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::WorkspaceCreated)
            .target(creator.id)
            .organisation(org.id)
            .workspace(workspace.id)
            .detail(format!(
                "{} created {} and is its admin",
                creator.full_name(),
                workspace.name
            )),
    )?;
    Ok(Some(workspace))
}

/// The settings as parsed from the form.
pub struct Settings {
    pub name: WorkspaceName,
    pub description: Text,
    pub invite_policy: InvitePolicy,
    pub guests_allowed: bool,
}

/// Saves the settings; refused (with the reason) when another workspace of the organisation
/// has the name.
pub fn update_settings(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    settings: &Settings,
) -> AppResult<Decision<()>> {
    let user = actor.user()?;
    let ws = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, user, id)?;
    let taken = || Decision::refused("Another workspace in the organisation already has this name");
    if workspaces::name_taken_by_other(conn, ws.organisation_id, settings.name.as_str(), id)? {
        return Ok(taken());
    }
    let changes = workspaces::SettingsChanges {
        name: settings.name.as_str(),
        description: settings.description.as_str(),
        invite_policy: settings.invite_policy,
        guests_allowed: settings.guests_allowed,
    };
    if !workspaces::update_settings(conn, id, &changes)? {
        return Ok(taken());
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
        &actor
            .event(AuditAction::WorkspaceSettingsChanged)
            .organisation(ws.organisation_id)
            .workspace(id)
            .detail(detail),
    )?;
    Ok(Decision::Done(()))
}
