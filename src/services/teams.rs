//! Keeping an organisation's teams: creating one, adding and taking out its members, for
//! holders of "manage users" or "manage workspaces" there. A change to a team changes no
//! invitation already sent (`services::invitations` invites a team and resends to it).

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::people;
use crate::db::models::team_members;
use crate::db::models::teams::{self, Team};
use crate::domain::{AuditAction, OrganisationId, TeamId, Text, TextRules, UserId};
use crate::error::AppResult;

/// A team's name: one line, like a workspace's.
pub const NAME: TextRules = TextRules::line("The team's name", 100);

/// Creates the team; refused when the organisation has one of that name.
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    name: &Text,
) -> AppResult<Decision<Team>> {
    let keeper = actor.user()?;
    let org = permissions::keep_teams(conn, keeper, org)?;
    let Some(team) = teams::insert(conn, org.id, name.as_str(), keeper.id)? else {
        return Ok(Decision::Refused(format!(
            "{} already has a team called {name}",
            org.name
        )));
    };
    audit::record(
        conn,
        &actor
            .event(AuditAction::TeamCreated)
            .organisation(org.id)
            .detail(format!(
                "{} created the team {}",
                keeper.full_name(),
                team.name
            )),
    )?;
    Ok(Decision::Done(team))
}

/// Adds one of the organisation's people to the team; refused for anyone else.
pub fn add_member(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    team: TeamId,
    person: UserId,
) -> AppResult<Decision> {
    let keeper = actor.user()?;
    let org = permissions::keep_teams(conn, keeper, org)?;
    let team = teams::find_in(conn, org.id, team)?;
    let person = match people::find_member(conn, org.id, person) {
        Ok(person) => person,
        Err(diesel::NotFound) => {
            return Ok(Decision::Refused(format!(
                "Choose someone from {}'s people",
                org.name
            )))
        }
        Err(other) => return Err(other.into()),
    };
    // The composite key refuses anyone who left the organisation meanwhile.
    if !team_members::add(conn, org.id, team.id, person.id, keeper.id)? {
        return Ok(Decision::Done(format!(
            "{} is in {} already.",
            person.full_name(),
            team.name
        )));
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::TeamMemberAdded)
            .organisation(org.id)
            .target(person.id)
            .detail(format!(
                "{} added {} to the team {}",
                keeper.full_name(),
                person.full_name(),
                team.name
            )),
    )?;
    Ok(Decision::Done(format!(
        "{} added to {}.",
        person.full_name(),
        team.name
    )))
}

/// Takes a member out of the team. Their invitations sent with the team stay as they are.
pub fn remove_member(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    team: TeamId,
    person: UserId,
) -> AppResult<Decision> {
    let keeper = actor.user()?;
    let org = permissions::keep_teams(conn, keeper, org)?;
    let team = teams::find_in(conn, org.id, team)?;
    let name = crate::db::models::users::find(conn, person)
        .map(|u| u.full_name())
        .unwrap_or_else(|_| "They".into());
    if !team_members::remove(conn, team.id, person)? {
        return Ok(Decision::Refused(format!("{name} is not in {}", team.name)));
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::TeamMemberRemoved)
            .organisation(org.id)
            .target(person)
            .detail(format!(
                "{} took {name} out of the team {}",
                keeper.full_name(),
                team.name
            )),
    )?;
    Ok(Decision::Done(format!(
        "{name} taken out of {}. Invitations sent with the team before stay as they are.",
        team.name
    )))
}
