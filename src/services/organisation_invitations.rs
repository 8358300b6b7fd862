//! Existing accounts are invited into an organisation, never added: when an administrator (Add
//! new user, the roster import, a profile's invite) names an address that already has an
//! account outside the organisation (or one it suspended or removed), the person is emailed an
//! invitation and joins only by accepting it, signed in with that address. The administrator
//! learns nothing about the account. Accepting is one conditional UPDATE on the link's hash.

use diesel::PgConnection;

use super::Actor;
use crate::auth::{permissions, throttle};
use crate::db::models::audit;
use crate::db::models::organisation_invitations::{
    self as rows, NewOrganisationInvitation, OrganisationInvitation, Status,
};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::roster_profiles;
use crate::db::models::users::{self, User};
use crate::domain::{AuditAction, Token};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// What an invitation brings along for when the person joins.
#[derive(Debug, Clone, Default)]
pub struct Carried {
    /// The grade the roster gave.
    pub grade: Option<String>,
    /// The email-less rostered profile that becomes theirs.
    pub roster_profile: Option<uuid::Uuid>,
}

/// The words an administrator sees once an existing account was invited: the same whoever the
/// address belongs to.
pub fn sent_to(email: &str) -> String {
    format!("Invitation sent to {email}.")
}

/// Invites the account to join the organisation, in the caller's transaction: an earlier open
/// invitation to the address stops working, a new 30-day link is emailed, and the audit records
/// the address only (not whose account it is).
pub fn invite(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: &Organisation,
    invitee: &User,
    carried: &Carried,
) -> AppResult<()> {
    // Two administrators inviting the same address at once take turns here.
    let invitee = users::lock(conn, invitee.id)?;
    rows::supersede_open(conn, org.id, &invitee.email)?;
    let token = Token::generate();
    let invitation = rows::insert(
        conn,
        &NewOrganisationInvitation {
            organisation_id: org.id,
            email: &invitee.email,
            token_hash: &token.hash(),
            invited_by: actor.user.map(|u| u.id),
            grade: carried.grade.as_deref().filter(|g| !g.is_empty()),
            roster_profile_id: carried.roster_profile,
        },
    )?;
    let message = messages::OrganisationInvitation {
        inviter_name: match actor.user {
            Some(user) => format!("{} ({})", user.full_name(), org.name),
            None => format!("An administrator of {}", org.name),
        },
        organisation: org.name.clone(),
        address: invitee.email.clone(),
        expires_on: invitation.expires_at.format("%-d %B %Y").to_string(),
        link: format!("{base_url}/organisation-invitations/{}", token.plain()),
    };
    mail::enqueue(conn, &invitee.email, &message)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::OrganisationInvitationSent)
            .organisation(org.id)
            .detail(format!(
                "{} invited {} to join {}",
                actor.name(),
                invitee.email,
                org.name
            )),
    )?;
    Ok(())
}

/// Why a link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    Throttled,
    Unknown,
    Accepted,
    Superseded,
    Expired,
}

/// A live invitation as its page shows it.
pub struct Live {
    pub invitation: OrganisationInvitation,
    pub organisation: Organisation,
    pub inviter: String,
}

pub enum Link {
    Live(Live),
    Dead(Dead),
}

/// Looks the link up without using it; an unknown token counts against the address.
pub fn look_up(conn: &mut PgConnection, token_hash: &str, ip: &str) -> AppResult<Link> {
    if throttle::check_address(conn, ip)? != throttle::Verdict::Allowed {
        return Ok(Link::Dead(Dead::Throttled));
    }
    let Some(invitation) = rows::find_by_token(conn, token_hash)? else {
        throttle::record_link_guess(conn, ip)?;
        return Ok(Link::Dead(Dead::Unknown));
    };
    match invitation.status() {
        Status::Open => {}
        Status::Accepted => return Ok(Link::Dead(Dead::Accepted)),
        Status::Superseded => return Ok(Link::Dead(Dead::Superseded)),
        Status::Expired => return Ok(Link::Dead(Dead::Expired)),
    }
    let organisation = organisations::find(conn, invitation.organisation_id)?;
    let inviter = match invitation.invited_by {
        Some(id) => users::find(conn, id)?.full_name(),
        None => format!("An administrator of {}", organisation.name),
    };
    Ok(Link::Live(Live {
        invitation,
        organisation,
        inviter,
    }))
}

/// Whether the invitation is for this signed-in account: its verified address.
pub fn addressed_to(invitation: &OrganisationInvitation, user: &User) -> bool {
    user.is_verified() && invitation.email.eq_ignore_ascii_case(&user.email)
}

/// What accepting came to. Every answer commits: an unknown token's count must stay.
pub enum Acceptance {
    Joined(Organisation),
    WrongAccount {
        invited: String,
        signed_in: String,
    },
    Dead(Dead),
    /// The rules no longer allow it: the sentence to show.
    Refused(String),
}

/// The signed-in actor accepts: checked again under the account's lock (the address, the
/// organisation's domains, that the inviter may still add people), used up in one statement,
/// and the person is a member again: not suspended, no removal mark, the roster's grade and
/// profile attached.
pub fn accept(conn: &mut PgConnection, actor: &Actor, token_hash: &str) -> AppResult<Acceptance> {
    let user = actor.user()?;
    let ip = actor.ip.as_deref().unwrap_or_default();
    let live = match look_up(conn, token_hash, ip)? {
        Link::Live(live) => live,
        Link::Dead(dead) => return Ok(Acceptance::Dead(dead)),
    };
    let Live {
        invitation,
        organisation: org,
        ..
    } = live;
    if !addressed_to(&invitation, user) {
        return Ok(Acceptance::WrongAccount {
            invited: invitation.email,
            signed_in: user.email.clone(),
        });
    }
    users::lock(conn, user.id)?;
    if !organisations::admits(conn, org.id, &user.email)? {
        return Ok(Acceptance::Refused(format!(
            "{} no longer admits email addresses like {}.",
            org.name, user.email
        )));
    }
    if let Some(inviter) = invitation.invited_by {
        let inviter = users::find(conn, inviter)?;
        let may_still = inviter.is_active()
            && (allowed(permissions::administer_users(conn, &inviter, org.id))?
                || allowed(permissions::import_users(conn, &inviter, org.id))?);
        if !may_still {
            return Ok(Acceptance::Refused(format!(
                "The administrator who invited you can no longer add people to {}. Ask another of its administrators.",
                org.name
            )));
        }
    }
    let Some(accepted) = rows::accept(conn, token_hash, &user.email, user.id)? else {
        // Used by a parallel request a moment ago, or expired meanwhile.
        return Ok(Acceptance::Dead(
            match rows::find_by_token(conn, token_hash)?.map(|i| i.status()) {
                Some(Status::Accepted) => Dead::Accepted,
                Some(Status::Superseded) => Dead::Superseded,
                _ => Dead::Expired,
            },
        ));
    };
    organisations::readmit(conn, org.id, user.id)?;
    if let Some(profile) = accepted.roster_profile_id {
        roster_profiles::link(conn, org.id, profile, user.id)?;
    }
    if let Some(grade) = &accepted.grade {
        roster_profiles::upsert_for_user(
            conn,
            org.id,
            user.id,
            &user.first_name,
            &user.surname,
            grade,
            accepted.invited_by,
        )?;
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::OrganisationInvitationAccepted)
            .target(user.id)
            .organisation(org.id)
            .detail(format!(
                "{} joined {} by accepting the invitation sent on {}",
                user.full_name(),
                org.name,
                accepted.created_at.format("%-d %B %Y")
            )),
    )?;
    Ok(Acceptance::Joined(org))
}

/// A permission check as a yes or no (404 is "no").
fn allowed<T>(check: AppResult<T>) -> AppResult<bool> {
    match check {
        Ok(_) => Ok(true),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}
