//! `GET/POST /organisations/{org_id}/teams` (the teams, and a new one by `name`), a team's
//! page with its members and the organisation's people to add (searched), `POST
//! .../teams/{team_id}/members` (`user_id`) and `.../members/{user_id}/remove`; and `POST
//! /workspaces/{id}/teams/{team_id}/resend`, from the workspace's Users page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::people;
use crate::db::models::team_members;
use crate::db::models::teams::{self, Team};
use crate::db::models::users::User;
use crate::domain::{OrganisationId, TeamId, Text, TextRules, UserId, WorkspaceId};
use crate::error::AppResult;
use crate::services::{invitations, teams as keeping, Actor, Decision};
use crate::web::admin::AdminNav;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;
use crate::web::workspaces::settings::users_page_with_error;

const SEARCH: TextRules = TextRules::line("The search", 200);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TeamForm {
    name: String,
}

#[derive(Template)]
#[template(path = "teams/list.html")]
struct TeamsPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    teams: Vec<(Team, i64)>,
    form: TeamForm,
}

async fn render_list(
    signed: &Signed,
    org_id: OrganisationId,
    errors: FormErrors,
    form: TeamForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::keep_teams(conn, &frame.user, org_id)?;
            let nav = AdminNav::load(conn, &org, &frame.user, "teams")?;
            Ok((nav, teams::list(conn, org.id)?))
        })
        .await?;
    let (nav, teams) = page.data;
    crate::web::render_with(
        errors.status(),
        &TeamsPage {
            layout: page.layout,
            nav,
            errors,
            teams,
            form,
        },
    )
}

pub async fn teams_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    render_list(
        &signed,
        org_id.into_inner(),
        FormErrors::default(),
        TeamForm::default(),
    )
    .await
}

pub async fn create(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    form: web::Form<TeamForm>,
) -> AppResult<HttpResponse> {
    let (org_id, form) = (org_id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let parsed = errors.check(
        "name",
        Text::required(&form.name, keeping::NAME, "Enter a name for the team"),
    );
    if let Some(name) = parsed {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                keeping::create(conn, &Actor::person(user, &ip), org_id, &name)
            })
            .await?;
        match decision {
            Decision::Done(team) => {
                return signed.done(
                    &format!("Team {} created. Add its members below.", team.name),
                    &format!("/organisations/{org_id}/teams/{}", team.id),
                )
            }
            Decision::Refused(reason) => errors.add("name", reason),
        }
    }
    render_list(&signed, org_id, errors, form).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PeopleQuery {
    q: String,
}

#[derive(Template)]
#[template(path = "teams/team.html")]
struct TeamPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    team: Team,
    members: Vec<User>,
    /// The organisation's people matching the search, not in the team yet.
    candidates: Vec<User>,
    q: String,
}

async fn render_team(
    signed: &Signed,
    org_id: OrganisationId,
    team_id: TeamId,
    q: String,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let mut errors = errors;
    let search = errors
        .check("q", Text::parse(&q, SEARCH))
        .unwrap_or_default();
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::keep_teams(conn, &frame.user, org_id)?;
            let team = teams::find_in(conn, org.id, team_id)?;
            let nav = AdminNav::load(conn, &org, &frame.user, "teams")?;
            let members = team_members::members(conn, team.id)?;
            let (found, _) = people::search(
                conn,
                org.id,
                search.as_str(),
                &crate::domain::paging::PageStart::First,
            )?;
            let candidates = found
                .rows
                .into_iter()
                .filter(|p| p.is_active() && !members.iter().any(|m| m.id == p.id))
                .collect();
            Ok((nav, team, members, candidates))
        })
        .await?;
    let (nav, team, members, candidates) = page.data;
    let status = if errors.is_empty() {
        status
    } else if status == StatusCode::OK {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    crate::web::render_with(
        status,
        &TeamPage {
            layout: page.layout,
            nav,
            errors,
            team,
            members,
            candidates,
            q,
        },
    )
}

pub async fn team_page(
    signed: Signed,
    path: web::Path<(OrganisationId, TeamId)>,
    query: web::Query<PeopleQuery>,
) -> AppResult<HttpResponse> {
    let (org_id, team_id) = path.into_inner();
    render_team(
        &signed,
        org_id,
        team_id,
        query.into_inner().q,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    user_id: String,
    /// The search the person came from, to show the same people again.
    q: String,
}

pub async fn add_member(
    signed: Signed,
    path: web::Path<(OrganisationId, TeamId)>,
    form: web::Form<MemberForm>,
) -> AppResult<HttpResponse> {
    let (org_id, team_id) = path.into_inner();
    let form = form.into_inner();
    let team_path = format!("/organisations/{org_id}/teams/{team_id}");
    let Ok(person) = form.user_id.trim().parse::<UserId>() else {
        let mut errors = FormErrors::default();
        errors.add("user_id", "Choose someone from the organisation's people");
        return render_team(
            &signed,
            org_id,
            team_id,
            form.q,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            keeping::add_member(conn, &Actor::person(user, &ip), org_id, team_id, person)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(&flash, &format!("{team_path}#team-members")),
        Decision::Refused(reason) => {
            let mut errors = FormErrors::default();
            errors.add("user_id", reason);
            render_team(
                &signed,
                org_id,
                team_id,
                form.q,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn remove_member(
    signed: Signed,
    path: web::Path<(OrganisationId, TeamId, UserId)>,
) -> AppResult<HttpResponse> {
    let (org_id, team_id, person) = path.into_inner();
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            keeping::remove_member(conn, &Actor::person(user, &ip), org_id, team_id, person)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(
            &flash,
            &format!("/organisations/{org_id}/teams/{team_id}#team-members"),
        ),
        Decision::Refused(reason) => {
            let mut errors = FormErrors::default();
            errors.add("team-members", reason);
            render_team(
                &signed,
                org_id,
                team_id,
                String::new(),
                errors,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// "Resend to those not joined", from the team's row on the Users page.
pub async fn resend(
    signed: Signed,
    path: web::Path<(WorkspaceId, TeamId)>,
) -> AppResult<HttpResponse> {
    let (id, team) = path.into_inner();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            invitations::resend_to_team(conn, &base_url, &Actor::person(user, &ip), id, team)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(
            &flash,
            &format!("/workspaces/{id}/settings/users#team-invitations"),
        ),
        Decision::Refused(reason) => users_page_with_error(&signed, id, &reason).await,
    }
}

/// One person of a team's row on the Users page.
pub struct TeamPerson {
    pub name: String,
    pub address: String,
    pub status: &'static str,
    pub tag: &'static str,
}

/// A team invited into the workspace: "Night midwives: 3 of 5 joined", opening to its people.
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub joined: usize,
    pub people: Vec<TeamPerson>,
    /// "Resend to those not joined": someone has an open invitation, and the viewer may invite.
    pub may_resend: bool,
}

/// The Users page's team rows, for those who see its invitations. Read from the invitations
/// the team's invitation sent, so editing the team later changes no row.
pub fn team_rows(
    conn: &mut diesel::PgConnection,
    access: &permissions::WorkspaceAccess,
) -> AppResult<Vec<TeamRow>> {
    use crate::db::models::invitations::Status;
    use crate::db::models::team_invitations;
    if !(access.is_colleague() || access.manages) {
        return Ok(Vec::new());
    }
    let may_invite = permissions::may_invite(access);
    let mut rows: Vec<TeamRow> = Vec::new();
    for reached in team_invitations::in_workspace(conn, access.workspace.id)? {
        let status = reached.invitation.status();
        let joined = matches!(status, Status::Accepted | Status::Superseded);
        let person = TeamPerson {
            address: reached.invitation.address(),
            name: reached.name.unwrap_or_else(|| reached.invitation.address()),
            status: if joined { "Joined" } else { status.label() },
            tag: match status {
                Status::NotJoined => "nhsuk-tag--blue",
                Status::Accepted | Status::Superseded => "nhsuk-tag--green",
                Status::Declined | Status::Expired => "nhsuk-tag--grey",
                Status::Rescinded => "nhsuk-tag--red",
            },
        };
        let id = reached.team.id.to_string();
        if rows.last().map(|r| &r.id) != Some(&id) {
            rows.push(TeamRow {
                id,
                name: reached.team.name.clone(),
                joined: 0,
                people: Vec::new(),
                may_resend: false,
            });
        }
        let row = rows.last_mut().expect("pushed above");
        row.joined += usize::from(joined);
        row.may_resend |= may_invite && reached.invitation.is_open();
        row.people.push(person);
    }
    Ok(rows)
}
