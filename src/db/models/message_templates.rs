//! The `message_templates` table: a user's own templates and a workspace's shared ones, with
//! `{first_name}` and `{surname}` filled in from the patient when used.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::message_templates;
use crate::domain::{TemplateId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = message_templates)]
pub struct MessageTemplate {
    pub id: TemplateId,
    pub workspace_id: Option<WorkspaceId>,
    pub owner_id: Option<UserId>,
    pub name: String,
    pub body: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl MessageTemplate {
    pub fn is_shared(&self) -> bool {
        self.workspace_id.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = message_templates)]
pub struct NewMessageTemplate<'a> {
    pub id: TemplateId,
    pub workspace_id: Option<WorkspaceId>,
    pub owner_id: Option<UserId>,
    pub name: &'a str,
    pub body: &'a str,
    pub created_by: Option<UserId>,
}

pub fn insert(conn: &mut PgConnection, new: &NewMessageTemplate) -> QueryResult<MessageTemplate> {
    diesel::insert_into(message_templates::table)
        .values(new)
        .returning(MessageTemplate::as_returning())
        .get_result(conn)
}

/// A person's own templates, by name (at most `limit`): My Workspace lists them.
pub fn personal(
    conn: &mut PgConnection,
    user: UserId,
    limit: i64,
) -> QueryResult<Vec<MessageTemplate>> {
    message_templates::table
        .filter(message_templates::owner_id.eq(user))
        .select(MessageTemplate::as_select())
        .order((message_templates::name, message_templates::id))
        .limit(limit)
        .load(conn)
}

/// The templates this person may use here: their own, and the workspace's shared ones when
/// `shared` (approved colleagues), shared first, then by name.
pub fn usable(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    shared: bool,
) -> QueryResult<Vec<MessageTemplate>> {
    let query = message_templates::table
        .select(MessageTemplate::as_select())
        .order((
            message_templates::owner_id.is_not_null(),
            message_templates::name,
        ))
        .into_boxed();
    if shared {
        query
            .filter(
                message_templates::owner_id
                    .eq(user)
                    .or(message_templates::workspace_id.eq(workspace)),
            )
            .load(conn)
    } else {
        query
            .filter(message_templates::owner_id.eq(user))
            .load(conn)
    }
}

/// One template this person may use here; any other id is not found.
pub fn find_usable(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    shared: bool,
    id: TemplateId,
) -> QueryResult<MessageTemplate> {
    let query = message_templates::table
        .filter(message_templates::id.eq(id))
        .select(MessageTemplate::as_select())
        .into_boxed();
    if shared {
        query
            .filter(
                message_templates::owner_id
                    .eq(user)
                    .or(message_templates::workspace_id.eq(workspace)),
            )
            .first(conn)
    } else {
        query
            .filter(message_templates::owner_id.eq(user))
            .first(conn)
    }
}

/// Deletes a template this person may change: their own, or (for colleagues) a shared one of
/// this workspace. False when there was none.
pub fn delete_usable(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    shared: bool,
    id: TemplateId,
) -> QueryResult<bool> {
    let target = message_templates::table.filter(message_templates::id.eq(id));
    let deleted = if shared {
        diesel::delete(
            target.filter(
                message_templates::owner_id
                    .eq(user)
                    .or(message_templates::workspace_id.eq(workspace)),
            ),
        )
        .execute(conn)?
    } else {
        diesel::delete(target.filter(message_templates::owner_id.eq(user))).execute(conn)?
    };
    Ok(deleted == 1)
}

/// Fills in the patient's names: `{first_name}` and `{surname}`.
pub fn fill(body: &str, first_name: &str, surname: &str) -> String {
    body.replace("{first_name}", first_name)
        .replace("{surname}", surname)
}
