//! The `workspace_join_links` table: each workspace's shareable link (at most one), with its
//! optional expiry and maximum number of uses. Only the SHA-256 of the token is stored; the
//! token is derived from the workspace and `created_at` under the server's key
//! (`services::join_links::link_token`), so its admins can be shown it again.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::workspace_join_links;
use crate::domain::{UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workspace_join_links)]
pub struct JoinLink {
    pub workspace_id: WorkspaceId,
    pub token_hash: String,
    pub approve_on_join: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Why a shareable link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    Disabled,
    Expired,
    UsedUp,
}

impl JoinLink {
    pub fn dead(&self) -> Option<Dead> {
        if self.disabled_at.is_some() {
            Some(Dead::Disabled)
        } else if self.expires_at.is_some_and(|at| at <= Utc::now()) {
            Some(Dead::Expired)
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            Some(Dead::UsedUp)
        } else {
            None
        }
    }
}

/// What an admin chose when enabling or regenerating the link.
pub struct LinkSettings {
    pub approve_on_join: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
}

pub fn find_for_workspace(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
) -> QueryResult<Option<JoinLink>> {
    workspace_join_links::table
        .find(workspace)
        .select(JoinLink::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_token(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<JoinLink>> {
    workspace_join_links::table
        .filter(workspace_join_links::token_hash.eq(token_hash))
        .select(JoinLink::as_select())
        .first(conn)
        .optional()
}

/// Makes a new link for the workspace (enable or regenerate): any earlier token stops working
/// and the count of uses starts again.
pub fn replace(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    token_hash: &str,
    settings: &LinkSettings,
    by: UserId,
    created_at: DateTime<Utc>,
) -> QueryResult<JoinLink> {
    let values = (
        workspace_join_links::token_hash.eq(token_hash),
        workspace_join_links::approve_on_join.eq(settings.approve_on_join),
        workspace_join_links::expires_at.eq(settings.expires_at),
        workspace_join_links::max_uses.eq(settings.max_uses),
        workspace_join_links::uses.eq(0),
        workspace_join_links::created_by.eq(by),
        workspace_join_links::created_at.eq(created_at),
        workspace_join_links::disabled_at.eq(None::<DateTime<Utc>>),
    );
    diesel::insert_into(workspace_join_links::table)
        .values((workspace_join_links::workspace_id.eq(workspace), values))
        .on_conflict(workspace_join_links::workspace_id)
        .do_update()
        .set(values)
        .returning(JoinLink::as_returning())
        .get_result(conn)
}

pub fn disable(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<bool> {
    let updated = diesel::update(
        workspace_join_links::table
            .find(workspace)
            .filter(workspace_join_links::disabled_at.is_null()),
    )
    .set(workspace_join_links::disabled_at.eq(diesel::dsl::now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Counts one use, in one statement that also checks the link is live and not used up, so
/// parallel joins never exceed the maximum.
pub fn use_once(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<JoinLink>> {
    diesel::update(
        workspace_join_links::table
            .filter(workspace_join_links::token_hash.eq(token_hash))
            .filter(workspace_join_links::disabled_at.is_null())
            .filter(
                workspace_join_links::expires_at
                    .is_null()
                    .or(workspace_join_links::expires_at.gt(diesel::dsl::now)),
            )
            .filter(workspace_join_links::max_uses.is_null().or(
                workspace_join_links::uses.lt(workspace_join_links::max_uses.assume_not_null()),
            )),
    )
    .set(workspace_join_links::uses.eq(workspace_join_links::uses + 1))
    .returning(JoinLink::as_returning())
    .get_result(conn)
    .optional()
}
