//! The invitations table on a workspace's Users page: each invitation with its status, sent
//! and expiry dates, whether its email was delivered, and Resend/Rescind where the viewer may;
//! a page at a time, newest first.

use crate::domain::WorkspaceRole;
use diesel::PgConnection;

use crate::auth::permissions::{self, WorkspaceAccess};
use crate::db::models::invitations::{self, Status};
use crate::db::models::users::User;
use crate::domain::paging::{Count, PageStart, Paged, SentKey};
use crate::error::AppResult;

pub struct InvitationRow {
    pub id: String,
    pub address: String,
    pub role: WorkspaceRole,
    pub guest_until: Option<String>,
    pub inviter: String,
    pub status: &'static str,
    /// The NHS tag colour for the status.
    pub tag: &'static str,
    pub sent_on: String,
    /// Only while the invitation is live: an accepted or rescinded one expires no more.
    pub expires_on: Option<String>,
    pub delivery: &'static str,
    /// Rescind: for an open invitation, to its inviter and the workspace's managers.
    pub may_act: bool,
    /// Resend: for an open invitation, to anyone who may invite (Moxo's rule).
    pub may_resend: bool,
}

/// One page of the workspace's invitations, newest first, from `start`.
pub fn rows(
    conn: &mut PgConnection,
    access: &WorkspaceAccess,
    viewer: &User,
    start: &PageStart<SentKey>,
) -> AppResult<(Paged<InvitationRow, SentKey>, Count)> {
    let (page, count) = invitations::page_for_workspace(conn, access.workspace.id, start)?;
    Ok((
        page.map(|listed| {
            let i = &listed.invitation;
            let status = i.status();
            InvitationRow {
                id: i.id.to_string(),
                address: i.address(),
                role: i.role,
                guest_until: i.guest_until.map(|d| d.format("%-d %B %Y").to_string()),
                inviter: listed
                    .inviter
                    .clone()
                    .unwrap_or_else(|| "A former member".into()),
                status: status.label(),
                tag: match status {
                    Status::NotJoined => "nhsuk-tag--blue",
                    Status::Accepted | Status::Superseded => "nhsuk-tag--green",
                    Status::Declined | Status::Expired => "nhsuk-tag--grey",
                    Status::Rescinded => "nhsuk-tag--red",
                },
                sent_on: i.sent_at.format("%-d %b %Y").to_string(),
                expires_on: (status == Status::NotJoined)
                    .then(|| i.expires_at.format("%-d %b %Y").to_string()),
                delivery: listed
                    .delivery
                    .as_ref()
                    .map_or("Not sent", |m| m.delivery_status()),
                may_act: i.is_open() && (access.manages || i.invited_by == Some(viewer.id)),
                may_resend: i.is_open() && permissions::may_invite(access),
            }
        }),
        count,
    ))
}
