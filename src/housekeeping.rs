//! Work done on a timer inside `serve`: forget ended sessions, remind people of invitations that
//! expire within three days, tell guests a week before their access ends, and end it on the
//! day. Each step claims its rows with a conditional UPDATE, so two servers never do one twice;
//! what each step decides is in `services::invitations` and `services::guests`.

use diesel::PgConnection;

use crate::db::models::sessions;
use crate::db::PgPool;
use crate::error::AppResult;
use crate::services::{guests, invitations, Actor};
use crate::shutdown::Stop;

/// How often the steps run.
const EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// At most this many reminders a round; the rest wait for the next.
const REMINDERS_PER_ROUND: i64 = 100;

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sessions_removed: usize,
    pub reminders_sent: usize,
    pub guests_warned: usize,
    pub guests_ended: usize,
}

/// Runs until `stop`; a round already begun finishes first (each step is its own
/// transaction, so a round cut off by the process ending leaves nothing half done either).
pub async fn run(pool: PgPool, base_url: String, mut stop: Stop) {
    let mut interval = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.stopped() => break,
        }
        let (pool, base_url) = (pool.clone(), base_url.clone());
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<Round> {
            Ok(run_once(&mut *pool.get()?, &base_url)?)
        })
        .await;
        match outcome {
            Ok(Ok(round)) if round != Round::default() => tracing::info!(?round, "housekeeping"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "housekeeping failed"),
            Err(e) => tracing::warn!(error = %e, "housekeeping task failed"),
        }
    }
    tracing::info!("housekeeping stopped");
}

/// One round of every step, each in its own transaction.
pub fn run_once(conn: &mut PgConnection, base_url: &str) -> AppResult<Round> {
    Ok(Round {
        sessions_removed: sessions::delete_expired(conn)?,
        reminders_sent: conn
            .build_transaction()
            .run(|conn| invitations::send_reminders(conn, base_url, REMINDERS_PER_ROUND))?,
        guests_warned: conn.build_transaction().run(guests::warn_ending)?,
        guests_ended: conn
            .build_transaction()
            .run(|conn| guests::end_due(conn, &Actor::system()))?,
    })
}
