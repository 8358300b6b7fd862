//! The shareable workspace link, as its admins turn it on, replace it or turn it off, and as
//! people join through it. Only the token's hash is kept: the plain token is handed back once,
//! to be shown to the admin.

use diesel::PgConnection;

use super::membership::tell_admins_of_request;
use super::Actor;
use crate::auth::{permissions, throttle};
use crate::db::models::audit;
use crate::db::models::join_links::{self, Dead, JoinLink, LinkSettings};
use crate::db::models::organisations::{self, Standing};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{AuditAction, MembershipStatus, Token, WorkspaceId, WorkspaceRole};
use crate::error::{AppError, AppResult};

/// What an admin did to the link.
#[derive(Clone, Copy)]
pub enum LinkChange {
    Enable,
    Regenerate,
}

/// A new link with these settings (the old one, if any, stops working).
pub fn make(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    settings: &LinkSettings,
    change: LinkChange,
    key: &[u8],
) -> AppResult<Token> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, user, id)?;
    // The link's generation: PostgreSQL keeps microseconds, so the time is cut to them here and
    // the token can be derived again from the stored row.
    let now = chrono::Utc::now();
    let generation = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let token = generation_token(key, id, generation);
    join_links::replace(conn, id, &token.hash(), settings, user.id, generation)?;
    let (action, verb) = match change {
        LinkChange::Enable => (AuditAction::JoinLinkEnabled, "turned on"),
        LinkChange::Regenerate => (AuditAction::JoinLinkRegenerated, "regenerated"),
    };
    audit::record(
        conn,
        &actor
            .event(action)
            .organisation(workspace.organisation_id)
            .workspace(id)
            .detail(format!(
                "{} {verb} the shareable link ({})",
                user.full_name(),
                describe(settings)
            )),
    )?;
    Ok(token)
}

/// The link's token: HMAC-SHA256 under the server's key of the workspace and the link's
/// generation (when it was made; a new link is a new generation). Nothing but its hash is
/// stored, yet the workspace's admins can be shown the link for as long as it lives.
pub fn link_token(key: &[u8], link: &JoinLink) -> Token {
    generation_token(key, link.workspace_id, link.created_at)
}

fn generation_token(
    key: &[u8],
    id: WorkspaceId,
    generation: chrono::DateTime<chrono::Utc>,
) -> Token {
    Token::derived(
        key,
        format!(
            "staffroom join link\n{id}\n{}",
            generation.timestamp_micros()
        )
        .as_bytes(),
    )
}

/// "approved at once, until 31 March 2027, at most 20 uses", for the audit.
fn describe(settings: &LinkSettings) -> String {
    let mut parts = vec![if settings.approve_on_join {
        "approved at once".to_string()
    } else {
        "joiners wait for approval".to_string()
    }];
    if let Some(at) = settings.expires_at {
        parts.push(format!(
            "until {}",
            (at - chrono::Duration::days(1)).format("%-d %B %Y")
        ));
    }
    if let Some(max) = settings.max_uses {
        parts.push(format!("at most {max} uses"));
    }
    parts.join(", ")
}

pub fn disable(conn: &mut PgConnection, actor: &Actor, id: WorkspaceId) -> AppResult<()> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, user, id)?;
    if join_links::disable(conn, id)? {
        audit::record(
            conn,
            &actor
                .event(AuditAction::JoinLinkDisabled)
                .organisation(workspace.organisation_id)
                .workspace(id)
                .detail(format!(
                    "{} turned off the shareable link",
                    user.full_name()
                )),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- joining through the link

/// Why this shareable link cannot be used (by this person).
pub enum Unusable {
    Throttled,
    Unknown,
    Dead(Dead),
    /// Their address is not one the workspace's organisation admits: with its name.
    NotInOrganisation(String),
    /// The organisation suspended or removed them: with its name.
    Barred(String),
}

/// A link this person may use: its workspace, and the organisation's name.
pub struct Usable {
    pub link: JoinLink,
    pub workspace: Workspace,
    pub organisation: String,
}

/// What looking a link up found. An unknown token counts against the address, so this is an
/// answer, never a refusal that would roll the count back.
pub enum Found {
    Usable(Usable),
    Unusable(Unusable),
}

/// Looks the link up (without counting a use) and checks the actor may use it: a member of
/// the workspace's organisation, or someone whose address it admits and whom it has not
/// suspended or removed.
pub fn look_up(conn: &mut PgConnection, actor: &Actor, token_hash: &str) -> AppResult<Found> {
    let user = actor.user()?;
    let ip = actor.ip.as_deref().unwrap_or_default();
    let unusable = |why| Ok(Found::Unusable(why));
    if throttle::check_address(conn, ip)? != throttle::Verdict::Allowed {
        return unusable(Unusable::Throttled);
    }
    let Some(link) = join_links::find_by_token(conn, token_hash)? else {
        throttle::record_link_guess(conn, ip)?;
        return unusable(Unusable::Unknown);
    };
    let workspace = match workspaces::find_live(conn, link.workspace_id) {
        Ok(workspace) => workspace,
        Err(diesel::NotFound) => return unusable(Unusable::Dead(Dead::Disabled)),
        Err(other) => return Err(other.into()),
    };
    if let Some(dead) = link.dead() {
        return unusable(Unusable::Dead(dead));
    }
    let organisation = organisations::find(conn, workspace.organisation_id)?.name;
    let standing = organisations::standing(conn, workspace.organisation_id, user.id)?;
    if standing.is_barred() {
        return unusable(Unusable::Barred(organisation));
    }
    let in_organisation = standing == Standing::Member
        || organisations::admits(conn, workspace.organisation_id, &user.email)?;
    if !in_organisation {
        return unusable(Unusable::NotInOrganisation(organisation));
    }
    Ok(Found::Usable(Usable {
        link,
        workspace,
        organisation,
    }))
}

/// What joining through the link came to.
pub enum Joining {
    /// Approved at once, or asked and waiting for an admin.
    Joined {
        workspace: Workspace,
        approved: bool,
    },
    /// In the workspace already (or waiting): nothing changed.
    AlreadyIn(Workspace),
    Unusable(Unusable),
}

/// The actor joins through the link: as an approved member where the admin chose so, or as
/// pending (the admins emailed). Each join counts one use.
pub fn join(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    token_hash: &str,
) -> AppResult<Joining> {
    let user = actor.user()?;
    let Usable {
        link, workspace, ..
    } = match look_up(conn, actor, token_hash)? {
        Found::Usable(usable) => usable,
        Found::Unusable(why) => return Ok(Joining::Unusable(why)),
    };
    workspaces::lock(conn, workspace.id)?;
    if workspace_members::find(conn, workspace.id, user.id)?.is_some() {
        return Ok(Joining::AlreadyIn(workspace));
    }
    // Counted in one conditional UPDATE, so parallel joins never pass the maximum.
    let Some(link) = join_links::use_once(conn, token_hash)? else {
        let dead = link.dead().unwrap_or(Dead::UsedUp);
        return Ok(Joining::Unusable(Unusable::Dead(dead)));
    };
    organisations::add_member(conn, workspace.organisation_id, user.id)?;
    let event = actor
        .event(AuditAction::JoinedByLink)
        .target(user.id)
        .organisation(workspace.organisation_id)
        .workspace(workspace.id);
    if link.approve_on_join {
        workspace_members::join_approved(
            conn,
            workspace.id,
            user.id,
            WorkspaceRole::Member,
            link.created_by,
            None,
        )?;
        audit::record(
            conn,
            &event.detail(format!(
                "{} joined through the shareable link",
                user.full_name()
            )),
        )?;
    } else {
        workspace_members::insert(
            conn,
            workspace.id,
            user.id,
            MembershipStatus::Pending,
            WorkspaceRole::Member,
            "",
            None,
        )?
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("membership appeared under the lock"))
        })?;
        tell_admins_of_request(
            conn,
            base_url,
            &workspace,
            user,
            "Joined through the workspace's shareable link.",
        )?;
        audit::record(
            conn,
            &event.detail(format!(
                "{} asked to join through the shareable link",
                user.full_name()
            )),
        )?;
    }
    Ok(Joining::Joined {
        workspace,
        approved: link.approve_on_join,
    })
}
