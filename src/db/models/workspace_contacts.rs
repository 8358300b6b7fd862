//! The `workspace_contacts` table: the contacts a workspace works with (its People page),
//! and the invitation last sent to each from there.

use diesel::prelude::*;

use crate::db::models::contacts::Contact;
use crate::db::models::invitations::Invitation;
use crate::db::schema::{contacts, invitations, workspace_contacts};
use crate::domain::{ContactId, InvitationId, UserId, WorkspaceId};

/// Puts the contact on the workspace's list (once); `true` when they were not on it.
pub fn add(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: ContactId,
    by: UserId,
) -> QueryResult<bool> {
    diesel::insert_into(workspace_contacts::table)
        .values((
            workspace_contacts::workspace_id.eq(workspace),
            workspace_contacts::contact_id.eq(contact),
            workspace_contacts::added_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// Records the invitation last sent to the contact from this workspace.
pub fn set_invitation(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: ContactId,
    invitation: InvitationId,
) -> QueryResult<usize> {
    diesel::update(
        workspace_contacts::table
            .filter(workspace_contacts::workspace_id.eq(workspace))
            .filter(workspace_contacts::contact_id.eq(contact)),
    )
    .set(workspace_contacts::invitation_id.eq(invitation))
    .execute(conn)
}

/// The contact on this workspace's list, with its invitation (anything else is not found).
pub fn find(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: ContactId,
) -> QueryResult<(Contact, Option<Invitation>)> {
    workspace_contacts::table
        .inner_join(contacts::table)
        .left_join(invitations::table)
        .filter(workspace_contacts::workspace_id.eq(workspace))
        .filter(workspace_contacts::contact_id.eq(contact))
        .select((Contact::as_select(), Option::<Invitation>::as_select()))
        .first(conn)
}

/// The workspace's contacts by surname, each with the invitation last sent from here.
pub fn list(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
) -> QueryResult<Vec<(Contact, Option<Invitation>)>> {
    workspace_contacts::table
        .inner_join(contacts::table)
        .left_join(invitations::table)
        .filter(workspace_contacts::workspace_id.eq(workspace))
        .order((contacts::surname, contacts::first_name, contacts::id))
        .select((Contact::as_select(), Option::<Invitation>::as_select()))
        .load(conn)
}
