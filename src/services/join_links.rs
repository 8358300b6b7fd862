//! The shareable workspace link, as its admins turn it on, replace it or turn it off. Only the
//! token's hash is kept: the plain token is handed back once, to be shown to the admin.

use diesel::PgConnection;

use super::Actor;
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::join_links::{self, LinkSettings};
use crate::db::models::workspaces;
use crate::domain::{AuditAction, Token, WorkspaceId};
use crate::error::AppResult;

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
) -> AppResult<Token> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, user, id)?;
    let token = Token::generate();
    join_links::replace(conn, id, &token.hash(), settings, user.id)?;
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
