//! The `organisations`, `organisation_domains` and `organisation_members` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{organisation_domains, organisation_members, organisations};
use crate::domain::{EmailAddress, OrganisationId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub ods_code: Option<String>,
    pub members_may_create_workspaces: bool,
    pub created_at: DateTime<Utc>,
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
    let org: Organisation = diesel::insert_into(organisations::table)
        .values(&NewOrganisation {
            id: OrganisationId::new(),
            name,
            ods_code: None,
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

/// Replaces the organisation's allowed domains and sets whether members may create workspaces.
pub fn update_settings(
    conn: &mut PgConnection,
    org: OrganisationId,
    domains: &[String],
    members_may_create_workspaces: bool,
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
        .set(organisations::members_may_create_workspaces.eq(members_may_create_workspaces))
        .execute(conn)?;
    Ok(())
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

pub fn add_member(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::insert_into(organisation_members::table)
        .values((
            organisation_members::organisation_id.eq(org),
            organisation_members::user_id.eq(user),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
}

pub fn is_member(conn: &mut PgConnection, org: OrganisationId, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organisation_members::table
            .filter(organisation_members::organisation_id.eq(org))
            .filter(organisation_members::user_id.eq(user)),
    ))
    .get_result(conn)
}

pub fn of_user(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<Organisation>> {
    organisations::table
        .inner_join(organisation_members::table)
        .filter(organisation_members::user_id.eq(user))
        .select(Organisation::as_select())
        .order(organisations::name)
        .load(conn)
}
