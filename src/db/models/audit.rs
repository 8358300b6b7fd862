//! The `audit_events` table: who did what to whom, where, when, from which address.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::domain::{AuditAction, OrganisationId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    pub action: AuditAction,
    pub target_user_id: Option<UserId>,
    pub organisation_id: Option<OrganisationId>,
    pub workspace_id: Option<WorkspaceId>,
    pub ip_address: Option<String>,
    pub detail: String,
}

/// One event to record; build it with the constructor and the `with_*` methods.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub action: AuditAction,
    pub actor_user_id: Option<UserId>,
    pub target_user_id: Option<UserId>,
    pub organisation_id: Option<OrganisationId>,
    pub workspace_id: Option<WorkspaceId>,
    pub ip_address: Option<String>,
    pub detail: String,
}

impl NewAuditEvent {
    pub fn new(action: AuditAction, ip_address: Option<String>) -> Self {
        Self {
            action,
            actor_user_id: None,
            target_user_id: None,
            organisation_id: None,
            workspace_id: None,
            ip_address,
            detail: String::new(),
        }
    }

    pub fn actor(mut self, user: UserId) -> Self {
        self.actor_user_id = Some(user);
        self
    }

    pub fn target(mut self, user: UserId) -> Self {
        self.target_user_id = Some(user);
        self
    }

    pub fn organisation(mut self, org: OrganisationId) -> Self {
        self.organisation_id = Some(org);
        self
    }

    pub fn workspace(mut self, workspace: WorkspaceId) -> Self {
        self.workspace_id = Some(workspace);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

pub fn record(conn: &mut PgConnection, event: &NewAuditEvent) -> QueryResult<usize> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
}

pub fn for_user(conn: &mut PgConnection, user: UserId, limit: i64) -> QueryResult<Vec<AuditEvent>> {
    audit_events::table
        .filter(audit_events::target_user_id.eq(user))
        .order(audit_events::id.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)
}

/// A workspace's history, newest first.
pub fn for_workspace(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    audit_events::table
        .filter(audit_events::workspace_id.eq(workspace))
        .order(audit_events::id.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)
}
