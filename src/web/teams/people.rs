//! `GET /workspaces/{id}/people`: the workspace's contacts, each with Invite (asking first for
//! an email address when the contact has none), or Resend and Rescind once invited; `POST
//! .../people/{contact_id}/invite` (`email` when asked) and `.../resend`. Rescind is the
//! invitation's own (`/workspaces/{id}/invitations/{invitation_id}/rescind`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::contacts;
use crate::db::models::invitations::Status;
use crate::db::models::users::User;
use crate::db::models::workspace_contacts;
use crate::db::models::workspaces::Workspace;
use crate::domain::{ContactId, EmailAddress, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::services::contacts as service;
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub status: &'static str,
    pub tag: &'static str,
    /// Invite: not invited from here yet, or the invitation ended without them joining.
    pub may_invite: bool,
    /// Resend: an open invitation, for anyone who may invite.
    pub may_resend: bool,
    /// Rescind: an open invitation, for its inviter and those who manage the workspace.
    pub rescind_href: Option<String>,
    /// The last Invite was this contact's, refused: what was typed (its error is `email`).
    pub typed: Option<String>,
    /// A likely duplicate exists: the contacts page, searched for them, to merge before
    /// inviting.
    pub duplicate_href: Option<String>,
}

#[derive(Template)]
#[template(path = "teams/people.html")]
struct PeoplePage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    rows: Vec<PersonRow>,
    /// Invites guests here (the workspace takes them and the person may invite).
    may_invite: bool,
}

fn load(
    conn: &mut PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<(Workspace, Vec<PersonRow>, bool)> {
    let access = permissions::see_details(conn, user, id)?;
    let may_invite = permissions::may_invite_as(&access, WorkspaceRole::Guest);
    let listed = workspace_contacts::list(conn, id)?;
    let org = access.workspace.organisation_id;
    let ids: Vec<_> = listed.iter().map(|(c, _)| c.id).collect();
    let duplicated: Vec<_> = contacts::likely_duplicates(conn, org, &ids)?
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    let rows = listed
        .into_iter()
        .map(|(contact, invitation)| {
            let status = invitation.as_ref().map(|i| i.status());
            let open = invitation.as_ref().is_some_and(|i| i.is_open());
            let (label, tag) = match status {
                None => ("Not invited", "nhsuk-tag--white"),
                Some(Status::NotJoined) => ("Not joined", "nhsuk-tag--blue"),
                Some(Status::Accepted | Status::Superseded) => ("Joined", "nhsuk-tag--green"),
                Some(Status::Expired) => ("Invitation expired", "nhsuk-tag--grey"),
                Some(Status::Declined) => ("Declined", "nhsuk-tag--grey"),
                Some(Status::Rescinded) => ("Invitation rescinded", "nhsuk-tag--red"),
            };
            let ended = matches!(status, None | Some(Status::Declined | Status::Rescinded));
            let may_rescind = invitation
                .as_ref()
                .is_some_and(|i| open && (access.manages || i.invited_by == Some(user.id)));
            PersonRow {
                id: contact.id.to_string(),
                name: contact.full_name(),
                mobile: contact.mobile_national(),
                email: contact.email.clone(),
                status: label,
                tag,
                may_invite: may_invite && ended,
                may_resend: may_invite && open,
                rescind_href: invitation
                    .filter(|_| may_rescind)
                    .map(|i| format!("/workspaces/{id}/invitations/{}/rescind", i.id)),
                typed: None,
                duplicate_href: duplicated.contains(&contact.id).then(|| {
                    format!(
                        "/organisations/{org}/contacts?q={}#contact-{}",
                        crate::web::encode_part(&contact.surname),
                        contact.id
                    )
                }),
            }
        })
        .collect();
    Ok((access.workspace, rows, may_invite))
}

async fn render(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    status: StatusCode,
    asked: Option<(String, String)>,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| load(conn, &frame.user, id))
        .await?;
    let (workspace, mut rows, may_invite) = page.data;
    if let Some((contact, typed)) = asked {
        if let Some(row) = rows.iter_mut().find(|r| r.id == contact) {
            row.typed = Some(typed);
        }
    }
    crate::web::render_with(
        status,
        &PeoplePage {
            layout: page.layout,
            errors,
            workspace,
            rows,
            may_invite,
        },
    )
}

pub async fn people_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    render(
        &signed,
        id.into_inner(),
        FormErrors::default(),
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    email: String,
}

pub async fn invite(
    signed: Signed,
    path: web::Path<(WorkspaceId, ContactId)>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let (id, contact) = path.into_inner();
    let typed = form.into_inner().email;
    let asked = Some((contact.to_string(), typed.clone()));
    let email = match typed.trim() {
        "" => None,
        text => match EmailAddress::parse(text) {
            Ok(email) => Some(email),
            Err(why) => {
                let mut errors = FormErrors::default();
                errors.add("email", why.0);
                return render(&signed, id, errors, StatusCode::UNPROCESSABLE_ENTITY, asked).await;
            }
        },
    };
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            service::invite_from_people(
                conn,
                &base_url,
                &Actor::person(user, &ip),
                id,
                contact,
                email,
            )
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(
            &flash,
            &format!("/workspaces/{id}/people#contact-{contact}"),
        ),
        Decision::Refused(refusal) => {
            let mut errors = FormErrors::default();
            errors.add(refusal.field, refusal.reason);
            render(&signed, id, errors, StatusCode::UNPROCESSABLE_ENTITY, asked).await
        }
    }
}

pub async fn resend(
    signed: Signed,
    path: web::Path<(WorkspaceId, ContactId)>,
) -> AppResult<HttpResponse> {
    let (id, contact) = path.into_inner();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            service::resend_from_people(conn, &base_url, &Actor::person(user, &ip), id, contact)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(
            &flash,
            &format!("/workspaces/{id}/people#contact-{contact}"),
        ),
        Decision::Refused(reason) => {
            let mut errors = FormErrors::default();
            errors.add("people", reason);
            render(&signed, id, errors, StatusCode::CONFLICT, None).await
        }
    }
}
