//! The `roster_profiles` table: each rostered medic an organisation imported, with the grade
//! the roster gave; a row without an email address is a profile that cannot sign in yet.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::roster_profiles;
use crate::domain::{OrganisationId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roster_profiles)]
pub struct RosterProfile {
    pub id: uuid::Uuid,
    pub organisation_id: OrganisationId,
    pub user_id: Option<UserId>,
    pub first_name: String,
    pub surname: String,
    pub grade: String,
    pub imported_at: DateTime<Utc>,
}

impl RosterProfile {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.surname)
    }
}

/// Records (or updates the grade of) the roster line of an account.
pub fn upsert_for_user(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
    first_name: &str,
    surname: &str,
    grade: &str,
    by: Option<UserId>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO roster_profiles (id, organisation_id, user_id, first_name, surname, grade, imported_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (organisation_id, user_id) WHERE user_id IS NOT NULL
         DO UPDATE SET grade = CASE WHEN EXCLUDED.grade = '' THEN roster_profiles.grade ELSE EXCLUDED.grade END",
    )
    .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::new_v4())
    .bind::<diesel::sql_types::Uuid, _>(org)
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<diesel::sql_types::Text, _>(first_name)
    .bind::<diesel::sql_types::Text, _>(surname)
    .bind::<diesel::sql_types::Text, _>(grade)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(by)
    .execute(conn)
}

/// Creates an email-less profile; `false` when the organisation already has that one
/// (same names and grade), so a re-import creates nobody twice.
pub fn insert_unlinked(
    conn: &mut PgConnection,
    org: OrganisationId,
    first_name: &str,
    surname: &str,
    grade: &str,
    by: Option<UserId>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO roster_profiles (id, organisation_id, first_name, surname, grade, imported_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (organisation_id, lower(first_name), lower(surname), grade) WHERE user_id IS NULL
         DO NOTHING",
    )
    .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::new_v4())
    .bind::<diesel::sql_types::Uuid, _>(org)
    .bind::<diesel::sql_types::Text, _>(first_name)
    .bind::<diesel::sql_types::Text, _>(surname)
    .bind::<diesel::sql_types::Text, _>(grade)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(by)
    .execute(conn)
    .map(|n| n == 1)
}

/// The organisation's email-less profiles whose names contain every word of `query`.
pub fn unlinked(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    limit: i64,
) -> QueryResult<Vec<RosterProfile>> {
    let mut q = roster_profiles::table
        .filter(roster_profiles::organisation_id.eq(org))
        .filter(roster_profiles::user_id.is_null())
        .into_boxed();
    for word in query.split_whitespace() {
        let pattern = super::people::contains_pattern(word);
        q = q.filter(
            roster_profiles::first_name
                .ilike(pattern.clone())
                .or(roster_profiles::surname.ilike(pattern)),
        );
    }
    q.order((roster_profiles::surname, roster_profiles::first_name))
        .limit(limit)
        .select(RosterProfile::as_select())
        .load(conn)
}

/// Email-less profiles with the same first name and surname as someone: merge candidates.
pub fn unlinked_named(
    conn: &mut PgConnection,
    org: OrganisationId,
    first_name: &str,
    surname: &str,
) -> QueryResult<Vec<RosterProfile>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;
    roster_profiles::table
        .filter(roster_profiles::organisation_id.eq(org))
        .filter(roster_profiles::user_id.is_null())
        .filter(
            sql::<diesel::sql_types::Bool>("lower(roster_profiles.first_name) = lower(")
                .bind::<Text, _>(first_name.to_string())
                .sql(") AND lower(roster_profiles.surname) = lower(")
                .bind::<Text, _>(surname.to_string())
                .sql(")"),
        )
        .select(RosterProfile::as_select())
        .load(conn)
}

/// The roster line of an account in the organisation, if it was imported.
pub fn of_user(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<Option<RosterProfile>> {
    roster_profiles::table
        .filter(roster_profiles::organisation_id.eq(org))
        .filter(roster_profiles::user_id.eq(user))
        .select(RosterProfile::as_select())
        .first(conn)
        .optional()
}

/// Links an email-less profile to the account it belongs to (the account's earlier roster
/// line, if any, gives way). `None` when there is no such unlinked profile in `org`.
pub fn link(
    conn: &mut PgConnection,
    org: OrganisationId,
    profile: uuid::Uuid,
    user: UserId,
) -> QueryResult<Option<RosterProfile>> {
    let found = roster_profiles::table
        .filter(roster_profiles::organisation_id.eq(org))
        .filter(roster_profiles::user_id.is_null())
        .filter(roster_profiles::id.eq(profile))
        .select(RosterProfile::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    let Some(found) = found else {
        return Ok(None);
    };
    diesel::delete(
        roster_profiles::table
            .filter(roster_profiles::organisation_id.eq(org))
            .filter(roster_profiles::user_id.eq(user)),
    )
    .execute(conn)?;
    diesel::update(roster_profiles::table.find(found.id))
        .set(roster_profiles::user_id.eq(user))
        .execute(conn)?;
    Ok(Some(found))
}
