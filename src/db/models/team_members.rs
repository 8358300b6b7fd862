//! The `team_members` table: who is in a team. The database holds each member to the team's
//! organisation (a composite key on `organisation_members`), so a person removed from it
//! leaves its teams too.

use diesel::prelude::*;

use crate::db::models::users::User;
use crate::db::schema::{team_members, users};
use crate::domain::{OrganisationId, TeamId, UserId};

/// Adds the person; `false` when they were in the team already.
pub fn add(
    conn: &mut PgConnection,
    org: OrganisationId,
    team: TeamId,
    user: UserId,
    by: UserId,
) -> QueryResult<bool> {
    diesel::insert_into(team_members::table)
        .values((
            team_members::team_id.eq(team),
            team_members::organisation_id.eq(org),
            team_members::user_id.eq(user),
            team_members::added_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// Takes the person out; `false` when they were not in it.
pub fn remove(conn: &mut PgConnection, team: TeamId, user: UserId) -> QueryResult<bool> {
    diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team))
            .filter(team_members::user_id.eq(user)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

/// The team's members, by surname.
pub fn members(conn: &mut PgConnection, team: TeamId) -> QueryResult<Vec<User>> {
    team_members::table
        .inner_join(users::table.on(users::id.eq(team_members::user_id)))
        .filter(team_members::team_id.eq(team))
        .order((users::surname, users::first_name, users::id))
        .select(User::as_select())
        .load(conn)
}
