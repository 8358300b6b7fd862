//! The emailed link: `GET /invitations/{token}` shows the workspace and who invited you (and
//! never uses the link up); `POST .../accept` joins, `POST .../decline` tells the inviter, and
//! `POST .../ask` on a dead link asks the workspace's admins for a new invitation. The link
//! never signs anyone in: accepting needs a signed-in account with the invited address.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::acceptance::{self, Outcome};

use crate::auth::{throttle, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::invitations::{self, Invitation, Status};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::db::models::{organisations, users};
use crate::domain::token::sha256_hex;
use crate::error::AppResult;
use crate::mail::{self, messages};
use crate::state::AppState;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// Where a link stands when it is opened.
pub enum LinkState {
    Live(Invitation),
    /// A resend replaced this link; the invitation may still be open with a newer one.
    Replaced(Invitation),
    Ended(Invitation, Status),
    Unknown,
    Throttled,
}

/// Looks the link up without using it; unknown tokens count against the address.
pub async fn link_state(state: &AppState, token: &str, ip: &str) -> AppResult<LinkState> {
    let (hash, ip) = (sha256_hex(token), ip.to_string());
    crate::db::transaction(&state.pool, move |conn| {
        if throttle::check_address(conn, &ip)? != throttle::Verdict::Allowed {
            return Ok(LinkState::Throttled);
        }
        Ok(match invitations::find_by_token(conn, &hash)? {
            None => {
                throttle::record_address_failure(conn, &ip)?;
                LinkState::Unknown
            }
            Some((invitation, true)) => LinkState::Replaced(invitation),
            Some((invitation, false)) => match invitation.status() {
                Status::NotJoined => LinkState::Live(invitation),
                other => LinkState::Ended(invitation, other),
            },
        })
    })
    .await
}

/// What the page shows about the invitation.
struct Details {
    workspace: Workspace,
    organisation: String,
    inviter: String,
    role: &'static str,
    address: String,
    expires_on: String,
}

fn details(conn: &mut diesel::PgConnection, invitation: &Invitation) -> AppResult<Details> {
    let workspace = workspaces::find(conn, invitation.workspace_id)?;
    let organisation = organisations::find(conn, workspace.organisation_id)?.name;
    let inviter = match invitation.invited_by {
        Some(id) => users::find(conn, id)?.full_name(),
        None => "A former member".into(),
    };
    Ok(Details {
        organisation,
        inviter,
        role: invitation.role.with_article(),
        address: invitation.address(),
        expires_on: invitation.expires_at.format("%-d %B %Y").to_string(),
        workspace,
    })
}

#[derive(Template)]
#[template(path = "invitations/landing.html")]
struct LandingPage {
    layout: Layout,
    token: String,
    d: Details,
    signed_in: bool,
    /// Signed in, but not as the person invited: (invited, signed in as).
    wrong_account: Option<(String, String)>,
    already_member: bool,
    /// For a mobile invitation the account's address is chosen at sign-up.
    by_mobile: bool,
}

#[derive(Template)]
#[template(path = "invitations/dead.html")]
struct DeadPage {
    layout: Layout,
    token: String,
    heading: String,
    explanation: String,
    /// "Ask for a new invitation" (not for a link nobody knows, nor one already accepted).
    may_ask: bool,
}

fn layout(session: &TypedSession, current: Option<&CurrentUser>) -> AppResult<Layout> {
    match current {
        Some(c) => Layout::signed_in(session, &c.user, &c.nav),
        None => Layout::anonymous(session),
    }
}

/// Why a link does not work.
#[derive(Clone, Copy)]
pub enum DeadReason {
    Throttled,
    Unknown,
    Replaced,
    Ended(Status),
}

impl LinkState {
    fn dead_reason(&self) -> DeadReason {
        match self {
            LinkState::Throttled => DeadReason::Throttled,
            LinkState::Unknown => DeadReason::Unknown,
            LinkState::Replaced(_) => DeadReason::Replaced,
            LinkState::Ended(_, status) => DeadReason::Ended(*status),
            LinkState::Live(_) => DeadReason::Ended(Status::NotJoined),
        }
    }
}

/// The page for a link that does not work, saying why.
fn render_dead(
    session: &TypedSession,
    current: Option<&CurrentUser>,
    token: &str,
    reason: DeadReason,
    workspace: &str,
) -> AppResult<HttpResponse> {
    let (status, heading, explanation, may_ask) = match reason {
        DeadReason::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts".to_string(),
            "Too many links that do not work were tried from your network. Wait a few minutes and try again.".to_string(),
            false,
        ),
        DeadReason::Unknown => (
            StatusCode::GONE,
            "This invitation link is not valid".to_string(),
            "Check you copied the whole link from the email. If you were sent a newer invitation, only its link works.".to_string(),
            false,
        ),
        DeadReason::Replaced => (
            StatusCode::GONE,
            "This invitation link has been replaced".to_string(),
            format!("A newer invitation to {workspace} was sent, and only the newest link works. Use the link in the latest email, or ask for a new invitation."),
            true,
        ),
        DeadReason::Ended(ended) => {
            let (heading, explanation, may_ask) = match ended {
                Status::Accepted => (
                    "This invitation has already been used".to_string(),
                    format!("Each invitation works once. If you accepted it, sign in and choose {workspace} in the workspace switcher."),
                    false,
                ),
                Status::Superseded => (
                    "You have already joined".to_string(),
                    format!("You joined {workspace} through another invitation, so this one is no longer needed. Sign in to use the workspace."),
                    false,
                ),
                Status::Declined => (
                    "This invitation was declined".to_string(),
                    format!("The invitation to {workspace} was declined. If that was a mistake, ask for a new invitation."),
                    true,
                ),
                Status::Rescinded => (
                    "This invitation was withdrawn".to_string(),
                    format!("The invitation to {workspace} was withdrawn by the workspace. If you think you should join, ask for a new invitation."),
                    true,
                ),
                Status::Expired | Status::NotJoined => (
                    "This invitation has expired".to_string(),
                    format!("Invitations work for {} days. Ask for a new invitation to {workspace}.", invitations::VALID_FOR_DAYS),
                    true,
                ),
            };
            (StatusCode::GONE, heading, explanation, may_ask)
        }
    };
    crate::web::render_with(
        status,
        &DeadPage {
            layout: layout(session, current)?,
            token: token.to_string(),
            heading,
            explanation,
            may_ask,
        },
    )
}

/// The dead-link page for a link looked up by `link_state`, naming its workspace when known.
pub async fn dead_link(
    session: &TypedSession,
    state: &AppState,
    current: Option<&CurrentUser>,
    token: &str,
    link: &LinkState,
) -> AppResult<HttpResponse> {
    let workspace = match link {
        LinkState::Live(i) | LinkState::Replaced(i) | LinkState::Ended(i, _) => {
            let id = i.workspace_id;
            crate::db::run(
                &state.pool,
                move |conn| Ok(workspaces::find(conn, id)?.name),
            )
            .await?
        }
        LinkState::Unknown | LinkState::Throttled => "the workspace".to_string(),
    };
    render_dead(session, current, token, link.dead_reason(), &workspace)
}

pub async fn landing_page(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: Option<CurrentUser>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let link = link_state(&state, &token, &crate::web::client_ip(&req)).await?;
    let LinkState::Live(invitation) = link else {
        return dead_link(&session, &state, current.as_ref(), &token, &link).await;
    };
    let viewer = current.as_ref().map(|c| c.user.clone());
    let (d, already_member, wrong_account) = crate::db::run(&state.pool, {
        let invitation = invitation.clone();
        move |conn| {
            let d = details(conn, &invitation)?;
            let mut already_member = false;
            let mut wrong_account = None;
            if let Some(viewer) = &viewer {
                if acceptance::addressed_to(&invitation, viewer) {
                    already_member = workspace_members::find(conn, d.workspace.id, viewer.id)?
                        .is_some_and(|m| m.is_approved());
                } else {
                    wrong_account = Some((invitation.address(), viewer.email.clone()));
                }
            }
            Ok((d, already_member, wrong_account))
        }
    })
    .await?;
    crate::web::render(&LandingPage {
        layout: layout(&session, current.as_ref())?,
        token,
        signed_in: current.is_some(),
        wrong_account,
        already_member,
        by_mobile: invitation.mobile.is_some(),
        d,
    })
}

pub async fn accept(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: Option<CurrentUser>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(current) = current else {
        // The link never signs anyone in: sign in (or create the account) first.
        return Ok(crate::web::see_other(&format!(
            "/login?next=/invitations/{token}"
        )));
    };
    let ip = crate::web::client_ip(&req);
    let link = link_state(&state, &token, &ip).await?;
    let LinkState::Live(invitation) = link else {
        return dead_link(&session, &state, Some(&current), &token, &link).await;
    };
    let (user, hash, base_url) = (
        current.user.clone(),
        sha256_hex(&token),
        state.settings.base_url.clone(),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        acceptance::accept(conn, &base_url, &invitation, &user, &ip, |conn| {
            invitations::accept_by_token(conn, &hash, user.id)
        })
    })
    .await?;
    finish_acceptance(&session, &current, &token, outcome)
}

/// After an acceptance by link or from inside the app: home in the workspace, or why not.
pub fn finish_acceptance(
    session: &TypedSession,
    current: &CurrentUser,
    token: &str,
    outcome: Outcome,
) -> AppResult<HttpResponse> {
    match outcome {
        Outcome::Joined {
            workspace,
            already_member,
            pending,
        } => {
            session.set_current_workspace(Some(workspace.id))?;
            session.set_flash(&if already_member {
                format!("You are already in {}.", workspace.name)
            } else if pending {
                format!(
                    "You asked to join {} as a guest. An admin will approve you: text-message invitations are checked by a person.",
                    workspace.name
                )
            } else {
                format!("You joined {}.", workspace.name)
            })?;
            Ok(crate::web::see_other("/"))
        }
        Outcome::WrongAccount { invited, signed_in } => {
            let page = DeadPage {
                layout: Layout::signed_in(session, &current.user, &current.nav)?,
                token: token.to_string(),
                heading: "This invitation is for someone else".into(),
                explanation: format!(
                    "This invitation was sent to {invited}; you are signed in as {signed_in}. Sign out and sign in as {invited} (or create an account with that address) to accept it."
                ),
                may_ask: false,
            };
            crate::web::render_with(StatusCode::FORBIDDEN, &page)
        }
        Outcome::Refused { workspace, reason } => {
            let page = DeadPage {
                layout: Layout::signed_in(session, &current.user, &current.nav)?,
                token: token.to_string(),
                heading: "This invitation can no longer be used".into(),
                explanation: format!(
                    "You cannot join {} with this invitation: {reason}.",
                    if workspace.is_empty() {
                        "the workspace"
                    } else {
                        &workspace
                    }
                ),
                may_ask: !token.is_empty(),
            };
            crate::web::render_with(StatusCode::CONFLICT, &page)
        }
        Outcome::Dead(status, workspace) => render_dead(
            session,
            Some(current),
            token,
            DeadReason::Ended(status),
            &workspace,
        ),
    }
}

pub async fn decline(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: Option<CurrentUser>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let ip = crate::web::client_ip(&req);
    let link = link_state(&state, &token, &ip).await?;
    let LinkState::Live(invitation) = link else {
        return dead_link(&session, &state, current.as_ref(), &token, &link).await;
    };
    let actor = current.as_ref().map(|c| c.user.id);
    let base_url = state.settings.base_url.clone();
    let declined = crate::db::transaction(&state.pool, move |conn| {
        record_decline(conn, &invitation, actor, &ip, &base_url)
    })
    .await?;
    match declined {
        Some(workspace) => {
            session.set_flash(&format!(
                "You declined the invitation to {workspace}. We have told the person who invited you."
            ))?;
            Ok(crate::web::see_other("/"))
        }
        None => {
            let link = link_state(&state, &token, "").await?;
            dead_link(&session, &state, current.as_ref(), &token, &link).await
        }
    }
}

/// Declines the invitation, emails the inviter and audits it; the workspace's name, or `None`
/// when it was no longer open.
pub fn record_decline(
    conn: &mut diesel::PgConnection,
    invitation: &Invitation,
    actor: Option<crate::domain::UserId>,
    ip: &str,
    base_url: &str,
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
    let mut event = NewAuditEvent::new(AuditAction::InvitationDeclined, Some(ip.to_string()))
        .organisation(workspace.organisation_id)
        .workspace(workspace.id)
        .detail(format!("{} declined the invitation", declined.address()));
    if let Some(actor) = actor {
        event = event.actor(actor).target(actor);
    }
    audit::record(conn, &event)?;
    Ok(Some(workspace.name))
}

/// "Ask for a new invitation" on a dead link: emails the workspace's admins (once a day).
pub async fn ask_again(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let ip = crate::web::client_ip(&req);
    let link = link_state(&state, &token, &ip).await?;
    let (invitation, reason) = match &link {
        // Live, but the rules may no longer let it be used (the inviter may no longer invite).
        LinkState::Live(i) => (i.clone(), "it can no longer be used"),
        LinkState::Replaced(i) => (i.clone(), "its link was replaced by a newer one"),
        LinkState::Ended(i, Status::Declined) => (i.clone(), "it was declined"),
        LinkState::Ended(i, Status::Rescinded) => (i.clone(), "it was withdrawn"),
        LinkState::Ended(i, Status::Expired) => (i.clone(), "it expired"),
        _ => return dead_link(&session, &state, None, &token, &link).await,
    };
    let base_url = state.settings.base_url.clone();
    crate::db::transaction(&state.pool, move |conn| {
        if !invitations::mark_new_invitation_asked(conn, invitation.id)? {
            return Ok(());
        }
        let workspace = workspaces::find(conn, invitation.workspace_id)?;
        for admin in workspace_members::admins(conn, workspace.id)? {
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
            &NewAuditEvent::new(AuditAction::NewInvitationAsked, Some(ip))
                .organisation(workspace.organisation_id)
                .workspace(workspace.id)
                .detail(format!(
                    "{} asked for a new invitation ({reason})",
                    invitation.address()
                )),
        )?;
        Ok(())
    })
    .await?;
    session.set_flash("We have asked the workspace's admins to send you a new invitation.")?;
    Ok(crate::web::see_other(&format!("/invitations/{token}")))
}
