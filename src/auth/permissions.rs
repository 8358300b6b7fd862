//! Who may do what, in one place. Each rule is a function a handler calls before it touches
//! data; each reads the rows it needs by the ids in the path *and* the caller's id, so another
//! organisation's ids answer 404 exactly like ids that do not exist.

use crate::domain::{InvitePolicy, WorkspaceRole};
use diesel::PgConnection;

use crate::db::models::organisations::{self, Organisation};
use crate::db::models::roles;
use crate::db::models::users::User;
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{EmailAddress, OrganisationId, UserId, WorkspaceId};
use crate::error::{AppError, AppResult};

/// An organisation the user belongs to.
pub fn member_organisation(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    if !organisations::is_member(conn, org, user.id)? {
        return Err(AppError::NotFound);
    }
    Ok(organisations::find(conn, org)?)
}

/// "May change the organisation's settings": a member holding an organisation-wide role with
/// "manage users" or "manage workspaces" (the built-in "Trust administrator" has both).
pub fn administer_organisation(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    let organisation = member_organisation(conn, user, org)?;
    if !roles::organisation_wide_of(conn, org, user.id)?
        .iter()
        .any(|r| r.manage_users || r.manage_workspaces)
    {
        return Err(AppError::NotFound);
    }
    Ok(organisation)
}

/// "May keep the organisation's teams": the same holders as `administer_organisation`
/// ("manage users" or "manage workspaces", organisation-wide).
pub fn keep_teams(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    administer_organisation(conn, user, org)
}

/// "May add to the organisation's contacts and see them": any member (not suspended).
pub fn use_contacts(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    member_organisation(conn, user, org)
}

/// "May merge two contacts": "manage users", organisation-wide.
pub fn merge_contacts(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    administer_users(conn, user, org)
}

/// A member of `org` holding an organisation-wide role that grants `permission` (a role
/// scoped to one workspace grants nothing organisation-wide).
fn hold_organisation_wide(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
    permission: fn(&roles::Role) -> bool,
) -> AppResult<Organisation> {
    let organisation = member_organisation(conn, user, org)?;
    if !roles::organisation_wide_of(conn, org, user.id)?
        .iter()
        .any(permission)
    {
        return Err(AppError::NotFound);
    }
    Ok(organisation)
}

/// "May see and change the organisation's people" (Manage Users & Roles): "manage users".
pub fn administer_users(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    hold_organisation_wide(conn, user, org, |r| r.manage_users)
}

/// "May administer this person": `administer_users`, and the person belongs to `org`.
pub fn administer_user(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
    person: UserId,
) -> AppResult<(Organisation, User)> {
    let organisation = administer_users(conn, user, org)?;
    let person = crate::db::models::people::find_member(conn, org, person)?;
    Ok((organisation, person))
}

/// "May create roles and give them to people": "manage roles".
pub fn administer_roles(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    hold_organisation_wide(conn, user, org, |r| r.manage_roles)
}

/// "May read the organisation's roles": "manage roles", or "manage users" (who read roles on
/// people's pages).
pub fn see_roles(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    hold_organisation_wide(conn, user, org, |r| r.manage_roles || r.manage_users)
}

/// "May import rostered medics": "import users".
pub fn import_users(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    hold_organisation_wide(conn, user, org, |r| r.import_users)
}

/// "May read the organisation's audit log": "view audit".
pub fn view_audit(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    hold_organisation_wide(conn, user, org, |r| r.view_audit)
}

/// An organisation the user may join by themselves: its allowed domains admit their address,
/// and it has not suspended or removed them (those come back only through its administrators).
pub fn joinable_organisation(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
) -> AppResult<Organisation> {
    let email = EmailAddress::parse(&user.email).map_err(|_| AppError::NotFound)?;
    if !organisations::admitting(conn, &email)?.contains(&org)
        || organisations::standing(conn, org, user.id)?.is_barred()
    {
        return Err(AppError::NotFound);
    }
    Ok(organisations::find(conn, org)?)
}

/// Whether members of `org` may create workspaces, or this user manages workspaces there.
pub fn may_create_workspace(
    conn: &mut PgConnection,
    user: &User,
    org: &Organisation,
) -> AppResult<bool> {
    Ok(org.members_may_create_workspaces || roles::manages_all_workspaces(conn, org.id, user.id)?)
}

/// A live workspace as one user sees it.
pub struct WorkspaceAccess {
    pub workspace: Workspace,
    pub membership: Option<Membership>,
    /// An approved admin, or the holder of a "manage workspaces" role covering it.
    pub manages: bool,
}

impl WorkspaceAccess {
    pub fn is_approved(&self) -> bool {
        self.membership
            .as_ref()
            .is_some_and(Membership::is_approved)
    }

    pub fn is_pending(&self) -> bool {
        self.membership.as_ref().is_some_and(|m| !m.is_approved())
    }

    /// An approved colleague: not pending, not a guest from outside.
    pub fn is_colleague(&self) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.is_approved() && m.role != WorkspaceRole::Guest)
    }
}

/// A live workspace the user can see at all: one of their organisation's, or one they belong to
/// as a guest from outside the organisation. Anything else is 404, and so is everything of an
/// organisation that suspended them, whatever their membership says: from the next request on.
pub fn workspace(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    let (workspace, membership, standing) = workspaces::find_live_with_person(conn, id, user.id)?;
    let in_organisation = match standing {
        Some(Some(_suspended)) => return Err(AppError::NotFound),
        Some(None) => true,
        None => false,
    };
    let is_guest = membership
        .as_ref()
        .is_some_and(|m| m.role == WorkspaceRole::Guest);
    // A colleague's membership counts only while they belong to the organisation (one left
    // behind by a removal racing a join request gives nothing).
    if !in_organisation && !is_guest {
        return Err(AppError::NotFound);
    }
    let manages = membership.as_ref().is_some_and(Membership::is_admin)
        || (in_organisation
            && !is_guest
            && roles::manages_workspace(conn, workspace.organisation_id, user.id, id)?);
    Ok(WorkspaceAccess {
        workspace,
        membership,
        manages,
    })
}

/// "May approve, decline, remove members and change roles in this workspace."
pub fn manage_members(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    let access = workspace(conn, user, id)?;
    if !access.manages {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// "May ask to join": a member of the workspace's organisation.
pub fn request_to_join(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    let access = workspace(conn, user, id)?;
    if !organisations::is_member(conn, access.workspace.organisation_id, user.id)? {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// "May open the Users page": an approved colleague or a manager sees the people; a pending
/// member or a guest opens it only to withdraw or leave (the page shows them nobody else).
pub fn see_members(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    let access = workspace(conn, user, id)?;
    if access.membership.is_none() && !access.manages {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// "May read the workspace's settings and history": an approved colleague, or a manager.
/// Pending members and guests have no such privilege.
pub fn see_details(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    let access = workspace(conn, user, id)?;
    if !(access.is_colleague() || access.manages) {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// Whether this person may invite anyone at all: someone who manages the workspace, or an
/// approved colleague where the workspace lets members invite. Pending members and guests
/// never may.
pub fn may_invite(access: &WorkspaceAccess) -> bool {
    access.manages
        || (access.is_colleague() && access.workspace.invite_policy == InvitePolicy::Members)
}

/// Whether this person may invite someone with this role: only managers invite admins, and
/// guests only where the workspace takes guests.
pub fn may_invite_as(access: &WorkspaceAccess, role: WorkspaceRole) -> bool {
    may_invite(access)
        && match role {
            WorkspaceRole::Admin => access.manages,
            WorkspaceRole::Member => true,
            WorkspaceRole::Guest => access.workspace.guests_allowed,
        }
}

/// "May invite people into this workspace"; anyone else gets 404.
pub fn invite(conn: &mut PgConnection, user: &User, id: WorkspaceId) -> AppResult<WorkspaceAccess> {
    let access = workspace(conn, user, id)?;
    if !may_invite(&access) {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// "May resend or rescind this invitation": whoever manages the workspace, or the colleague
/// who sent it. An invitation id from another workspace is not found.
pub fn manage_invitation(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
    invitation: crate::domain::InvitationId,
) -> AppResult<(WorkspaceAccess, crate::db::models::invitations::Invitation)> {
    let access = workspace(conn, user, id)?;
    let invitation = crate::db::models::invitations::find_in_workspace(conn, id, invitation)?;
    let is_inviter = invitation.invited_by == Some(user.id) && access.is_colleague();
    if !(access.manages || is_inviter) {
        return Err(AppError::NotFound);
    }
    Ok((access, invitation))
}

/// "May send this invitation again": anyone who may invite into the workspace (Moxo's rule:
/// anyone who may invite may resend). The link is new; role and inviter stay as they were.
pub fn resend_invitation(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
    invitation: crate::domain::InvitationId,
) -> AppResult<(WorkspaceAccess, crate::db::models::invitations::Invitation)> {
    let access = invite(conn, user, id)?;
    let invitation = crate::db::models::invitations::find_in_workspace(conn, id, invitation)?;
    Ok((access, invitation))
}

// ---------------------------------------------------------------- conversations with patients

/// A member using the workspace's conversations: approved colleagues see everything shared;
/// pending members their personal lists and what they sent; guests what is assigned to them.
pub struct ConversationAccess {
    pub access: WorkspaceAccess,
    pub user: UserId,
    pub visibility: crate::db::models::conversations::Visibility,
}

impl ConversationAccess {
    /// Sees and changes what is shared: the workspace's patients and templates, every
    /// conversation, assigning.
    pub fn shares(&self) -> bool {
        self.access.is_colleague()
    }
}

/// "May use conversations, patients and templates here": any member, pending included (with
/// what they see narrowed by `visibility`). Anyone else, managers from outside included, 404.
pub fn use_conversations(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<ConversationAccess> {
    use crate::db::models::conversations::Visibility;
    let access = workspace(conn, user, id)?;
    let visibility = match &access.membership {
        None => return Err(AppError::NotFound),
        Some(_) if access.is_colleague() => Visibility::All,
        Some(m) if m.is_approved() => Visibility::AssignedTo(user.id),
        Some(_) => Visibility::SentBy(user.id),
    };
    Ok(ConversationAccess {
        access,
        user: user.id,
        visibility,
    })
}

/// "May add to and change the workspace's patient list and shared templates, and assign
/// conversations": an approved colleague.
pub fn share_in_workspace(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<ConversationAccess> {
    let access = use_conversations(conn, user, id)?;
    if !access.shares() {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// A conversation this member sees, found through the same WHERE clause as their list.
pub fn see_conversation(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
    conversation: crate::domain::ConversationId,
) -> AppResult<(
    ConversationAccess,
    crate::db::models::conversations::Conversation,
)> {
    let access = use_conversations(conn, user, id)?;
    let conversation =
        crate::db::models::conversations::find_visible(conn, id, access.visibility, conversation)?;
    Ok((access, conversation))
}

/// A patient this member may read and write to from this workspace: one in their personal
/// list; one in the workspace's list for a colleague; and the patient of a conversation the
/// member sees (a guest answering a conversation assigned to them). Anything else is 404.
pub fn patient_for_messages(
    conn: &mut PgConnection,
    access: &ConversationAccess,
    patient: crate::domain::PatientId,
) -> AppResult<crate::db::models::patients::Patient> {
    use crate::db::models::{conversations, patients};
    use diesel::OptionalExtension;
    let ws = access.access.workspace.id;
    if let Some(mine) =
        patients::find_in(conn, patients::List::Personal(access.user), patient).optional()?
    {
        return Ok(mine);
    }
    if access.shares() {
        if let Some(listed) =
            patients::find_in(conn, patients::List::Workspace(ws), patient).optional()?
        {
            return Ok(listed);
        }
    }
    if conversations::patient_visible(conn, ws, access.visibility, patient)? {
        return Ok(patients::find(conn, patient)?);
    }
    Err(AppError::NotFound)
}
