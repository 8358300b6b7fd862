//! `GET/POST /organisations/{org_id}/admin/profiles/{profile_id}/invite`: inviting a rostered
//! profile that has no email address into a workspace first asks for their address and
//! records it: the profile becomes an account (no password yet, confirmed by the invitation
//! link when they create their sign-in) and the invitation is sent to that address. An address
//! of someone in the organisation links the profile to them instead; one with an account
//! outside it is invited to join the organisation (the profile becomes theirs when they accept).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::AdminNav;
use crate::auth::permissions;
use crate::db::models::roster_profiles::RosterProfile;
use crate::db::models::workspaces::Workspace;
use crate::domain::{EmailAddress, OrganisationId, WorkspaceRole};
use crate::error::AppResult;
use crate::services::roster::{self, ProfileInvite, CHOOSE_WORKSPACE, ROLE_NOT_ALLOWED};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
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

async fn render(
    signed: &Signed,
    (org_id, profile): (OrganisationId, uuid::Uuid),
    errors: FormErrors,
    form: ProfileInviteForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::administer_users(conn, &frame.user, org_id)?;
            let (profile, workspaces) = roster::invitable(conn, &frame.user, &org, profile)?;
            let nav = AdminNav::load(conn, &org, &frame.user, "users")?;
            Ok((nav, profile, workspaces))
        })
        .await?;
    let (nav, profile, workspaces) = page.data;
    crate::web::render_with(
        errors.status(),
        &ProfileInvitePage {
            layout: page.layout,
            nav,
            errors,
            profile,
            workspaces,
            form,
        },
    )
}

pub async fn invite_form(
    signed: Signed,
    path: web::Path<(OrganisationId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let form = ProfileInviteForm {
        role: WorkspaceRole::Member.code().into(),
        ..ProfileInviteForm::default()
    };
    render(&signed, path.into_inner(), FormErrors::default(), form).await
}

impl ProfileInviteForm {
    /// The form's own rules; what the organisation admits and the administrator may do there
    /// is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<ProfileInvite> {
        let email = errors.check("email", EmailAddress::parse(&self.email));
        let workspace = self.workspace_id.parse().ok();
        if workspace.is_none() {
            errors.add("workspace_id", CHOOSE_WORKSPACE);
        }
        let role = WorkspaceRole::parse(&self.role)
            .ok()
            .filter(|r| *r != WorkspaceRole::Guest);
        if role.is_none() {
            errors.add("role", "Choose a role");
        }
        Some(ProfileInvite {
            email: email?,
            workspace: workspace?,
            role: role?,
        })
    }
}

pub async fn invite(
    signed: Signed,
    path: web::Path<(OrganisationId, uuid::Uuid)>,
    form: web::Form<ProfileInviteForm>,
) -> AppResult<HttpResponse> {
    let ((org_id, profile), form) = (path.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(invite) = form.parse(&mut errors) {
        let (base_url, ip) = (signed.base_url(), signed.ip.clone());
        let decision = signed
            .decide(move |conn, user| {
                let actor = Actor::person(user, &ip);
                roster::invite_profile(conn, &base_url, &actor, org_id, profile, &invite)
            })
            .await?;
        match decision {
            Decision::Done(recorded) => {
                let to = match recorded.account {
                    Some(account) => super::user_path(org_id, account),
                    None => format!("/organisations/{org_id}/admin/users"),
                };
                return signed.done(&recorded.message, &to);
            }
            Decision::Refused(reason) => {
                let field = match reason.as_str() {
                    CHOOSE_WORKSPACE => "workspace_id",
                    ROLE_NOT_ALLOWED => "role",
                    _ => "email",
                };
                errors.add(field, reason);
            }
        }
    }
    render(&signed, (org_id, profile), errors, form).await
}
