//! `GET/POST /workspaces/{id}/settings` (the workspace's details; admins change them) and
//! `GET .../settings/users`: its
//! members with role and status, pending requests with their message, and each row's Actions.
//! Members and requests are paged by name (`members_after`/`members_before`,
//! `requests_after`/`requests_before`) and invitations newest first (`invitations_after`/
//! `invitations_before`), so a workspace of 100,000 shows one page of each, counted up to a cap.
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
use crate::domain::paging::{Count, Key, PageKey, PageStart, Paged, SentKey};
use crate::domain::{
    guest_end, InvitePolicy, MembershipStatus, Text, UserId, WorkspaceId, WorkspaceName,
    WorkspaceRole,
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
    /// "30 members", "More than 1,000 members"; and the requests'.
    members_count: String,
    requests_count: String,
    invitations_count: String,
    invitations_previous: Option<String>,
    invitations_next: Option<String>,
    members_previous: Option<String>,
    members_next: Option<String>,
    requests_previous: Option<String>,
    requests_next: Option<String>,
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

/// Which page of members and of requests (`?members_after=...` and so on).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    members_after: String,
    members_before: String,
    requests_after: String,
    requests_before: String,
    invitations_after: String,
    invitations_before: String,
}

/// Where each list's page starts.
#[derive(Default)]
struct Starts {
    members: PageStart,
    requests: PageStart,
    invitations: PageStart<SentKey>,
}

impl UsersQuery {
    fn starts(&self) -> Starts {
        Starts {
            members: PageStart::from_query(&self.members_after, &self.members_before),
            requests: PageStart::from_query(&self.requests_after, &self.requests_before),
            invitations: PageStart::from_query(&self.invitations_after, &self.invitations_before),
        }
    }
}

/// One page of a list of the workspace's people, with its count.
struct Listed {
    page: Paged<MemberRow>,
    count: Count,
}

/// What the Users page shows: the access, a page of members, a page of requests, the
/// invitations, and whether the workspace has a single approved admin.
struct Loaded {
    access: WorkspaceAccess,
    members: Listed,
    requests: Listed,
    invitations: Paged<InvitationRow, SentKey>,
    invitations_count: Count,
    sole_admin: bool,
}

fn listed(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
    status: MembershipStatus,
    start: &PageStart,
) -> AppResult<Listed> {
    let (page, count) = workspace_members::page_with_users(conn, id, status, start)?;
    let page = page.map(|(m, u)| MemberRow {
        user_id: u.id,
        name: u.full_name(),
        email: u.email.clone(),
        is_admin: m.role == WorkspaceRole::Admin,
        role: m.role,
        message: m.request_message.clone(),
        requested_on: m.requested_at.format("%-d %b %Y").to_string(),
        ends_on: m
            .ends_at
            .map(|at| guest_end::last_day(at).format("%-d %b %Y").to_string()),
        is_self: u.id == user.id,
    });
    Ok(Listed { page, count })
}

fn nobody() -> Listed {
    Listed {
        page: Paged::empty(),
        count: Count::Exactly(0),
    }
}

/// The members (with their users) and invitations the viewer may see; requests for the
/// workspace's managers only.
fn load_users(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
    starts: &Starts,
) -> AppResult<Loaded> {
    let access = permissions::see_members(conn, user, id)?;
    if !(access.is_colleague() || access.manages) {
        return Ok(Loaded {
            access,
            members: nobody(),
            requests: nobody(),
            invitations: Paged::empty(),
            invitations_count: Count::Exactly(0),
            sole_admin: false,
        });
    }
    let members = listed(conn, user, id, MembershipStatus::Approved, &starts.members)?;
    let requests = if access.manages {
        listed(conn, user, id, MembershipStatus::Pending, &starts.requests)?
    } else {
        nobody()
    };
    let sole_admin = workspace_members::approved_admins_up_to(conn, id, 2)? == 1;
    let (invitations, invitations_count) = listing::rows(conn, &access, user, &starts.invitations)?;
    Ok(Loaded {
        access,
        members,
        requests,
        invitations,
        invitations_count,
        sole_admin,
    })
}

fn page_href(id: WorkspaceId, edge: &str, key: &impl Key) -> String {
    let query = serde_urlencoded::to_string([(edge, key.encode())]).unwrap_or_default();
    format!("/workspaces/{id}/settings/users?{query}")
}

async fn render_users(
    signed: &Signed,
    id: WorkspaceId,
    starts: Starts,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let loaded = load_users(conn, &frame.user, id, &starts)?;
            let teams = crate::web::teams::team::team_rows(conn, &loaded.access)?;
            Ok((loaded, teams))
        })
        .await?;
    let (
        Loaded {
            access,
            members,
            requests,
            invitations,
            invitations_count,
            sole_admin,
        },
        teams,
    ) = page.data;
    // Someone besides the viewer is in the workspace (pending requests count: they are people).
    let others = !matches!(members.count, Count::Exactly(0) | Count::Exactly(1))
        || !requests.count.is_zero();
    let may_invite = permissions::may_invite(&access);
    let link = |edge: &str, key: &Option<PageKey>| key.as_ref().map(|k| page_href(id, edge, k));
    let sent_link =
        |edge: &str, key: &Option<SentKey>| key.as_ref().map(|k| page_href(id, edge, k));
    let page = UsersPage {
        layout: page.layout,
        errors,
        manages: access.manages,
        viewer_pending: access.is_pending(),
        viewer_guest: access.is_approved() && !access.is_colleague() && !access.manages,
        workspace: access.workspace,
        members_count: members.count.describe("member", "members"),
        requests_count: requests.count.describe("request", "requests"),
        members_previous: link("members_before", &members.page.previous),
        members_next: link("members_after", &members.page.next),
        requests_previous: link("requests_before", &requests.page.previous),
        requests_next: link("requests_after", &requests.page.next),
        requests: requests.page.rows,
        members: members.page.rows,
        may_invite,
        invitations_count: invitations_count.describe("invitation", "invitations"),
        invitations_previous: sent_link("invitations_before", &invitations.previous),
        invitations_next: sent_link("invitations_after", &invitations.next),
        invitations: invitations.rows,
        teams,
        invite_results: signed.session.take_invite_results(),
        sole_admin,
        others,
    };
    crate::web::render_with(status, &page)
}

pub async fn users_page(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    query: web::Query<UsersQuery>,
) -> AppResult<HttpResponse> {
    render_users(
        &signed,
        id.into_inner(),
        query.starts(),
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
    render_users(signed, id, Default::default(), errors, StatusCode::CONFLICT).await
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
