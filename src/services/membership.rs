//! Who is in a workspace: asking to join, leaving, and what admins do to others (approve,
//! decline, remove, change role). Each runs inside the caller's transaction and first locks the
//! workspace row, then checks the caller's rights, so concurrent decisions take turns and see
//! each other's result: one outcome per request, and never a workspace without an admin.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{
    AuditAction, MemberAction, MembershipStatus, Text, TextRules, UserId, WorkspaceId,
    WorkspaceRole,
};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// What someone asking to join may say to the admins.
pub const JOIN_MESSAGE: TextRules = TextRules::lines("Your message", 500);

/// The actor asks to join: a pending membership, the admins emailed. Asking again (already
/// pending or a member) changes nothing. Never refused: a workspace they may not ask to join
/// is not found.
pub fn request_to_join(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    message: &Text,
) -> AppResult<Workspace> {
    let user = actor.user()?;
    // Under the lock a concurrent last leave cannot archive the workspace mid-request.
    workspaces::lock(conn, id)?;
    let ws = permissions::request_to_join(conn, user, id)?.workspace;
    let message = message.as_str();
    if workspace_members::insert(
        conn,
        ws.id,
        user.id,
        MembershipStatus::Pending,
        WorkspaceRole::Member,
        message,
        None,
    )?
    .is_none()
    {
        return Ok(ws);
    }
    tell_admins_of_request(conn, base_url, &ws, user, message)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::JoinRequested)
            .target(user.id)
            .organisation(ws.organisation_id)
            .workspace(ws.id)
            .detail(format!("{} asked to join", user.full_name())),
    )?;
    Ok(ws)
}

/// Emails every approved admin of the workspace that `user` is waiting for approval, with
/// their message (asked to join, shareable link, text-message invitation).
pub fn tell_admins_of_request(
    conn: &mut PgConnection,
    base_url: &str,
    workspace: &Workspace,
    user: &User,
    message: &str,
) -> AppResult<()> {
    for admin in workspace_members::admins(conn, workspace.id)? {
        let email = messages::JoinRequest {
            admin_first_name: admin.first_name.clone(),
            requester_name: user.full_name(),
            requester_email: user.email.clone(),
            workspace: workspace.name.clone(),
            message: message.to_string(),
            link: format!("{base_url}/workspaces/{}/settings/users", workspace.id),
        };
        mail::enqueue(conn, &admin.email, &email)?;
    }
    Ok(())
}

/// `user` leaves (or withdraws their request). The last approved admin cannot leave while
/// others remain; the last member leaving archives the workspace. Done says what to show.
pub fn leave(conn: &mut PgConnection, actor: &Actor, id: WorkspaceId) -> AppResult<Decision> {
    let user = actor.user()?;
    // The lock makes two last admins leaving at once take turns.
    let ws = workspaces::lock(conn, id)?;
    let access = permissions::workspace(conn, user, id)?;
    let membership = access.membership.ok_or(AppError::NotFound)?;
    let others = workspace_members::member_count(conn, id)? - 1;
    if membership.is_admin()
        && others > 0
        && workspace_members::approved_admin_count(conn, id)? == 1
    {
        return Ok(Decision::refused(
            "You are the only admin. Make someone else an admin before you leave, or remove the other members first.",
        ));
    }
    workspace_members::remove(conn, id, user.id)?;
    let event = |action: AuditAction, detail: String| {
        actor
            .event(action)
            .target(user.id)
            .organisation(ws.organisation_id)
            .workspace(ws.id)
            .detail(detail)
    };
    let verb = if membership.is_approved() {
        "left"
    } else {
        "withdrew their request"
    };
    audit::record(
        conn,
        &event(
            AuditAction::MemberLeft,
            format!("{} {verb}", user.full_name()),
        ),
    )?;
    if others == 0 {
        workspaces::archive(conn, id)?;
        audit::record(
            conn,
            &event(
                AuditAction::WorkspaceArchived,
                format!("{} archived: its last member left", ws.name),
            ),
        )?;
    }
    Ok(Decision::Done(format!("You left {}.", ws.name)))
}

/// An admin's decision about someone in the workspace. Done says what happened.
pub fn act(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    target: UserId,
    action: MemberAction,
    role: Option<WorkspaceRole>,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    let ws = workspaces::lock(conn, id)?;
    permissions::manage_members(conn, admin, id)?;
    // Only someone in this workspace is a target; the answer for anyone else says nothing
    // about whom the id names.
    if workspace_members::find(conn, id, target)?.is_none() {
        return match action {
            // Declined or withdrawn meanwhile (or never asked).
            MemberAction::Approve | MemberAction::Decline => Ok(Decision::refused(
                "This request has already been handled, or was withdrawn.",
            )),
            _ => Err(AppError::NotFound),
        };
    }
    let target = users::find(conn, target)?;
    let ctx = Context {
        ws: &ws,
        actor,
        admin,
        target: &target,
        base_url,
    };
    match action {
        MemberAction::Approve => approve(conn, &ctx),
        MemberAction::Decline => decline(conn, &ctx),
        MemberAction::Remove => remove(conn, &ctx),
        MemberAction::Role => match role {
            Some(role) => change_role(conn, &ctx, role),
            None => Ok(Decision::refused("Choose a role: admin, member or guest.")),
        },
    }
}

struct Context<'a> {
    ws: &'a Workspace,
    actor: &'a Actor<'a>,
    admin: &'a User,
    target: &'a User,
    base_url: &'a str,
}

impl Context<'_> {
    fn event(&self, action: AuditAction, detail: String) -> NewAuditEvent {
        self.actor
            .event(action)
            .target(self.target.id)
            .organisation(self.ws.organisation_id)
            .workspace(self.ws.id)
            .detail(detail)
    }

    fn already_handled(&self) -> Decision {
        Decision::Refused(format!(
            "{}'s request has already been handled by another admin.",
            self.target.full_name()
        ))
    }

    fn tell_outcome(&self, conn: &mut PgConnection, approved: bool) -> AppResult<()> {
        let email = messages::JoinOutcome {
            first_name: self.target.first_name.clone(),
            workspace: self.ws.name.clone(),
            approved,
            decided_by: self.admin.full_name(),
            link: format!("{}/", self.base_url),
        };
        mail::enqueue(conn, &self.target.email, &email)?;
        Ok(())
    }
}

fn approve(conn: &mut PgConnection, ctx: &Context) -> AppResult<Decision> {
    if !workspace_members::approve(conn, ctx.ws.id, ctx.target.id, ctx.admin.id)? {
        return Ok(ctx.already_handled());
    }
    let detail = format!(
        "{} approved by {}",
        ctx.target.full_name(),
        ctx.admin.full_name()
    );
    audit::record(conn, &ctx.event(AuditAction::MemberApproved, detail))?;
    ctx.tell_outcome(conn, true)?;
    Ok(Decision::Done(format!(
        "{} can now use {}.",
        ctx.target.full_name(),
        ctx.ws.name
    )))
}

fn decline(conn: &mut PgConnection, ctx: &Context) -> AppResult<Decision> {
    if !workspace_members::decline(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(ctx.already_handled());
    }
    let detail = format!(
        "{}'s request declined by {}",
        ctx.target.full_name(),
        ctx.admin.full_name()
    );
    audit::record(conn, &ctx.event(AuditAction::RequestDeclined, detail))?;
    ctx.tell_outcome(conn, false)?;
    Ok(Decision::Done(format!(
        "You declined {}'s request.",
        ctx.target.full_name()
    )))
}

/// Whether taking `target`'s admin role away would leave no approved admin.
fn is_last_admin(conn: &mut PgConnection, ws: WorkspaceId, target: UserId) -> AppResult<bool> {
    let membership = workspace_members::find(conn, ws, target)?;
    Ok(membership.is_some_and(|m| m.is_admin())
        && workspace_members::approved_admin_count(conn, ws)? == 1)
}

fn remove(conn: &mut PgConnection, ctx: &Context) -> AppResult<Decision> {
    if ctx.target.id == ctx.admin.id {
        return Ok(Decision::refused(
            "To take yourself out, use Leave workspace.",
        ));
    }
    if is_last_admin(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Decision::Refused(format!(
            "{} is the only admin and cannot be removed.",
            ctx.target.full_name()
        )));
    }
    if !workspace_members::remove(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Decision::Refused(format!(
            "{} is no longer in this workspace.",
            ctx.target.full_name()
        )));
    }
    let detail = format!(
        "{} removed by {}",
        ctx.target.full_name(),
        ctx.admin.full_name()
    );
    audit::record(conn, &ctx.event(AuditAction::MemberRemoved, detail))?;
    let email = messages::RemovedFromWorkspace {
        first_name: ctx.target.first_name.clone(),
        workspace: ctx.ws.name.clone(),
        removed_by: ctx.admin.full_name(),
    };
    mail::enqueue(conn, &ctx.target.email, &email)?;
    if workspace_members::member_count(conn, ctx.ws.id)? == 0 {
        workspaces::archive(conn, ctx.ws.id)?;
        let detail = format!("{} archived: its last member was removed", ctx.ws.name);
        audit::record(conn, &ctx.event(AuditAction::WorkspaceArchived, detail))?;
    }
    Ok(Decision::Done(format!(
        "{} was removed from {}.",
        ctx.target.full_name(),
        ctx.ws.name
    )))
}

fn change_role(conn: &mut PgConnection, ctx: &Context, role: WorkspaceRole) -> AppResult<Decision> {
    // Colleagues need an address the organisation admits: a guest from outside cannot be
    // promoted to member or admin.
    if role != WorkspaceRole::Guest
        && !organisations::is_member(conn, ctx.ws.organisation_id, ctx.target.id)?
    {
        return Ok(Decision::Refused(format!(
            "{} is not in {}'s organisation, so can only be a guest.",
            ctx.target.full_name(),
            ctx.ws.name
        )));
    }
    if role != WorkspaceRole::Admin && is_last_admin(conn, ctx.ws.id, ctx.target.id)? {
        return Ok(Decision::Refused(format!(
            "{} is the only admin. Make someone else an admin first.",
            ctx.target.full_name()
        )));
    }
    if !workspace_members::set_role(conn, ctx.ws.id, ctx.target.id, role)? {
        return Ok(Decision::Refused(format!(
            "{} is not an approved member.",
            ctx.target.full_name()
        )));
    }
    let detail = format!(
        "{} made {} by {}",
        ctx.target.full_name(),
        role,
        ctx.admin.full_name()
    );
    audit::record(conn, &ctx.event(AuditAction::RoleChanged, detail))?;
    Ok(Decision::Done(format!(
        "{} is now {}.",
        ctx.target.full_name(),
        role.with_article()
    )))
}
