//! The `invitations` and `invitation_links` tables: who was invited into which workspace, by
//! whom, with which role, and the links (SHA-256 of the token) that lead to each invitation.
//! An invitation is open until it is accepted, declined, rescinded or superseded; an open one
//! past `expires_at` is expired. Accepting is one conditional UPDATE ... RETURNING.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::models::outbox::OutboxMessage;
use crate::db::paging;
use crate::db::schema::{invitation_links, invitations, outbox, users, workspaces};
use crate::domain::paging::{Count, PageStart, Paged, SentKey, COUNT_CAP};
use crate::domain::{InvitationId, Invitee, UserId, WorkspaceId, WorkspaceRole};

/// An invitation lives this long from when it was last sent.
pub const VALID_FOR_DAYS: i64 = 30;
/// The reminder goes out this long before an open invitation expires.
pub const REMIND_BEFORE_DAYS: i64 = 3;
/// At most this many invitations (new or resent) a day per workspace.
pub const DAILY_LIMIT: i64 = 200;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub role: WorkspaceRole,
    pub invited_by: Option<UserId>,
    pub guest_until: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub outbox_id: Option<i64>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<UserId>,
    pub declined_at: Option<DateTime<Utc>>,
    pub rescinded_at: Option<DateTime<Utc>>,
    pub rescinded_by: Option<UserId>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub new_invitation_asked_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands, as the Users page and a dead link say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotJoined,
    Accepted,
    Declined,
    Expired,
    Rescinded,
    /// The person joined through another invitation to the same address.
    Superseded,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::NotJoined => "Not joined",
            Status::Accepted => "Accepted",
            Status::Declined => "Declined",
            Status::Expired => "Expired",
            Status::Rescinded => "Rescinded",
            Status::Superseded => "Joined another way",
        }
    }
}

impl Invitation {
    pub fn status(&self) -> Status {
        if self.accepted_at.is_some() {
            Status::Accepted
        } else if self.declined_at.is_some() {
            Status::Declined
        } else if self.rescinded_at.is_some() {
            Status::Rescinded
        } else if self.superseded_at.is_some() {
            Status::Superseded
        } else if self.expires_at <= Utc::now() {
            Status::Expired
        } else {
            Status::NotJoined
        }
    }

    /// Not accepted, declined, rescinded or superseded (it may have expired: a resend revives it).
    pub fn is_open(&self) -> bool {
        matches!(self.status(), Status::NotJoined | Status::Expired)
    }

    /// The email address or mobile number, as people write it.
    pub fn address(&self) -> String {
        match (&self.email, &self.mobile) {
            (Some(email), _) => email.clone(),
            (None, Some(mobile)) => crate::domain::MobileNumber::parse(mobile)
                .map_or_else(|_| mobile.clone(), |m| m.national()),
            (None, None) => String::new(),
        }
    }

    /// Whether this is the address of the given verified account.
    pub fn is_for_email(&self, email: &str) -> bool {
        self.email
            .as_deref()
            .is_some_and(|invited| invited.eq_ignore_ascii_case(email))
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub role: WorkspaceRole,
    pub invited_by: Option<UserId>,
    pub guest_until: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
}

/// The filter for invitations that are still open.
macro_rules! open {
    () => {
        invitations::accepted_at
            .is_null()
            .and(invitations::declined_at.is_null())
            .and(invitations::rescinded_at.is_null())
            .and(invitations::superseded_at.is_null())
    };
}

pub fn insert(conn: &mut PgConnection, new: &NewInvitation) -> QueryResult<Invitation> {
    diesel::insert_into(invitations::table)
        .values(new)
        .returning(Invitation::as_returning())
        .get_result(conn)
}

/// The invitation with this id in this workspace (ids from another workspace are not found).
pub fn find_in_workspace(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: InvitationId,
) -> QueryResult<Invitation> {
    invitations::table
        .filter(invitations::id.eq(id))
        .filter(invitations::workspace_id.eq(workspace))
        .select(Invitation::as_select())
        .first(conn)
}

/// The open invitation to this address in this workspace, if any.
pub fn open_for_invitee(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    invitee: &Invitee,
) -> QueryResult<Option<Invitation>> {
    let query = invitations::table
        .filter(invitations::workspace_id.eq(workspace))
        .filter(open!())
        .select(Invitation::as_select())
        .into_boxed();
    let query = match invitee {
        Invitee::Email(email) => query.filter(invitations::email.eq(email.as_str())),
        Invitee::Mobile(mobile) => query.filter(invitations::mobile.eq(mobile.as_str())),
    };
    query.first(conn).optional()
}

/// A new link for the invitation. A send or resend supersedes the earlier links; a reminder's
/// link works alongside them.
pub fn add_link(
    conn: &mut PgConnection,
    invitation: InvitationId,
    token_hash: &str,
    reminder: bool,
) -> QueryResult<()> {
    if !reminder {
        diesel::update(
            invitation_links::table
                .filter(invitation_links::invitation_id.eq(invitation))
                .filter(invitation_links::superseded_at.is_null()),
        )
        .set(invitation_links::superseded_at.eq(diesel::dsl::now))
        .execute(conn)?;
    }
    diesel::insert_into(invitation_links::table)
        .values((
            invitation_links::token_hash.eq(token_hash),
            invitation_links::invitation_id.eq(invitation),
            invitation_links::is_reminder.eq(reminder),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the message that carried the latest link (its delivery status is shown).
pub fn set_outbox(conn: &mut PgConnection, id: InvitationId, message: i64) -> QueryResult<usize> {
    diesel::update(invitations::table.find(id))
        .set(invitations::outbox_id.eq(message))
        .execute(conn)
}

/// A resend: 30 days again from now, the reminder due again, role and inviter as asked now.
pub fn restart(
    conn: &mut PgConnection,
    id: InvitationId,
    role: WorkspaceRole,
    invited_by: UserId,
    guest_until: Option<NaiveDate>,
) -> QueryResult<Invitation> {
    diesel::update(invitations::table.find(id).filter(open!()))
        .set((
            invitations::sent_at.eq(diesel::dsl::now),
            invitations::expires_at.eq(Utc::now() + Duration::days(VALID_FOR_DAYS)),
            invitations::reminded_at.eq(None::<DateTime<Utc>>),
            invitations::role.eq(role),
            invitations::invited_by.eq(invited_by),
            invitations::guest_until.eq(guest_until),
        ))
        .returning(Invitation::as_returning())
        .get_result(conn)
}

/// The invitation a link leads to, and whether a later resend replaced that link.
pub fn find_by_token(
    conn: &mut PgConnection,
    token_hash: &str,
) -> QueryResult<Option<(Invitation, bool)>> {
    invitation_links::table
        .inner_join(invitations::table)
        .filter(invitation_links::token_hash.eq(token_hash))
        .select((
            Invitation::as_select(),
            invitation_links::superseded_at.is_not_null(),
        ))
        .first(conn)
        .optional()
}

/// Uses the invitation up through its link, in one statement: only a live link to an open,
/// unexpired invitation matches, so of two parallel accepts exactly one gets the row.
pub fn accept_by_token(
    conn: &mut PgConnection,
    token_hash: &str,
    by: UserId,
) -> QueryResult<Option<Invitation>> {
    let live_link = invitation_links::table
        .filter(invitation_links::token_hash.eq(token_hash))
        .filter(invitation_links::superseded_at.is_null())
        .select(invitation_links::invitation_id);
    diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(live_link))
            .filter(open!())
            .filter(invitations::expires_at.gt(diesel::dsl::now)),
    )
    .set((
        invitations::accepted_at.eq(diesel::dsl::now),
        invitations::accepted_by.eq(by),
    ))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .optional()
}

/// Uses the invitation up from inside the app: only one addressed to this email.
pub fn accept_for_email(
    conn: &mut PgConnection,
    id: InvitationId,
    email: &str,
    by: UserId,
) -> QueryResult<Option<Invitation>> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::email.eq(email.to_lowercase()))
            .filter(open!())
            .filter(invitations::expires_at.gt(diesel::dsl::now)),
    )
    .set((
        invitations::accepted_at.eq(diesel::dsl::now),
        invitations::accepted_by.eq(by),
    ))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .optional()
}

/// Declines an open, unexpired invitation; `None` when it was no longer open.
pub fn decline(conn: &mut PgConnection, id: InvitationId) -> QueryResult<Option<Invitation>> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(open!())
            .filter(invitations::expires_at.gt(diesel::dsl::now)),
    )
    .set(invitations::declined_at.eq(diesel::dsl::now))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .optional()
}

/// Rescinds an open invitation: every link to it stops working at once.
pub fn rescind(conn: &mut PgConnection, id: InvitationId, by: UserId) -> QueryResult<bool> {
    let updated = diesel::update(invitations::table.find(id).filter(open!()))
        .set((
            invitations::rescinded_at.eq(diesel::dsl::now),
            invitations::rescinded_by.eq(by),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Rescinds every open invitation to this address into the organisation's workspaces (its
/// administrators removed the person: an invitation sent before must not bring them back).
pub fn rescind_open_in_organisation(
    conn: &mut PgConnection,
    org: crate::domain::OrganisationId,
    email: &str,
    by: UserId,
) -> QueryResult<usize> {
    let in_organisation = workspaces::table
        .filter(workspaces::organisation_id.eq(org))
        .select(workspaces::id);
    diesel::update(
        invitations::table
            .filter(invitations::email.eq(email.to_lowercase()))
            .filter(invitations::workspace_id.eq_any(in_organisation))
            .filter(open!()),
    )
    .set((
        invitations::rescinded_at.eq(diesel::dsl::now),
        invitations::rescinded_by.eq(by),
    ))
    .execute(conn)
}

/// Ends the other open invitations to the same address (email or mobile) in the workspace,
/// once one of them was accepted.
pub fn supersede_others(
    conn: &mut PgConnection,
    accepted: &Invitation,
    also_email: &str,
) -> QueryResult<usize> {
    let same_address = invitations::email
        .eq(accepted
            .email
            .clone()
            .unwrap_or_else(|| also_email.to_lowercase()))
        .or(invitations::mobile.eq(accepted.mobile.clone().unwrap_or_default()));
    diesel::update(
        invitations::table
            .filter(invitations::workspace_id.eq(accepted.workspace_id))
            .filter(invitations::id.ne(accepted.id))
            .filter(open!())
            .filter(same_address),
    )
    .set(invitations::superseded_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// Records that someone asked for a new invitation; false when they already did today.
pub fn mark_new_invitation_asked(conn: &mut PgConnection, id: InvitationId) -> QueryResult<bool> {
    let updated = diesel::update(
        invitations::table.find(id).filter(
            invitations::new_invitation_asked_at
                .is_null()
                .or(invitations::new_invitation_asked_at.lt(Utc::now() - Duration::days(1))),
        ),
    )
    .set(invitations::new_invitation_asked_at.eq(diesel::dsl::now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// One line of the Users page's invitations table.
pub struct Listed {
    pub invitation: Invitation,
    pub inviter: Option<String>,
    pub delivery: Option<OutboxMessage>,
}

/// An invitation's place in the newest-first list.
#[derive(QueryableByName)]
struct Sent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    sent_at: DateTime<Utc>,
    /// How many the workspace has sent, counted up to the cap.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    counted: i64,
}

impl paging::Keyed<SentKey> for Sent {
    fn key(&self) -> SentKey {
        SentKey {
            sent_at: self.sent_at,
            id: self.id,
        }
    }

    fn id(&self) -> uuid::Uuid {
        self.id
    }
}

/// One page of the workspace's invitations, newest first, with the inviter's name and
/// delivery status: read from `invitations_workspace_page_idx` in its order.
pub fn page_for_workspace(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    start: &PageStart<SentKey>,
) -> QueryResult<(Paged<Listed, SentKey>, Count)> {
    let page = paging::page(start, |start| {
        // Next goes to older invitations; Previous to newer, read the other way.
        let (from, direction) = match start {
            PageStart::First => ("", "DESC"),
            PageStart::After(_) => (" AND (sent_at, id) < ($2, $3)", "DESC"),
            PageStart::Before(_) => (" AND (sent_at, id) > ($2, $3)", "ASC"),
        };
        let mut statement = crate::db::cached::sql(format!(
            "SELECT id, sent_at,
                    (SELECT count(*) FROM (SELECT 1 FROM invitations c WHERE c.workspace_id = $1
                        LIMIT {cap}) n) AS counted
             FROM invitations WHERE workspace_id = $1{from}
             ORDER BY sent_at {direction}, id {direction} LIMIT {limit}",
            cap = COUNT_CAP + 1,
            limit = paging::LIMIT
        ))
        .bind::<diesel::sql_types::Uuid, _>(workspace.0);
        if let PageStart::After(key) | PageStart::Before(key) = start {
            statement = statement
                .bind::<diesel::sql_types::Timestamptz, _>(key.sent_at)
                .bind::<diesel::sql_types::Uuid, _>(key.id);
        }
        statement.load::<Sent>(conn)
    })?;
    // Every row carries the count; a page with no rows is the first page of none.
    let count = Count::capped(page.rows.first().map_or(0, |s| s.counted));
    let ids: Vec<uuid::Uuid> = page.rows.iter().map(|s| s.id).collect();
    if ids.is_empty() {
        return Ok((
            paging::in_order(page, Vec::new(), |l: &Listed| l.invitation.id.0),
            count,
        ));
    }
    let rows: Vec<(Invitation, Option<(String, String)>, Option<OutboxMessage>)> =
        invitations::table
            .left_join(users::table.on(users::id.nullable().eq(invitations::invited_by)))
            .left_join(outbox::table)
            .filter(invitations::workspace_id.eq(workspace))
            .filter(invitations::id.eq_any(&ids))
            .select((
                Invitation::as_select(),
                (users::first_name, users::surname).nullable(),
                Option::<OutboxMessage>::as_select(),
            ))
            .load(conn)?;
    let listed = rows
        .into_iter()
        .map(|(invitation, inviter, delivery)| Listed {
            invitation,
            inviter: inviter.map(|(first, last)| format!("{first} {last}")),
            delivery,
        })
        .collect();
    let page = paging::in_order(page, listed, |l: &Listed| l.invitation.id.0);
    Ok((page, count))
}

/// Open, unexpired invitations to this email in live workspaces, with the workspace's name and
/// the inviter's (shown inside the app to the account with that address).
pub fn open_for_email_with_inviter(
    conn: &mut PgConnection,
    email: &str,
) -> QueryResult<Vec<(Invitation, String, Option<String>)>> {
    let rows: Vec<(Invitation, String, Option<(String, String)>)> = invitations::table
        .inner_join(workspaces::table)
        .left_join(users::table.on(users::id.nullable().eq(invitations::invited_by)))
        .filter(invitations::email.eq(email.to_lowercase()))
        .filter(open!())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .filter(workspaces::archived_at.is_null())
        .order(invitations::sent_at.desc())
        .select((
            Invitation::as_select(),
            workspaces::name,
            (users::first_name, users::surname).nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(invitation, workspace, inviter)| {
            let inviter = inviter.map(|(first, last)| format!("{first} {last}"));
            (invitation, workspace, inviter)
        })
        .collect())
}

/// The open, unexpired invitation with this id addressed to this email.
pub fn open_for_email_by_id(
    conn: &mut PgConnection,
    email: &str,
    id: InvitationId,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .find(id)
        .filter(invitations::email.eq(email.to_lowercase()))
        .filter(open!())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// How many invitations the workspace sent in the last 24 hours (new ones and resends).
/// Each send adds a link, so the links are the count.
pub fn sent_in_last_day(conn: &mut PgConnection, workspace: WorkspaceId) -> QueryResult<i64> {
    invitation_links::table
        .inner_join(invitations::table)
        .filter(invitations::workspace_id.eq(workspace))
        .filter(invitation_links::is_reminder.eq(false))
        .filter(invitation_links::created_at.gt(Utc::now() - Duration::days(1)))
        .count()
        .get_result(conn)
}

/// Open invitations that expire within three days and have not been reminded since they were
/// last sent; claimed by marking them reminded (so two servers never remind twice).
pub fn claim_due_reminders(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Invitation>> {
    let due: Vec<InvitationId> = invitations::table
        .filter(open!())
        .filter(invitations::reminded_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .filter(invitations::expires_at.le(Utc::now() + Duration::days(REMIND_BEFORE_DAYS)))
        .order(invitations::expires_at)
        .limit(limit)
        .select(invitations::id)
        .for_update()
        .skip_locked()
        .load(conn)?;
    diesel::update(invitations::table.filter(invitations::id.eq_any(&due)))
        .set(invitations::reminded_at.eq(diesel::dsl::now))
        .returning(Invitation::as_returning())
        .get_results(conn)
}
