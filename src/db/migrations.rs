//! The embedded migrations: who applies them (one process at a time, under a PostgreSQL
//! advisory lock held on a connection of its own), how (every pending migration in one
//! transaction, so a failure leaves the schema as it was), and whether the database is ready
//! for traffic (`/readyz`: it accepts writes and every migration is applied).

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::MigrationHarness;

use super::{is_disconnect, mark_broken, PgPool, MIGRATIONS};

/// The advisory lock key every Staffroom process takes to migrate ("staffrm" and a 1).
pub const LOCK: i64 = 0x7374_6166_6672_6d01;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database cannot be reached (or went away): `serve` starts anyway and tries again.
    #[error("cannot reach the database to apply the migrations: {0}")]
    Unreachable(String),
    /// A migration failed: nothing was applied, and the server must not start on this schema.
    #[error(
        "a migration failed, so none of the pending migrations was applied (they run in one \
         transaction, rolled back): {0}"
    )]
    Failed(String),
}

/// Applies the pending migrations, or waits while another process does and then finds none to
/// apply. Returns how many this process applied.
pub fn run(database_url: &str) -> Result<usize, MigrationError> {
    let unreachable = |e: &dyn std::fmt::Display| MigrationError::Unreachable(e.to_string());
    let mut conn = PgConnection::establish(database_url).map_err(|e| unreachable(&e))?;
    let locked = sql_bool(
        &mut conn,
        &format!("SELECT pg_try_advisory_lock({LOCK}) AS value"),
    )
    .map_err(|e| unreachable(&e))?;
    if !locked {
        tracing::info!("another server is applying the migrations; waiting for it to finish");
        conn.batch_execute(&format!("SELECT pg_advisory_lock({LOCK})"))
            .map_err(|e| unreachable(&e))?;
    }
    let applied = conn.transaction::<usize, anyhow::Error, _>(|conn| {
        let versions = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(versions.len())
    });
    // Also released when the connection closes, should this process die first.
    let _ = conn.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK})"));
    match applied {
        Ok(0) => {
            tracing::info!("migrations: none pending");
            Ok(0)
        }
        Ok(count) => {
            tracing::info!(applied = count, "migrations applied");
            Ok(count)
        }
        // A database that went away mid-way is not a bad migration.
        Err(e) if conn.batch_execute("SELECT 1").is_err() => Err(unreachable(&e)),
        Err(e) => Err(MigrationError::Failed(format!("{e:#}"))),
    }
}

fn sql_bool(conn: &mut PgConnection, query: &str) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = Bool)]
        value: bool,
    }
    Ok(diesel::sql_query(query).get_result::<Value>(conn)?.value)
}

/// Whether this server should be sent traffic, and if not why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// No connection within the wait, or the database did not answer.
    Unreachable,
    /// A standby, or a database that refuses writes.
    ReadOnly,
    /// Some of this binary's migrations are not applied.
    MigrationsPending,
}

impl Readiness {
    /// The words `/readyz` answers with.
    pub fn describe(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Unreachable => "not ready: the database does not answer",
            Readiness::ReadOnly => "not ready: the database does not accept writes",
            Readiness::MigrationsPending => "not ready: migrations are not all applied",
        }
    }
}

/// Checks on a pooled connection, waiting at most `wait` for one. A dead pooled connection is
/// dropped and the check runs once more on a new one, so a restarted database is found ready.
pub fn readiness(pool: &PgPool, wait: Duration) -> Readiness {
    for _ in 0..2 {
        let Ok(mut conn) = pool.get_timeout(wait) else {
            return Readiness::Unreachable;
        };
        match check(&mut conn) {
            Err(e) if is_disconnect(&e) => mark_broken(&mut conn),
            Err(_) => return Readiness::Unreachable,
            Ok(readiness) => return readiness,
        }
    }
    Readiness::Unreachable
}

fn check(conn: &mut PgConnection) -> diesel::QueryResult<Readiness> {
    let read_only = sql_bool(
        conn,
        "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS value",
    )?;
    if read_only {
        return Ok(Readiness::ReadOnly);
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        applied: i64,
    }
    let versions = versions();
    let counted = diesel::sql_query(
        "SELECT count(*) AS applied FROM __diesel_schema_migrations WHERE version = ANY($1)",
    )
    .bind::<Array<Text>, _>(versions)
    .get_result::<Count>(conn);
    match counted {
        Ok(count) if count.applied as usize == versions.len() => Ok(Readiness::Ready),
        Ok(_) => Ok(Readiness::MigrationsPending),
        // No migrations table yet: nothing applied.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("__diesel_schema_migrations") =>
        {
            Ok(Readiness::MigrationsPending)
        }
        Err(e) => Err(e),
    }
}

/// The versions of the migrations embedded in this binary.
fn versions() -> &'static Vec<String> {
    static VERSIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    VERSIONS.get_or_init(|| {
        MigrationSource::<Pg>::migrations(&MIGRATIONS)
            .expect("the embedded migrations are readable")
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    })
}
