//! Inviting people into a workspace: `GET /workspaces/{id}/invitations/new` (the form),
//! `POST /workspaces/{id}/invitations` (one or many addresses, each with its own result line on
//! the Users page), or (`team_id`) each member of one of the organisation's teams, and
//! `.../invitations/{invitation_id}/resend` | `/rescind`. The decisions are in
//! `services::invitations`.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;

use crate::domain::guest_end;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::teams;
use crate::db::models::workspaces::Workspace;
use crate::domain::{InvitationId, Invitee, TeamId, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::services::invitations::{self, Request};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
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
    /// Guests only, optional: their last day, YYYY-MM-DD, or the date input's three boxes.
    guest_until: String,
    #[serde(rename = "guest_until-day")]
    guest_until_day: String,
    #[serde(rename = "guest_until-month")]
    guest_until_month: String,
    #[serde(rename = "guest_until-year")]
    guest_until_year: String,
    /// Optional: a team of the organisation, each of whose members is invited.
    team_id: String,
}

#[derive(Template)]
#[template(path = "invitations/new.html")]
struct InvitePage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    may_invite_admins: bool,
    guests_allowed: bool,
    /// The organisation's teams: (id, "Night midwives (5 people)").
    teams: Vec<(String, String)>,
    organisation: String,
    form: InviteForm,
}

async fn render_form(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    form: InviteForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::invite(conn, &frame.user, id)?;
            let org = access.workspace.organisation_id;
            let teams = teams::list(conn, org)?
                .into_iter()
                .map(|(team, n)| {
                    let people = if n == 1 { "person" } else { "people" };
                    (team.id.to_string(), format!("{} ({n} {people})", team.name))
                })
                .collect::<Vec<_>>();
            let organisation = crate::db::models::organisations::find(conn, org)?.name;
            Ok((access, teams, organisation))
        })
        .await?;
    let (access, teams, organisation) = page.data;
    crate::web::render_with(
        errors.status(),
        &InvitePage {
            layout: page.layout,
            errors,
            may_invite_admins: permissions::may_invite_as(&access, WorkspaceRole::Admin),
            guests_allowed: permissions::may_invite_as(&access, WorkspaceRole::Guest),
            workspace: access.workspace,
            teams,
            organisation,
            form,
        },
    )
}

pub async fn invite_form(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let form = InviteForm {
        role: WorkspaceRole::Member.code().into(),
        ..InviteForm::default()
    };
    render_form(&signed, id.into_inner(), FormErrors::default(), form).await
}

impl InviteForm {
    /// The guest's last day as typed: the three boxes as YYYY-MM-DD, or the contract's field.
    fn guest_until_typed(&self) -> String {
        crate::web::forms::date_field(
            &self.guest_until,
            &self.guest_until_day,
            &self.guest_until_month,
            &self.guest_until_year,
        )
    }

    /// What the date input's boxes show again.
    fn guest_until_parts(&self) -> (String, String, String) {
        crate::web::forms::date_parts(
            &self.guest_until,
            &self.guest_until_day,
            &self.guest_until_month,
            &self.guest_until_year,
        )
    }

    /// The form's own rules (before any address is looked at).
    fn parse(&self, errors: &mut FormErrors) -> Option<Request> {
        let invitees = Invitee::parse_list(&self.emails);
        let team = match self.team_id.trim() {
            "" => None,
            typed => match typed.parse::<TeamId>() {
                Ok(team) => Some(team),
                Err(_) => {
                    errors.add("team_id", "Choose one of the organisation's teams");
                    None
                }
            },
        };
        if invitees.is_empty() && team.is_none() && errors.get("team_id").is_none() {
            errors.add(
                "emails",
                "Enter at least one email address (or, for a guest, a UK mobile number), or choose a team",
            );
        } else if invitees.len() > MAX_PER_FORM {
            errors.add(
                "emails",
                format!("Enter {MAX_PER_FORM} addresses or fewer at a time"),
            );
        }
        // A team is the organisation's own people: members, unless another role is chosen.
        let role = match self.role.trim() {
            "" if team.is_some() => Some(WorkspaceRole::Member),
            typed => WorkspaceRole::parse(typed)
                .map_err(|_| errors.add("role", "Choose a role"))
                .ok(),
        };
        let until = self.guest_until_typed();
        let guest_until = if until.is_empty() || role != Some(WorkspaceRole::Guest) {
            None
        } else {
            errors.check(
                "guest_until",
                guest_end::parse_last_day(&until, Utc::now().date_naive()),
            )
        };
        Some(Request {
            invitees,
            team,
            role: role?,
            guest_until,
        })
        .filter(|_| errors.is_empty())
    }
}

pub async fn invite(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let Some(request) = form.parse(&mut errors) else {
        return render_form(&signed, id, errors, form).await;
    };
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            invitations::invite(conn, &base_url, &Actor::person(user, &ip), id, request)
        })
        .await?;
    match decision {
        Decision::Done(lines) => {
            signed.session.set_invite_results(&lines)?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/settings/users#invite-results"
            )))
        }
        Decision::Refused(reason) => {
            errors.add("role", reason);
            render_form(&signed, id, errors, form).await
        }
    }
}

pub async fn resend(
    signed: Signed,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> AppResult<HttpResponse> {
    let (id, invitation) = path.into_inner();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            invitations::resend(conn, &base_url, &Actor::person(user, &ip), id, invitation)
        })
        .await?;
    finish(&signed, id, decision).await
}

pub async fn rescind(
    signed: Signed,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> AppResult<HttpResponse> {
    let (id, invitation) = path.into_inner();
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            invitations::rescind(conn, &Actor::person(user, &ip), id, invitation)
        })
        .await?;
    finish(&signed, id, decision).await
}

async fn finish(signed: &Signed, id: WorkspaceId, decision: Decision) -> AppResult<HttpResponse> {
    match decision {
        Decision::Done(message) => signed.done(
            &message,
            &format!("/workspaces/{id}/settings/users#invitations"),
        ),
        Decision::Refused(reason) => users_page_with_error(signed, id, &reason).await,
    }
}
