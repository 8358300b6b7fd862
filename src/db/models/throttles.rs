//! The `throttles` table: consecutive failures per key ("account:<email>", "address:<ip>",
//! "code:<user id>"), kept in PostgreSQL so that the limit holds across servers.

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

pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(throttles::table.find(key)).execute(conn)
}
