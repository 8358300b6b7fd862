//! The `team_invitations` table: the invitations a team's invitation sent into a workspace.
//! The team's row on the Users page is read from here, not from the team as it is now, so a
//! person taken out of the team afterwards keeps their invitation and their place in the row.

use diesel::prelude::*;

use crate::db::models::invitations::Invitation;
use crate::db::models::teams::Team;
use crate::db::schema::{invitations, team_invitations, teams, users};
use crate::domain::{InvitationId, TeamId, UserId, WorkspaceId};

/// Records that the team's invitation reached this invitation (again: kept once).
pub fn record(
    conn: &mut PgConnection,
    team: TeamId,
    invitation: InvitationId,
    by: UserId,
) -> QueryResult<usize> {
    diesel::insert_into(team_invitations::table)
        .values((
            team_invitations::team_id.eq(team),
            team_invitations::invitation_id.eq(invitation),
            team_invitations::invited_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
}

/// The team's invitations into this workspace.
pub fn of_team(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    team: TeamId,
) -> QueryResult<Vec<Invitation>> {
    team_invitations::table
        .inner_join(invitations::table)
        .filter(team_invitations::team_id.eq(team))
        .filter(invitations::workspace_id.eq(workspace))
        .order(invitations::email)
        .select(Invitation::as_select())
        .load(conn)
}

/// One person of a team's row: the invitation, and the name of the account with its address.
pub struct Reached {
    pub team: Team,
    pub invitation: Invitation,
    pub name: Option<String>,
}

/// A team, one invitation it sent, and the first name and surname of the account invited.
type Row = (Team, Invitation, Option<(String, String)>);

/// Every team invited into the workspace with the invitations it sent, by team name.
pub fn in_workspace(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<Vec<Reached>> {
    let rows: Vec<Row> = team_invitations::table
        .inner_join(teams::table)
        .inner_join(invitations::table)
        .left_join(users::table.on(invitations::email.eq(users::email.nullable())))
        .filter(invitations::workspace_id.eq(workspace))
        .order((
            teams::name,
            teams::id,
            users::surname.nullable(),
            invitations::email,
        ))
        .select((
            Team::as_select(),
            Invitation::as_select(),
            (users::first_name, users::surname).nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(team, invitation, name)| Reached {
            team,
            invitation,
            name: name.map(|(first, last)| format!("{first} {last}")),
        })
        .collect())
}
