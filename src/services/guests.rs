//! Guests' end dates: an admin sets, moves or removes one; housekeeping warns a week before
//! and ends the membership on the day.

use chrono::NaiveDate;
use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::users;
use crate::db::models::{workspace_members, workspaces};
use crate::domain::{guest_end, AuditAction, UserId, WorkspaceId, WorkspaceRole};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// Tells guests whose access ends within a week (each once). How many were told.
pub fn warn_ending(conn: &mut PgConnection) -> AppResult<usize> {
    let due = workspace_members::claim_ending_soon(conn)?;
    for (membership, user, workspace) in &due {
        let Some(ends_at) = membership.ends_at else {
            continue;
        };
        let email = messages::GuestEnding {
            first_name: user.first_name.clone(),
            workspace: workspace.name.clone(),
            ends_on: guest_end::last_day(ends_at).format("%-d %B %Y").to_string(),
        };
        mail::enqueue(conn, &user.email, &email)?;
    }
    Ok(due.len())
}

/// Ends guests' memberships on their end date, audited as the actor's. How many ended.
pub fn end_due(conn: &mut PgConnection, actor: &Actor) -> AppResult<usize> {
    let mut removed = 0;
    for (workspace, user) in workspace_members::ended(conn)? {
        let Ok(ws) = workspaces::lock(conn, workspace) else {
            continue;
        };
        if workspace_members::remove(conn, workspace, user)? {
            removed += 1;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::GuestAccessEnded)
                    .target(user)
                    .organisation(ws.organisation_id)
                    .workspace(workspace)
                    .detail("Guest access ended on its end date"),
            )?;
        }
    }
    Ok(removed)
}

/// An admin of the workspace gives a guest a new last day, or none (`None`). Anyone else, and
/// anyone who is not a guest here, is not found; the guest learns the new date on their home
/// page and is warned again a week before it. Done says what changed.
pub fn change_end(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    guest: UserId,
    last_day: Option<NaiveDate>,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    let ws = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, admin, id)?;
    let membership = workspace_members::find(conn, id, guest)?.ok_or(AppError::NotFound)?;
    if membership.role != WorkspaceRole::Guest || !membership.is_approved() {
        return Err(AppError::NotFound);
    }
    let target = users::find(conn, guest)?;
    if membership.ends_at.map(guest_end::last_day) == last_day {
        return Ok(Decision::Done(format!(
            "{}'s end date is unchanged.",
            target.full_name()
        )));
    }
    if !workspace_members::change_guest_end(conn, id, guest, last_day.map(guest_end::ends_at))? {
        return Err(AppError::NotFound);
    }
    let said = match last_day {
        Some(day) => format!("until {}", day.format("%-d %B %Y")),
        None => "with no end date".to_string(),
    };
    audit::record(
        conn,
        &actor
            .event(AuditAction::GuestEndChanged)
            .target(guest)
            .organisation(ws.organisation_id)
            .workspace(id)
            .detail(format!(
                "{} made {} a guest {said}",
                admin.full_name(),
                target.full_name()
            )),
    )?;
    Ok(Decision::Done(format!(
        "{} is now a guest {said}.",
        target.full_name()
    )))
}
