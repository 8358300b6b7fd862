//! "Are you sure?" pages: a GET at the address of each destructive action (remove, decline,
//! leave, rescind, turn the link off or make a new one, deactivate, reset two-factor, remove a
//! role, delete a template) that spells out the consequence and offers a warning button that
//! POSTs to the contract's route, unchanged. Each page checks, as the action does, that the
//! person may do it (404 otherwise), and says why when it cannot succeed instead of offering it.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;

use crate::auth::permissions;
use crate::db::models::{message_templates, people, roles, users::User, workspace_members};
use crate::domain::{InvitationId, OrganisationId, TemplateId, UserId, WorkspaceId, WorkspaceRole};
use crate::error::{AppError, AppResult};
use crate::web::context::Signed;
use crate::web::layout::Layout;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/workspaces/{id}/members/{user_id}/remove",
        web::get().to(remove_member),
    )
    .route(
        "/workspaces/{id}/members/{user_id}/decline",
        web::get().to(decline_member),
    )
    .route("/workspaces/{id}/leave", web::get().to(leave))
    .route(
        "/workspaces/{id}/invitations/{invitation_id}/rescind",
        web::get().to(rescind),
    )
    .route("/workspaces/{id}/link/disable", web::get().to(link_off))
    .route("/workspaces/{id}/link/regenerate", web::get().to(link_new))
    .route(
        "/workspaces/{id}/templates/{template_id}/delete",
        web::get().to(delete_template),
    )
    .route(
        "/organisations/{org_id}/admin/users/{user_id}/deactivate",
        web::get().to(deactivate),
    )
    .route(
        "/organisations/{org_id}/admin/users/{user_id}/reset-two-factor",
        web::get().to(reset_two_factor),
    )
    .route(
        "/organisations/{org_id}/admin/users/{user_id}/roles/{assignment_id}/delete",
        web::get().to(delete_role),
    );
}

/// What one confirmation page says and where its button posts.
pub struct Confirm {
    /// Above the heading: the workspace or organisation.
    pub caption: String,
    /// "Remove Dave Patel from Ward 2?"
    pub heading: String,
    pub consequences: Vec<String>,
    /// The contract's POST route.
    pub action: String,
    pub button: String,
    /// Fields the action takes, carried from the page before (the new link's settings).
    pub hidden: Vec<(&'static str, String)>,
    /// "No, go back" and the back link.
    pub back: String,
    /// Set when the action cannot succeed: shown instead of the button.
    pub refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    confirm: Confirm,
}

async fn show<F>(signed: Signed, build: F) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut PgConnection, &User) -> AppResult<Confirm> + Send + 'static,
{
    let page = signed
        .page(move |conn, frame| build(conn, &frame.user))
        .await?;
    crate::web::render(&ConfirmPage {
        layout: page.layout,
        confirm: page.data,
    })
}

fn users_page(id: WorkspaceId) -> String {
    format!("/workspaces/{id}/settings/users")
}

/// The only approved admin, with other members who would be left without one.
pub fn sole_admin_blocks(conn: &mut PgConnection, id: WorkspaceId) -> AppResult<bool> {
    Ok(workspace_members::approved_admin_count(conn, id)? == 1
        && workspace_members::member_count(conn, id)? > 1)
}

pub const SOLE_ADMIN_LEAVING: &str =
    "You are the only admin. Make someone else an admin before you leave, or remove the other members first.";

async fn remove_member(
    signed: Signed,
    path: web::Path<(WorkspaceId, UserId)>,
) -> AppResult<HttpResponse> {
    let (id, target) = path.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::manage_members(conn, user, id)?;
        let membership = workspace_members::find(conn, id, target)?
            .filter(|m| m.is_approved() && target != user.id)
            .ok_or(AppError::NotFound)?;
        let person = crate::db::models::users::find(conn, target)?;
        let name = person.full_name();
        let ws = access.workspace.name;
        let refusal = (membership.is_admin() && workspace_members::approved_admin_count(conn, id)? == 1)
            .then(|| format!("{name} is the only admin of {ws}. Make someone else an admin first."));
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Remove {name} from {ws}?"),
            consequences: vec![
                format!("{name} will no longer see the workspace's conversations, patients and templates, from their next click."),
                format!("They are emailed that they were removed. To come back they must ask to join or be invited again."),
                "The workspace's history keeps a record of who removed them.".into(),
            ],
            action: format!("/workspaces/{id}/members/{target}/remove"),
            button: format!("Remove {name}"),
            hidden: Vec::new(),
            back: users_page(id),
            refusal,
        })
    })
    .await
}

async fn decline_member(
    signed: Signed,
    path: web::Path<(WorkspaceId, UserId)>,
) -> AppResult<HttpResponse> {
    let (id, target) = path.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::manage_members(conn, user, id)?;
        let pending = workspace_members::find(conn, id, target)?.filter(|m| !m.is_approved());
        let person = crate::db::models::users::find(conn, target)?;
        let name = person.full_name();
        let ws = access.workspace.name;
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Decline {name}'s request to join {ws}?"),
            consequences: vec![
                format!("{name} is emailed that their request was declined."),
                "They can ask again later.".into(),
            ],
            action: format!("/workspaces/{id}/members/{target}/decline"),
            button: format!("Decline {name}"),
            hidden: Vec::new(),
            back: users_page(id),
            refusal: pending
                .is_none()
                .then(|| "This request has already been handled, or was withdrawn.".into()),
        })
    })
    .await
}

async fn leave(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::workspace(conn, user, id)?;
        let membership = access.membership.ok_or(AppError::NotFound)?;
        let ws = access.workspace.name;
        let last = workspace_members::member_count(conn, id)? == 1;
        if !membership.is_approved() {
            return Ok(Confirm {
                caption: ws.clone(),
                heading: format!("Withdraw your request to join {ws}?"),
                consequences: vec![
                    "Its admins will no longer see your request. You can ask again later.".into(),
                ],
                action: format!("/workspaces/{id}/leave"),
                button: "Withdraw your request".into(),
                hidden: Vec::new(),
                back: users_page(id),
                refusal: None,
            });
        }
        let mut consequences = vec![
            format!("You will no longer see {ws}'s conversations, patients and templates."),
            "To come back you must ask to join or be invited again.".into(),
        ];
        if last {
            consequences.push(format!(
                "You are its last member: {ws} is archived when you leave."
            ));
        }
        let refusal = (membership.is_admin() && sole_admin_blocks(conn, id)?)
            .then(|| SOLE_ADMIN_LEAVING.to_string());
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Leave {ws}?"),
            consequences,
            action: format!("/workspaces/{id}/leave"),
            button: "Leave workspace".into(),
            hidden: Vec::new(),
            back: users_page(id),
            refusal,
        })
    })
    .await
}

async fn rescind(
    signed: Signed,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> AppResult<HttpResponse> {
    let (id, invitation) = path.into_inner();
    show(signed, move |conn, user| {
        let (access, invitation) = permissions::manage_invitation(conn, user, id, invitation)?;
        let address = invitation.address();
        let ws = access.workspace.name;
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Rescind the invitation to {address}?"),
            consequences: vec![
                "The link in the invitation stops working at once.".into(),
                format!("You can invite {address} again later."),
            ],
            action: format!("/workspaces/{id}/invitations/{}/rescind", invitation.id),
            button: "Rescind invitation".into(),
            hidden: Vec::new(),
            back: users_page(id),
            refusal: (!invitation.is_open()).then(|| {
                format!(
                    "This invitation is {}: there is nothing to rescind.",
                    invitation.status().label().to_lowercase()
                )
            }),
        })
    })
    .await
}

fn settings_link(id: WorkspaceId) -> String {
    format!("/workspaces/{id}/settings#share-link")
}

async fn link_off(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::manage_members(conn, user, id)?;
        let ws = access.workspace.name;
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Turn off {ws}'s shareable link?"),
            consequences: vec![
                "The link stops working at once: nobody else can join through it.".into(),
                "People who already joined through it stay members.".into(),
            ],
            action: format!("/workspaces/{id}/link/disable"),
            button: "Turn off the link".into(),
            hidden: Vec::new(),
            back: settings_link(id),
            refusal: None,
        })
    })
    .await
}

/// The new link's settings come from the settings page's form (sent by GET) and go on to the
/// button that makes it; they are checked when it is pressed.
async fn link_new(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    settings: web::Query<crate::web::invitations::share_link::LinkForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let settings = settings.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::manage_members(conn, user, id)?;
        let ws = access.workspace.name;
        Ok(Confirm {
            caption: ws.clone(),
            heading: "Make a new shareable link?".into(),
            consequences: vec![
                "The current link stops working at once: anyone you gave it to needs the new one."
                    .into(),
                "People who already joined through it stay members.".into(),
            ],
            action: format!("/workspaces/{id}/link/regenerate"),
            button: "Make a new link".into(),
            hidden: vec![
                ("expires_on", settings.expires_on()),
                ("max_uses", settings.max_uses),
                ("approve_on_join", settings.approve_on_join),
            ],
            back: settings_link(id),
            refusal: None,
        })
    })
    .await
}

async fn delete_template(
    signed: Signed,
    path: web::Path<(WorkspaceId, TemplateId)>,
) -> AppResult<HttpResponse> {
    let (id, template) = path.into_inner();
    show(signed, move |conn, user| {
        let access = permissions::use_conversations(conn, user, id)?;
        let found = message_templates::find_usable(conn, id, user.id, access.shares(), template)?;
        let ws = access.access.workspace.name;
        Ok(Confirm {
            caption: ws.clone(),
            heading: format!("Delete the template \"{}\"?", found.name),
            consequences: vec![if found.is_shared() {
                format!(
                    "Nobody in {ws} can use it any more. Messages already sent are not changed."
                )
            } else {
                "You can no longer use it. Messages already sent are not changed.".into()
            }],
            action: format!("/workspaces/{id}/templates/{template}/delete"),
            button: "Delete template".into(),
            hidden: Vec::new(),
            back: format!("/workspaces/{id}/templates"),
            refusal: None,
        })
    })
    .await
}

fn person_page(org: OrganisationId, person: UserId) -> String {
    crate::web::admin::user_path(org, person)
}

async fn deactivate(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    let (org, person) = path.into_inner();
    show(signed, move |conn, user| {
        let (organisation, person) = permissions::administer_user(conn, user, org, person)?;
        let name = person.full_name();
        Ok(Confirm {
            caption: format!("{} – Administration", organisation.name),
            heading: format!("Deactivate {name}'s account?"),
            consequences: vec![
                format!("{name} is signed out everywhere at once and cannot sign in."),
                "Their workspaces, roles and history are kept: reactivating the account gives them back.".into(),
            ],
            action: format!("{}/deactivate", person_page(org, person.id)),
            button: "Deactivate account".into(),
            hidden: Vec::new(),
            back: person_page(org, person.id),
            refusal: shared_account(conn, org, &person)?
                .or_else(|| (person.id == user.id).then(|| "You cannot deactivate your own account.".into()))
                .or_else(|| (!person.is_active()).then(|| format!("{name}'s account is already deactivated."))),
        })
    })
    .await
}

async fn reset_two_factor(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    let (org, person) = path.into_inner();
    show(signed, move |conn, user| {
        let (organisation, person) = permissions::administer_user(conn, user, org, person)?;
        let name = person.full_name();
        Ok(Confirm {
            caption: format!("{} – Administration", organisation.name),
            heading: format!("Reset {name}'s two-factor authentication?"),
            consequences: vec![
                format!("{name}'s authenticator app and recovery codes stop working, and they are signed out everywhere."),
                "At their next sign-in they set up an authenticator app again.".into(),
            ],
            action: format!("{}/reset-two-factor", person_page(org, person.id)),
            button: "Reset two-factor authentication".into(),
            hidden: Vec::new(),
            back: person_page(org, person.id),
            refusal: shared_account(conn, org, &person)?.or_else(|| {
                (person.id == user.id).then(|| {
                    "You cannot reset your own two-factor: ask another administrator.".into()
                })
            }),
        })
    })
    .await
}

/// An account that also belongs to another organisation is not this one's to switch off.
fn shared_account(
    conn: &mut PgConnection,
    org: OrganisationId,
    person: &User,
) -> AppResult<Option<String>> {
    Ok(people::in_other_organisations(conn, org, person.id)?.then(|| {
        format!(
            "{} also belongs to another organisation, so this would change their account there too. Remove their roles here, or ask the administrators of every organisation they belong to.",
            person.full_name()
        )
    }))
}

async fn delete_role(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId, uuid::Uuid)>,
) -> AppResult<HttpResponse> {
    let (org, person, assignment) = path.into_inner();
    show(signed, move |conn, user| {
        let organisation = permissions::administer_roles(conn, user, org)?;
        let person = people::find_member(conn, org, person)?;
        let assignment = roles::find_assignment(conn, org, person.id, assignment)?;
        let what = crate::services::roles::describe(conn, org, &assignment)?;
        let name = person.full_name();
        Ok(Confirm {
            caption: format!("{} – Administration", organisation.name),
            heading: format!("Remove the role {what} from {name}?"),
            consequences: vec![format!(
                "{name} loses what the role allows at once. You can give it again later."
            )],
            action: format!(
                "{}/roles/{}/delete",
                person_page(org, person.id),
                assignment.id
            ),
            button: "Remove role".into(),
            hidden: Vec::new(),
            back: format!("{}/roles", person_page(org, person.id)),
            refusal: None,
        })
    })
    .await
}

/// Whether demoting this admin would leave the workspace without one (not offered then).
pub fn is_sole_admin(role: WorkspaceRole, approved_admins: usize) -> bool {
    role == WorkspaceRole::Admin && approved_admins == 1
}
