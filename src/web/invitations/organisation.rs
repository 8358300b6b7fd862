//! The emailed invitation to join an organisation (sent to an address that already has an
//! account): `GET /organisation-invitations/{token}` shows the organisation and who invited you
//! and never uses the link up; `POST .../accept`, signed in with the invited address, joins.
//! The link never signs anyone in. The decisions are `services::organisation_invitations`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{sign_in_first, signed_layout};
use crate::auth::TypedSession;
use crate::db::models::organisation_invitations::VALID_FOR_DAYS;
use crate::domain::token::sha256_hex;
use crate::error::AppResult;
use crate::services::organisation_invitations::{self, Acceptance, Dead, Link};
use crate::services::Actor;
use crate::state::AppState;
use crate::web::context::Signed;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "invitations/organisation.html")]
struct LandingPage {
    layout: Layout,
    token: String,
    organisation: String,
    inviter: String,
    address: String,
    expires_on: String,
    signed_in: bool,
    /// Signed in, but not as the person invited: (invited, signed in as).
    wrong_account: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "invitations/join_problem.html")]
struct ProblemPage {
    layout: Layout,
    heading: String,
    explanation: String,
}

fn problem(
    layout: Layout,
    status: StatusCode,
    heading: &str,
    explanation: String,
) -> AppResult<HttpResponse> {
    crate::web::render_with(
        status,
        &ProblemPage {
            layout,
            heading: heading.to_string(),
            explanation,
        },
    )
}

fn dead(layout: Layout, why: Dead) -> AppResult<HttpResponse> {
    let ask = "If you should join, ask the organisation's administrators to invite you again.";
    let (status, heading, explanation) = match why {
        Dead::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many links that do not work were tried from your network. Wait a few minutes and try again.".to_string(),
        ),
        Dead::Unknown => (
            StatusCode::GONE,
            "This invitation link is not valid",
            format!("Check you copied the whole link from the email. {ask}"),
        ),
        Dead::Accepted => (
            StatusCode::GONE,
            "This invitation has already been used",
            "Each invitation works once. If you accepted it, sign in and find the organisation under Organisations.".to_string(),
        ),
        Dead::Superseded => (
            StatusCode::GONE,
            "This invitation no longer works",
            format!("A newer invitation replaced it, or it was withdrawn. {ask}"),
        ),
        Dead::Expired => (
            StatusCode::GONE,
            "This invitation has expired",
            format!("Invitations work for {VALID_FOR_DAYS} days. {ask}"),
        ),
    };
    problem(layout, status, heading, explanation)
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
    let (layout, found) = match &signed {
        Some(signed) => {
            let page = signed
                .page(move |conn, frame| {
                    let link = organisation_invitations::look_up(conn, &hash, &ip)?;
                    let wrong = match &link {
                        Link::Live(live)
                            if !organisation_invitations::addressed_to(
                                &live.invitation,
                                &frame.user,
                            ) =>
                        {
                            Some((live.invitation.email.clone(), frame.user.email.clone()))
                        }
                        _ => None,
                    };
                    Ok((link, wrong))
                })
                .await?;
            (page.layout, page.data)
        }
        None => {
            let link = crate::db::transaction(&state.pool, move |conn| {
                organisation_invitations::look_up(conn, &hash, &ip)
            })
            .await?;
            (Layout::anonymous(&session)?, (link, None))
        }
    };
    match found {
        (Link::Dead(why), _) => dead(layout, why),
        (Link::Live(live), wrong_account) => crate::web::render(&LandingPage {
            layout,
            token,
            organisation: live.organisation.name,
            inviter: live.inviter,
            address: live.invitation.email,
            expires_on: live.invitation.expires_at.format("%-d %B %Y").to_string(),
            signed_in: signed.is_some(),
            wrong_account,
        }),
    }
}

pub async fn accept(signed: Option<Signed>, token: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(signed) = signed else {
        return Ok(sign_in_first(&format!("/organisation-invitations/{token}")));
    };
    let (hash, ip) = (sha256_hex(&token), signed.ip.clone());
    let accepted = signed
        .change(move |conn, user| {
            organisation_invitations::accept(conn, &Actor::person(user, &ip), &hash)
        })
        .await?;
    match accepted {
        Acceptance::Joined(org) => signed.done(
            &format!("You joined {}. Now find your team's workspace.", org.name),
            &format!("/organisations/{}/workspaces", org.id),
        ),
        Acceptance::Dead(why) => dead(signed_layout(&signed).await?, why),
        Acceptance::WrongAccount { invited, signed_in } => problem(
            signed_layout(&signed).await?,
            StatusCode::FORBIDDEN,
            "This invitation is for someone else",
            format!(
                "This invitation was sent to {invited}; you are signed in as {signed_in}. Sign out and sign in as {invited} to accept it."
            ),
        ),
        Acceptance::Refused(reason) => problem(
            signed_layout(&signed).await?,
            StatusCode::CONFLICT,
            "This invitation can no longer be used",
            reason,
        ),
    }
}
