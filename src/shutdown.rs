//! How `serve` stops, in this order, within one bound (`STAFFROOM_SHUTDOWN_TIMEOUT`, counted
//! from the signal):
//!
//! 1. SIGTERM (or SIGINT): the listener closes at once, so a load balancer's next connection is
//!    refused and goes to another server; nothing is accepted that will not be answered.
//! 2. Requests in flight run to their end. At the same moment the mail worker and housekeeping
//!    are told to stop: the worker finishes the message it is handing to the SMTP server and
//!    releases the rest of its batch at once (another server's worker sends them now, not when
//!    the lease ends); housekeeping finishes a round it has begun and starts no other.
//! 3. At the bound, whatever is still running is dropped: a request is cut off, and a message
//!    still being sent keeps its lease (it may have been delivered, so it is not released).
//! 4. `serve` then drops the pool and stops the embedded PostgreSQL cluster, if it runs one.
//!
//! A second signal during the wait stops at once.

use std::time::Instant;

use actix_web::dev::ServerHandle;
use tokio::sync::watch;

/// Told when the server stops; cheap to clone into every background task.
#[derive(Clone)]
pub struct Stop(watch::Receiver<Option<Instant>>);

/// The sending side, kept by `startup::Application` and the signal listener.
#[derive(Clone)]
pub struct Trigger(std::sync::Arc<watch::Sender<Option<Instant>>>);

pub fn channel() -> (Trigger, Stop) {
    let (tx, rx) = watch::channel(None);
    (Trigger(std::sync::Arc::new(tx)), Stop(rx))
}

impl Trigger {
    /// Starts stopping (once: a later call keeps the first moment) and says when it began.
    pub fn fire(&self) -> Instant {
        self.0.send_if_modified(|at| {
            if at.is_some() {
                return false;
            }
            *at = Some(Instant::now());
            true
        });
        self.0.borrow().unwrap_or_else(Instant::now)
    }
}

impl Stop {
    /// A stop that never comes (a worker run on its own, as in tests).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(None);
        // The sender is kept alive forever, so `stopped` never returns.
        std::mem::forget(tx);
        Self(rx)
    }

    /// Told to stop, or nobody is left who could tell (the application is gone).
    pub fn is_stopping(&self) -> bool {
        self.0.borrow().is_some() || self.0.has_changed().is_err()
    }

    /// Returns when the stop comes (or when nothing can ever send it).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(Option::is_some).await;
    }
}

/// SIGTERM or SIGINT: a graceful stop (the background tasks are told at the same moment); a
/// second one: stop now.
pub async fn on_signals(server: ServerHandle, trigger: Trigger, timeout: std::time::Duration) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM and SIGINT; stop the server with SIGKILL");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        signal = name,
        timeout_s = timeout.as_secs(),
        "stopping: no new connections; requests in flight may finish"
    );
    trigger.fire();
    let graceful = server.stop(true);
    tokio::select! {
        _ = graceful => {}
        _ = term.recv() => stop_now(&server).await,
        _ = int.recv() => stop_now(&server).await,
    }
}

async fn stop_now(server: &ServerHandle) {
    tracing::warn!("second signal: stopping at once");
    server.stop(false).await;
}
