//! The `organisations`, `organisation_domains`, `organisation_members` and
//! `organisation_removals` tables: an organisation, the addresses it admits, its people (a
//! suspended member keeps their place but reaches nothing of it) and the people it removed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    organisation_domains, organisation_members, organisation_removals, organisations,
};
use crate::domain::{EmailAddress, OdsCode, OrganisationId, SignInPolicy, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub ods_code: Option<String>,
    pub members_may_create_workspaces: bool,
    pub created_at: DateTime<Utc>,
    pub sign_in_policy: SignInPolicy,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub id: OrganisationId,
    pub name: &'a str,
    pub ods_code: Option<&'a str>,
}

/// Creates the organisation with its allowed domains and its built-in roles.
pub fn create(
    conn: &mut PgConnection,
    name: &str,
    domains: &[String],
) -> QueryResult<Organisation> {
    create_with_ods_code(conn, name, domains, None)
}

/// The same, with the organisation's ODS code (CIS2 sign-ins join it by that code).
pub fn create_with_ods_code(
    conn: &mut PgConnection,
    name: &str,
    domains: &[String],
    ods_code: Option<&OdsCode>,
) -> QueryResult<Organisation> {
    let org: Organisation = diesel::insert_into(organisations::table)
        .values(&NewOrganisation {
            id: OrganisationId::new(),
            name,
            ods_code: ods_code.map(OdsCode::as_str),
        })
        .returning(Organisation::as_returning())
        .get_result(conn)?;
    let rows: Vec<_> = domains
        .iter()
        .map(|d| {
            (
                organisation_domains::organisation_id.eq(org.id),
                organisation_domains::domain.eq(d),
            )
        })
        .collect();
    diesel::insert_into(organisation_domains::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    super::roles::create_built_in(conn, org.id)?;
    Ok(org)
}

pub fn find(conn: &mut PgConnection, id: OrganisationId) -> QueryResult<Organisation> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
}

pub fn domains(conn: &mut PgConnection, id: OrganisationId) -> QueryResult<Vec<String>> {
    organisation_domains::table
        .filter(organisation_domains::organisation_id.eq(id))
        .select(organisation_domains::domain)
        .order(organisation_domains::domain)
        .load(conn)
}

/// Whether the organisation's allowed domains admit this address (a domain admits its
/// subdomains); an address that does not parse is admitted nowhere.
pub fn admits(conn: &mut PgConnection, id: OrganisationId, email: &str) -> QueryResult<bool> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(false);
    };
    Ok(domains(conn, id)?.iter().any(|d| email.is_in_domain(d)))
}

/// Replaces the organisation's allowed domains and sets whether members may create
/// workspaces, its ODS code and how its members sign in.
pub fn update_settings(
    conn: &mut PgConnection,
    org: OrganisationId,
    domains: &[String],
    members_may_create_workspaces: bool,
    ods_code: Option<&OdsCode>,
    sign_in_policy: SignInPolicy,
) -> QueryResult<()> {
    diesel::delete(
        organisation_domains::table.filter(organisation_domains::organisation_id.eq(org)),
    )
    .execute(conn)?;
    let rows: Vec<_> = domains
        .iter()
        .map(|d| {
            (
                organisation_domains::organisation_id.eq(org),
                organisation_domains::domain.eq(d),
            )
        })
        .collect();
    diesel::insert_into(organisation_domains::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    diesel::update(organisations::table.find(org))
        .set((
            organisations::members_may_create_workspaces.eq(members_may_create_workspaces),
            organisations::ods_code.eq(ods_code.map(OdsCode::as_str)),
            organisations::sign_in_policy.eq(sign_in_policy),
        ))
        .execute(conn)?;
    Ok(())
}

/// Another organisation that has this ODS code (they are unique, compared upper-cased).
pub fn other_with_ods_code(
    conn: &mut PgConnection,
    org: OrganisationId,
    code: &OdsCode,
) -> QueryResult<Option<Organisation>> {
    Ok(with_ods_codes(conn, &[code.as_str().to_string()])?
        .into_iter()
        .find(|o| o.id != org))
}

/// The organisations with these ODS codes (upper-cased already).
pub fn with_ods_codes(conn: &mut PgConnection, codes: &[String]) -> QueryResult<Vec<Organisation>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<Organisation> = organisations::table
        .filter(organisations::ods_code.is_not_null())
        .select(Organisation::as_select())
        .load(conn)?;
    Ok(all
        .into_iter()
        .filter(|o| {
            o.ods_code
                .as_deref()
                .is_some_and(|c| codes.iter().any(|code| code.eq_ignore_ascii_case(c)))
        })
        .collect())
}

/// Whether the person belongs (suspended or not) to an organisation whose members must sign
/// in with single sign-on.
pub fn in_sso_only_organisation(conn: &mut PgConnection, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organisation_members::table
            .inner_join(organisations::table)
            .filter(organisation_members::user_id.eq(user))
            .filter(organisations::sign_in_policy.eq(SignInPolicy::SsoOnly)),
    ))
    .get_result(conn)
}

/// The organisations whose allowed domains admit this address (a domain admits its subdomains).
pub fn admitting(
    conn: &mut PgConnection,
    email: &EmailAddress,
) -> QueryResult<Vec<OrganisationId>> {
    let all: Vec<(OrganisationId, String)> = organisation_domains::table
        .select((
            organisation_domains::organisation_id,
            organisation_domains::domain,
        ))
        .load(conn)?;
    let mut ids: Vec<OrganisationId> = all
        .into_iter()
        .filter(|(_, domain)| email.is_in_domain(domain))
        .map(|(id, _)| id)
        .collect();
    ids.dedup();
    Ok(ids)
}

/// Adds the person (an administrator, the command line, an invitation they accepted): a mark
/// of an earlier removal goes. A suspended member stays suspended. 1 when they were not in it.
pub fn add_member(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<usize> {
    let added = diesel::insert_into(organisation_members::table)
        .values((
            organisation_members::organisation_id.eq(org),
            organisation_members::user_id.eq(user),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    forget_removal(conn, org, user)?;
    Ok(added)
}

/// Takes the person (back) in through an organisation invitation they accepted: a member
/// again, not suspended, the mark of a removal gone. `true` when anything changed.
pub fn readmit(conn: &mut PgConnection, org: OrganisationId, user: UserId) -> QueryResult<bool> {
    let was = standing(conn, org, user)?;
    diesel::insert_into(organisation_members::table)
        .values((
            organisation_members::organisation_id.eq(org),
            organisation_members::user_id.eq(user),
        ))
        .on_conflict((
            organisation_members::organisation_id,
            organisation_members::user_id,
        ))
        .do_update()
        .set((
            organisation_members::suspended_at.eq(None::<DateTime<Utc>>),
            organisation_members::suspended_by.eq(None::<UserId>),
        ))
        .execute(conn)?;
    forget_removal(conn, org, user)?;
    Ok(was != Standing::Member)
}

fn forget_removal(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::delete(organisation_removals::table.find((org, user))).execute(conn)
}

/// A member who may use the organisation (not suspended).
pub fn is_member(conn: &mut PgConnection, org: OrganisationId, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organisation_members::table
            .filter(organisation_members::organisation_id.eq(org))
            .filter(organisation_members::user_id.eq(user))
            .filter(organisation_members::suspended_at.is_null()),
    ))
    .get_result(conn)
}

/// Where a person stands with an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A member who may use it.
    Member,
    /// A member it suspended: they reach nothing of it, and cannot lift it themselves.
    Suspended,
    /// It removed them: they may come back only through an administrator or an invitation.
    Removed,
    /// Not in it (never were, or an administrator's removal was undone by re-adding them).
    Outside,
}

impl Standing {
    /// Suspended or removed: joining by themselves (the Join button, a shareable link, an
    /// example workspace) is refused.
    pub fn is_barred(self) -> bool {
        matches!(self, Standing::Suspended | Standing::Removed)
    }
}

/// The person's standing: one query for a member, two for anyone else.
pub fn standing(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<Standing> {
    let membership: Option<Option<DateTime<Utc>>> = organisation_members::table
        .find((org, user))
        .select(organisation_members::suspended_at)
        .first(conn)
        .optional()?;
    Ok(match membership {
        Some(None) => Standing::Member,
        Some(Some(_)) => Standing::Suspended,
        None => {
            let removed: bool = diesel::select(diesel::dsl::exists(
                organisation_removals::table.find((org, user)),
            ))
            .get_result(conn)?;
            if removed {
                Standing::Removed
            } else {
                Standing::Outside
            }
        }
    })
}

/// Locks the person's membership row (suspension, removal and readmission take turns); `None`
/// when they are not in the organisation.
pub fn lock_member(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<Option<Standing>> {
    let suspended: Option<Option<DateTime<Utc>>> = organisation_members::table
        .find((org, user))
        .select(organisation_members::suspended_at)
        .for_update()
        .first(conn)
        .optional()?;
    Ok(suspended.map(|at| {
        if at.is_some() {
            Standing::Suspended
        } else {
            Standing::Member
        }
    }))
}

/// Suspends a member; `false` when they already were.
pub fn suspend(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
    by: UserId,
) -> QueryResult<bool> {
    diesel::update(
        organisation_members::table
            .find((org, user))
            .filter(organisation_members::suspended_at.is_null()),
    )
    .set((
        organisation_members::suspended_at.eq(diesel::dsl::now),
        organisation_members::suspended_by.eq(by),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Lifts a suspension; `false` when there was none.
pub fn unsuspend(conn: &mut PgConnection, org: OrganisationId, user: UserId) -> QueryResult<bool> {
    diesel::update(
        organisation_members::table
            .find((org, user))
            .filter(organisation_members::suspended_at.is_not_null()),
    )
    .set((
        organisation_members::suspended_at.eq(None::<DateTime<Utc>>),
        organisation_members::suspended_by.eq(None::<UserId>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Ends the membership and marks the removal (so they cannot join again by themselves).
pub fn remove_member(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
    by: UserId,
) -> QueryResult<bool> {
    let removed = diesel::delete(organisation_members::table.find((org, user))).execute(conn)?;
    diesel::insert_into(organisation_removals::table)
        .values((
            organisation_removals::organisation_id.eq(org),
            organisation_removals::user_id.eq(user),
            organisation_removals::removed_by.eq(by),
        ))
        .on_conflict((
            organisation_removals::organisation_id,
            organisation_removals::user_id,
        ))
        .do_update()
        .set((
            organisation_removals::removed_at.eq(diesel::dsl::now),
            organisation_removals::removed_by.eq(by),
        ))
        .execute(conn)?;
    Ok(removed == 1)
}

/// Of `people`, those the organisation has suspended.
pub fn suspended_among(
    conn: &mut PgConnection,
    org: OrganisationId,
    people: &[UserId],
) -> QueryResult<Vec<UserId>> {
    organisation_members::table
        .filter(organisation_members::organisation_id.eq(org))
        .filter(organisation_members::user_id.eq_any(people))
        .filter(organisation_members::suspended_at.is_not_null())
        .select(organisation_members::user_id)
        .load(conn)
}

/// The organisations the user may use (suspensions left out), by name.
pub fn of_user(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<Organisation>> {
    organisations::table
        .inner_join(organisation_members::table)
        .filter(organisation_members::user_id.eq(user))
        .filter(organisation_members::suspended_at.is_null())
        .select(Organisation::as_select())
        .order(organisations::name)
        .load(conn)
}

/// The organisations that suspended or removed the user: never offered to join by themselves.
pub fn barring(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<OrganisationId>> {
    let mut ids: Vec<OrganisationId> = organisation_members::table
        .filter(organisation_members::user_id.eq(user))
        .filter(organisation_members::suspended_at.is_not_null())
        .select(organisation_members::organisation_id)
        .load(conn)?;
    ids.extend(
        organisation_removals::table
            .filter(organisation_removals::user_id.eq(user))
            .select(organisation_removals::organisation_id)
            .load::<OrganisationId>(conn)?,
    );
    Ok(ids)
}
