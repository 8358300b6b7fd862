//! Guests' end dates, as housekeeping keeps them: a warning a week before, and the end of the
//! membership on the day.

use diesel::PgConnection;

use super::Actor;
use crate::db::models::audit;
use crate::db::models::{workspace_members, workspaces};
use crate::domain::AuditAction;
use crate::error::AppResult;
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
            ends_on: (ends_at - chrono::Duration::days(1))
                .format("%-d %B %Y")
                .to_string(),
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
