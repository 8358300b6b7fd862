//! Message templates: a member's own, and the ones approved colleagues share with the workspace.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::message_templates::{self, NewMessageTemplate};
use crate::domain::{TemplateId, WorkspaceId};
use crate::error::{AppError, AppResult};

/// A template as the form gave it.
pub struct NewTemplate {
    pub name: String,
    pub body: String,
    /// For the workspace's approved colleagues, not only its author.
    pub shared: bool,
}

/// Saves the template; refused when someone who is not an approved colleague shares it.
pub fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    template: &NewTemplate,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let access = permissions::use_conversations(conn, user, id)?;
    let shared = template.shared;
    if shared && !access.shares() {
        return Ok(Decision::refused(
            "Only approved colleagues can share templates with the workspace",
        ));
    }
    let saved = message_templates::insert(
        conn,
        &NewMessageTemplate {
            id: TemplateId::new(),
            workspace_id: shared.then_some(id),
            owner_id: (!shared).then_some(user.id),
            name: &template.name,
            body: &template.body,
            created_by: Some(user.id),
        },
    )?;
    Ok(Decision::Done(format!(
        "Template “{}” saved{}.",
        saved.name,
        if saved.is_shared() {
            " and shared with the workspace"
        } else {
            ""
        }
    )))
}

/// Deletes a template the actor may change; any other is not found.
pub fn delete(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    template: TemplateId,
) -> AppResult<()> {
    let user = actor.user()?;
    let access = permissions::use_conversations(conn, user, id)?;
    if !message_templates::delete_usable(conn, id, user.id, access.shares(), template)? {
        return Err(AppError::NotFound);
    }
    Ok(())
}
