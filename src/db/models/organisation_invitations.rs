//! The `organisation_invitations` table: invitations to join an organisation, sent to addresses
//! that already have an account. Only the SHA-256 of the link's token is kept; accepting is one
//! conditional UPDATE ... RETURNING, so a link works once.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::organisation_invitations;
use crate::domain::{OrganisationId, OrganisationInvitationId, UserId};

/// How long the link works.
pub const VALID_FOR_DAYS: i64 = 30;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisation_invitations)]
pub struct OrganisationInvitation {
    pub id: OrganisationInvitationId,
    pub organisation_id: OrganisationId,
    pub email: String,
    pub invited_by: Option<UserId>,
    pub grade: Option<String>,
    pub roster_profile_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Accepted,
    /// A newer invitation replaced it, or the person was suspended or removed since.
    Superseded,
    Expired,
}

impl OrganisationInvitation {
    pub fn status(&self) -> Status {
        if self.accepted_at.is_some() {
            Status::Accepted
        } else if self.superseded_at.is_some() {
            Status::Superseded
        } else if self.expires_at <= Utc::now() {
            Status::Expired
        } else {
            Status::Open
        }
    }
}

/// What an invitation carries besides the address.
pub struct NewOrganisationInvitation<'a> {
    pub organisation_id: OrganisationId,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub invited_by: Option<UserId>,
    pub grade: Option<&'a str>,
    pub roster_profile_id: Option<uuid::Uuid>,
}

/// Ends the open invitations of this address to this organisation; how many there were.
pub fn supersede_open(
    conn: &mut PgConnection,
    org: OrganisationId,
    email: &str,
) -> QueryResult<usize> {
    diesel::update(
        organisation_invitations::table
            .filter(organisation_invitations::organisation_id.eq(org))
            .filter(organisation_invitations::email.eq(email))
            .filter(organisation_invitations::accepted_at.is_null())
            .filter(organisation_invitations::superseded_at.is_null()),
    )
    .set(organisation_invitations::superseded_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// A new invitation; the caller superseded the open one first (under the account's lock).
pub fn insert(
    conn: &mut PgConnection,
    new: &NewOrganisationInvitation,
) -> QueryResult<OrganisationInvitation> {
    diesel::insert_into(organisation_invitations::table)
        .values((
            organisation_invitations::id.eq(OrganisationInvitationId::new()),
            organisation_invitations::organisation_id.eq(new.organisation_id),
            organisation_invitations::email.eq(new.email),
            organisation_invitations::token_hash.eq(new.token_hash),
            organisation_invitations::invited_by.eq(new.invited_by),
            organisation_invitations::grade.eq(new.grade),
            organisation_invitations::roster_profile_id.eq(new.roster_profile_id),
            organisation_invitations::expires_at.eq(Utc::now() + Duration::days(VALID_FOR_DAYS)),
        ))
        .returning(OrganisationInvitation::as_returning())
        .get_result(conn)
}

/// Looks a link up without using it (the GET page).
pub fn find_by_token(
    conn: &mut PgConnection,
    token_hash: &str,
) -> QueryResult<Option<OrganisationInvitation>> {
    organisation_invitations::table
        .filter(organisation_invitations::token_hash.eq(token_hash))
        .select(OrganisationInvitation::as_select())
        .first(conn)
        .optional()
}

/// Uses the invitation up in one statement, only for the invited address and only while it is
/// open; `None` otherwise (used, replaced, expired, another address, an unknown token).
pub fn accept(
    conn: &mut PgConnection,
    token_hash: &str,
    email: &str,
    by: UserId,
) -> QueryResult<Option<OrganisationInvitation>> {
    diesel::update(
        organisation_invitations::table
            .filter(organisation_invitations::token_hash.eq(token_hash))
            .filter(organisation_invitations::email.eq(email))
            .filter(organisation_invitations::accepted_at.is_null())
            .filter(organisation_invitations::superseded_at.is_null())
            .filter(organisation_invitations::expires_at.gt(diesel::dsl::now)),
    )
    .set((
        organisation_invitations::accepted_at.eq(diesel::dsl::now),
        organisation_invitations::accepted_by.eq(by),
    ))
    .returning(OrganisationInvitation::as_returning())
    .get_result(conn)
    .optional()
}
