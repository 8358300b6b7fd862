//! The `teams` table: named groups of an organisation's people (`team_members`), invited into
//! a workspace together. A name is unique in its organisation, whatever its case.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::teams;
use crate::domain::{OrganisationId, TeamId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: TeamId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// A new team; `None` when the organisation has a team of that name already.
pub fn insert(
    conn: &mut PgConnection,
    org: OrganisationId,
    name: &str,
    by: UserId,
) -> QueryResult<Option<Team>> {
    diesel::insert_into(teams::table)
        .values((
            teams::id.eq(TeamId::new()),
            teams::organisation_id.eq(org),
            teams::name.eq(name),
            teams::created_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .returning(Team::as_returning())
        .get_result(conn)
        .optional()
}

/// The team with this id in this organisation (another organisation's ids are not found).
pub fn find_in(conn: &mut PgConnection, org: OrganisationId, id: TeamId) -> QueryResult<Team> {
    teams::table
        .filter(teams::id.eq(id))
        .filter(teams::organisation_id.eq(org))
        .select(Team::as_select())
        .first(conn)
}

/// The organisation's teams by name, each with how many members it has.
pub fn list(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Vec<(Team, i64)>> {
    let members = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM team_members m WHERE m.team_id = teams.id)",
    );
    teams::table
        .filter(teams::organisation_id.eq(org))
        .order((teams::name, teams::id))
        .select((Team::as_select(), members))
        .load(conn)
}
