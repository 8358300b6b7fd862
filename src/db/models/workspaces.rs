//! The `workspaces` table: team workspaces inside an organisation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{specialties, workspace_members, workspaces};
use crate::domain::{InvitePolicy, OrganisationId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Deserialize)]
#[diesel(table_name = workspaces)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub specialty_code: String,
    pub description: String,
    pub invite_policy: InvitePolicy,
    pub guests_allowed: bool,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = workspaces)]
pub struct NewWorkspace<'a> {
    pub id: WorkspaceId,
    pub organisation_id: OrganisationId,
    pub name: &'a str,
    pub specialty_code: &'a str,
    pub description: &'a str,
    pub created_by: Option<UserId>,
}

/// A live workspace as the discovery page lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub workspace: Workspace,
    pub specialty: String,
    pub approved_members: i64,
}

pub fn insert(conn: &mut PgConnection, new: &NewWorkspace) -> QueryResult<Workspace> {
    diesel::insert_into(workspaces::table)
        .values(new)
        .returning(Workspace::as_returning())
        .get_result(conn)
}

/// Inserts unless a live workspace of the organisation already has the name (a concurrent
/// create can pass the `name_taken` check at the same moment): `None` then. The insert runs in
/// a savepoint, so the caller's transaction stays usable.
pub fn insert_unless_name_taken(
    conn: &mut PgConnection,
    new: &NewWorkspace,
) -> QueryResult<Option<Workspace>> {
    use diesel::result::{DatabaseErrorKind, Error};
    match conn.transaction(|conn| insert(conn, new)) {
        Ok(workspace) => Ok(Some(workspace)),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("workspaces_name_key") =>
        {
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// A live (not archived) workspace.
pub fn find_live(conn: &mut PgConnection, id: WorkspaceId) -> QueryResult<Workspace> {
    workspaces::table
        .find(id)
        .filter(workspaces::archived_at.is_null())
        .select(Workspace::as_select())
        .first(conn)
}

/// A live workspace with `user`'s current membership of it and their place in its
/// organisation (`None`: not a member; `Some(None)`: a member; `Some(Some(_))`: suspended),
/// in one statement: every workspace page and action asks this first.
#[allow(clippy::type_complexity)]
pub fn find_live_with_person(
    conn: &mut PgConnection,
    id: WorkspaceId,
    user: UserId,
) -> QueryResult<(
    Workspace,
    Option<crate::db::models::workspace_members::Membership>,
    Option<Option<DateTime<Utc>>>,
)> {
    use crate::db::models::workspace_members::Membership;
    use crate::db::schema::organisation_members;
    let (workspace, membership, organisation_member, suspended_at) = workspaces::table
        .left_join(
            workspace_members::table.on(workspace_members::workspace_id
                .eq(workspaces::id)
                .and(workspace_members::user_id.eq(user))
                // As `workspace_members::find`: a guest past their end date is out at once.
                .and(
                    workspace_members::ends_at
                        .is_null()
                        .or(workspace_members::ends_at.gt(diesel::dsl::now)),
                )),
        )
        .left_join(
            organisation_members::table.on(organisation_members::organisation_id
                .eq(workspaces::organisation_id)
                .and(organisation_members::user_id.eq(user))),
        )
        .filter(workspaces::id.eq(id))
        .filter(workspaces::archived_at.is_null())
        .select((
            Workspace::as_select(),
            Option::<Membership>::as_select(),
            organisation_members::user_id.nullable(),
            organisation_members::suspended_at.nullable(),
        ))
        .first::<(
            Workspace,
            Option<Membership>,
            Option<UserId>,
            Option<DateTime<Utc>>,
        )>(conn)?;
    Ok((
        workspace,
        membership,
        organisation_member.map(|_| suspended_at),
    ))
}

/// Locks the workspace row for the rest of the transaction: membership changes that must not
/// leave a workspace without an admin take this lock first, so they run one after another.
/// Any workspace, archived ones included (old invitations still name theirs).
pub fn find(conn: &mut PgConnection, id: WorkspaceId) -> QueryResult<Workspace> {
    workspaces::table
        .find(id)
        .select(Workspace::as_select())
        .first(conn)
}

pub fn lock(conn: &mut PgConnection, id: WorkspaceId) -> QueryResult<Workspace> {
    workspaces::table
        .find(id)
        .filter(workspaces::archived_at.is_null())
        .select(Workspace::as_select())
        .for_update()
        .first(conn)
}

pub fn name_taken(conn: &mut PgConnection, org: OrganisationId, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        workspaces::table
            .filter(workspaces::organisation_id.eq(org))
            .filter(workspaces::archived_at.is_null())
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(name) = lower(")
                    .bind::<diesel::sql_types::Text, _>(name)
                    .sql(")"),
            ),
    ))
    .get_result(conn)
}

/// The organisation's live workspaces with their specialty and approved member count.
pub fn listed_in(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Vec<Listed>> {
    let rows: Vec<(Workspace, String)> = workspaces::table
        .inner_join(specialties::table)
        .filter(workspaces::organisation_id.eq(org))
        .filter(workspaces::archived_at.is_null())
        .order(workspaces::name)
        .select((Workspace::as_select(), specialties::name))
        .load(conn)?;
    let ids: Vec<WorkspaceId> = rows.iter().map(|(w, _)| w.id).collect();
    let counts: Vec<(WorkspaceId, i64)> = workspace_members::table
        .filter(workspace_members::workspace_id.eq_any(&ids))
        .filter(workspace_members::status.eq("approved"))
        .group_by(workspace_members::workspace_id)
        .select((workspace_members::workspace_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(workspace, specialty)| {
            let approved_members = counts
                .iter()
                .find(|(id, _)| *id == workspace.id)
                .map_or(0, |(_, n)| *n);
            Listed {
                workspace,
                specialty,
                approved_members,
            }
        })
        .collect())
}

pub fn archive(conn: &mut PgConnection, id: WorkspaceId) -> QueryResult<usize> {
    diesel::update(workspaces::table.find(id))
        .set(workspaces::archived_at.eq(diesel::dsl::now))
        .execute(conn)
}

/// What a workspace's admins may change on its settings page.
pub struct SettingsChanges<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub invite_policy: InvitePolicy,
    pub guests_allowed: bool,
}

/// Saves the settings; false when another live workspace took the name at the same moment
/// (the update runs in a savepoint, so the caller's transaction stays usable).
pub fn update_settings(
    conn: &mut PgConnection,
    id: WorkspaceId,
    changes: &SettingsChanges,
) -> QueryResult<bool> {
    use diesel::result::{DatabaseErrorKind, Error};
    let saved = conn.transaction(|conn| {
        diesel::update(
            workspaces::table
                .find(id)
                .filter(workspaces::archived_at.is_null()),
        )
        .set((
            workspaces::name.eq(changes.name),
            workspaces::description.eq(changes.description),
            workspaces::invite_policy.eq(changes.invite_policy),
            workspaces::guests_allowed.eq(changes.guests_allowed),
        ))
        .execute(conn)
    });
    match saved {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("workspaces_name_key") =>
        {
            Ok(false)
        }
        Err(other) => Err(other),
    }
}

/// Whether another live workspace in the organisation already has this name.
pub fn name_taken_by_other(
    conn: &mut PgConnection,
    org: OrganisationId,
    name: &str,
    except: WorkspaceId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        workspaces::table
            .filter(workspaces::organisation_id.eq(org))
            .filter(workspaces::archived_at.is_null())
            .filter(workspaces::id.ne(except))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(name) = lower(")
                    .bind::<diesel::sql_types::Text, _>(name)
                    .sql(")"),
            ),
    ))
    .get_result(conn)
}
