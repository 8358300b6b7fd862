//! A workspace's own details: its settings, changed by those who manage it.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::workspaces;
use crate::domain::{AuditAction, InvitePolicy, WorkspaceId, WorkspaceName};
use crate::error::AppResult;

/// The settings as parsed from the form.
pub struct Settings {
    pub name: WorkspaceName,
    pub description: String,
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
        description: &settings.description,
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
