//! `GET/POST /organisations/{org_id}/admin/profiles/{profile_id}/invite`: inviting a rostered
//! profile that has no email address into a workspace first asks for their address and
//! records it: the profile becomes an account (no password yet, confirmed by the invitation
//! link when they create their sign-in) and the invitation is sent to that address. An address
//! that already has an account links the profile to it instead.

use crate::domain::AuditAction;
use crate::domain::WorkspaceRole;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::AdminNav;
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::{self, User};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{EmailAddress, Invitee, OrganisationId, UserId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::services::{invitations, Actor, Decision};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileInviteForm {
    email: String,
    workspace_id: String,
    role: String,
}

#[derive(Template)]
#[template(path = "admin/profile_invite.html")]
struct ProfileInvitePage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    profile: RosterProfile,
    /// The organisation's workspaces this administrator may invite into.
    workspaces: Vec<Workspace>,
    form: ProfileInviteForm,
}

/// The profile, and the workspaces the administrator may invite members into.
fn load(
    conn: &mut diesel::PgConnection,
    user: &User,
    org: &Organisation,
    profile: uuid::Uuid,
) -> AppResult<(RosterProfile, Vec<Workspace>)> {
    let profile = roster_profiles::unlinked(conn, org.id, "", i64::MAX)?
        .into_iter()
        .find(|p| p.id == profile)
        .ok_or(AppError::NotFound)?;
    let mut open_to_admin = Vec::new();
    for listed in workspaces::listed_in(conn, org.id)? {
        let access = permissions::workspace(conn, user, listed.workspace.id)?;
        if permissions::may_invite_as(&access, WorkspaceRole::Member) {
            open_to_admin.push(listed.workspace);
        }
    }
    Ok((profile, open_to_admin))
}

pub async fn invite_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let (org_id, profile) = path.into_inner();
    let user = current.user.clone();
    let (nav, profile, workspaces) = crate::db::run(&state.pool, move |conn| {
        let org = permissions::administer_users(conn, &user, org_id)?;
        let (profile, workspaces) = load(conn, &user, &org, profile)?;
        Ok((
            AdminNav::load(conn, &org, &user, "users")?,
            profile,
            workspaces,
        ))
    })
    .await?;
    crate::web::render(&ProfileInvitePage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        nav,
        errors: FormErrors::default(),
        profile,
        workspaces,
        form: ProfileInviteForm {
            role: WorkspaceRole::Member.code().into(),
            ..ProfileInviteForm::default()
        },
    })
}

/// Why the form was refused, with what to show again.
struct Refused {
    nav: AdminNav,
    errors: FormErrors,
    profile: RosterProfile,
    workspaces: Vec<Workspace>,
    form: ProfileInviteForm,
}

pub async fn invite(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(OrganisationId, uuid::Uuid)>,
    form: web::Form<ProfileInviteForm>,
) -> AppResult<HttpResponse> {
    let (org_id, profile_id) = path.into_inner();
    let (user, form, ip, base_url) = (
        current.user.clone(),
        form.into_inner(),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::administer_users(conn, &user, org_id)?;
        let (profile, choices) = load(conn, &user, &org, profile_id)?;
        let mut errors = FormErrors::default();
        let email = errors.check("email", EmailAddress::parse(&form.email));
        if let Some(email) = &email {
            if !organisations::admits(conn, org.id, email.as_str())? {
                errors.add(
                    "email",
                    format!("{email} is not in the organisation's email domains"),
                );
            }
        }
        let workspace = form
            .workspace_id
            .parse::<WorkspaceId>()
            .ok()
            .and_then(|id| choices.iter().find(|w| w.id == id).cloned());
        if workspace.is_none() {
            errors.add("workspace_id", "Choose the workspace to invite them to");
        }
        let role = WorkspaceRole::parse(&form.role)
            .ok()
            .filter(|r| *r != WorkspaceRole::Guest);
        if role.is_none() {
            errors.add("role", "Choose a role");
        }
        let (Some(email), Some(workspace), Some(role), true) =
            (email, workspace, role, errors.is_empty())
        else {
            return Ok(Err(Refused {
                nav: AdminNav::load(conn, &org, &user, "users")?,
                errors,
                profile,
                workspaces: choices,
                form,
            }));
        };
        let workspace = workspaces::lock(conn, workspace.id)?;
        let access = permissions::workspace(conn, &user, workspace.id)?;
        if !permissions::may_invite_as(&access, role) {
            errors.add(
                "role",
                "You cannot invite people with this role to that workspace",
            );
            return Ok(Err(Refused {
                nav: AdminNav::load(conn, &org, &user, "users")?,
                errors,
                profile,
                workspaces: choices,
                form,
            }));
        }
        let account = match users::find_by_email(conn, &email)? {
            Some(existing) => existing,
            None => users::insert(
                conn,
                &users::NewUser {
                    id: UserId::new(),
                    email: email.as_str(),
                    first_name: &profile.first_name,
                    surname: &profile.surname,
                    password_hash: None,
                    email_verified_at: None,
                    medical_secretary: false,
                    imported: true,
                },
            )?,
        };
        organisations::add_member(conn, org.id, account.id)?;
        roster_profiles::link(conn, org.id, profile.id, account.id)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::ProfileAddressRecorded, Some(ip.clone()))
                .actor(user.id)
                .target(account.id)
                .organisation(org.id)
                .detail(format!(
                    "{} recorded {email} for the rostered profile {}",
                    user.full_name(),
                    profile.full_name()
                )),
        )?;
        let request = invitations::Request {
            invitees: vec![(email.to_string(), Ok(Invitee::Email(email.clone())))],
            role,
            guest_until: None,
        };
        let actor = Actor::person(&user, &ip);
        let line = match invitations::invite(conn, &base_url, &actor, workspace.id, request)? {
            Decision::Done(mut lines) => lines.pop().map(|(_, line, sent)| (line, sent)),
            Decision::Refused(reason) => Some((reason, false)),
        }
        .unwrap_or_default();
        Ok(Ok((account.id, workspace.name, email, line)))
    })
    .await?;
    match outcome {
        Ok((account, workspace, email, (line, _sent))) => {
            session.set_flash(&format!(
                "{email} recorded. Invitation to {workspace}: {line}."
            ))?;
            Ok(crate::web::see_other(&super::user_path(org_id, account)))
        }
        Err(refused) => crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProfileInvitePage {
                layout: Layout::signed_in(&session, &current.user, &current.nav)?,
                nav: refused.nav,
                errors: refused.errors,
                profile: refused.profile,
                workspaces: refused.workspaces,
                form: refused.form,
            },
        ),
    }
}
