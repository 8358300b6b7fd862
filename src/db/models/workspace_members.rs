//! The `workspace_members` table: who belongs to a workspace, pending or approved, with which
//! role, and who caused it. Changes that race (two admins deciding one request) are conditional
//! statements, so exactly one of them takes effect.

use crate::domain::{MembershipStatus, WorkspaceRole};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::models::users::User;
use crate::db::models::workspaces::Workspace;
use crate::db::paging;
use crate::db::schema::{users, workspace_members, workspaces};
use crate::domain::paging::{Count, PageStart, Paged, COUNT_CAP};
use crate::domain::{UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, serde::Deserialize)]
#[diesel(table_name = workspace_members)]
pub struct Membership {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub status: MembershipStatus,
    pub role: WorkspaceRole,
    pub request_message: String,
    pub requested_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<UserId>,
    pub invited_by: Option<UserId>,
    /// Guests invited with an end date: the membership ends then.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Membership {
    pub fn is_approved(&self) -> bool {
        self.status == MembershipStatus::Approved
    }

    pub fn is_admin(&self) -> bool {
        self.is_approved() && self.role == WorkspaceRole::Admin
    }
}

pub fn find(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
) -> QueryResult<Option<Membership>> {
    workspace_members::table
        .find((workspace, user))
        // A guest past their end date is out at once, before housekeeping removes the row.
        .filter(
            workspace_members::ends_at
                .is_null()
                .or(workspace_members::ends_at.gt(diesel::dsl::now)),
        )
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

/// Adds a membership; `None` when the person already has one in this workspace.
pub fn insert(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    status: MembershipStatus,
    role: WorkspaceRole,
    message: &str,
    approved_by: Option<UserId>,
) -> QueryResult<Option<Membership>> {
    diesel::insert_into(workspace_members::table)
        .values((
            workspace_members::workspace_id.eq(workspace),
            workspace_members::user_id.eq(user),
            workspace_members::status.eq(status),
            workspace_members::role.eq(role),
            workspace_members::request_message.eq(message),
            workspace_members::approved_at
                .eq((status == MembershipStatus::Approved).then(Utc::now)),
            workspace_members::approved_by.eq(approved_by),
        ))
        .on_conflict_do_nothing()
        .returning(Membership::as_returning())
        .get_result(conn)
        .optional()
}

/// Makes the person an approved member through an invitation or an approving shareable link:
/// a new membership, or their pending request approved with the invited role. `false` when they
/// were already approved (their role stays as it was).
pub fn join_approved(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    role: WorkspaceRole,
    invited_by: Option<UserId>,
    ends_at: Option<DateTime<Utc>>,
) -> QueryResult<bool> {
    // Callers hold the workspace lock, so nothing changes between the read and the write.
    match find(conn, workspace, user)? {
        Some(existing) if existing.is_approved() => Ok(false),
        Some(_) => {
            diesel::update(workspace_members::table.find((workspace, user)))
                .set((
                    workspace_members::status.eq(MembershipStatus::Approved),
                    workspace_members::role.eq(role),
                    workspace_members::approved_at.eq(diesel::dsl::now),
                    workspace_members::approved_by.eq(invited_by),
                    workspace_members::invited_by.eq(invited_by),
                    workspace_members::ends_at.eq(ends_at),
                ))
                .execute(conn)?;
            Ok(true)
        }
        None => {
            diesel::insert_into(workspace_members::table)
                .values((
                    workspace_members::workspace_id.eq(workspace),
                    workspace_members::user_id.eq(user),
                    workspace_members::status.eq(MembershipStatus::Approved),
                    workspace_members::role.eq(role),
                    workspace_members::approved_at.eq(Utc::now()),
                    workspace_members::approved_by.eq(invited_by),
                    workspace_members::invited_by.eq(invited_by),
                    workspace_members::ends_at.eq(ends_at),
                ))
                .execute(conn)?;
            Ok(true)
        }
    }
}

/// Records who invited a pending guest and when their access will end.
pub fn set_guest_end(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    invited_by: Option<UserId>,
    ends_at: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    diesel::update(workspace_members::table.find((workspace, user)))
        .set((
            workspace_members::invited_by.eq(invited_by),
            workspace_members::ends_at.eq(ends_at),
        ))
        .execute(conn)
}

/// Guests whose end date has passed: (workspace, user).
pub fn ended(conn: &mut PgConnection) -> QueryResult<Vec<(WorkspaceId, UserId)>> {
    workspace_members::table
        .filter(workspace_members::role.eq(WorkspaceRole::Guest))
        .filter(workspace_members::ends_at.le(diesel::dsl::now))
        .select((workspace_members::workspace_id, workspace_members::user_id))
        .load(conn)
}

/// Guests whose membership ends within a week and who have not been told yet; claimed by
/// marking them told.
pub fn claim_ending_soon(
    conn: &mut PgConnection,
) -> QueryResult<Vec<(Membership, User, Workspace)>> {
    let due: Vec<(WorkspaceId, UserId)> = workspace_members::table
        .filter(workspace_members::role.eq(WorkspaceRole::Guest))
        .filter(workspace_members::ends_at.gt(diesel::dsl::now))
        .filter(workspace_members::ends_at.le(Utc::now() + chrono::Duration::days(7)))
        .filter(workspace_members::end_warned_at.is_null())
        .select((workspace_members::workspace_id, workspace_members::user_id))
        .load(conn)?;
    let mut claimed = Vec::new();
    for (workspace, user) in due {
        let updated = diesel::update(
            workspace_members::table
                .find((workspace, user))
                .filter(workspace_members::end_warned_at.is_null()),
        )
        .set(workspace_members::end_warned_at.eq(diesel::dsl::now))
        .execute(conn)?;
        if updated == 1 {
            claimed.push(
                workspace_members::table
                    .find((workspace, user))
                    .inner_join(users::table.on(users::id.eq(workspace_members::user_id)))
                    .inner_join(workspaces::table)
                    .select((
                        Membership::as_select(),
                        User::as_select(),
                        Workspace::as_select(),
                    ))
                    .first(conn)?,
            );
        }
    }
    Ok(claimed)
}

/// Approves a pending request; false when it was already handled (or never existed).
pub fn approve(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    by: UserId,
) -> QueryResult<bool> {
    let updated = diesel::update(
        workspace_members::table
            .find((workspace, user))
            .filter(workspace_members::status.eq(MembershipStatus::Pending)),
    )
    .set((
        workspace_members::status.eq(MembershipStatus::Approved),
        workspace_members::approved_at.eq(diesel::dsl::now),
        workspace_members::approved_by.eq(by),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Declines a pending request by removing it; false when it was already handled.
pub fn decline(conn: &mut PgConnection, workspace: WorkspaceId, user: UserId) -> QueryResult<bool> {
    let deleted = diesel::delete(
        workspace_members::table
            .find((workspace, user))
            .filter(workspace_members::status.eq(MembershipStatus::Pending)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

pub fn remove(conn: &mut PgConnection, workspace: WorkspaceId, user: UserId) -> QueryResult<bool> {
    super::conversations::unassign_member(conn, workspace, user)?; // theirs stay, unassigned
    Ok(diesel::delete(workspace_members::table.find((workspace, user))).execute(conn)? == 1)
}

pub fn set_role(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    role: WorkspaceRole,
) -> QueryResult<bool> {
    let updated = diesel::update(
        workspace_members::table
            .find((workspace, user))
            .filter(workspace_members::status.eq(MembershipStatus::Approved)),
    )
    .set(workspace_members::role.eq(role))
    .execute(conn)?;
    if role != WorkspaceRole::Guest {
        // Only guests have an end date: someone promoted from guest stays.
        diesel::update(workspace_members::table.find((workspace, user)))
            .set(workspace_members::ends_at.eq(None::<DateTime<Utc>>))
            .execute(conn)?;
    }
    Ok(updated == 1)
}

pub fn approved_admin_count(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<i64> {
    workspace_members::table
        .filter(workspace_members::workspace_id.eq(workspace))
        .filter(workspace_members::status.eq(MembershipStatus::Approved))
        .filter(workspace_members::role.eq(WorkspaceRole::Admin))
        .count()
        .get_result(conn)
}

pub fn member_count(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<i64> {
    workspace_members::table
        .filter(workspace_members::workspace_id.eq(workspace))
        .count()
        .get_result(conn)
}

/// Approved members a conversation may be given to: at most `most` of them in name order
/// (`users_by_name_idx`), only those whose full name contains `search` when there is one,
/// and whoever `always` names (the viewer, the assignee) besides. Whether more matched.
/// A workspace of 100,000 members is never read whole for one page's list.
pub fn assignable(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    search: &str,
    always: &[UserId],
    most: i64,
) -> QueryResult<(Vec<(Membership, User)>, bool)> {
    let approved = || {
        workspace_members::table
            .inner_join(users::table.on(users::id.eq(workspace_members::user_id)))
            .filter(workspace_members::workspace_id.eq(workspace))
            .filter(workspace_members::status.eq(MembershipStatus::Approved))
            .select((Membership::as_select(), User::as_select()))
            .into_boxed()
    };
    let mut first = approved()
        .order((users::surname, users::first_name, users::id))
        .limit(most + 1);
    if !search.trim().is_empty() {
        let pattern = crate::db::models::people::contains_pattern(search.trim());
        first = first.filter(
            users::first_name
                .concat(" ")
                .concat(users::surname)
                .ilike(pattern),
        );
    }
    let mut found: Vec<(Membership, User)> = first.load(conn)?;
    let more = found.len() as i64 > most;
    found.truncate(most as usize);
    let missing: Vec<UserId> = always
        .iter()
        .filter(|id| !found.iter().any(|(m, _)| m.user_id == **id))
        .copied()
        .collect();
    if !missing.is_empty() {
        found.extend(
            approved()
                .filter(workspace_members::user_id.eq_any(missing))
                .load::<(Membership, User)>(conn)?,
        );
    }
    found.sort_by(|(_, a), (_, b)| {
        (&a.first_name, &a.surname, a.id.0).cmp(&(&b.first_name, &b.surname, b.id.0))
    });
    Ok((found, more))
}

/// The approved admins' accounts (who to tell about a request).
pub fn admins(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<Vec<User>> {
    workspace_members::table
        .inner_join(users::table.on(users::id.eq(workspace_members::user_id)))
        .filter(workspace_members::workspace_id.eq(workspace))
        .filter(workspace_members::status.eq(MembershipStatus::Approved))
        .filter(workspace_members::role.eq(WorkspaceRole::Admin))
        .filter(users::deactivated_at.is_null())
        .select(User::as_select())
        .load(conn)
}

/// The user's live workspaces with their membership, by name (the switcher).
pub fn of_user(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<(Workspace, Membership)>> {
    workspaces::table
        .inner_join(workspace_members::table)
        .filter(workspace_members::user_id.eq(user))
        .filter(workspaces::archived_at.is_null())
        .filter(
            workspace_members::ends_at
                .is_null()
                .or(workspace_members::ends_at.gt(diesel::dsl::now)),
        )
        .order(workspaces::name)
        .select((Workspace::as_select(), Membership::as_select()))
        .load(conn)
}

/// Pending requests in the live workspaces this user administers: (workspace, count).
pub fn pending_for_admin(
    conn: &mut PgConnection,
    admin: UserId,
) -> QueryResult<Vec<(WorkspaceId, i64)>> {
    let administered: Vec<WorkspaceId> = workspace_members::table
        .inner_join(workspaces::table)
        .filter(workspace_members::user_id.eq(admin))
        .filter(workspace_members::status.eq(MembershipStatus::Approved))
        .filter(workspace_members::role.eq(WorkspaceRole::Admin))
        .filter(workspaces::archived_at.is_null())
        .select(workspace_members::workspace_id)
        .load(conn)?;
    workspace_members::table
        .filter(workspace_members::workspace_id.eq_any(&administered))
        .filter(workspace_members::status.eq(MembershipStatus::Pending))
        .group_by(workspace_members::workspace_id)
        .select((workspace_members::workspace_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Removes every remaining membership (the workspace is being archived).
pub fn remove_all(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<usize> {
    diesel::delete(workspace_members::table.filter(workspace_members::workspace_id.eq(workspace)))
        .execute(conn)
}

/// The workspaces of the organisation where the person has a membership (ended guests'
/// included), in id order: the order a removal locks them in, so two never deadlock.
pub fn workspaces_in_organisation(
    conn: &mut PgConnection,
    org: crate::domain::OrganisationId,
    user: UserId,
) -> QueryResult<Vec<WorkspaceId>> {
    workspace_members::table
        .inner_join(workspaces::table)
        .filter(workspace_members::user_id.eq(user))
        .filter(workspaces::organisation_id.eq(org))
        .filter(workspaces::archived_at.is_null())
        .order(workspace_members::workspace_id)
        .select(workspace_members::workspace_id)
        .load(conn)
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: UserId,
}

/// Who takes over when the workspace's only admin leaves the organisation: the approved
/// member who has been approved longest, still in the organisation, not suspended, active.
pub fn longest_standing_colleague(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
) -> QueryResult<Option<UserId>> {
    let found: Option<Found> = diesel::sql_query(
        "SELECT m.user_id FROM workspace_members m
           JOIN workspaces w ON w.id = m.workspace_id
           JOIN users u ON u.id = m.user_id AND u.deactivated_at IS NULL
           JOIN organisation_members om ON om.organisation_id = w.organisation_id
                                       AND om.user_id = m.user_id AND om.suspended_at IS NULL
          WHERE m.workspace_id = $1 AND m.status = 'approved' AND m.role = 'member'
          ORDER BY m.approved_at NULLS LAST, m.requested_at, m.user_id
          LIMIT 1",
    )
    .bind::<diesel::sql_types::Uuid, _>(workspace)
    .get_result(conn)
    .optional()?;
    Ok(found.map(|f| f.user_id))
}

/// Sets (or with `None` removes) an approved guest's end; the week-before warning is due again
/// for the new date. False when they are no longer an approved guest here.
pub fn change_guest_end(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
    ends_at: Option<DateTime<Utc>>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        workspace_members::table
            .find((workspace, user))
            .filter(workspace_members::status.eq(MembershipStatus::Approved))
            .filter(workspace_members::role.eq(WorkspaceRole::Guest)),
    )
    .set((
        workspace_members::ends_at.eq(ends_at),
        workspace_members::end_warned_at.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A member on a page of the Users page, with how many share their status (capped).
#[derive(QueryableByName)]
struct Listed {
    #[diesel(embed)]
    membership: Membership,
    #[diesel(embed)]
    user: User,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    counted: i64,
}

impl paging::Keyed<crate::domain::paging::PageKey> for Listed {
    fn key(&self) -> crate::domain::paging::PageKey {
        crate::domain::paging::PageKey {
            surname: self.user.surname.clone(),
            first_name: self.user.first_name.clone(),
            id: self.user.id.0,
        }
    }

    fn id(&self) -> uuid::Uuid {
        self.user.id.0
    }
}

/// One page of the workspace's members with `status`, with their accounts, by surname, first
/// name and id from `start` (read in the order of `users_by_name_idx`, a page at a time), and
/// how many have that status, counted up to the cap (`workspace_members_by_status_idx`
/// alone): one statement.
pub fn page_with_users(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    status: MembershipStatus,
    start: &PageStart,
) -> QueryResult<(Paged<(Membership, User)>, Count)> {
    let page = paging::page(start, |start| {
        let (from, order) = paging::keyset(start, "u", 3);
        // Planned for each workspace: a workspace of fifty and one of a hundred thousand want
        // different plans (walk the name index, or find the members and sort them).
        // `m.*, u.*`: the two tables share no column name (a shared one would be read from
        // the first).
        let statement = crate::db::cached::planned(format!(
            "SELECT m.*, u.*,
                    (SELECT count(*) FROM (SELECT 1 FROM workspace_members c
                        WHERE c.workspace_id = $1 AND c.status = $2 LIMIT {cap}) n) AS counted
             FROM workspace_members m JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = $1 AND m.status = $2{from}
             ORDER BY {order} LIMIT {limit}",
            cap = COUNT_CAP + 1,
            limit = paging::LIMIT
        ))
        .bind::<diesel::sql_types::Uuid, _>(workspace.0)
        .bind::<diesel::sql_types::Text, _>(status);
        paging::bind_key(statement, start).load::<Listed>(conn)
    })?;
    // Every row carries the count; a page with no rows is the first page of nobody.
    let count = Count::capped(page.rows.first().map_or(0, |row| row.counted));
    Ok((page.map(|row| (row.membership, row.user)), count))
}

/// The workspace's approved admins, counted up to `most`.
pub fn approved_admins_up_to(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    most: i64,
) -> QueryResult<i64> {
    Ok(workspace_members::table
        .filter(workspace_members::workspace_id.eq(workspace))
        .filter(workspace_members::status.eq(MembershipStatus::Approved))
        .filter(workspace_members::role.eq(WorkspaceRole::Admin))
        .select(workspace_members::user_id)
        .limit(most)
        .load::<UserId>(conn)?
        .len() as i64)
}
