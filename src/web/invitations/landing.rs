//! The emailed link: `GET /invitations/{token}` shows the workspace and who invited you (and
//! never uses the link up); `POST .../accept` joins, `POST .../decline` tells the inviter, and
//! `POST .../ask` on a dead link asks the workspace's admins for a new invitation. The link
//! never signs anyone in: accepting needs a signed-in account with the invited address. The
//! decisions are in `services::invitations`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::PgConnection;

use super::{link_holder, link_path, sign_in_first, signed_layout};
use crate::auth::TypedSession;
use crate::db::models::invitations::{self as invitation_rows, Invitation, Status};
use crate::db::models::organisations;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::token::sha256_hex;
use crate::error::AppResult;
pub use crate::services::invitations::LinkState;
use crate::services::invitations::{self, Acceptance, ByLink, DeadLink, DeadReason};
use crate::services::{Actor, Decision};
use crate::state::AppState;
use crate::web::context::Signed;
use crate::web::layout::Layout;

/// Looks the link up without using it, in its own transaction (unknown tokens count against
/// the address). For sign-up from an invitation.
pub async fn link_state(state: &AppState, token: &str, ip: &str) -> AppResult<LinkState> {
    let (hash, ip) = (sha256_hex(token), ip.to_string());
    crate::db::transaction(&state.pool, move |conn| {
        invitations::look_up(conn, &hash, &ip)
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

fn details(conn: &mut PgConnection, invitation: &Invitation) -> AppResult<Details> {
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

/// The page for a link that does not work, saying why.
fn render_dead(layout: Layout, token: &str, dead: &DeadLink) -> AppResult<HttpResponse> {
    let workspace = &dead.workspace;
    let (status, heading, explanation, may_ask) = match dead.reason {
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
                    format!("Invitations work for {} days. Ask for a new invitation to {workspace}.", invitation_rows::VALID_FOR_DAYS),
                    true,
                ),
            };
            (StatusCode::GONE, heading, explanation, may_ask)
        }
    };
    crate::web::render_with(
        status,
        &DeadPage {
            layout,
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
    signed: Option<&Signed>,
    token: &str,
    link: &LinkState,
) -> AppResult<HttpResponse> {
    let link = link.clone();
    let dead = crate::db::run(&state.pool, move |conn| invitations::dead_link(conn, &link)).await?;
    render_dead(layout(signed, session).await?, token, &dead)
}

async fn layout(signed: Option<&Signed>, session: &TypedSession) -> AppResult<Layout> {
    match signed {
        Some(signed) => signed_layout(signed).await,
        None => Layout::anonymous(session),
    }
}

/// What the landing page found: the invitation as the viewer sees it, or a dead link.
enum Landing {
    Live {
        d: Details,
        by_mobile: bool,
        wrong_account: Option<(String, String)>,
        already_member: bool,
    },
    Dead(DeadLink),
}

fn load(
    conn: &mut PgConnection,
    token_hash: &str,
    ip: &str,
    viewer: Option<&User>,
) -> AppResult<Landing> {
    let link = invitations::look_up(conn, token_hash, ip)?;
    let LinkState::Live(invitation) = link else {
        return Ok(Landing::Dead(invitations::dead_link(conn, &link)?));
    };
    let d = details(conn, &invitation)?;
    let mut already_member = false;
    let mut wrong_account = None;
    if let Some(viewer) = viewer {
        if invitations::addressed_to(&invitation, viewer) {
            already_member = workspace_members::find(conn, d.workspace.id, viewer.id)?
                .is_some_and(|m| m.is_approved());
        } else {
            wrong_account = Some((invitation.address(), viewer.email.clone()));
        }
    }
    Ok(Landing::Live {
        d,
        by_mobile: invitation.mobile.is_some(),
        wrong_account,
        already_member,
    })
}

pub async fn landing_page(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    signed: Option<Signed>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let (hash, ip) = (sha256_hex(&token), crate::web::client_ip(&req));
    let (layout, landing) = match &signed {
        Some(signed) => {
            let page = signed
                .page(move |conn, frame| load(conn, &hash, &ip, Some(&frame.user)))
                .await?;
            (page.layout, page.data)
        }
        None => {
            let landing =
                crate::db::transaction(&state.pool, move |conn| load(conn, &hash, &ip, None))
                    .await?;
            (Layout::anonymous(&session)?, landing)
        }
    };
    match landing {
        Landing::Dead(dead) => render_dead(layout, &token, &dead),
        Landing::Live {
            d,
            by_mobile,
            wrong_account,
            already_member,
        } => crate::web::render(&LandingPage {
            layout,
            token,
            signed_in: signed.is_some(),
            wrong_account,
            already_member,
            by_mobile,
            d,
        }),
    }
}

pub async fn accept(signed: Option<Signed>, token: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(signed) = signed else {
        return Ok(sign_in_first(&link_path("/invitations", &token)));
    };
    let (hash, ip, base_url) = (sha256_hex(&token), signed.ip.clone(), signed.base_url());
    let decision = signed
        .decide(move |conn, user| {
            invitations::accept_by_link(conn, &base_url, &Actor::person(user, &ip), &hash)
        })
        .await?;
    finish_acceptance(&signed, &token, decision).await
}

/// After an acceptance by link (`token`) or from inside the app (no token): home in the
/// workspace, or the page saying why not.
pub async fn finish_acceptance(
    signed: &Signed,
    token: &str,
    decision: Decision<Acceptance>,
) -> AppResult<HttpResponse> {
    let (status, heading, explanation, may_ask) = match decision {
        Decision::Done(Acceptance::Joined {
            workspace,
            already_member,
            pending,
        }) => {
            signed.session.set_current_workspace(Some(workspace.id))?;
            let flash = if already_member {
                format!("You are already in {}.", workspace.name)
            } else if pending {
                format!(
                    "You asked to join {} as a guest. An admin will approve you: text-message invitations are checked by a person.",
                    workspace.name
                )
            } else {
                format!("You joined {}.", workspace.name)
            };
            return signed.done(&flash, "/");
        }
        Decision::Done(Acceptance::Dead(dead)) => {
            return render_dead(signed_layout(signed).await?, token, &dead)
        }
        Decision::Done(Acceptance::WrongAccount { invited, signed_in }) => (
            StatusCode::FORBIDDEN,
            "This invitation is for someone else",
            format!(
                "This invitation was sent to {invited}; you are signed in as {signed_in}. Sign out and sign in as {invited} (or create an account with that address) to accept it."
            ),
            false,
        ),
        Decision::Refused(explanation) => (
            StatusCode::CONFLICT,
            "This invitation can no longer be used",
            explanation,
            !token.is_empty(),
        ),
    };
    crate::web::render_with(
        status,
        &DeadPage {
            layout: signed_layout(signed).await?,
            token: token.to_string(),
            heading: heading.to_string(),
            explanation,
            may_ask,
        },
    )
}

pub async fn decline(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    signed: Option<Signed>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let (hash, base_url) = (sha256_hex(&token), state.settings.base_url.clone());
    let answer = match &signed {
        Some(signed) => {
            let ip = signed.ip.clone();
            signed
                .change(move |conn, user| {
                    invitations::decline_by_link(conn, &base_url, &Actor::person(user, &ip), &hash)
                })
                .await?
        }
        None => {
            let holder = link_holder(crate::web::client_ip(&req));
            crate::db::transaction(&state.pool, move |conn| {
                invitations::decline_by_link(conn, &base_url, &holder, &hash)
            })
            .await?
        }
    };
    match answer {
        ByLink::Answered(message) => {
            session.set_flash(&message)?;
            Ok(crate::web::see_other("/"))
        }
        ByLink::Dead(dead) => render_dead(layout(signed.as_ref(), &session).await?, &token, &dead),
    }
}

/// "Ask for a new invitation" on a dead link: emails the workspace's admins (once a day).
pub async fn ask_again(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let (hash, base_url) = (sha256_hex(&token), state.settings.base_url.clone());
    let holder = link_holder(crate::web::client_ip(&req));
    let asked = crate::db::transaction(&state.pool, move |conn| {
        invitations::ask_for_new(conn, &base_url, &holder, &hash)
    })
    .await?;
    match asked {
        ByLink::Answered(refused) => {
            session.set_flash(
                refused.as_deref().unwrap_or(
                    "We have asked the workspace's admins to send you a new invitation.",
                ),
            )?;
            Ok(crate::web::see_other(&link_path("/invitations", &token)))
        }
        ByLink::Dead(dead) => render_dead(Layout::anonymous(&session)?, &token, &dead),
    }
}
