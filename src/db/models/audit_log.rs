//! An organisation's audit log as its administrators read it: every event that happened in the
//! organisation or its workspaces, with names instead of ids, filterable and paged.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};

use crate::domain::{AuditAction, OrganisationId};

#[derive(Debug, Clone, QueryableByName)]
pub struct LogLine {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub action: AuditAction,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub target: String,
    #[diesel(sql_type = Text)]
    pub workspace: String,
    #[diesel(sql_type = Text)]
    pub ip_address: String,
    #[diesel(sql_type = Text)]
    pub detail: String,
}

/// What the audit page is narrowed to; `None` and empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub action: Option<AuditAction>,
    /// Part of the actor's or the target's name or email.
    pub person: String,
}

/// The organisation's events: those that happened in it (recorded for it, or for one of its
/// workspaces). Events of the account alone (sign-in, password, two-factor) happened in no
/// organisation and are shown to none: an account may belong to several, and one's
/// administrators are not the others'.
const IN_ORGANISATION: &str = "
    (e.organisation_id = $1
     OR (e.organisation_id IS NULL
         AND e.workspace_id IN (SELECT id FROM workspaces WHERE organisation_id = $1)))";

const FILTERED: &str = "
    AND ($2 = '' OR e.action = $2)
    AND ($3 = '' OR (a.first_name || ' ' || a.surname) ILIKE $3 OR a.email ILIKE $3
                 OR (t.first_name || ' ' || t.surname) ILIKE $3 OR t.email ILIKE $3)";

/// One page of the log, newest first (`limit` rows from `offset`).
pub fn lines(
    conn: &mut PgConnection,
    org: OrganisationId,
    filter: &LogFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<LogLine>> {
    let person = if filter.person.trim().is_empty() {
        String::new()
    } else {
        super::people::contains_pattern(filter.person.trim())
    };
    diesel::sql_query(format!(
        "SELECT e.id, e.occurred_at, e.action, e.detail,
                coalesce(e.ip_address, '') AS ip_address,
                coalesce(a.first_name || ' ' || a.surname, '') AS actor,
                coalesce(t.first_name || ' ' || t.surname, '') AS target,
                coalesce(w.name, '') AS workspace
         FROM audit_events e
         LEFT JOIN users a ON a.id = e.actor_user_id
         LEFT JOIN users t ON t.id = e.target_user_id
         LEFT JOIN workspaces w ON w.id = e.workspace_id
         WHERE {IN_ORGANISATION} {FILTERED}
         ORDER BY e.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(filter.action.map_or("", AuditAction::code))
    .bind::<Text, _>(person)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)
}

#[derive(QueryableByName)]
struct Action {
    #[diesel(sql_type = Text)]
    action: AuditAction,
}

/// The kinds of event the organisation's log holds, for the filter.
pub fn actions(conn: &mut PgConnection, org: OrganisationId) -> QueryResult<Vec<AuditAction>> {
    let found: Vec<Action> = diesel::sql_query(format!(
        "SELECT DISTINCT e.action FROM audit_events e WHERE {IN_ORGANISATION} ORDER BY e.action"
    ))
    .bind::<SqlUuid, _>(org)
    .load(conn)?;
    Ok(found.into_iter().map(|a| a.action).collect())
}
