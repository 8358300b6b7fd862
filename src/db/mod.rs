//! The connection pool, the embedded migrations, and the helpers that run diesel off the async
//! executor.
//!
//! The pool does not test a connection when it is checked out (that would be one more round
//! trip on every request). Instead a connection that turns out to be dead is marked broken, so
//! the pool drops it, and the first statement of a request is retried on another connection:
//! a restarted database or a terminated backend costs a retry, not an error page.

pub mod cached;
pub mod embedded;
pub mod migrations;
pub mod models;
pub mod paging;
pub mod request;
pub mod schema;
pub mod session_store;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::result::{DatabaseErrorKind, QueryResult};
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use crate::error::{AppError, AppResult};

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PooledConnection = diesel::r2d2::PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Builds the pool without connecting: the server starts while the database is down and
/// recovers when it returns (requests meanwhile answer 503).
pub fn pool(database_url: &str, max_size: u32) -> PgPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::new(database_url))
}

/// Applies the pending migrations under the advisory lock (see `migrations`); how many.
pub fn run_migrations(database_url: &str) -> Result<usize, migrations::MigrationError> {
    migrations::run(database_url)
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    using(pool, probe_if_suspect, |conn, ()| f(conn)).await
}

/// When a connection was last found dead (milliseconds since the epoch). For a while after
/// that, the other pooled connections are likely dead too (the database restarted, or its
/// backends were ended), so a checkout whose first statement is the caller's own is tested
/// first: the cost of a test per checkout is paid only while recovering.
static LAST_DISCONNECT_MS: AtomicI64 = AtomicI64::new(0);
const SUSPECT_FOR_MS: i64 = 10_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn probe_if_suspect(conn: &mut PgConnection) -> QueryResult<()> {
    if now_ms() - LAST_DISCONNECT_MS.load(Ordering::Relaxed) < SUSPECT_FOR_MS {
        diesel::sql_query("SELECT 1").execute(conn)?;
    }
    Ok(())
}

/// Runs `f` in one transaction: everything it writes (the change, its audit event, its mail)
/// lands together or not at all. A `BEGIN` on a dead connection is retried on another one.
pub async fn transaction<T, F>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    transaction_keeping(pool, f, |_| true).await
}

/// As `transaction`, but what `f` wrote is kept only when `keep` says so of its result (a
/// refused decision rolls back and still hands its answer on).
pub async fn transaction_keeping<T, F>(pool: &PgPool, f: F, keep: fn(&T) -> bool) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    using(pool, begin, move |conn, ()| {
        let result = f(conn);
        finish(conn, result, keep)
    })
    .await
}

/// The same on a connection the caller holds (the command line, housekeeping).
pub fn in_transaction<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> AppResult<T>,
    keep: fn(&T) -> bool,
) -> AppResult<T> {
    begin(conn)?;
    let result = f(conn);
    finish(conn, result, keep)
}

/// On a blocking thread: checks out a connection and runs `first` (a statement that changes
/// nothing, so it may run again), then `then` with its result on the same connection. When
/// `first` meets a dead connection, that connection is dropped and `first` runs on another.
pub fn with_first<A, T>(
    pool: &PgPool,
    first: impl Fn(&mut PgConnection) -> QueryResult<A>,
    then: impl FnOnce(&mut PgConnection, A) -> AppResult<T>,
) -> AppResult<T> {
    let (mut conn, value) = checkout_with_first(pool, first)?;
    finish_on(&mut conn, then, value)
}

/// `then`, marking the connection broken when it found the database away.
fn finish_on<A, T>(
    conn: &mut PgConnection,
    then: impl FnOnce(&mut PgConnection, A) -> AppResult<T>,
    value: A,
) -> AppResult<T> {
    let result = then(conn, value);
    if matches!(result, Err(AppError::Unavailable(_))) {
        mark_broken(conn);
    }
    result
}

/// The checkout of `with_first`: a connection on which `first` has run, and what it returned.
pub fn checkout_with_first<A>(
    pool: &PgPool,
    first: impl Fn(&mut PgConnection) -> QueryResult<A>,
) -> AppResult<(PooledConnection, A)> {
    let mut attempt = 0;
    loop {
        let mut conn = pool.get()?;
        match first(&mut conn) {
            Ok(value) => return Ok((conn, value)),
            // Every pooled connection may be dead (the database restarted): each failure drops
            // one, so after as many as the pool holds the next checkout is a new connection.
            Err(e) if is_disconnect(&e) && attempt <= pool.max_size() as usize => {
                tracing::info!("a pooled connection had died; retrying on another");
                mark_broken(&mut conn);
                attempt += 1;
            }
            Err(e) => {
                if is_disconnect(&e) {
                    mark_broken(&mut conn);
                }
                return Err(e.into());
            }
        }
    }
}

/// `with_first` from async code: on the connection this request already holds (see
/// `request`), or else on one checked out for it.
pub async fn using<A, T>(
    pool: &PgPool,
    first: impl Fn(&mut PgConnection) -> QueryResult<A> + Send + 'static,
    then: impl FnOnce(&mut PgConnection, A) -> AppResult<T> + Send + 'static,
) -> AppResult<T>
where
    A: Send + 'static,
    T: Send + 'static,
{
    let held = request::take_connection();
    let pool = pool.clone();
    let (kept, result) = actix_web::web::block(move || match held {
        Some(mut conn) => match first(&mut conn) {
            Ok(value) => {
                let result = finish_on(&mut conn, then, value);
                (Some(conn), result)
            }
            Err(e) if is_disconnect(&e) => {
                mark_broken(&mut conn);
                drop(conn);
                (None, with_first(&pool, first, then))
            }
            Err(e) => (Some(conn), Err(e.into())),
        },
        None => (None, with_first(&pool, first, then)),
    })
    .await?;
    if let Some(conn) = kept {
        request::give_back(conn);
    }
    result
}

/// The server end of the connection is gone (terminated backend, restarted database).
pub fn is_disconnect(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// A connection whose server went away stays unusable: the pool must not hand it out again.
fn mark_broken(conn: &mut PgConnection) {
    LAST_DISCONNECT_MS.store(now_ms(), Ordering::Relaxed);
    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
}

fn begin(conn: &mut PgConnection) -> QueryResult<()> {
    AnsiTransactionManager::begin_transaction(conn)
}

/// Commits when `result` is `Ok` and to be kept, rolls back otherwise, and hands `result` on.
fn finish<T>(conn: &mut PgConnection, result: AppResult<T>, keep: fn(&T) -> bool) -> AppResult<T> {
    match result {
        Ok(value) if keep(&value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Ok(value) => {
            AnsiTransactionManager::rollback_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection marked broken; the pool drops it.
            let _ = AnsiTransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}
