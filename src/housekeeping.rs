//! Work done on a timer inside `serve`: forget ended sessions, remind people of invitations that
//! expire within three days, tell guests a week before their access ends, and end it on the
//! day. Each step claims its rows with a conditional UPDATE, so two servers never do one twice.

use crate::domain::AuditAction;
use diesel::PgConnection;

use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::invitations;
use crate::db::models::workspace_members;
use crate::db::models::{sessions, workspaces};
use crate::db::PgPool;
use crate::error::AppResult;
use crate::mail::{self, messages};
use crate::services::invitations::send_link;

/// How often the steps run.
const EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sessions_removed: usize,
    pub reminders_sent: usize,
    pub guests_warned: usize,
    pub guests_ended: usize,
}

/// Runs until the task is dropped.
pub async fn run(pool: PgPool, base_url: String) {
    let mut interval = tokio::time::interval(EVERY);
    loop {
        interval.tick().await;
        let (pool, base_url) = (pool.clone(), base_url.clone());
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<Round> {
            Ok(run_once(&mut *pool.get()?, &base_url)?)
        })
        .await;
        match outcome {
            Ok(Ok(round)) if round != Round::default() => tracing::info!(?round, "housekeeping"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "housekeeping failed"),
            Err(e) => tracing::warn!(error = %e, "housekeeping task failed"),
        }
    }
}

/// One round of every step, each in its own transaction.
pub fn run_once(conn: &mut PgConnection, base_url: &str) -> AppResult<Round> {
    Ok(Round {
        sessions_removed: sessions::delete_expired(conn)?,
        reminders_sent: send_reminders(conn, base_url)?,
        guests_warned: warn_guests(conn)?,
        guests_ended: end_guests(conn)?,
    })
}

/// Reminds people of open invitations that expire within three days, with a fresh link that
/// works alongside the one already sent.
fn send_reminders(conn: &mut PgConnection, base_url: &str) -> AppResult<usize> {
    conn.build_transaction().run(|conn| {
        let due = invitations::claim_due_reminders(conn, 100)?;
        let mut sent = 0;
        for invitation in &due {
            let Ok(workspace) = workspaces::find_live(conn, invitation.workspace_id) else {
                continue;
            };
            send_link(conn, base_url, invitation, &workspace, true)?;
            sent += 1;
        }
        Ok(sent)
    })
}

/// Tells guests a week before their access ends.
fn warn_guests(conn: &mut PgConnection) -> AppResult<usize> {
    conn.build_transaction().run(|conn| {
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
    })
}

/// Ends guests' memberships on their end date; audited.
fn end_guests(conn: &mut PgConnection) -> AppResult<usize> {
    conn.build_transaction().run(|conn| {
        let ended = workspace_members::ended(conn)?;
        let mut removed = 0;
        for (workspace, user) in ended {
            let Ok(ws) = workspaces::lock(conn, workspace) else {
                continue;
            };
            if workspace_members::remove(conn, workspace, user)? {
                removed += 1;
                audit::record(
                    conn,
                    &NewAuditEvent::new(AuditAction::GuestAccessEnded, None)
                        .target(user)
                        .organisation(ws.organisation_id)
                        .workspace(workspace)
                        .detail("Guest access ended on its end date"),
                )?;
            }
        }
        Ok(removed)
    })
}
