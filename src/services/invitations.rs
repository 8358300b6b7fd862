//! Invitations into a workspace: inviting one or many addresses (each with its own outcome),
//! resending and rescinding, sending an invitation's link (also for the reminder three days
//! before expiry, by housekeeping), and answering one (accept, decline, ask for a new one) by
//! its link or from inside the app. Inviting a team invites each of its members (recorded with
//! the team, for its row on the Users page), and inviting a contact invites them as a guest.
//!
//! Who may invite whom (Moxo's rule), checked here under the workspace's lock: those who
//! manage the workspace invite anyone; other members who may invite add colleagues who already
//! have an account in the organisation, and guests; anyone who may invite may resend. Each runs inside the caller's transaction; changes take the
//! workspace's lock, so that invitations to one address cannot cross and the daily count holds.

use chrono::{Duration, NaiveDate, Utc};
use diesel::PgConnection;

use super::membership::tell_admins_of_request;
use super::{Actor, Decision};
use crate::auth::permissions::{self, WorkspaceAccess};
use crate::auth::throttle;
use crate::db::models::audit;
use crate::db::models::invitations::{
    self, Invitation, NewInvitation, Status, DAILY_LIMIT, VALID_FOR_DAYS,
};
use crate::db::models::organisations;
use crate::db::models::team_invitations;
use crate::db::models::team_members;
use crate::db::models::teams;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{
    AuditAction, EmailAddress, InvitationId, Invitee, MembershipStatus, TeamId, Token, WorkspaceId,
    WorkspaceRole,
};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// What the inviter asked for: the same role (and guest end date) for every address, and for
/// each member of the team, if one was chosen.
pub struct Request {
    pub invitees: Vec<(String, Result<Invitee, crate::domain::DomainError>)>,
    pub team: Option<TeamId>,
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
    // Another organisation's team is not found, like one that does not exist.
    let team = request
        .team
        .map(|team| teams::find_in(conn, workspace.organisation_id, team))
        .transpose()?;
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
            Ok(invitee) => {
                let (outcome, invitation) = invite_one(conn, &mut batch, &invitee)?;
                if let (Some(invitation), WorkspaceRole::Guest) = (invitation, batch.role) {
                    let (actor, workspace) = (batch.actor, &batch.workspace);
                    super::contacts::note_invitation(conn, actor, workspace, &invitee, invitation)?;
                }
                outcome
            }
        };
        let (text, ok) = result.line();
        lines.push((typed, text, ok));
    }
    if let Some(team) = team {
        lines.extend(invite_team(conn, &mut batch, &team)?);
    }
    Ok(Decision::Done(lines))
}

/// Invites each member of the team who is not in the workspace, and records each invitation
/// sent with the team. A member whose open invitation the team already sent is left to
/// "Resend to those not joined": inviting the team again reaches its new members.
fn invite_team(
    conn: &mut PgConnection,
    batch: &mut Batch,
    team: &teams::Team,
) -> AppResult<Vec<(String, String, bool)>> {
    let inviter = batch.actor.user()?;
    let workspace = batch.workspace.id;
    let already: Vec<InvitationId> = team_invitations::of_team(conn, workspace, team.id)?
        .into_iter()
        .filter(Invitation::is_open)
        .map(|i| i.id)
        .collect();
    let members = team_members::members(conn, team.id)?;
    let mut lines = Vec::new();
    let mut sent = 0;
    for member in &members {
        let typed = format!("{}: {} ({})", team.name, member.full_name(), member.email);
        let Ok(email) = EmailAddress::parse(&member.email) else {
            lines.push((
                typed,
                "Not sent: their account has no usable email address".into(),
                false,
            ));
            continue;
        };
        let invitee = Invitee::Email(email);
        let open = invitations::open_for_invitee(conn, workspace, &invitee)?;
        if open.as_ref().is_some_and(|o| already.contains(&o.id)) {
            lines.push((
                typed,
                "Already invited with this team: use Resend to those not joined".into(),
                false,
            ));
            continue;
        }
        let (outcome, invitation) = invite_one(conn, batch, &invitee)?;
        if let Some(invitation) = invitation {
            team_invitations::record(conn, team.id, invitation, inviter.id)?;
            sent += 1;
        }
        let (text, ok) = outcome.line();
        lines.push((typed, text, ok));
    }
    audit::record(
        conn,
        &batch
            .actor
            .event(AuditAction::TeamInvited)
            .organisation(batch.workspace.organisation_id)
            .workspace(workspace)
            .detail(format!(
                "{} invited the team {} as {}: {sent} of its {} members were sent an invitation",
                inviter.full_name(),
                team.name,
                batch.role,
                members.len()
            )),
    )?;
    Ok(lines)
}

/// Invites one contact into the workspace as a guest, under the workspace's lock: what
/// happened, and the invitation (sent or sent again), if one was.
pub fn invite_guest(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    workspace: Workspace,
    access: &WorkspaceAccess,
    invitee: &Invitee,
) -> AppResult<(AddressOutcome, Option<InvitationId>)> {
    let mut batch = Batch {
        base_url,
        actor,
        organisation: organisations::find(conn, workspace.organisation_id)?.name,
        budget: DAILY_LIMIT - invitations::sent_in_last_day(conn, workspace.id)?,
        workspace,
        role: WorkspaceRole::Guest,
        guest_until: None,
        manages: access.manages,
    };
    invite_one(conn, &mut batch, invitee)
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
    /// `in_app`: the address has an account, which sees the invitation in Staffroom too; said
    /// only to those who manage the workspace.
    Sent {
        in_app: bool,
    },
    Resent,
    AlreadyMember,
    NotAdmitted {
        organisation: String,
        guests: bool,
    },
    /// Only those who manage the workspace invite colleagues who have no account yet.
    NoAccountYet {
        organisation: String,
    },
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
            AddressOutcome::NoAccountYet { organisation } => (
                format!(
                    "Not sent: they have no account in {organisation} yet, and only the workspace's admins can invite new people. Ask an admin to invite them"
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
/// refuses it, says they are a member already, resends an open invitation, or sends a new one
/// (and then says which invitation).
fn invite_one(
    conn: &mut PgConnection,
    batch: &mut Batch,
    invitee: &Invitee,
) -> AppResult<(AddressOutcome, Option<InvitationId>)> {
    Ok(match invite_address(conn, batch, invitee)? {
        Ok((outcome, invitation)) => (outcome, Some(invitation)),
        Err(outcome) => (outcome, None),
    })
}

/// `invite_one`: Ok when an invitation went out, Err with why not.
fn invite_address(
    conn: &mut PgConnection,
    batch: &mut Batch,
    invitee: &Invitee,
) -> AppResult<Result<(AddressOutcome, InvitationId), AddressOutcome>> {
    let (role, guest_until, manages) = (batch.role, batch.guest_until, batch.manages);
    let inviter = batch.actor.user()?;
    let existing = match invitee {
        Invitee::Email(email) => users::find_by_email(conn, email)?,
        Invitee::Mobile(_) => None,
    };
    match invitee {
        Invitee::Mobile(_) if role != WorkspaceRole::Guest => {
            return Ok(Err(AddressOutcome::MobileOnlyForGuests))
        }
        Invitee::Email(email) if role != WorkspaceRole::Guest => {
            if !organisations::admits(conn, batch.workspace.organisation_id, email.as_str())? {
                return Ok(Err(AddressOutcome::NotAdmitted {
                    organisation: batch.organisation.clone(),
                    guests: batch.workspace.guests_allowed,
                }));
            }
        }
        _ => {}
    }
    if let Some(user) = &existing {
        let membership = workspace_members::find(conn, batch.workspace.id, user.id)?;
        if membership.is_some_and(|m| m.is_approved()) {
            return Ok(Err(AddressOutcome::AlreadyMember));
        }
    }
    // Moxo's rule: a colleague who does not manage the workspace adds only people who already
    // have an account in the organisation (guests aside). An account elsewhere, or a suspended
    // one, counts as none, so this says nothing of who has an account outside it. An open
    // invitation they may still send again: anyone who may invite may resend.
    if !manages && role != WorkspaceRole::Guest {
        let colleague = match &existing {
            Some(user) => organisations::is_member(conn, batch.workspace.organisation_id, user.id)?,
            None => false,
        };
        if !colleague && invitations::open_for_invitee(conn, batch.workspace.id, invitee)?.is_none()
        {
            return Ok(Err(AddressOutcome::NoAccountYet {
                organisation: batch.organisation.clone(),
            }));
        }
    }
    if batch.budget <= 0 {
        return Ok(Err(AddressOutcome::LimitReached));
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
        return Ok(Ok((AddressOutcome::Resent, invitation.id)));
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
    // Any approved member may be allowed to invite: to them an address with an account and one
    // without get the same words, or inviting would tell anyone who has an account.
    Ok(Ok((
        AddressOutcome::Sent {
            in_app: existing.is_some() && manages,
        },
        invitation.id,
    )))
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
    let (_, invitation) = permissions::resend_invitation(conn, user, id, invitation_id)?;
    if !invitation.is_open() {
        return Ok(not_open());
    }
    if invitations::sent_in_last_day(conn, id)? >= DAILY_LIMIT {
        return Ok(Decision::Done(limit_reached()));
    }
    let invitation = resend_open(conn, base_url, actor, &workspace, &invitation)?;
    Ok(Decision::Done(format!(
        "Invitation to {} sent again. The earlier link no longer works; the new one expires on {}.",
        invitation.address(),
        invitation.expires_at.format("%-d %B %Y")
    )))
}

/// What a resend refused by the daily limit says.
pub fn limit_reached() -> String {
    format!(
        "Not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow."
    )
}

/// Sends an open invitation again, under the workspace's lock (the caller checked who may,
/// and the daily limit): a new link, 30 days again, the same role and inviter.
pub fn resend_open(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    workspace: &Workspace,
    invitation: &Invitation,
) -> AppResult<Invitation> {
    let user = actor.user()?;
    let id = workspace.id;
    let invitation = invitations::restart(
        conn,
        invitation.id,
        invitation.role,
        invitation.invited_by.unwrap_or(user.id),
        invitation.guest_until,
    )?;
    send_link(conn, base_url, &invitation, workspace, false)?;
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
    Ok(invitation)
}

/// "Resend to those not joined": a new link for each open invitation the team's invitation
/// sent into this workspace (the team as it was then), while the daily limit allows. Anyone
/// who may invite into the workspace may.
pub fn resend_to_team(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    team: TeamId,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    permissions::invite(conn, user, id)?;
    let team = teams::find_in(conn, workspace.organisation_id, team)?;
    let reached = team_invitations::of_team(conn, id, team.id)?;
    if reached.is_empty() {
        return Err(AppError::NotFound);
    }
    let mut budget = DAILY_LIMIT - invitations::sent_in_last_day(conn, id)?;
    let (mut resent, mut held_back) = (0, 0);
    for invitation in reached.iter().filter(|i| i.is_open()) {
        // Joined some other way meanwhile (a request approved): nothing to resend.
        if let Some(email) = &invitation.email {
            let joined = match EmailAddress::parse(email).ok() {
                Some(email) => match users::find_by_email(conn, &email)? {
                    Some(account) => workspace_members::find(conn, id, account.id)?
                        .is_some_and(|m| m.is_approved()),
                    None => false,
                },
                None => false,
            };
            if joined {
                continue;
            }
        }
        if budget <= 0 {
            held_back += 1;
            continue;
        }
        budget -= 1;
        resend_open(conn, base_url, actor, &workspace, invitation)?;
        resent += 1;
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::TeamInvitationsResent)
            .organisation(workspace.organisation_id)
            .workspace(id)
            .detail(format!(
                "{} resent the team {}'s invitations to the {resent} who had not joined",
                user.full_name(),
                team.name
            )),
    )?;
    let people = |n: i32| if n == 1 { "person" } else { "people" };
    let mut message = match resent {
        0 => format!("Everyone {} invited has answered: nothing to resend.", team.name),
        n => format!(
            "Invitations sent again to the {n} {} of {} who had not joined. The earlier links no longer work.",
            people(n),
            team.name
        ),
    };
    if held_back > 0 {
        let before = if resent == 0 {
            String::new()
        } else {
            format!("{message} ")
        };
        message = format!(
            "{before}{held_back} {} not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow.",
            people(held_back)
        );
    }
    Ok(Decision::Done(message))
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

// ---------------------------------------------------------------- answering an invitation

/// Where an invitation's link stands when it is opened.
#[derive(Clone)]
pub enum LinkState {
    Live(Invitation),
    /// A resend replaced this link; the invitation may still be open with a newer one.
    Replaced(Invitation),
    Ended(Invitation, Status),
    Unknown,
    Throttled,
}

/// Why a link does not work.
#[derive(Clone, Copy)]
pub enum DeadReason {
    Throttled,
    Unknown,
    Replaced,
    Ended(Status),
}

/// A link that does not work: why, and the workspace it was for ("the workspace" when the link
/// names none).
pub struct DeadLink {
    pub reason: DeadReason,
    pub workspace: String,
}

/// Looks the link up without using it; an unknown token counts against the address.
pub fn look_up(conn: &mut PgConnection, token_hash: &str, ip: &str) -> AppResult<LinkState> {
    if throttle::check_address(conn, ip)? != throttle::Verdict::Allowed {
        return Ok(LinkState::Throttled);
    }
    let link = find_link(conn, token_hash)?;
    if matches!(link, LinkState::Unknown) {
        throttle::record_link_guess(conn, ip)?;
    }
    Ok(link)
}

fn find_link(conn: &mut PgConnection, token_hash: &str) -> AppResult<LinkState> {
    Ok(match invitations::find_by_token(conn, token_hash)? {
        None => LinkState::Unknown,
        Some((invitation, true)) => LinkState::Replaced(invitation),
        Some((invitation, false)) => match invitation.status() {
            Status::NotJoined => LinkState::Live(invitation),
            other => LinkState::Ended(invitation, other),
        },
    })
}

/// The link as the page for a link that does not work says it, naming its workspace.
pub fn dead_link(conn: &mut PgConnection, link: &LinkState) -> AppResult<DeadLink> {
    let (reason, invitation) = match link {
        LinkState::Throttled => (DeadReason::Throttled, None),
        LinkState::Unknown => (DeadReason::Unknown, None),
        LinkState::Replaced(i) => (DeadReason::Replaced, Some(i)),
        LinkState::Ended(i, status) => (DeadReason::Ended(*status), Some(i)),
        LinkState::Live(i) => (DeadReason::Ended(Status::NotJoined), Some(i)),
    };
    let workspace = match invitation {
        Some(i) => workspaces::find(conn, i.workspace_id)?.name,
        None => "the workspace".to_string(),
    };
    Ok(DeadLink { reason, workspace })
}

/// The address that looks a link up: the person's, or the link holder's.
fn address<'a>(actor: &'a Actor) -> &'a str {
    actor.ip.as_deref().unwrap_or_default()
}

/// Whether the invitation is addressed to this account. A mobile invitation went to the phone
/// that holds the link, so any verified account may use it (and then waits for approval).
pub fn addressed_to(invitation: &Invitation, user: &User) -> bool {
    user.is_verified() && (invitation.mobile.is_some() || invitation.is_for_email(&user.email))
}

/// What accepting came to, each its own page. Where the rules no longer allow it, the
/// decision is refused with the explanation to show.
pub enum Acceptance {
    Joined {
        workspace: Workspace,
        /// They were an approved member already.
        already_member: bool,
        /// A text-message invitation: they wait for an admin's approval.
        pending: bool,
    },
    /// Signed in as someone other than the person invited.
    WrongAccount { invited: String, signed_in: String },
    /// The link does not work, or the invitation was answered meanwhile (a parallel accept,
    /// say). An answer rather than a refusal: an unknown token's count must be kept.
    Dead(DeadLink),
}

/// Accepts through the emailed link.
pub fn accept_by_link(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    token_hash: &str,
) -> AppResult<Decision<Acceptance>> {
    let user = actor.user()?;
    let link = look_up(conn, token_hash, address(actor))?;
    let LinkState::Live(invitation) = link else {
        return Ok(Decision::Done(Acceptance::Dead(dead_link(conn, &link)?)));
    };
    accept(conn, base_url, actor, &invitation, |conn| {
        invitations::accept_by_token(conn, token_hash, user.id)
    })
}

/// Accepts an invitation shown inside the app; one not addressed to the actor is not found.
pub fn accept_addressed(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: InvitationId,
) -> AppResult<Decision<Acceptance>> {
    let user = actor.user()?;
    let invitation = addressed_invitation(conn, user, id)?;
    accept(conn, base_url, actor, &invitation, |conn| {
        invitations::accept_for_email(conn, id, &user.email, user.id)
    })
}

/// The open invitation with this id addressed to this account's verified email.
fn addressed_invitation(
    conn: &mut PgConnection,
    user: &User,
    id: InvitationId,
) -> AppResult<Invitation> {
    if !user.is_verified() {
        return Err(AppError::NotFound);
    }
    invitations::open_for_email_by_id(conn, &user.email, id)?.ok_or(AppError::NotFound)
}

/// Why the rules no longer allow this person to join through this invitation, if they do not.
fn refusal(
    conn: &mut PgConnection,
    invitation: &Invitation,
    workspace: &Workspace,
    user: &User,
) -> AppResult<Option<String>> {
    // An invitation from a colleague never lifts the organisation's own decision.
    if organisations::standing(conn, workspace.organisation_id, user.id)?
        == organisations::Standing::Suspended
    {
        let organisation = organisations::find(conn, workspace.organisation_id)?;
        return Ok(Some(format!(
            "{}'s administrators have suspended your access, and only they can lift it",
            organisation.name
        )));
    }
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

/// Accepts `invitation` for the actor: takes the workspace lock, checks the rules again (the
/// address, the organisation's domains, the role, and that the inviter may still invite),
/// uses the invitation up with `consume` (one conditional UPDATE, by link or by id) and makes
/// the person a member.
fn accept(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    invitation: &Invitation,
    consume: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<Option<Invitation>>,
) -> AppResult<Decision<Acceptance>> {
    let user = actor.user()?;
    let cannot_join = |workspace: &str, reason: &str| {
        Decision::Refused(format!(
            "You cannot join {workspace} with this invitation: {reason}."
        ))
    };
    let ended = |status: Status, workspace: &Workspace| {
        Decision::Done(Acceptance::Dead(DeadLink {
            reason: DeadReason::Ended(status),
            workspace: workspace.name.clone(),
        }))
    };
    // The lock makes parallel accepts (and leaves, removals) of this workspace take turns.
    let workspace = match workspaces::lock(conn, invitation.workspace_id) {
        Ok(workspace) => workspace,
        Err(diesel::NotFound) => {
            return Ok(cannot_join(
                "the workspace",
                "the workspace has been closed",
            ))
        }
        Err(other) => return Err(other.into()),
    };
    // Invitations change only under the workspace lock (invite, resend), so this read is the
    // row the rules are checked against and the UPDATE below uses.
    let invitation = &invitations::find_in_workspace(conn, workspace.id, invitation.id)?;
    if invitation.status() != Status::NotJoined {
        return Ok(ended(invitation.status(), &workspace));
    }
    if !addressed_to(invitation, user) {
        return Ok(Decision::Done(Acceptance::WrongAccount {
            invited: invitation.address(),
            signed_in: user.email.clone(),
        }));
    }
    if let Some(reason) = refusal(conn, invitation, &workspace, user)? {
        return Ok(cannot_join(&workspace.name, &reason));
    }
    let Some(accepted) = consume(conn)? else {
        let now = invitations::find_in_workspace(conn, workspace.id, invitation.id)?;
        return Ok(ended(now.status(), &workspace));
    };
    let ends_at = accepted
        .guest_until
        .map(crate::domain::guest_end::ends_at)
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
    let mut event = actor
        .event(AuditAction::InvitationAccepted)
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
            crate::domain::guest_end::last_day(ends_at).format("%-d %B %Y")
        ));
    }
    audit::record(conn, &event)?;
    Ok(Decision::Done(Acceptance::Joined {
        workspace,
        already_member: !joined,
        pending,
    }))
}

/// An answer given through an invitation's link, or the link does not work (any more).
pub enum ByLink<T> {
    Answered(T),
    Dead(DeadLink),
}

/// Declines through the emailed link (signed in or not). Answered says what to show.
pub fn decline_by_link(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    token_hash: &str,
) -> AppResult<ByLink<String>> {
    let link = look_up(conn, token_hash, address(actor))?;
    let LinkState::Live(invitation) = link else {
        return Ok(ByLink::Dead(dead_link(conn, &link)?));
    };
    if let Some(message) = decline(conn, base_url, actor, &invitation)? {
        return Ok(ByLink::Answered(message));
    }
    // Answered meanwhile: the link, read again, says how.
    let now = find_link(conn, token_hash)?;
    Ok(ByLink::Dead(dead_link(conn, &now)?))
}

/// Declines an invitation shown inside the app; says what to show.
pub fn decline_addressed(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: InvitationId,
) -> AppResult<String> {
    let invitation = addressed_invitation(conn, actor.user()?, id)?;
    decline(conn, base_url, actor, &invitation)?.ok_or(AppError::NotFound)
}

/// Declines the invitation, emails the inviter and audits it; what to show, or `None` when it
/// was no longer open.
fn decline(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    invitation: &Invitation,
) -> AppResult<Option<String>> {
    let Some(declined) = invitations::decline(conn, invitation.id)? else {
        return Ok(None);
    };
    let workspace = workspaces::find(conn, declined.workspace_id)?;
    if let Some(inviter) = declined.invited_by {
        let inviter = users::find(conn, inviter)?;
        if inviter.is_active() {
            let email = messages::InvitationDeclined {
                inviter_first_name: inviter.first_name.clone(),
                invitee: declined.address(),
                workspace: workspace.name.clone(),
                link: format!("{base_url}/workspaces/{}/settings/users", workspace.id),
            };
            mail::enqueue(conn, &inviter.email, &email)?;
        }
    }
    let mut event = actor
        .event(AuditAction::InvitationDeclined)
        .organisation(workspace.organisation_id)
        .workspace(workspace.id)
        .detail(format!("{} declined the invitation", declined.address()));
    if let Some(user) = actor.user {
        event = event.target(user.id);
    }
    audit::record(conn, &event)?;
    Ok(Some(format!(
        "You declined the invitation to {}. We have told the person who invited you.",
        workspace.name
    )))
}

/// "Ask for a new invitation" on a link that no longer works: emails the workspace's admins
/// (once a day per invitation, a few an hour per admin, and a client address may ask so many
/// times an hour). Answered with what to tell the person when their network asked too often.
pub fn ask_for_new(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    token_hash: &str,
) -> AppResult<ByLink<Option<String>>> {
    let link = look_up(conn, token_hash, address(actor))?;
    let (invitation, reason) = match &link {
        // Live, but the rules may no longer let it be used (the inviter may no longer invite).
        LinkState::Live(i) => (i, "it can no longer be used"),
        LinkState::Replaced(i) => (i, "its link was replaced by a newer one"),
        LinkState::Ended(i, Status::Declined) => (i, "it was declined"),
        LinkState::Ended(i, Status::Rescinded) => (i, "it was withdrawn"),
        LinkState::Ended(i, Status::Expired) => (i, "it expired"),
        _ => return Ok(ByLink::Dead(dead_link(conn, &link)?)),
    };
    let visit = throttle::Visit::NewInvitation;
    if let Some(refusal) = throttle::visit(conn, visit, address(actor))? {
        return Ok(ByLink::Answered(Some(refusal)));
    }
    if !invitations::mark_new_invitation_asked(conn, invitation.id)? {
        return Ok(ByLink::Answered(None));
    }
    let workspace = workspaces::find(conn, invitation.workspace_id)?;
    for admin in workspace_members::admins(conn, workspace.id)? {
        if !throttle::mail_allowed(conn, throttle::Mail::NewInvitationAsked, &admin.email)? {
            continue;
        }
        let email = messages::NewInvitationAsked {
            admin_first_name: admin.first_name.clone(),
            invitee: invitation.address(),
            workspace: workspace.name.clone(),
            reason: reason.to_string(),
            link: format!("{base_url}/workspaces/{}/settings/users", workspace.id),
        };
        mail::enqueue(conn, &admin.email, &email)?;
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::NewInvitationAsked)
            .organisation(workspace.organisation_id)
            .workspace(workspace.id)
            .detail(format!(
                "{} asked for a new invitation ({reason})",
                invitation.address()
            )),
    )?;
    Ok(ByLink::Answered(None))
}

// ---------------------------------------------------------------- housekeeping

/// Reminds people of up to `limit` open invitations that expire within three days, with a
/// fresh link that works alongside the one already sent. How many were sent.
pub fn send_reminders(conn: &mut PgConnection, base_url: &str, limit: i64) -> AppResult<usize> {
    let due = invitations::claim_due_reminders(conn, limit)?;
    let mut sent = 0;
    for invitation in &due {
        let Ok(workspace) = workspaces::find_live(conn, invitation.workspace_id) else {
            continue;
        };
        send_link(conn, base_url, invitation, &workspace, true)?;
        sent += 1;
    }
    Ok(sent)
}
