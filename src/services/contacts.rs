//! An organisation's contacts: people outside it (clients, carers, external professionals).
//! Any member adds them, quietly (no message at all) or with an invitation into one of their
//! workspaces as a guest; a workspace's People page invites, resends to and (through the
//! invitation) rescinds its contacts; those who manage users merge true duplicates.
//! Contacts are not `roster_profiles`: those are the organisation's own staff from its roster,
//! waiting for an account, merged into accounts; contacts stay outside and join as guests.

use diesel::PgConnection;

use super::invitations::{self, AddressOutcome};
use super::{Actor, Decision, FieldError};
use crate::auth::permissions::{self, WorkspaceAccess};
use crate::db::models::audit;
use crate::db::models::contacts::{self, Contact, NewContact};
use crate::db::models::invitations::{self as invitation_rows, DAILY_LIMIT};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::users;
use crate::db::models::workspace_contacts;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{
    AuditAction, ContactId, EmailAddress, InvitationId, Invitee, MobileNumber, OrganisationId,
    PersonName, WorkspaceId, WorkspaceRole,
};
use crate::error::{AppError, AppResult};

/// What to do once the contact is on the list.
#[derive(Debug, Clone, Copy)]
pub enum Then {
    /// No message at all; on a workspace's People page too, when one is named.
    Quietly(Option<WorkspaceId>),
    /// Invite them into the workspace as a guest (by email).
    Invite(WorkspaceId),
}

/// A contact as parsed from the form: at least one of the addresses.
pub struct Newcomer {
    pub first_name: PersonName,
    pub surname: PersonName,
    pub email: Option<EmailAddress>,
    pub mobile: Option<MobileNumber>,
    pub then: Then,
}

/// What adding did: the contact (new or the one with that address already), and what to say.
pub struct Added {
    pub contact: Contact,
    pub message: String,
}

const CHOOSE_WORKSPACE: &str = "Choose one of your workspaces";

/// Adds the contact (or finds the one with that address) and does what `then` says, in one
/// transaction: a refusal adds nobody.
pub fn add(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    new: &Newcomer,
) -> AppResult<Decision<Added, FieldError>> {
    let user = actor.user()?;
    let org = permissions::use_contacts(conn, user, org)?;
    let workspace = match new.then {
        Then::Quietly(None) => None,
        Then::Quietly(Some(id)) | Then::Invite(id) => match workspace_for(conn, actor, &org, id)? {
            Ok(found) => Some(found),
            Err(refusal) => return Ok(Decision::Refused(refusal)),
        },
    };
    if let (Then::Invite(_), Some((_, access))) = (new.then, &workspace) {
        if !access.workspace.guests_allowed {
            return Ok(Decision::Refused(FieldError::new(
                "workspace_id",
                format!("{} does not take guests", access.workspace.name),
            )));
        }
        if !permissions::may_invite_as(access, WorkspaceRole::Guest) {
            return Ok(Decision::Refused(FieldError::new(
                "workspace_id",
                format!("You cannot invite people into {}", access.workspace.name),
            )));
        }
        if new.email.is_none() {
            return Ok(Decision::Refused(FieldError::new(
                "email",
                "Enter their email address to invite them, or add them quietly",
            )));
        }
    }
    if let Some(email) = &new.email {
        if let Some(refusal) = colleague_refusal(conn, &org, email)? {
            return Ok(Decision::Refused(refusal));
        }
    }
    let (contact, mut message) = find_or_insert(conn, actor, &org, new)?;
    let Some((workspace, access)) = workspace else {
        return Ok(Decision::Done(Added { contact, message }));
    };
    put_on_list(conn, actor, &workspace, &contact)?;
    if let Then::Invite(_) = new.then {
        let line = invite_contact(conn, base_url, actor, workspace, &access, &contact)?;
        message = format!("{message} {line}");
    } else {
        message = format!(
            "{message} They are on {}'s People page; nobody was sent anything.",
            workspace.name
        );
    }
    Ok(Decision::Done(Added { contact, message }))
}

/// The workspace (locked, for an invitation) in this organisation where the person is an
/// approved colleague or a manager; anything else is refused beside the field.
fn workspace_for(
    conn: &mut PgConnection,
    actor: &Actor,
    org: &Organisation,
    id: WorkspaceId,
) -> AppResult<Result<(Workspace, WorkspaceAccess), FieldError>> {
    let user = actor.user()?;
    let refused = || Ok(Err(FieldError::new("workspace_id", CHOOSE_WORKSPACE)));
    let workspace = match workspaces::lock(conn, id) {
        Ok(w) if w.organisation_id == org.id => w,
        Ok(_) | Err(diesel::NotFound) => return refused(),
        Err(e) => return Err(e.into()),
    };
    let access = match permissions::workspace(conn, user, id) {
        Ok(access) if access.is_colleague() || access.manages => access,
        Ok(_) | Err(AppError::NotFound) => return refused(),
        Err(e) => return Err(e),
    };
    Ok(Ok((workspace, access)))
}

/// Someone with an account in the organisation is a colleague, not a contact.
fn colleague_refusal(
    conn: &mut PgConnection,
    org: &Organisation,
    email: &EmailAddress,
) -> AppResult<Option<FieldError>> {
    let Some(account) = users::find_by_email(conn, email)? else {
        return Ok(None);
    };
    if !organisations::is_member(conn, org.id, account.id)? {
        return Ok(None);
    }
    Ok(Some(FieldError::new(
        "email",
        format!(
            "{email} has an account in {}: invite them as a colleague from a workspace's Users page",
            org.name
        ),
    )))
}

/// The contact with the address typed, or a new one (two people adding one address at once
/// make one contact: the loser of the insert reads the winner's row).
fn find_or_insert(
    conn: &mut PgConnection,
    actor: &Actor,
    org: &Organisation,
    new: &Newcomer,
) -> AppResult<(Contact, String)> {
    let user = actor.user()?;
    let (email, mobile) = (new.email.as_ref(), new.mobile.as_ref());
    for _ in 0..2 {
        if let Some(found) = contacts::find_by_address(conn, org.id, email, mobile)? {
            return Ok((
                found.clone(),
                format!(
                    "{} is already in {}'s contacts.",
                    found.full_name(),
                    org.name
                ),
            ));
        }
        let row = NewContact {
            organisation_id: org.id,
            first_name: new.first_name.as_str(),
            surname: new.surname.as_str(),
            email,
            mobile,
            added_by: user.id,
        };
        if let Some(contact) = contacts::insert(conn, &row)? {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::ContactAdded)
                    .organisation(org.id)
                    .detail(format!(
                        "{} added the contact {} ({})",
                        user.full_name(),
                        contact.full_name(),
                        addresses(&contact)
                    )),
            )?;
            let message = format!("{} added to {}'s contacts.", contact.full_name(), org.name);
            return Ok((contact, message));
        }
    }
    Err(AppError::Unexpected(anyhow::anyhow!(
        "a contact's address was taken and then not found"
    )))
}

/// The contact's addresses, for the audit.
fn addresses(contact: &Contact) -> String {
    [contact.email.clone(), contact.mobile_national()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Puts the contact on the workspace's People page (once), audited.
fn put_on_list(
    conn: &mut PgConnection,
    actor: &Actor,
    workspace: &Workspace,
    contact: &Contact,
) -> AppResult<()> {
    let user = actor.user()?;
    if workspace_contacts::add(conn, workspace.id, contact.id, user.id)? {
        audit::record(
            conn,
            &actor
                .event(AuditAction::ContactAddedToWorkspace)
                .organisation(workspace.organisation_id)
                .workspace(workspace.id)
                .detail(format!(
                    "{} added the contact {} to {}",
                    user.full_name(),
                    contact.full_name(),
                    workspace.name
                )),
        )?;
    }
    Ok(())
}

/// Invites a contact with an email address as a guest and records the invitation on the
/// People page: the result line.
fn invite_contact(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    workspace: Workspace,
    access: &WorkspaceAccess,
    contact: &Contact,
) -> AppResult<String> {
    let email = contact
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("the contact has no email address")))?;
    let (workspace_id, name) = (workspace.id, workspace.name.clone());
    let (outcome, invitation) = invitations::invite_guest(
        conn,
        base_url,
        actor,
        workspace,
        access,
        &Invitee::Email(email),
    )?;
    if let Some(invitation) = invitation {
        workspace_contacts::set_invitation(conn, workspace_id, contact.id, invitation)?;
    }
    let line = match outcome {
        AddressOutcome::Sent { .. } => format!("We have invited them to {name} as a guest."),
        other => other.line().0,
    };
    Ok(line)
}

/// A guest invited by address who is one of the organisation's contacts appears on the
/// workspace's People page with that invitation (the Users page's invite form and the People
/// page then agree).
pub fn note_invitation(
    conn: &mut PgConnection,
    actor: &Actor,
    workspace: &Workspace,
    invitee: &Invitee,
    invitation: InvitationId,
) -> AppResult<()> {
    let Some(contact) = contacts::find_by_address(
        conn,
        workspace.organisation_id,
        invitee.email(),
        invitee.mobile(),
    )?
    else {
        return Ok(());
    };
    put_on_list(conn, actor, workspace, &contact)?;
    workspace_contacts::set_invitation(conn, workspace.id, contact.id, invitation)?;
    Ok(())
}

/// The People page's Invite: a guest invitation to the contact, asking first for an email
/// address when the contact has none (kept on the contact, audited).
pub fn invite_from_people(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    contact: ContactId,
    email: Option<EmailAddress>,
) -> AppResult<Decision<String, FieldError>> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    let access = permissions::invite(conn, user, id)?;
    let (mut contact, _) = workspace_contacts::find(conn, id, contact)?;
    if !permissions::may_invite_as(&access, WorkspaceRole::Guest) {
        return Ok(Decision::Refused(FieldError::new(
            "email",
            format!("{} does not take guests", workspace.name),
        )));
    }
    if contact.email.is_none() {
        let Some(email) = email else {
            return Ok(Decision::Refused(FieldError::new(
                "email",
                format!(
                    "Enter {}'s email address: the invitation goes by email",
                    contact.full_name()
                ),
            )));
        };
        let org = organisations::find(conn, workspace.organisation_id)?;
        if let Some(refusal) = colleague_refusal(conn, &org, &email)? {
            return Ok(Decision::Refused(refusal));
        }
        if !contacts::set_email(conn, contact.id, &email)? {
            return Ok(Decision::Refused(FieldError::new(
                "email",
                format!("Another of {}'s contacts has {email}", org.name),
            )));
        }
        audit::record(
            conn,
            &actor
                .event(AuditAction::ContactEmailAdded)
                .organisation(org.id)
                .workspace(id)
                .detail(format!(
                    "{} gave the contact {} the email address {email}",
                    user.full_name(),
                    contact.full_name()
                )),
        )?;
        contact.email = Some(email.as_str().to_string());
    }
    let name = contact.full_name();
    let line = invite_contact(conn, base_url, actor, workspace, &access, &contact)?;
    Ok(Decision::Done(format!("{name}: {line}")))
}

/// The People page's Resend: anyone who may invite into the workspace may.
pub fn resend_from_people(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    id: WorkspaceId,
    contact: ContactId,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let workspace = workspaces::lock(conn, id)?;
    permissions::invite(conn, user, id)?;
    let (contact, invitation) = workspace_contacts::find(conn, id, contact)?;
    let Some(invitation) = invitation.filter(|i| i.is_open()) else {
        return Ok(Decision::Refused(format!(
            "{} has no open invitation to resend",
            contact.full_name()
        )));
    };
    if invitation_rows::sent_in_last_day(conn, id)? >= DAILY_LIMIT {
        return Ok(Decision::Refused(invitations::limit_reached()));
    }
    let invitation = invitations::resend_open(conn, base_url, actor, &workspace, &invitation)?;
    Ok(Decision::Done(format!(
        "Invitation to {} sent again. The earlier link no longer works; the new one expires on {}.",
        contact.full_name(),
        invitation.expires_at.format("%-d %B %Y")
    )))
}

/// Merges `other` into `kept`, for those who manage users: only two contacts the server
/// itself finds likely to be one person (`contacts::are_likely_duplicates`), in one
/// transaction, audited. Another organisation's contact ids are not found.
pub fn merge(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    kept: ContactId,
    other: ContactId,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let org = permissions::merge_contacts(conn, user, org)?;
    if kept == other {
        return Ok(Decision::refused("Choose another contact to merge"));
    }
    // Locked in one order, so two merges of the same pair cannot deadlock.
    let (first, second) = if kept.0 < other.0 {
        (kept, other)
    } else {
        (other, kept)
    };
    let first = contacts::lock_in(conn, org.id, first)?;
    let second = contacts::lock_in(conn, org.id, second)?;
    let (kept, other) = if first.id == kept {
        (first, second)
    } else {
        (second, first)
    };
    if !contacts::are_likely_duplicates(conn, kept.id, other.id)? {
        return Ok(Decision::Refused(format!(
            "{} and {} do not look like the same person (not the same names, or different addresses), so they cannot be merged",
            other.full_name(),
            kept.full_name()
        )));
    }
    contacts::merge_into(conn, &kept, &other)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::ContactMerged)
            .organisation(org.id)
            .detail(format!(
                "{} merged the contact {} ({}) into {} ({})",
                user.full_name(),
                other.full_name(),
                addresses(&other),
                kept.full_name(),
                addresses(&kept)
            )),
    )?;
    Ok(Decision::Done(format!(
        "{} ({}) is merged into {}.",
        other.full_name(),
        addresses(&other),
        kept.full_name()
    )))
}
