//! An organisation's people as its administrators see them: the searchable directory, paged by
//! key (surname, first name, id) and counted up to a cap,
//! likely duplicates, account status changes and merging two accounts into one.

use diesel::pg::Pg;
use diesel::prelude::*;
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

/// The SQL that picks, among users, those matching `query` (every word must match), and its
/// binds from `$2` (`$1` is the organisation). A word of one or two characters matches the
/// start of a first name, a surname or an email's local part (prefix B-tree indexes: trigrams
/// need three characters); a longer word matches anywhere in the full name or the email
/// (trigram indexes).
struct Matching {
    sql: String,
    binds: Vec<String>,
}

/// The organisation's people among users.
const IN_ORGANISATION: &str = "EXISTS (SELECT 1 FROM organisation_members m
     WHERE m.organisation_id = $1 AND m.user_id = users.id)";

fn matching(query: &str) -> Matching {
    let mut words = Vec::new();
    let mut binds = Vec::new();
    for word in query.split_whitespace() {
        let n = binds.len() + 2;
        if word.chars().count() <= 2 {
            words.push(format!(
                "(lower(users.first_name) LIKE lower(${n})
                  OR lower(users.surname) LIKE lower(${n})
                  OR split_part(users.email, '@', 1) LIKE lower(${n}))"
            ));
            binds.push(format!("{}%", escape_like(word)));
        } else {
            words.push(format!(
                "({FULL_NAME} ILIKE ${n} OR users.email ILIKE ${n})"
            ));
            binds.push(contains_pattern(word));
        }
    }
    Matching {
        sql: if words.is_empty() {
            "TRUE".into()
        } else {
            words.join(" AND ")
        },
        binds,
    }
}

/// The same expression as the `users_full_name_trgm` index, so the planner uses the index.
const FULL_NAME: &str = "(users.first_name || ' ' || users.surname)";

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A row of a walk along the name index: whether it matched, and how far along the walk it
/// came.
#[derive(QueryableByName)]
struct Walked {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    surname: String,
    #[diesel(sql_type = Text)]
    first_name: String,
    #[diesel(sql_type = Bool)]
    hit: bool,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How far a walk along the name index goes looking for a page of matches. Matches that are
/// many but all far along the order (a common fragment of surnames that sort late) would
/// otherwise have the walk read most of the table.
const WINDOW: i64 = 20_000;

/// How a page of a search is read. Decided by the capped count, which is read first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// No search: the name index in order, a page of it.
    Everyone,
    /// At most `COUNT_CAP` match: all of them (trigram or prefix indexes), sorted.
    Few,
    /// More: the name index in order, filtered, at most `WINDOW` rows of it; if the window
    /// holds too few, as `Few` from the key on.
    Many,
}

/// A statement, built with or without an `EXPLAIN` prefix.
fn statement(
    explain: &str,
    sql: String,
    org: OrganisationId,
    binds: &[String],
    start: &PageStart,
) -> crate::db::cached::Sql {
    // Planned for each organisation and term: a trust of a million and one of fifty want
    // different plans for the same text.
    let mut statement =
        crate::db::cached::planned(format!("{explain}{sql}")).bind::<SqlUuid, _>(org.0);
    for bind in binds {
        statement = statement.bind::<Text, _>(bind.clone());
    }
    paging::bind_key(statement, start)
}

/// Everyone from `start`, a page of the name index.
fn everyone_sql(start: &PageStart) -> String {
    let (from, order) = paging::keyset(start, "users", 2);
    format!(
        "SELECT users.id, users.surname, users.first_name FROM users
         WHERE {IN_ORGANISATION}{from} ORDER BY {order} LIMIT {}",
        paging::LIMIT
    )
}

/// Every match from `start`, found first and sorted after (a hard fence: the planner cannot
/// turn it into a walk along the name index).
fn matches_sql(matching: &Matching, start: &PageStart) -> String {
    let (from, _) = paging::keyset(start, "users", matching.binds.len() + 2);
    let (_, order) = paging::keyset(start, "matched", 0);
    // Membership checked row by row (OFFSET 0 keeps the EXISTS a subplan): a few index
    // lookups per match, never a hash of the whole organisation's membership.
    format!(
        "WITH matched AS MATERIALIZED (
           SELECT users.id, users.surname, users.first_name FROM users
           WHERE {} AND EXISTS (SELECT 1 FROM organisation_members m
                                WHERE m.organisation_id = $1 AND m.user_id = users.id
                                OFFSET 0){from})
         SELECT id, surname, first_name FROM matched ORDER BY {order} LIMIT {}",
        matching.sql,
        paging::LIMIT
    )
}

/// Up to `WINDOW` of the organisation's people from `start` along the name index, the matches
/// among them, and the window's last row (so the caller knows whether the window ran out).
fn walk_sql(matching: &Matching, start: &PageStart) -> String {
    let (from, order) = paging::keyset(start, "users", matching.binds.len() + 2);
    let (_, walked_order) = paging::keyset(start, "walked", 0);
    format!(
        "SELECT id, surname, first_name, hit, n FROM (
           SELECT users.id, users.surname, users.first_name, ({}) AS hit,
                  row_number() OVER (ORDER BY {order}) AS n
           FROM users WHERE {IN_ORGANISATION}{from} ORDER BY {order} LIMIT {WINDOW}) AS walked
         WHERE hit OR n = {WINDOW} ORDER BY {walked_order} LIMIT {}",
        matching.sql,
        paging::LIMIT + 1
    )
}

/// How many match, counted up to `COUNT_CAP + 1` and no further.
fn count_sql(matching: &Matching) -> String {
    let limit = COUNT_CAP + 1;
    if matching.binds.is_empty() {
        // Everyone: the membership index alone.
        return format!(
            "SELECT count(*) AS n FROM (SELECT 1 FROM organisation_members
             WHERE organisation_id = $1 LIMIT {limit}) AS capped"
        );
    }
    format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM users WHERE {IN_ORGANISATION} AND {}
         LIMIT {limit}) AS capped",
        matching.sql
    )
}

const EXPLAIN: &str = "EXPLAIN (ANALYZE, FORMAT JSON) ";

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

type Trace<'a> = Option<&'a mut Vec<(&'static str, String)>>;

/// Runs a statement; with a trace, runs it under EXPLAIN ANALYZE first and keeps the plan.
fn run<T: diesel::deserialize::QueryableByName<Pg> + 'static>(
    conn: &mut PgConnection,
    trace: &mut Trace,
    label: &'static str,
    build: impl Fn(&str) -> crate::db::cached::Sql,
) -> QueryResult<Vec<T>> {
    if let Some(trace) = trace {
        let plan: Plan = build(EXPLAIN).get_result(conn)?;
        trace.push((label, plan.plan));
    }
    build("").load(conn)
}

/// One page of the organisation's people matching `query`, by surname, first name and id
/// from `start`, and how many match (counted up to a cap). However many match and whichever
/// page it is, a page reads at most a window of the name index or the matches of a search
/// that has few, never the whole table.
pub fn search(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
) -> QueryResult<(Paged<User>, Count)> {
    search_traced(conn, org, query, start, None)
}

fn search_traced(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
    mut trace: Trace,
) -> QueryResult<(Paged<User>, Count)> {
    let m = matching(query);
    let counted: Vec<Counted> = run(conn, &mut trace, "count", |explain| {
        statement(explain, count_sql(&m), org, &m.binds, &PageStart::First)
    })?;
    let count = Count::capped(counted.first().map_or(0, |c| c.n));
    let reading = match count {
        _ if m.binds.is_empty() => Reading::Everyone,
        Count::Exactly(_) => Reading::Few,
        Count::MoreThan(_) => Reading::Many,
    };
    let page = paging::page(start, |start| {
        let matches = |conn: &mut PgConnection, trace: &mut Trace| {
            run::<paging::Person>(conn, trace, "matches", |explain| {
                statement(explain, matches_sql(&m, start), org, &m.binds, start)
            })
        };
        match reading {
            Reading::Everyone => run(conn, &mut trace, "name index", |explain| {
                statement(explain, everyone_sql(start), org, &[], start)
            }),
            Reading::Few => matches(conn, &mut trace),
            Reading::Many => {
                let walked: Vec<Walked> = run(conn, &mut trace, "walk", |explain| {
                    statement(explain, walk_sql(&m, start), org, &m.binds, start)
                })?;
                let ran_out = walked.iter().any(|w| w.n == WINDOW);
                let hits: Vec<paging::Person> = walked
                    .into_iter()
                    .filter(|w| w.hit)
                    .map(|w| paging::Person {
                        id: w.id,
                        surname: w.surname,
                        first_name: w.first_name,
                    })
                    .collect();
                if hits.len() as i64 > paging::PAGE_SIZE || !ran_out {
                    Ok(hits)
                } else {
                    matches(conn, &mut trace)
                }
            }
        }
    })?;
    let ids: Vec<uuid::Uuid> = page.rows.iter().map(|p| p.id).collect();
    let found: Vec<User> = users::table
        .filter(users::id.eq_any(&ids))
        .select(User::as_select())
        .load(conn)?;
    Ok((paging::in_order(page, found, |u| u.id.0), count))
}

/// Each statement a search runs, with its plan as PostgreSQL ran it (`EXPLAIN (ANALYZE,
/// FORMAT JSON)`): for the tests that check every kind of search reads indexes, never the
/// whole table.
pub fn explain_search(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    start: &PageStart,
) -> QueryResult<Vec<(&'static str, String)>> {
    let mut trace = Vec::new();
    search_traced(conn, org, query, start, Some(&mut trace))?;
    Ok(trace)
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

/// Which of `people` also belong to another organisation (their account is not this one's
/// alone to deactivate, reactivate or reset: `in_other_organisations`, for a page at once).
pub fn in_other_organisations_among(
    conn: &mut PgConnection,
    org: OrganisationId,
    people: &[UserId],
) -> QueryResult<Vec<UserId>> {
    organisation_members::table
        .filter(organisation_members::user_id.eq_any(people))
        .filter(organisation_members::organisation_id.ne(org))
        .select(organisation_members::user_id)
        .distinct()
        .load(conn)
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
