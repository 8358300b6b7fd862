//! What every signed-in page's frame needs, read in one statement: the user, their workspaces
//! for the switcher (with the one chosen), how many people wait for their approval, the
//! invitations waiting for them, and the organisation they administer.
//!
//! These are the rules of `workspace_members::of_user`, `pending_for_admin`,
//! `invitations::open_for_email_with_inviter` and the Administration link, written as
//! subqueries of one SELECT so that a frame costs one round trip.
//! A change to one of those rules changes this text too (the tests of the switcher, the
//! prompt and the Administration link cover both). Nothing of an organisation that suspended
//! the user appears (tests/api/trust_control.rs).
//!
//! Frames are kept in memory (`Cache`) by user and version: the triggers of
//! `migrations/2026-12-01-000001_frame_versions` bump a user's version in the transaction of
//! every change to what their frame shows. A query here that reads a new table or column needs
//! its trigger there too (`request_path::a_kept_frame_never_outlives_a_change...` tests the
//! mechanism).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde::Deserialize;

use crate::db::models::users::User;
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::Workspace;
use crate::domain::{InvitationId, OrganisationId, UserId, WorkspaceId};

#[derive(QueryableByName)]
struct Row {
    #[diesel(embed)]
    user: User,
    #[diesel(sql_type = Text)]
    workspaces: String,
    #[diesel(sql_type = Text)]
    pending: String,
    #[diesel(sql_type = Text)]
    invitations: String,
    #[diesel(sql_type = Nullable<Text>)]
    administration: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    valid_until: DateTime<Utc>,
}

/// One of the user's live workspaces, with their membership.
#[derive(Clone, Deserialize)]
pub struct MyWorkspace {
    pub workspace: Workspace,
    pub membership: Membership,
}

/// An open invitation to the user's verified address.
#[derive(Clone, Deserialize)]
pub struct WaitingInvitation {
    pub id: InvitationId,
    pub workspace: String,
    pub inviter: Option<String>,
}

/// The first organisation (by name) where the user holds a role organisation-wide, and what
/// the roles held there allow.
#[derive(Clone, Deserialize)]
pub struct Administration {
    pub organisation_id: OrganisationId,
    pub manage_users: bool,
    pub import_users: bool,
    pub manage_roles: bool,
    pub view_audit: bool,
    /// With manage users, it opens the organisation's settings.
    pub manage_workspaces: bool,
}

#[derive(Clone)]
pub struct Frame {
    pub user: User,
    /// Ordered by name.
    pub workspaces: Vec<MyWorkspace>,
    /// Workspaces the user administers with people waiting: (workspace, how many).
    pub pending: Vec<(WorkspaceId, i64)>,
    pub invitations: Vec<WaitingInvitation>,
    pub administration: Option<Administration>,
    /// When the frame changes without a write (a membership ends, an invitation expires), or
    /// five minutes on: a cached copy is not used after this.
    pub valid_until: DateTime<Utc>,
}

/// Kept prepared on each connection (`db::cached`), as every statement here is.
const QUERY: &str = r#"
SELECT u.*,
  (SELECT coalesce(json_agg(json_build_object('workspace', row_to_json(w), 'membership', row_to_json(m))
                            ORDER BY w.name), '[]')::text
     FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
    WHERE m.user_id = u.id AND w.archived_at IS NULL
      AND (m.ends_at IS NULL OR m.ends_at > now())
      AND NOT EXISTS (SELECT 1 FROM organisation_members s WHERE s.organisation_id = w.organisation_id
                         AND s.user_id = u.id AND s.suspended_at IS NOT NULL)) AS workspaces,
  (SELECT coalesce(json_agg(json_build_array(p.workspace_id, p.waiting) ORDER BY p.workspace_id), '[]')::text
     FROM (SELECT q.workspace_id, count(*) AS waiting
             FROM workspace_members q
             JOIN workspace_members a ON a.workspace_id = q.workspace_id AND a.user_id = u.id
                                     AND a.status = 'approved' AND a.role = 'admin'
             JOIN workspaces aw ON aw.id = q.workspace_id AND aw.archived_at IS NULL
            WHERE q.status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM organisation_members s WHERE s.organisation_id = aw.organisation_id
                                 AND s.user_id = u.id AND s.suspended_at IS NOT NULL)
            GROUP BY q.workspace_id) p) AS pending,
  (SELECT coalesce(json_agg(json_build_object('id', i.id, 'workspace', iw.name,
                                              'inviter', nullif(concat_ws(' ', iu.first_name, iu.surname), ''))
                            ORDER BY i.sent_at DESC), '[]')::text
     FROM invitations i
     JOIN workspaces iw ON iw.id = i.workspace_id AND iw.archived_at IS NULL
     LEFT JOIN users iu ON iu.id = i.invited_by
    WHERE u.email_verified_at IS NOT NULL AND i.email = lower(u.email)
      AND i.accepted_at IS NULL AND i.declined_at IS NULL AND i.rescinded_at IS NULL
      AND i.superseded_at IS NULL AND i.expires_at > now()
      AND NOT EXISTS (SELECT 1 FROM organisation_members s WHERE s.organisation_id = iw.organisation_id
                         AND s.user_id = u.id AND s.suspended_at IS NOT NULL)) AS invitations,
  (SELECT json_build_object('organisation_id', o.id,
                            'manage_users', bool_or(r.manage_users), 'import_users', bool_or(r.import_users),
                            'manage_roles', bool_or(r.manage_roles), 'view_audit', bool_or(r.view_audit),
                            'manage_workspaces', bool_or(r.manage_workspaces))::text
     FROM organisations o
     JOIN organisation_members om ON om.organisation_id = o.id AND om.user_id = u.id
                                 AND om.suspended_at IS NULL
     JOIN role_assignments ra ON ra.organisation_id = o.id AND ra.user_id = u.id
                             AND ra.scope_workspace_id IS NULL
     JOIN roles r ON r.id = ra.role_id
    WHERE r.manage_users OR r.import_users OR r.manage_roles OR r.view_audit OR r.manage_workspaces
    GROUP BY o.id, o.name ORDER BY o.name, o.id LIMIT 1) AS administration,
  -- A membership ending or an invitation expiring changes the frame with nothing written.
  least(now() + interval '5 minutes',
        (SELECT min(e.ends_at) FROM workspace_members e WHERE e.user_id = u.id AND e.ends_at > now()),
        (SELECT min(x.expires_at) FROM invitations x
          WHERE x.email = lower(u.email) AND x.accepted_at IS NULL AND x.expires_at > now())) AS valid_until
FROM users u WHERE u.id = $1
"#;

/// The live session (`sessions::live_session!`, whose parameters it takes), its user and the
/// version of their frame (`frame_versions`, bumped by triggers in the transaction of every
/// change to what a frame shows).
const SESSION_VERSION: &str = concat!(
    "SELECT s.state, s.user_id, s.expires_at,
            coalesce((SELECT v.version FROM frame_versions v WHERE v.user_id = s.user_id), 0)
              AS version",
    crate::db::models::sessions::live_session!()
);

#[derive(QueryableByName)]
pub struct SessionVersion {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub user_id: Option<UserId>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub version: i64,
}

/// A live session's state, its user and their frame's version, in one statement (the
/// session's idle expiry moved on as `sessions::keep_alive` says).
pub fn session_with_version(
    conn: &mut PgConnection,
    key_hash: &str,
    idle: chrono::Duration,
) -> QueryResult<Option<SessionVersion>> {
    let found = crate::db::models::sessions::live_statement(SESSION_VERSION, key_hash)
        .load::<SessionVersion>(conn)?
        .pop();
    if let Some(live) = &found {
        crate::db::models::sessions::keep_alive(conn, key_hash, live.expires_at, idle)?;
    }
    Ok(found)
}

/// Frames read recently, by user, each good while its user's version is unchanged and until
/// its `valid_until`. In memory, per server: the version read with the session says whether
/// a copy is current, so every server shows what the database holds.
#[derive(Default)]
pub struct Cache {
    frames: Mutex<HashMap<UserId, (i64, Arc<Frame>)>>,
}

impl Cache {
    /// Enough for everyone signed in to a large trust at once; past it, the cache starts again.
    const CAPACITY: usize = 50_000;

    /// `user`'s frame at `version`, if held and not past its `valid_until`.
    pub fn get(&self, user: UserId, version: i64) -> Option<Frame> {
        let frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        frames
            .get(&user)
            .filter(|(held, frame)| *held == version && frame.valid_until > Utc::now())
            .map(|(_, frame)| Frame::clone(frame))
    }

    pub fn put(&self, version: i64, frame: &Frame) {
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if frames.len() >= Self::CAPACITY {
            frames.clear();
        }
        frames.insert(frame.user.id, (version, Arc::new(frame.clone())));
    }
}

/// The frame of `user`'s pages; `None` when the account is gone.
pub fn load(conn: &mut PgConnection, user: UserId) -> QueryResult<Option<Frame>> {
    let rows: Vec<Row> = crate::db::cached::sql(QUERY)
        .bind::<diesel::sql_types::Uuid, _>(user.0)
        .load(conn)?;
    rows.into_iter().next().map(frame).transpose()
}

fn frame(row: Row) -> QueryResult<Frame> {
    let json = |e: serde_json::Error| diesel::result::Error::DeserializationError(Box::new(e));
    Ok(Frame {
        user: row.user,
        workspaces: serde_json::from_str(&row.workspaces).map_err(json)?,
        pending: serde_json::from_str(&row.pending).map_err(json)?,
        invitations: serde_json::from_str(&row.invitations).map_err(json)?,
        administration: row
            .administration
            .map(|a| serde_json::from_str(&a))
            .transpose()
            .map_err(json)?,
        valid_until: row.valid_until,
    })
}
