//! Inviting people into a workspace: `GET /workspaces/{id}/invitations/new` (the form),
//! `POST /workspaces/{id}/invitations` (one or many addresses, each with its own result line on
//! the Users page), and `.../invitations/{invitation_id}/resend` | `/rescind`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDate, Utc};
use diesel::PgConnection;
use serde::Deserialize;

use super::sending::send_link;
use crate::auth::permissions::{self, WorkspaceAccess};
use crate::auth::{CurrentUser, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::invitations::{self, NewInvitation, DAILY_LIMIT, VALID_FOR_DAYS};
use crate::db::models::organisations;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members::{self, ADMIN, GUEST, MEMBER};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{InvitationId, Invitee, WorkspaceId};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;
use crate::web::workspaces::settings::users_page_with_error;

/// At most this many addresses in one go (the daily limit is the real bound).
const MAX_PER_FORM: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    emails: String,
    role: String,
    /// Guests only, optional: YYYY-MM-DD.
    guest_until: String,
}

#[derive(Template)]
#[template(path = "invitations/new.html")]
struct InvitePage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    may_invite_admins: bool,
    guests_allowed: bool,
    form: InviteForm,
}

async fn render_form(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    errors: FormErrors,
    form: InviteForm,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let access = crate::db::run(&state.pool, move |conn| {
        permissions::invite(conn, &user, id)
    })
    .await?;
    let status = errors.status();
    crate::web::render_with(
        status,
        &InvitePage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            may_invite_admins: permissions::may_invite_as(&access, ADMIN),
            guests_allowed: permissions::may_invite_as(&access, GUEST),
            workspace: access.workspace,
            form,
        },
    )
}

pub async fn invite_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let form = InviteForm {
        role: MEMBER.into(),
        ..InviteForm::default()
    };
    render_form(
        &session,
        &state,
        &current,
        id.into_inner(),
        FormErrors::default(),
        form,
    )
    .await
}

/// What happened to one address.
pub enum AddressOutcome {
    Sent { in_app: bool },
    Resent,
    AlreadyMember,
    NotAdmitted { organisation: String, guests: bool },
    MobileOnlyForGuests,
    Invalid(String),
    LimitReached,
}

impl AddressOutcome {
    /// The result line the Users page shows, and whether it was sent.
    pub fn line(&self) -> (String, bool) {
        let (text, ok) = match self {
            AddressOutcome::Sent { in_app: false } => ("Invitation sent".to_string(), true),
            AddressOutcome::Sent { in_app: true } => (
                "Invitation sent. They already have an account, so they also see it in Staffroom"
                    .to_string(),
                true,
            ),
            AddressOutcome::Resent => (
                "They already had an invitation: it was sent again with a new link".to_string(),
                true,
            ),
            AddressOutcome::AlreadyMember => ("Already a member of this workspace".to_string(), false),
            AddressOutcome::NotAdmitted {
                organisation,
                guests,
            } => (
                format!(
                    "Not sent: not an NHS address {organisation} admits{}",
                    if *guests {
                        ". You can invite them as a guest instead"
                    } else {
                        ""
                    }
                ),
                false,
            ),
            AddressOutcome::MobileOnlyForGuests => (
                "Not sent: a mobile number can only be invited as a guest".to_string(),
                false,
            ),
            AddressOutcome::Invalid(why) => (format!("Not sent: {why}"), false),
            AddressOutcome::LimitReached => (
                format!(
                    "Not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow"
                ),
                false,
            ),
        };
        (text, ok)
    }
}

/// The form's own rules (before any address is looked at).
fn check_form(form: &InviteForm, errors: &mut FormErrors) -> Option<NaiveDate> {
    let entries = Invitee::parse_list(&form.emails);
    if entries.is_empty() {
        errors.add(
            "emails",
            "Enter at least one email address (or, for a guest, a UK mobile number)",
        );
    } else if entries.len() > MAX_PER_FORM {
        errors.add(
            "emails",
            format!("Enter {MAX_PER_FORM} addresses or fewer at a time"),
        );
    }
    if ![ADMIN, MEMBER, GUEST].contains(&form.role.as_str()) {
        errors.add("role", "Choose a role");
    }
    let until = form.guest_until.trim();
    if until.is_empty() || form.role != GUEST {
        return None;
    }
    match NaiveDate::parse_from_str(until, "%Y-%m-%d") {
        Ok(day) if day > Utc::now().date_naive() => Some(day),
        Ok(_) => {
            errors.add("guest_until", "The end date must be in the future");
            None
        }
        Err(_) => {
            errors.add(
                "guest_until",
                "Enter the end date as year-month-day, like 2027-03-31",
            );
            None
        }
    }
}

/// Invites one address, inside the caller's transaction (which holds the workspace lock):
/// refuses it, says they are a member already, resends an open invitation, or sends a new one.
#[allow(clippy::too_many_arguments)]
pub fn invite_one(
    conn: &mut PgConnection,
    base_url: &str,
    workspace: &Workspace,
    organisation: &str,
    inviter: &User,
    invitee: &Invitee,
    role: &str,
    guest_until: Option<NaiveDate>,
    manages: bool,
    budget: &mut i64,
    ip: &str,
) -> AppResult<AddressOutcome> {
    let existing = match invitee {
        Invitee::Email(email) => users::find_by_email(conn, email)?,
        Invitee::Mobile(_) => None,
    };
    match invitee {
        Invitee::Mobile(_) if role != GUEST => return Ok(AddressOutcome::MobileOnlyForGuests),
        Invitee::Email(email) if role != GUEST => {
            if !organisations::admits(conn, workspace.organisation_id, email.as_str())? {
                return Ok(AddressOutcome::NotAdmitted {
                    organisation: organisation.to_string(),
                    guests: workspace.guests_allowed,
                });
            }
        }
        _ => {}
    }
    if let Some(user) = &existing {
        let membership = workspace_members::find(conn, workspace.id, user.id)?;
        if membership.is_some_and(|m| m.is_approved()) {
            return Ok(AddressOutcome::AlreadyMember);
        }
    }
    if *budget <= 0 {
        return Ok(AddressOutcome::LimitReached);
    }
    *budget -= 1;
    let event = |action: &str, detail: String| {
        NewAuditEvent::new(action, Some(ip.to_string()))
            .actor(inviter.id)
            .organisation(workspace.organisation_id)
            .workspace(workspace.id)
            .detail(detail)
    };
    if let Some(open) = invitations::open_for_invitee(conn, workspace.id, invitee)? {
        // Only its inviter or a manager may change an invitation; anyone else inviting the
        // same address sends it again as it was.
        let invitation = if manages || open.invited_by == Some(inviter.id) {
            invitations::restart(conn, open.id, role, inviter.id, guest_until)?
        } else {
            let (role, by, until) = (open.role.clone(), open.invited_by, open.guest_until);
            invitations::restart(conn, open.id, &role, by.unwrap_or(inviter.id), until)?
        };
        send_link(conn, base_url, &invitation, workspace, false)?;
        audit::record(
            conn,
            &event(
                "invitation_resent",
                format!(
                    "{} invited {invitee} again as {}: a new link was sent",
                    inviter.full_name(),
                    invitation.role
                ),
            ),
        )?;
        return Ok(AddressOutcome::Resent);
    }
    let invitation = invitations::insert(
        conn,
        &NewInvitation {
            id: InvitationId::new(),
            workspace_id: workspace.id,
            email: invitee.email().map(|e| e.as_str()),
            mobile: invitee.mobile().map(|m| m.as_str()),
            role,
            invited_by: Some(inviter.id),
            guest_until,
            expires_at: Utc::now() + Duration::days(VALID_FOR_DAYS),
        },
    )?;
    send_link(conn, base_url, &invitation, workspace, false)?;
    audit::record(
        conn,
        &event(
            "invitation_sent",
            format!("{} invited {invitee} as {role}", inviter.full_name()),
        ),
    )?;
    Ok(AddressOutcome::Sent {
        in_app: existing.is_some(),
    })
}

pub async fn invite(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let guest_until = check_form(&form, &mut errors);
    if !errors.is_empty() {
        return render_form(&session, &state, &current, id, errors, form).await;
    }
    let (user, ip, base_url) = (
        current.user.clone(),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let (emails, role) = (form.emails.clone(), form.role.clone());
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        // Under the lock, invitations to one address cannot cross, and the daily count holds.
        let workspace = workspaces::lock(conn, id)?;
        let access = permissions::invite(conn, &user, id)?;
        if !permissions::may_invite_as(&access, &role) {
            return Ok(Err(refusal_for_role(&access, &role)));
        }
        let organisation = organisations::find(conn, workspace.organisation_id)?.name;
        let mut budget = DAILY_LIMIT - invitations::sent_in_last_day(conn, id)?;
        let mut lines = Vec::new();
        for (typed, parsed) in Invitee::parse_list(&emails) {
            let result = match parsed {
                Err(why) => AddressOutcome::Invalid(why.0),
                Ok(invitee) => invite_one(
                    conn,
                    &base_url,
                    &workspace,
                    &organisation,
                    &user,
                    &invitee,
                    &role,
                    guest_until,
                    access.manages,
                    &mut budget,
                    &ip,
                )?,
            };
            let (text, ok) = result.line();
            lines.push((typed, text, ok));
        }
        Ok(Ok(lines))
    })
    .await?;
    match outcome {
        Ok(lines) => {
            session.set_invite_results(&lines)?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/settings/users#invite-results"
            )))
        }
        Err(message) => {
            errors.add("role", message);
            render_form(&session, &state, &current, id, errors, form).await
        }
    }
}

fn refusal_for_role(access: &WorkspaceAccess, role: &str) -> &'static str {
    match role {
        ADMIN if !access.manages => "Only the workspace's admins can invite admins",
        GUEST if !access.workspace.guests_allowed => "This workspace does not take guests",
        _ => "Choose a role",
    }
}

/// What Resend or Rescind did.
enum Handled {
    Done(String),
    NotOpen,
}

pub async fn resend(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> AppResult<HttpResponse> {
    let (id, invitation_id) = path.into_inner();
    let (user, ip, base_url) = (
        current.user.clone(),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let handled = crate::db::transaction(&state.pool, move |conn| {
        let workspace = workspaces::lock(conn, id)?;
        let (_, invitation) = permissions::manage_invitation(conn, &user, id, invitation_id)?;
        if !invitation.is_open() {
            return Ok(Handled::NotOpen);
        }
        if invitations::sent_in_last_day(conn, id)? >= DAILY_LIMIT {
            return Ok(Handled::Done(format!(
                "Not sent: this workspace has sent {DAILY_LIMIT} invitations in the last 24 hours. Try again tomorrow."
            )));
        }
        let invitation = invitations::restart(
            conn,
            invitation.id,
            &invitation.role,
            invitation.invited_by.unwrap_or(user.id),
            invitation.guest_until,
        )?;
        send_link(conn, &base_url, &invitation, &workspace, false)?;
        audit::record(
            conn,
            &NewAuditEvent::new("invitation_resent", Some(ip))
                .actor(user.id)
                .organisation(workspace.organisation_id)
                .workspace(id)
                .detail(format!(
                    "{} resent the invitation to {}",
                    user.full_name(),
                    invitation.address()
                )),
        )?;
        Ok(Handled::Done(format!(
            "Invitation to {} sent again. The earlier link no longer works; the new one expires on {}.",
            invitation.address(),
            invitation.expires_at.format("%-d %B %Y")
        )))
    })
    .await?;
    finish(&session, &state, &current, id, handled).await
}

pub async fn rescind(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> AppResult<HttpResponse> {
    let (id, invitation_id) = path.into_inner();
    let (user, ip) = (current.user.clone(), crate::web::client_ip(&req));
    let handled = crate::db::transaction(&state.pool, move |conn| {
        let workspace = workspaces::lock(conn, id)?;
        let (_, invitation) = permissions::manage_invitation(conn, &user, id, invitation_id)?;
        if !invitations::rescind(conn, invitation.id, user.id)? {
            return Ok(Handled::NotOpen);
        }
        audit::record(
            conn,
            &NewAuditEvent::new("invitation_rescinded", Some(ip))
                .actor(user.id)
                .organisation(workspace.organisation_id)
                .workspace(id)
                .detail(format!(
                    "{} rescinded the invitation to {}",
                    user.full_name(),
                    invitation.address()
                )),
        )?;
        Ok(Handled::Done(format!(
            "Invitation to {} rescinded. Its link no longer works.",
            invitation.address()
        )))
    })
    .await?;
    finish(&session, &state, &current, id, handled).await
}

async fn finish(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    handled: Handled,
) -> AppResult<HttpResponse> {
    match handled {
        Handled::Done(message) => {
            session.set_flash(&message)?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/settings/users#invitations"
            )))
        }
        Handled::NotOpen => {
            users_page_with_error(
                session,
                state,
                current,
                id,
                "This invitation was already accepted, declined or rescinded.",
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}
