//! Trust control of membership: an organisation's administrators (manage users, in that
//! organisation) suspend a person, lift the suspension, or remove them. Each belongs to the
//! organisation alone, whatever other organisations the account belongs to.
//!
//! - Suspended: the membership, its workspaces and roles stay, but the person reaches nothing
//!   of the organisation from their next request (every permission reads the suspension), and
//!   cannot lift it by joining again. Their open invitation to the organisation is withdrawn.
//! - Removed: out of the organisation, each of its workspaces (their admins emailed, the
//!   history kept) and every role there; a removal mark refuses joining again by themselves,
//!   and open invitations to their address into its workspaces are withdrawn. Where they were
//!   a workspace's only admin, the member approved longest becomes its admin; with no such
//!   member the workspace keeps its other people and the organisation's "manage workspaces"
//!   holders manage it; with nobody left it is archived.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::organisations::{self, Organisation, Standing};
use crate::db::models::users::User;
use crate::db::models::{invitations, organisation_invitations, roles};
use crate::db::models::{workspace_members, workspaces};
use crate::domain::{AuditAction, OrganisationId, UserId, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::mail::{self, messages};

/// What an administrator does to a person's place in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Suspend,
    Unsuspend,
    Remove,
}

/// An administrator's control of someone in the organisation. Done says what happened.
pub fn control(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    control: Control,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    // Manage users in *this* organisation, and the person belongs to it (suspended included).
    let (org, target) = permissions::administer_user(conn, admin, org, person)?;
    if target.id == admin.id {
        return Ok(Decision::refused(
            "You cannot do this to your own account: ask another administrator",
        ));
    }
    // Suspensions, removals and readmissions of one person take turns on their row.
    let Some(standing) = organisations::lock_member(conn, org.id, target.id)? else {
        return Ok(Decision::Refused(format!(
            "{} is no longer in {}",
            target.full_name(),
            org.name
        )));
    };
    let subject = Subject {
        actor,
        admin,
        org: &org,
        target: &target,
    };
    match control {
        Control::Suspend => suspend(conn, &subject, standing),
        Control::Unsuspend => unsuspend(conn, &subject, standing),
        Control::Remove => remove(conn, base_url, &subject),
    }
}

struct Subject<'a> {
    actor: &'a Actor<'a>,
    admin: &'a User,
    org: &'a Organisation,
    target: &'a User,
}

impl Subject<'_> {
    fn record(
        &self,
        conn: &mut PgConnection,
        action: AuditAction,
        workspace: Option<WorkspaceId>,
        detail: String,
    ) -> AppResult<()> {
        let mut event = self
            .actor
            .event(action)
            .target(self.target.id)
            .organisation(self.org.id)
            .detail(detail);
        if let Some(workspace) = workspace {
            event = event.workspace(workspace);
        }
        audit::record(conn, &event)?;
        Ok(())
    }
}

fn suspend(conn: &mut PgConnection, s: &Subject, standing: Standing) -> AppResult<Decision> {
    let name = s.target.full_name();
    if standing == Standing::Suspended {
        return Ok(Decision::Refused(format!("{name} is already suspended")));
    }
    organisations::suspend(conn, s.org.id, s.target.id, s.admin.id)?;
    // An invitation sent before must not lift the suspension.
    organisation_invitations::supersede_open(conn, s.org.id, &s.target.email)?;
    let detail = format!(
        "{} suspended {name} from {}",
        s.admin.full_name(),
        s.org.name
    );
    s.record(conn, AuditAction::OrganisationMemberSuspended, None, detail)?;
    Ok(Decision::Done(format!(
        "{name} is suspended: from their next request they reach nothing of {}. Their workspaces and roles are kept until you lift the suspension or remove them.",
        s.org.name
    )))
}

fn unsuspend(conn: &mut PgConnection, s: &Subject, standing: Standing) -> AppResult<Decision> {
    let name = s.target.full_name();
    if standing != Standing::Suspended {
        return Ok(Decision::Refused(format!("{name} is not suspended")));
    }
    organisations::unsuspend(conn, s.org.id, s.target.id)?;
    let detail = format!(
        "{} lifted the suspension of {name} from {}",
        s.admin.full_name(),
        s.org.name
    );
    s.record(
        conn,
        AuditAction::OrganisationMemberUnsuspended,
        None,
        detail,
    )?;
    Ok(Decision::Done(format!(
        "{name}'s suspension is lifted: they use {} again as before.",
        s.org.name
    )))
}

fn remove(conn: &mut PgConnection, base_url: &str, s: &Subject) -> AppResult<Decision> {
    let name = s.target.full_name();
    let mut left = 0;
    for workspace in workspace_members::workspaces_in_organisation(conn, s.org.id, s.target.id)? {
        if leave_workspace(conn, base_url, s, workspace)? {
            left += 1;
        }
    }
    let roles_ended = roles::remove_all_in(conn, s.org.id, s.target.id)?;
    invitations::rescind_open_in_organisation(conn, s.org.id, &s.target.email, s.admin.id)?;
    organisation_invitations::supersede_open(conn, s.org.id, &s.target.email)?;
    organisations::remove_member(conn, s.org.id, s.target.id, s.admin.id)?;
    let detail = format!(
        "{} removed {name} from {}: out of {left} workspace{}, {roles_ended} role{} ended",
        s.admin.full_name(),
        s.org.name,
        plural(left),
        plural(roles_ended)
    );
    s.record(conn, AuditAction::OrganisationMemberRemoved, None, detail)?;
    Ok(Decision::Done(format!(
        "{name} is removed from {}: out of {left} workspace{} and {roles_ended} role{}. Their messages and the history are kept. They can come back only if an administrator adds or invites them.",
        s.org.name,
        plural(left),
        plural(roles_ended)
    )))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Takes the person out of one workspace under its lock; `false` when they were not in it
/// (any more). Keeps an admin where one is to be had, and tells the admins.
fn leave_workspace(
    conn: &mut PgConnection,
    base_url: &str,
    s: &Subject,
    id: WorkspaceId,
) -> AppResult<bool> {
    let ws = match workspaces::lock(conn, id) {
        Ok(ws) => ws,
        // Archived meanwhile: its memberships went with it.
        Err(diesel::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let membership = workspace_members::find(conn, ws.id, s.target.id)?;
    let was_only_admin = membership.as_ref().is_some_and(|m| m.is_admin())
        && workspace_members::approved_admin_count(conn, ws.id)? == 1;
    if !workspace_members::remove(conn, ws.id, s.target.id)? {
        return Ok(false);
    }
    let name = s.target.full_name();
    s.record(
        conn,
        AuditAction::MemberRemoved,
        Some(ws.id),
        format!(
            "{name} removed by {} (removed from {})",
            s.admin.full_name(),
            s.org.name
        ),
    )?;
    if workspace_members::member_count(conn, ws.id)? == 0 {
        workspaces::archive(conn, ws.id)?;
        s.record(
            conn,
            AuditAction::WorkspaceArchived,
            Some(ws.id),
            format!("{} archived: its last member was removed", ws.name),
        )?;
        return Ok(true);
    }
    let successor = if was_only_admin {
        workspace_members::longest_standing_colleague(conn, ws.id)?
    } else {
        None
    };
    if let Some(successor) = successor {
        workspace_members::set_role(conn, ws.id, successor, WorkspaceRole::Admin)?;
        let successor_name = crate::db::models::users::find(conn, successor)?.full_name();
        audit::record(
            conn,
            &s.actor
                .event(AuditAction::RoleChanged)
                .target(successor)
                .organisation(s.org.id)
                .workspace(ws.id)
                .detail(format!(
                    "{successor_name} made admin: {name}, the only admin, was removed from {}",
                    s.org.name
                )),
        )?;
    }
    for admin in workspace_members::admins(conn, ws.id)? {
        let email = messages::RemovedFromOrganisation {
            admin_first_name: admin.first_name.clone(),
            person: name.clone(),
            workspace: ws.name.clone(),
            organisation: s.org.name.clone(),
            removed_by: s.admin.full_name(),
            promoted: successor == Some(admin.id),
            link: format!("{base_url}/workspaces/{}/settings/users", ws.id),
        };
        mail::enqueue(conn, &admin.email, &email)?;
    }
    Ok(true)
}
