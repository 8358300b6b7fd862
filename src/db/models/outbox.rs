//! The `outbox` table: mail written in the transaction that causes it, claimed by the worker
//! with FOR UPDATE SKIP LOCKED, delivered, and retried with back-off.

use crate::domain::Channel;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl OutboxMessage {
    /// "Delivered", "Retrying" or "Failed", as admins see it.
    pub fn delivery_status(&self) -> &'static str {
        match (self.sent_at, self.failed_at, self.attempts) {
            (Some(_), _, _) => "Delivered",
            (None, Some(_), _) => "Failed",
            (None, None, 0) => "Queued",
            (None, None, _) => "Retrying",
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxMessage<'a> {
    pub channel: Channel,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

pub fn insert(conn: &mut PgConnection, message: &NewOutboxMessage) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values(message)
        .returning(outbox::id)
        .get_result(conn)
}

/// Claims up to `limit` due messages for `lease`: another worker skips them meanwhile, and if
/// this one crashes they come due again when the lease ends (the worker renews it while it
/// sends, `renew`). The lease is reckoned by the database's clock, as every check of it is.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<OutboxMessage>> {
    let lease_ms = lease.num_milliseconds();
    conn.transaction(|conn| {
        let ids: Vec<i64> = outbox::table
            .filter(outbox::sent_at.is_null())
            .filter(outbox::failed_at.is_null())
            .filter(outbox::next_attempt_at.le(diesel::dsl::now))
            .filter(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.lt(diesel::dsl::now)),
            )
            .order(outbox::id)
            .limit(limit)
            .select(outbox::id)
            .for_update()
            .skip_locked()
            .load(conn)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set(outbox::locked_until.eq(lease_end(lease_ms)))
            .returning(OutboxMessage::as_returning())
            .get_results(conn)
    })
}

/// Extends the lease on those of `ids` still claimed and unfinished: a worker that is alive
/// keeps its batch however long the sending takes.
pub fn renew(conn: &mut PgConnection, ids: &[i64], lease: Duration) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::sent_at.is_null())
            .filter(outbox::failed_at.is_null())
            .filter(outbox::locked_until.is_not_null()),
    )
    .set(outbox::locked_until.eq(lease_end(lease.num_milliseconds())))
    .execute(conn)
}

/// The database's now plus the lease.
fn lease_end(
    lease_ms: i64,
) -> diesel::dsl::Nullable<
    diesel::dsl::Add<
        diesel::dsl::AsExprOf<diesel::dsl::now, diesel::sql_types::Timestamptz>,
        diesel::dsl::AsExprOf<diesel::data_types::PgInterval, diesel::sql_types::Interval>,
    >,
> {
    use diesel::dsl::IntervalDsl;
    use diesel::IntoSql;
    (diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>()
        + lease_ms
            .milliseconds()
            .into_sql::<diesel::sql_types::Interval>())
    .nullable()
}

pub fn mark_sent(conn: &mut PgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(diesel::dsl::now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<DateTime<Utc>>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Marks a batch's sent messages in one statement.
pub fn mark_all_sent(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::sent_at.eq(diesel::dsl::now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<DateTime<Utc>>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Schedules another attempt at `next_attempt_at`, or gives up (`None`).
pub fn mark_failed_attempt(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    let target = outbox::table.find(id);
    let common = (
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::locked_until.eq(None::<DateTime<Utc>>),
        outbox::last_error.eq(error),
    );
    match next_attempt_at {
        Some(at) => diesel::update(target)
            .set((common, outbox::next_attempt_at.eq(at)))
            .execute(conn),
        None => diesel::update(target)
            .set((common, outbox::failed_at.eq(diesel::dsl::now)))
            .execute(conn),
    }
}

/// Newest first, for /dev/mailbox.
pub fn latest(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<OutboxMessage>> {
    outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxMessage::as_select())
        .load(conn)
}
