//! An organisation's people as its administrators see them: the searchable directory, paged by
//! key (surname, first name, id) and counted up to a cap,
//! likely duplicates, account status changes and merging two accounts into one.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};

use crate::db::models::users::User;
use crate::db::paging;
use crate::db::schema::{organisation_members, users};
use crate::domain::paging::{Count, PageStart, Paged, COUNT_CAP};
use crate::domain::{OrganisationId, UserId};

/// `%term%` for ILIKE, with the pattern characters in the term taken literally.
pub fn contains_pattern(term: &str) -> String {
    format!("%{}%", escape_like(term))
}

/// The term with LIKE's pattern characters taken literally.
fn escape_like(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL that picks the organisation's people matching `query` (every word must match), and
/// its binds: `$1` is the organisation. A word of one or two characters matches the start of a
/// first name, a surname or an email's local part (prefix B-tree indexes: trigrams need three
/// characters); a longer word matches anywhere in the full name or the email (trigram indexes).
struct Matching {
    sql: String,
    binds: Vec<String>,
}

fn matching(query: &str) -> Matching {
    let mut sql = String::from(
        "EXISTS (SELECT 1 FROM organisation_members m
                 WHERE m.organisation_id = $1 AND m.user_id = users.id)",
    );
    let mut binds = Vec::new();
    for word in query.split_whitespace() {
        let n = binds.len() + 2;
        if word.chars().count() <= 2 {
            sql.push_str(&format!(
                " AND (lower(users.first_name) LIKE lower(${n})
                       OR lower(users.surname) LIKE lower(${n})
                       OR split_part(users.email, '@', 1) LIKE lower(${n}))"
            ));
            binds.push(format!("{}%", escape_like(word)));
        } else {
            sql.push_str(&format!(
                " AND ({} ILIKE ${n} OR users.email ILIKE ${n})",
                FULL_NAME
            ));
            binds.push(contains_pattern(word));
        }
    }
    Matching { sql, binds }
}

/// The same expression as the `users_full_name_trgm` index, so the planner uses the index.
const FULL_NAME: &str = "(users.first_name || ' ' || users.surname)";

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The page's statement: the matching people from `start`, in the order of `users_by_name_idx`.
fn page_statement(
    explain: &str,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    let Matching { sql, binds } = matching(query);
    let (from, order) = paging::keyset(start, "users", binds.len() + 2);
    let mut statement = diesel::sql_query(format!(
        "{explain}SELECT users.id, users.surname, users.first_name FROM users
         WHERE {sql}{from} ORDER BY {order} LIMIT {}",
        paging::LIMIT
    ))
    .into_boxed()
    .bind::<SqlUuid, _>(org.0);
    for bind in binds {
        statement = statement.bind::<Text, _>(bind);
    }
    paging::bind_key(statement, start)
}

/// How many match, counted up to `COUNT_CAP + 1` and no further.
fn count_statement(
    explain: &str,
    org: OrganisationId,
    query: &str,
) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    let limit = COUNT_CAP + 1;
    if query.split_whitespace().next().is_none() {
        // Everyone: the membership index alone.
        return diesel::sql_query(format!(
            "{explain}SELECT count(*) AS n FROM (SELECT 1 FROM organisation_members
             WHERE organisation_id = $1 LIMIT {limit}) AS capped"
        ))
        .into_boxed()
        .bind::<SqlUuid, _>(org.0);
    }
    let Matching { sql, binds } = matching(query);
    let mut statement = diesel::sql_query(format!(
        "{explain}SELECT count(*) AS n FROM (SELECT 1 FROM users WHERE {sql} LIMIT {limit}) AS capped"
    ))
    .into_boxed()
    .bind::<SqlUuid, _>(org.0);
    for bind in binds {
        statement = statement.bind::<Text, _>(bind);
    }
    statement
}

/// One page of the organisation's people matching `query`, by surname, first name and id
/// from `start`, and how many match (counted up to a cap). Each page reads one page of an
/// index, whichever page it is and however many match.
pub fn search(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
) -> QueryResult<(Paged<User>, Count)> {
    let page = paging::page(start, |start| {
        page_statement("", org, query, start).load::<paging::Person>(conn)
    })?;
    let ids: Vec<uuid::Uuid> = page.rows.iter().map(|p| p.id).collect();
    let found: Vec<User> = users::table
        .filter(users::id.eq_any(&ids))
        .select(User::as_select())
        .load(conn)?;
    let counted: Counted = count_statement("", org, query).get_result(conn)?;
    Ok((
        paging::in_order(page, found, |u| u.id.0),
        Count::capped(counted.n),
    ))
}

/// The plans PostgreSQL runs for a page and for its count (`EXPLAIN (ANALYZE, FORMAT JSON)`),
/// for the tests that check every kind of search reads an index, never the whole table.
pub fn explain_search(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
) -> QueryResult<(String, String)> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        plan: String,
    }
    const EXPLAIN: &str = "EXPLAIN (ANALYZE, FORMAT JSON) ";
    let page: Plan = page_statement(EXPLAIN, org, query, start).get_result(conn)?;
    let count: Plan = count_statement(EXPLAIN, org, query).get_result(conn)?;
    Ok((page.plan, count.plan))
}

type Members =
    users::BoxedQuery<'static, Pg, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<User, Pg>>>;

fn members(org: OrganisationId) -> Members {
    users::table
        .filter(diesel::dsl::exists(
            organisation_members::table
                .filter(organisation_members::organisation_id.eq(org))
                .filter(organisation_members::user_id.eq(users::id)),
        ))
        .select(User::as_select())
        .into_boxed()
}

/// A person of this organisation (anyone else is not found).
pub fn find_member(conn: &mut PgConnection, org: OrganisationId, id: UserId) -> QueryResult<User> {
    members(org).filter(users::id.eq(id)).first(conn)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: UserId,
}

/// `o` and `u` are likely the same person, as the organisation `$1` sees them: the same first
/// name and surname, or the same local part of two addresses it admits (`sam.jones@nhs.net` and
/// `sam.jones@elft.nhs.uk`). The one rule for the flags, the suggestions and what may be merged.
const SAME_PERSON: &str = "(
    (lower(o.first_name) = lower(u.first_name) AND lower(o.surname) = lower(u.surname))
    OR (split_part(o.email, '@', 1) = split_part(u.email, '@', 1)
        AND EXISTS (SELECT 1 FROM organisation_domains d WHERE d.organisation_id = $1
                    AND (split_part(o.email, '@', 2) = d.domain
                         OR split_part(o.email, '@', 2) LIKE '%.' || d.domain))
        AND EXISTS (SELECT 1 FROM organisation_domains d WHERE d.organisation_id = $1
                    AND (split_part(u.email, '@', 2) = d.domain
                         OR split_part(u.email, '@', 2) LIKE '%.' || d.domain))))";

/// Which of `people` have a likely duplicate in the organisation: someone else active there
/// who is likely the same person, or an email-less profile with the same names.
pub fn with_likely_duplicates(
    conn: &mut PgConnection,
    org: OrganisationId,
    people: &[UserId],
) -> QueryResult<Vec<UserId>> {
    let ids: Vec<uuid::Uuid> = people.iter().map(|p| p.0).collect();
    let found: Vec<Id> = diesel::sql_query(format!(
        "SELECT u.id FROM users u WHERE u.id = ANY($2) AND (
           EXISTS (SELECT 1 FROM users o JOIN organisation_members om
                     ON om.user_id = o.id AND om.organisation_id = $1
                   WHERE o.id <> u.id AND o.deactivated_at IS NULL AND {SAME_PERSON})
           OR EXISTS (SELECT 1 FROM roster_profiles p
                      WHERE p.organisation_id = $1 AND p.user_id IS NULL
                        AND lower(p.first_name) = lower(u.first_name)
                        AND lower(p.surname) = lower(u.surname)))"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(found.into_iter().map(|i| i.id).collect())
}

/// The organisation's other active people who are likely duplicates of `user`.
pub fn likely_duplicates_of(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: &User,
) -> QueryResult<Vec<User>> {
    let ids: Vec<Id> = diesel::sql_query(format!(
        "SELECT o.id FROM users u, users o JOIN organisation_members om
           ON om.user_id = o.id AND om.organisation_id = $1
         WHERE u.id = $2 AND o.id <> u.id AND o.deactivated_at IS NULL AND {SAME_PERSON}
         ORDER BY o.surname, o.first_name LIMIT 20"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(user.id)
    .load(conn)?;
    let ids: Vec<UserId> = ids.into_iter().map(|i| i.id).collect();
    users::table
        .filter(users::id.eq_any(ids))
        .order((users::surname, users::first_name))
        .select(User::as_select())
        .load(conn)
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flagged: bool,
}

/// Whether the server flags these two accounts as likely the same person (the rule above).
pub fn are_likely_duplicates(
    conn: &mut PgConnection,
    org: OrganisationId,
    a: UserId,
    b: UserId,
) -> QueryResult<bool> {
    let flag: Flag = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM users u, users o
                         WHERE u.id = $2 AND o.id = $3 AND o.id <> u.id AND {SAME_PERSON}) AS flagged"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(a)
    .bind::<SqlUuid, _>(b)
    .get_result(conn)?;
    Ok(flag.flagged)
}

/// Whether the person belongs to any organisation other than `org`.
pub fn in_other_organisations(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organisation_members::table
            .filter(organisation_members::user_id.eq(user))
            .filter(organisation_members::organisation_id.ne(org)),
    ))
    .get_result(conn)
}

/// Deactivates an active account; false when it already was.
pub fn deactivate(conn: &mut PgConnection, user: UserId) -> QueryResult<bool> {
    diesel::update(users::table.find(user))
        .filter(users::deactivated_at.is_null())
        .set((
            users::deactivated_at.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Reactivates a deactivated account; false when it was active.
pub fn reactivate(conn: &mut PgConnection, user: UserId) -> QueryResult<bool> {
    diesel::update(users::table.find(user))
        .filter(users::deactivated_at.is_not_null())
        .set((
            users::deactivated_at.eq(None::<chrono::DateTime<chrono::Utc>>),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Changes the names an administrator may correct (never the email, the password or the
/// medical secretary flag).
pub fn rename(
    conn: &mut PgConnection,
    user: UserId,
    first_name: &str,
    surname: &str,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user))
        .set((
            users::first_name.eq(first_name),
            users::surname.eq(surname),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Moves `other`'s place in `org` to `keep`: its workspace memberships there (the stronger
/// status and role win where both belong), its role assignments, its rostered profile and the
/// organisation's history about it. The caller deactivates `other` in the same transaction.
pub fn merge_into(
    conn: &mut PgConnection,
    org: OrganisationId,
    keep: UserId,
    other: UserId,
) -> QueryResult<()> {
    let statements = [
        "INSERT INTO workspace_members (workspace_id, user_id, status, role, request_message,
                requested_at, approved_at, approved_by, invited_by, ends_at)
         SELECT wm.workspace_id, $2, wm.status, wm.role, wm.request_message, wm.requested_at,
                wm.approved_at, wm.approved_by, wm.invited_by, wm.ends_at
         FROM workspace_members wm JOIN workspaces w ON w.id = wm.workspace_id
         WHERE wm.user_id = $3 AND w.organisation_id = $1
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET
           status = CASE WHEN 'approved' IN (workspace_members.status, EXCLUDED.status)
                         THEN 'approved' ELSE 'pending' END,
           role = CASE WHEN 'admin' IN (workspace_members.role, EXCLUDED.role) THEN 'admin'
                       WHEN 'member' IN (workspace_members.role, EXCLUDED.role) THEN 'member'
                       ELSE 'guest' END,
           approved_at = COALESCE(workspace_members.approved_at, EXCLUDED.approved_at),
           approved_by = COALESCE(workspace_members.approved_by, EXCLUDED.approved_by),
           ends_at = CASE WHEN workspace_members.ends_at IS NULL OR EXCLUDED.ends_at IS NULL
                          THEN NULL ELSE GREATEST(workspace_members.ends_at, EXCLUDED.ends_at) END",
        // The same person: what was assigned to the other account is now the kept one's.
        "UPDATE conversations SET assigned_to = $2 WHERE assigned_to = $3
           AND workspace_id IN (SELECT id FROM workspaces WHERE organisation_id = $1)",
        "DELETE FROM workspace_members wm USING workspaces w
         WHERE w.id = wm.workspace_id AND wm.user_id = $3 AND w.organisation_id = $1",
        "DELETE FROM role_assignments o WHERE o.organisation_id = $1 AND o.user_id = $3
           AND EXISTS (SELECT 1 FROM role_assignments k WHERE k.organisation_id = $1
                       AND k.user_id = $2 AND k.role_id = o.role_id
                       AND k.scope_workspace_id IS NOT DISTINCT FROM o.scope_workspace_id)",
        "UPDATE role_assignments SET user_id = $2 WHERE organisation_id = $1 AND user_id = $3",
        "DELETE FROM roster_profiles WHERE organisation_id = $1 AND user_id = $3
           AND EXISTS (SELECT 1 FROM roster_profiles k WHERE k.organisation_id = $1 AND k.user_id = $2)",
        "UPDATE roster_profiles SET user_id = $2 WHERE organisation_id = $1 AND user_id = $3",
        "UPDATE audit_events SET target_user_id = $2 WHERE organisation_id = $1 AND target_user_id = $3",
        "INSERT INTO organisation_members (organisation_id, user_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    ];
    for statement in statements {
        diesel::sql_query(statement)
            .bind::<SqlUuid, _>(org)
            .bind::<SqlUuid, _>(keep)
            .bind::<SqlUuid, _>(other)
            .execute(conn)?;
    }
    Ok(())
}
