//! Sending an invitation's link: a new token (only its hash kept), and the email (or, for a
//! mobile number, the text message) queued in the caller's transaction. Used by the invite
//! form, Resend, and the reminder three days before expiry.

use diesel::PgConnection;

use crate::db::models::invitations::{self, Invitation};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::db::models::{organisations, users};
use crate::domain::Token;
use crate::error::AppResult;
use crate::mail::{self, messages};

/// "a member", "an admin", "a guest": how the email names the role.
pub fn role_label(role: &str) -> &'static str {
    match role {
        workspace_members::ADMIN => "an admin",
        workspace_members::GUEST => "a guest",
        _ => "a member",
    }
}

/// Makes a new link for the invitation and queues it. A send or resend supersedes the earlier
/// links; a reminder's link works alongside them.
pub fn send_link(
    conn: &mut PgConnection,
    base_url: &str,
    invitation: &Invitation,
    workspace: &Workspace,
    reminder: bool,
) -> AppResult<()> {
    let token = Token::generate();
    invitations::add_link(conn, invitation.id, &token.hash(), reminder)?;
    let inviter_name = match invitation.invited_by {
        Some(id) => users::find(conn, id)?.full_name(),
        None => "A colleague".to_string(),
    };
    let organisation = organisations::find(conn, workspace.organisation_id)?;
    let message = messages::Invitation {
        inviter_name,
        workspace: workspace.name.clone(),
        organisation: organisation.name,
        role_label: role_label(&invitation.role).to_string(),
        address: invitation.address(),
        expires_on: invitation.expires_at.format("%-d %B %Y").to_string(),
        link: format!("{base_url}/invitations/{}", token.plain()),
        reminder,
    };
    let queued = match (&invitation.email, &invitation.mobile) {
        (Some(email), _) => mail::enqueue(conn, email, &message)?,
        (None, Some(mobile)) => mail::enqueue_sms(conn, mobile, &message)?,
        (None, None) => return Ok(()),
    };
    invitations::set_outbox(conn, invitation.id, queued)?;
    Ok(())
}
