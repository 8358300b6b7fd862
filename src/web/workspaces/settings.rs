//! `GET/POST /workspaces/{id}/settings` (the workspace's details; admins change them) and
//! `GET .../settings/users`: its
//! members with role and status, pending requests with their message, and each row's Actions.
//! Actions are shown to admins only; a pending member sees only how to withdraw their request.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions::{self, WorkspaceAccess};
use crate::db::models::join_links::{self, JoinLink};
use crate::db::models::specialties;
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{
    guest_end, InvitePolicy, Text, UserId, WorkspaceId, WorkspaceName, WorkspaceRole,
};
use crate::error::{AppError, AppResult};
use crate::services::{workspaces, Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::invitations::listing::{self, InvitationRow};
use crate::web::invitations::share_link::{self, LinkForm, LinkView};
use crate::web::layout::Layout;
use crate::web::teams::team::TeamRow;

struct MemberRow {
    user_id: UserId,
    name: String,
    email: String,
    role: WorkspaceRole,
    pending: bool,
    is_admin: bool,
    message: String,
    requested_on: String,
    is_self: bool,
    /// A guest's end date: their membership ends then.
    ends_on: Option<String>,
}

#[derive(Template)]
#[template(path = "workspaces/users.html")]
struct UsersPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    manages: bool,
    /// A pending member (withdraw) or a guest (leave) sees only their own way out.
    viewer_pending: bool,
    viewer_guest: bool,
    members: Vec<MemberRow>,
    requests: Vec<MemberRow>,
    /// "Invite colleagues" (approved members, or admins only, per the workspace's setting).
    may_invite: bool,
    invitations: Vec<InvitationRow>,
    /// Each team invited, as one row that opens to its people.
    teams: Vec<TeamRow>,
    /// What the last invite form did to each address: (typed, result, sent).
    invite_results: Vec<(String, String, bool)>,
    /// The only approved admin cannot leave (while others remain) or be made a member.
    sole_admin: bool,
    /// Someone besides the viewer is in the workspace.
    others: bool,
}

#[derive(Template)]
#[template(path = "workspaces/settings.html")]
struct SettingsPage {
    layout: Layout,
    workspace: Workspace,
    specialty: String,
    /// Admins get the form; everyone else the summary.
    manages: bool,
    errors: FormErrors,
    form: SettingsForm,
    /// The shareable link's state (admins only).
    link: Option<LinkView>,
    link_form: LinkForm,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    name: String,
    description: String,
    invite_policy: String,
    guests_allowed: String,
}

impl SettingsForm {
    fn from_workspace(w: &Workspace) -> Self {
        Self {
            name: w.name.clone(),
            description: w.description.clone(),
            invite_policy: w.invite_policy.code().to_string(),
            guests_allowed: if w.guests_allowed {
                "yes".into()
            } else {
                String::new()
            },
        }
    }
}

/// The members (with their users) and invitations the viewer may see.
fn load_users(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<(WorkspaceAccess, Vec<MemberRow>, Vec<InvitationRow>)> {
    let access = permissions::see_members(conn, user, id)?;
    if !(access.is_colleague() || access.manages) {
        return Ok((access, Vec::new(), Vec::new()));
    }
    let rows = workspace_members::with_users(conn, id)?
        .into_iter()
        .map(|(m, u)| MemberRow {
            user_id: u.id,
            name: u.full_name(),
            email: u.email.clone(),
            is_admin: m.role == WorkspaceRole::Admin,
            role: m.role,
            pending: !m.is_approved(),
            message: m.request_message.clone(),
            requested_on: m.requested_at.format("%-d %b %Y").to_string(),
            ends_on: m
                .ends_at
                .map(|at| guest_end::last_day(at).format("%-d %b %Y").to_string()),
            is_self: u.id == user.id,
        })
        .collect();
    let invitations = listing::rows(conn, &access, user)?;
    Ok((access, rows, invitations))
}

async fn render_users(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let users = load_users(conn, &frame.user, id)?;
            let teams = crate::web::teams::team::team_rows(conn, &users.0)?;
            Ok((users, teams))
        })
        .await?;
    let ((access, rows, invitations), teams) = page.data;
    let sole_admin = rows.iter().filter(|r| r.is_admin && !r.pending).count() == 1;
    let others = rows.len() > 1;
    let (requests, members): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.pending);
    let may_invite = permissions::may_invite(&access);
    let page = UsersPage {
        layout: page.layout,
        errors,
        manages: access.manages,
        viewer_pending: access.is_pending(),
        viewer_guest: access.is_approved() && !access.is_colleague() && !access.manages,
        workspace: access.workspace,
        // Pending requests are for the admins' eyes.
        requests: if access.manages { requests } else { Vec::new() },
        members,
        may_invite,
        invitations,
        teams,
        invite_results: signed.session.take_invite_results(),
        sole_admin,
        others,
    };
    crate::web::render_with(status, &page)
}

pub async fn users_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    render_users(
        &signed,
        id.into_inner(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// The Users page again, saying why an action was refused (409).
pub async fn users_page_with_error(
    signed: &Signed,
    id: WorkspaceId,
    message: &str,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    errors.add("members", message);
    render_users(signed, id, errors, StatusCode::CONFLICT).await
}

/// The workspace, its specialty's name, and (for its managers) its shareable link.
fn load_settings(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<(WorkspaceAccess, String, Option<Option<JoinLink>>)> {
    let access = permissions::see_details(conn, user, id)?;
    let specialty = specialties::all(conn)?
        .into_iter()
        .find(|s| s.code == access.workspace.specialty_code)
        .map_or_else(String::new, |s| s.name);
    let link = if access.manages {
        Some(join_links::find_for_workspace(conn, id)?)
    } else {
        None
    };
    Ok((access, specialty, link))
}

/// What the settings page shows besides the workspace: the forms as typed, and a shareable
/// link just made (shown this once; only its hash is kept anywhere).
struct Forms {
    /// Answering a form only its managers may send: anyone else gets "not found".
    answering: bool,
    errors: FormErrors,
    form: Option<SettingsForm>,
    link_form: LinkForm,
}

async fn render_settings(
    signed: &Signed,
    id: WorkspaceId,
    forms: Forms,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| load_settings(conn, &frame.user, id))
        .await?;
    let (access, specialty, link) = page.data;
    if forms.answering && !access.manages {
        return Err(AppError::NotFound);
    }
    let status = forms.errors.status();
    crate::web::render_with(
        status,
        &SettingsPage {
            layout: page.layout,
            manages: access.manages,
            errors: forms.errors,
            form: forms
                .form
                .unwrap_or_else(|| SettingsForm::from_workspace(&access.workspace)),
            link: link.map(|l| {
                share_link::view(
                    l.as_ref(),
                    signed.state.cookie_key.master(),
                    &signed.settings().base_url,
                )
            }),
            link_form: forms.link_form,
            workspace: access.workspace,
            specialty,
        },
    )
}

pub async fn settings_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let forms = Forms {
        answering: false,
        errors: FormErrors::default(),
        form: None,
        link_form: LinkForm::default(),
    };
    render_settings(&signed, id.into_inner(), forms).await
}

/// The settings page answering a shareable link form: with its errors and what was typed
/// (422), or with the link just made.
pub async fn settings_page_after_link_form(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    link_form: LinkForm,
) -> AppResult<HttpResponse> {
    let forms = Forms {
        answering: true,
        errors,
        form: None,
        link_form,
    };
    render_settings(signed, id, forms).await
}

impl SettingsForm {
    /// The form's own rules; the name's uniqueness is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<workspaces::Settings> {
        let name = errors.check("name", WorkspaceName::parse(&self.name));
        let invite_policy = InvitePolicy::parse(&self.invite_policy)
            .map_err(|_| errors.add("invite_policy", "Choose who may invite people"))
            .ok();
        let description = errors.check(
            "description",
            Text::parse(&self.description, workspaces::DESCRIPTION),
        );
        Some(workspaces::Settings {
            name: name?,
            description: description?,
            invite_policy: invite_policy?,
            guests_allowed: self.guests_allowed == "yes",
        })
        .filter(|_| errors.is_empty())
    }
}

/// `POST /workspaces/{id}/settings`: admins change the name, description, who may invite and
/// whether guests are allowed.
pub async fn update_settings(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<SettingsForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(settings) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                workspaces::update_settings(conn, &Actor::person(user, &ip), id, &settings)
            })
            .await?;
        match decision {
            Decision::Done(()) => {
                return signed.done(
                    "Workspace settings saved.",
                    &format!("/workspaces/{id}/settings"),
                )
            }
            // The only refusal: the name is taken.
            Decision::Refused(reason) => errors.add("name", reason),
        }
    }
    let forms = Forms {
        answering: true,
        errors,
        form: Some(form),
        link_form: LinkForm::default(),
    };
    render_settings(&signed, id, forms).await
}
