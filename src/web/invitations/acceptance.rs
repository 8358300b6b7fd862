//! Accepting an invitation, by its link or from inside the app: one transaction that takes the
//! workspace lock, checks the rules again (the address, the organisation's domains, the role,
//! and that the inviter may still invite), uses the invitation up in one conditional UPDATE,
//! and makes the person an approved member.

use crate::domain::AuditAction;
use crate::domain::{MembershipStatus, WorkspaceRole};
use chrono::NaiveTime;
use diesel::PgConnection;

use crate::auth::permissions;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::invitations::{self, Invitation, Status};
use crate::db::models::organisations;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::error::{AppError, AppResult};
use crate::services::membership::tell_admins_of_request;

pub enum Outcome {
    Joined {
        workspace: Workspace,
        /// They were an approved member already.
        already_member: bool,
        /// A text-message invitation: they wait for an admin's approval (see `accept`).
        pending: bool,
    },
    /// Signed in as someone other than the person invited.
    WrongAccount { invited: String, signed_in: String },
    /// The rules no longer allow it; the reason is said on the page.
    Refused { workspace: String, reason: String },
    /// Used, declined, rescinded or expired meanwhile (a parallel accept, say): with the
    /// workspace's name.
    Dead(Status, String),
}

/// Whether the invitation is addressed to this account. A mobile invitation went to the phone
/// that holds the link, so any verified account may use it (and then waits for approval).
pub fn addressed_to(invitation: &Invitation, user: &User) -> bool {
    user.is_verified() && (invitation.mobile.is_some() || invitation.is_for_email(&user.email))
}

/// Why the rules no longer allow this person to join through this invitation, if they do not.
fn refusal(
    conn: &mut PgConnection,
    invitation: &Invitation,
    workspace: &Workspace,
    user: &User,
) -> AppResult<Option<String>> {
    if invitation.role == WorkspaceRole::Guest {
        if !workspace.guests_allowed {
            return Ok(Some("the workspace no longer takes guests".into()));
        }
    } else {
        let organisation = organisations::find(conn, workspace.organisation_id)?;
        if !organisations::admits(conn, workspace.organisation_id, &user.email)? {
            return Ok(Some(format!(
                "{} no longer admits email addresses like {}",
                organisation.name, user.email
            )));
        }
    }
    let inviter_may_still_invite = match invitation.invited_by {
        Some(inviter) => {
            let inviter = users::find(conn, inviter)?;
            inviter.is_active()
                && match permissions::workspace(conn, &inviter, workspace.id) {
                    Ok(access) => permissions::may_invite_as(&access, invitation.role),
                    Err(AppError::NotFound) => false,
                    Err(other) => return Err(other),
                }
        }
        None => false,
    };
    if !inviter_may_still_invite {
        return Ok(Some(
            "the person who invited you can no longer invite people to this workspace".into(),
        ));
    }
    Ok(None)
}

/// Accepts `invitation` for `user` inside the caller's transaction; `consume` is the one
/// conditional UPDATE that uses it up (by link, or by id from inside the app).
pub fn accept(
    conn: &mut PgConnection,
    base_url: &str,
    invitation: &Invitation,
    user: &User,
    ip: &str,
    consume: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<Option<Invitation>>,
) -> AppResult<Outcome> {
    // The lock makes parallel accepts (and leaves, removals) of this workspace take turns.
    let workspace = match workspaces::lock(conn, invitation.workspace_id) {
        Ok(workspace) => workspace,
        Err(diesel::NotFound) => {
            return Ok(Outcome::Refused {
                workspace: String::new(),
                reason: "the workspace has been closed".into(),
            })
        }
        Err(other) => return Err(other.into()),
    };
    // Invitations change only under the workspace lock (invite, resend), so this read is the
    // row the rules are checked against and the UPDATE below uses.
    let invitation = &invitations::find_in_workspace(conn, workspace.id, invitation.id)?;
    if invitation.status() != Status::NotJoined {
        return Ok(Outcome::Dead(invitation.status(), workspace.name));
    }
    if !addressed_to(invitation, user) {
        return Ok(Outcome::WrongAccount {
            invited: invitation.address(),
            signed_in: user.email.clone(),
        });
    }
    if let Some(reason) = refusal(conn, invitation, &workspace, user)? {
        return Ok(Outcome::Refused {
            workspace: workspace.name,
            reason,
        });
    }
    let Some(accepted) = consume(conn)? else {
        let now = invitations::find_in_workspace(conn, workspace.id, invitation.id)?;
        return Ok(Outcome::Dead(now.status(), workspace.name));
    };
    let ends_at = accepted
        .guest_until
        .and_then(|day| day.succ_opt())
        .map(|next_day| next_day.and_time(NaiveTime::MIN).and_utc())
        .filter(|_| accepted.role == WorkspaceRole::Guest);
    // A text message can be forwarded, and a mobile number mistyped: whoever holds such a link
    // joins as a pending guest, and an admin approves them.
    let pending = accepted.mobile.is_some();
    let joined = if pending {
        let asked = workspace_members::insert(
            conn,
            workspace.id,
            user.id,
            MembershipStatus::Pending,
            WorkspaceRole::Guest,
            "Accepted a text-message invitation",
            None,
        )?
        .is_some();
        if asked {
            workspace_members::set_guest_end(
                conn,
                workspace.id,
                user.id,
                accepted.invited_by,
                ends_at,
            )?;
            tell_admins_of_request(
                conn,
                base_url,
                &workspace,
                user,
                &format!(
                    "Accepted the guest invitation sent by text message to {}.",
                    accepted.address()
                ),
            )?;
        }
        asked
    } else {
        workspace_members::join_approved(
            conn,
            workspace.id,
            user.id,
            accepted.role,
            accepted.invited_by,
            ends_at,
        )?
    };
    if accepted.role != WorkspaceRole::Guest {
        organisations::add_member(conn, workspace.organisation_id, user.id)?;
    }
    invitations::supersede_others(conn, &accepted, &user.email)?;
    let inviter = match accepted.invited_by {
        Some(id) => users::find(conn, id)?.full_name(),
        None => "a former member".into(),
    };
    let mut event = NewAuditEvent::new(AuditAction::InvitationAccepted, Some(ip.to_string()))
        .actor(user.id)
        .target(user.id)
        .organisation(workspace.organisation_id)
        .workspace(workspace.id)
        .detail(if joined && pending {
            format!(
                "{} asked to join as a guest through a text-message invitation (invited by {inviter})",
                user.full_name()
            )
        } else if joined {
            format!(
                "{} joined as {} (invited by {inviter})",
                user.full_name(),
                accepted.role
            )
        } else {
            format!(
                "{} accepted an invitation from {inviter} (already a member)",
                user.full_name()
            )
        });
    if let Some(ends_at) = ends_at.filter(|_| joined && !pending) {
        event = event.detail(format!(
            "{} joined as a guest until {} (invited by {inviter})",
            user.full_name(),
            (ends_at - chrono::Duration::days(1)).format("%-d %B %Y")
        ));
    }
    audit::record(conn, &event)?;
    Ok(Outcome::Joined {
        workspace,
        already_member: !joined,
        pending,
    })
}
