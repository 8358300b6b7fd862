//! Invitations into a workspace: inviting one or many addresses (each with its own outcome),
//! resending and rescinding, and sending an invitation's link (also for the reminder three
//! days before expiry, by housekeeping). Each runs inside the caller's transaction, under the
//! workspace's lock, so that invitations to one address cannot cross and the daily count holds.

use chrono::{Duration, NaiveDate, Utc};
use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions::{self, WorkspaceAccess};
use crate::db::models::audit;
use crate::db::models::invitations::{
    self, Invitation, NewInvitation, DAILY_LIMIT, VALID_FOR_DAYS,
};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::db::models::{organisations, users};
use crate::domain::{AuditAction, InvitationId, Invitee, Token, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::mail::{self, messages};

/// What the inviter asked for: the same role (and guest end date) for every address.
pub struct Request {
    pub invitees: Vec<(String, Result<Invitee, crate::domain::DomainError>)>,
    pub role: WorkspaceRole,
    pub guest_until: Option<NaiveDate>,
}

/// The state shared by one form's addresses.
struct Batch<'a> {
    base_url: &'a str,
    actor: &'a Actor<'a>,
    workspace: Workspace,
    organisation: String,
    role: WorkspaceRole,
    guest_until: Option<NaiveDate>,
    manages: bool,
    /// How many more the daily limit allows.
    budget: i64,
}

/// Invites every address of the request into the workspace. Refused (nothing sent) when the
/// inviter may not invite with this role; otherwise done with a result line per address:
/// (what was typed, what happened, whether it was sent).
pub fn invite(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    request: Request,
) -> AppResult<Decision<Vec<(String, String, bool)>>> {
    let inviter = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    let access = permissions::invite(conn, inviter, id)?;
    if !permissions::may_invite_as(&access, request.role) {
        return Ok(Decision::refused(refusal_for_role(&access, request.role)));
    }
    let mut batch = Batch {
        base_url,
        actor,
        organisation: organisations::find(conn, workspace.organisation_id)?.name,
        budget: DAILY_LIMIT - invitations::sent_in_last_day(conn, id)?,
        workspace,
        role: request.role,
        guest_until: request.guest_until,
        manages: access.manages,
    };
    let mut lines = Vec::new();
    for (typed, parsed) in request.invitees {
        let result = match parsed {
            Err(why) => AddressOutcome::Invalid(why.0),
            Ok(invitee) => invite_one(conn, &mut batch, &invitee)?,
        };
        let (text, ok) = result.line();
        lines.push((typed, text, ok));
    }
    Ok(Decision::Done(lines))
}

/// Why this inviter may not invite with this role.
pub fn refusal_for_role(access: &WorkspaceAccess, role: WorkspaceRole) -> &'static str {
    match role {
        WorkspaceRole::Admin if !access.manages => "Only the workspace's admins can invite admins",
        WorkspaceRole::Guest if !access.workspace.guests_allowed => {
            "This workspace does not take guests"
        }
        _ => "Choose a role",
    }
}

/// What happened to one address.
pub enum AddressOutcome {
    Sent { in_app: bool },
    Resent,
    AlreadyMember,
    NotAdmitted { organisation: String, guests: bool },
    MobileOnlyForGuests,
    Invalid(String),
    LimitReached,
}

impl AddressOutcome {
    /// The result line the Users page shows, and whether it was sent.
    pub fn line(&self) -> (String, bool) {
        let (text, ok) = match self {
            AddressOutcome::Sent { in_app: false } => ("Invitation sent".to_string(), true),
            AddressOutcome::Sent { in_app: true } => (
                "Invitation sent. They already have an account, so they also see it in Staffroom"
                    .to_string(),
                true,
            ),
            AddressOutcome::Resent => (
                "They already had an invitation: it was sent again with a new link".to_string(),
                true,
            ),
            AddressOutcome::AlreadyMember => ("Already a member of this workspace".to_string(), false),
            AddressOutcome::NotAdmitted {
                organisation,
                guests,
            } => (
                format!(
                    "Not sent: not an NHS address {organisation} admits{}",
                    if *guests {
                        ". You can invite them as a guest instead"
                    } else {
                        ""
                    }
                ),
                false,
            ),
            AddressOutcome::MobileOnlyForGuests => (
                "Not sent: a mobile number can only be invited as a guest".to_string(),
                false,
            ),
            AddressOutcome::Invalid(why) => (format!("Not sent: {why}"), false),
            AddressOutcome::LimitReached => (
                format!(
                    "Not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow"
                ),
                false,
            ),
        };
        (text, ok)
    }
}

/// Invites one address, inside the caller's transaction (which holds the workspace lock):
/// refuses it, says they are a member already, resends an open invitation, or sends a new one.
fn invite_one(
    conn: &mut PgConnection,
    batch: &mut Batch,
    invitee: &Invitee,
) -> AppResult<AddressOutcome> {
    let (role, guest_until, manages) = (batch.role, batch.guest_until, batch.manages);
    let inviter = batch.actor.user()?;
    let existing = match invitee {
        Invitee::Email(email) => users::find_by_email(conn, email)?,
        Invitee::Mobile(_) => None,
    };
    match invitee {
        Invitee::Mobile(_) if role != WorkspaceRole::Guest => {
            return Ok(AddressOutcome::MobileOnlyForGuests)
        }
        Invitee::Email(email) if role != WorkspaceRole::Guest => {
            if !organisations::admits(conn, batch.workspace.organisation_id, email.as_str())? {
                return Ok(AddressOutcome::NotAdmitted {
                    organisation: batch.organisation.clone(),
                    guests: batch.workspace.guests_allowed,
                });
            }
        }
        _ => {}
    }
    if let Some(user) = &existing {
        let membership = workspace_members::find(conn, batch.workspace.id, user.id)?;
        if membership.is_some_and(|m| m.is_approved()) {
            return Ok(AddressOutcome::AlreadyMember);
        }
    }
    if batch.budget <= 0 {
        return Ok(AddressOutcome::LimitReached);
    }
    batch.budget -= 1;
    let (base_url, workspace) = (batch.base_url, &batch.workspace);
    let event = |action: AuditAction, detail: String| {
        batch
            .actor
            .event(action)
            .organisation(workspace.organisation_id)
            .workspace(workspace.id)
            .detail(detail)
    };
    if let Some(open) = invitations::open_for_invitee(conn, workspace.id, invitee)? {
        // Only its inviter or a manager may change an invitation; anyone else inviting the
        // same address sends it again as it was.
        let invitation = if manages || open.invited_by == Some(inviter.id) {
            invitations::restart(conn, open.id, role, inviter.id, guest_until)?
        } else {
            let by = open.invited_by.unwrap_or(inviter.id);
            invitations::restart(conn, open.id, open.role, by, open.guest_until)?
        };
        send_link(conn, base_url, &invitation, workspace, false)?;
        audit::record(
            conn,
            &event(
                AuditAction::InvitationResent,
                format!(
                    "{} invited {invitee} again as {}: a new link was sent",
                    inviter.full_name(),
                    invitation.role
                ),
            ),
        )?;
        return Ok(AddressOutcome::Resent);
    }
    let invitation = invitations::insert(
        conn,
        &NewInvitation {
            id: InvitationId::new(),
            workspace_id: workspace.id,
            email: invitee.email().map(|e| e.as_str()),
            mobile: invitee.mobile().map(|m| m.as_str()),
            role,
            invited_by: Some(inviter.id),
            guest_until,
            expires_at: Utc::now() + Duration::days(VALID_FOR_DAYS),
        },
    )?;
    send_link(conn, base_url, &invitation, workspace, false)?;
    audit::record(
        conn,
        &event(
            AuditAction::InvitationSent,
            format!("{} invited {invitee} as {role}", inviter.full_name()),
        ),
    )?;
    Ok(AddressOutcome::Sent {
        in_app: existing.is_some(),
    })
}

/// Resend: a new link (the old one stops working), 30 days again.
pub fn resend(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    invitation_id: InvitationId,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    let (_, invitation) = permissions::manage_invitation(conn, user, id, invitation_id)?;
    if !invitation.is_open() {
        return Ok(not_open());
    }
    if invitations::sent_in_last_day(conn, id)? >= DAILY_LIMIT {
        return Ok(Decision::Done(format!(
            "Not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow."
        )));
    }
    let invitation = invitations::restart(
        conn,
        invitation.id,
        invitation.role,
        invitation.invited_by.unwrap_or(user.id),
        invitation.guest_until,
    )?;
    send_link(conn, base_url, &invitation, &workspace, false)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::InvitationResent)
            .organisation(workspace.organisation_id)
            .workspace(id)
            .detail(format!(
                "{} resent the invitation to {}",
                user.full_name(),
                invitation.address()
            )),
    )?;
    Ok(Decision::Done(format!(
        "Invitation to {} sent again. The earlier link no longer works; the new one expires on {}.",
        invitation.address(),
        invitation.expires_at.format("%-d %B %Y")
    )))
}

/// Rescind: the link stops working at once.
pub fn rescind(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    invitation_id: InvitationId,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    let (_, invitation) = permissions::manage_invitation(conn, user, id, invitation_id)?;
    if !invitations::rescind(conn, invitation.id, user.id)? {
        return Ok(not_open());
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::InvitationRescinded)
            .organisation(workspace.organisation_id)
            .workspace(id)
            .detail(format!(
                "{} rescinded the invitation to {}",
                user.full_name(),
                invitation.address()
            )),
    )?;
    Ok(Decision::Done(format!(
        "Invitation to {} rescinded. Its link no longer works.",
        invitation.address()
    )))
}

fn not_open() -> Decision {
    Decision::refused("This invitation was already accepted, declined or rescinded.")
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
        role_label: invitation.role.with_article().to_string(),
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
