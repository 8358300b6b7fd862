//! The `throttles` table: consecutive failures per key ("account:<email>", "address:<ip>",
//! "code:<user id>"), kept in PostgreSQL so that the limit holds across servers. Windowed keys
//! (what signed-out visitors may cause, `count_in_window`) use the same two columns as the
//! uses in the current window and when that window began.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::throttles;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = throttles)]
pub struct Throttle {
    pub key: String,
    pub failures: i32,
    pub last_failure_at: DateTime<Utc>,
}

pub fn find(conn: &mut PgConnection, key: &str) -> QueryResult<Option<Throttle>> {
    throttles::table
        .find(key)
        .select(Throttle::as_select())
        .first(conn)
        .optional()
}

pub fn record_failure(conn: &mut PgConnection, key: &str) -> QueryResult<Throttle> {
    diesel::insert_into(throttles::table)
        .values((throttles::key.eq(key), throttles::failures.eq(1)))
        .on_conflict(throttles::key)
        .do_update()
        .set((
            throttles::failures.eq(throttles::failures + 1),
            throttles::last_failure_at.eq(diesel::dsl::now),
        ))
        .returning(Throttle::as_returning())
        .get_result(conn)
}

#[derive(QueryableByName)]
pub struct Reserved {
    /// Failures counted now, this attempt included.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub failures: i32,
    /// When the last failure before this attempt happened.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub previous: DateTime<Utc>,
}

/// Counts an attempt as a failure before it is checked, and says what the count was: two
/// parallel attempts are two failures. The row stays locked until the caller's transaction
/// ends, so parallel attempts on one key take turns and each sees the others' counts.
pub fn reserve(conn: &mut PgConnection, key: &str) -> QueryResult<Reserved> {
    diesel::sql_query(
        "INSERT INTO throttles (key, failures, last_failure_at) VALUES ($1, 0, 'epoch')
         ON CONFLICT (key) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(key)
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE throttles t SET failures = t.failures + 1, last_failure_at = now()
           FROM (SELECT key, last_failure_at FROM throttles WHERE key = $1 FOR UPDATE) old
          WHERE t.key = old.key
         RETURNING t.failures, old.last_failure_at AS previous",
    )
    .bind::<diesel::sql_types::Text, _>(key)
    .get_result(conn)
}

/// Gives back a reservation that was refused unchecked (waiting does not make the wait longer).
pub fn release(conn: &mut PgConnection, key: &str, previous: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(throttles::table.find(key))
        .set((
            throttles::failures.eq(throttles::failures - 1),
            throttles::last_failure_at.eq(previous),
        ))
        .execute(conn)
}

pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(throttles::table.find(key)).execute(conn)
}

/// Counts one more use of `key` in its window and returns the count, this use included: one
/// statement reads the counter and reserves the use, so parallel requests each get their own
/// number. A window that began more than `window_seconds` ago starts again at this use.
pub fn count_in_window(
    conn: &mut PgConnection,
    key: &str,
    window_seconds: i64,
) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        failures: i32,
    }
    let count: Count = diesel::sql_query(
        "INSERT INTO throttles AS t (key, failures, last_failure_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2)
                           THEN 1 ELSE t.failures + 1 END,
           last_failure_at = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2)
                                  THEN now() ELSE t.last_failure_at END
         RETURNING t.failures",
    )
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Double, _>(window_seconds as f64)
    .get_result(conn)?;
    Ok(count.failures)
}
