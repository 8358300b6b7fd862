//! Admission to password hashing for requests: a few requests that will hash at a time, a
//! bounded line of others waiting (on the executor: no thread, no connection held), and past
//! that, or after waiting too long, `AppError::Busy` (503 with Retry-After). The hashing
//! itself is bounded by `auth::password`'s threads; this keeps a storm of sign-ins from holding
//! the blocking pool and the database connections that pages need while they wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::HashingTuning;
use crate::error::{AppError, AppResult};

pub struct HashGate {
    turns: Arc<Semaphore>,
    admitted: usize,
    waiting: AtomicUsize,
    tuning: HashingTuning,
    inside: Arc<AtomicUsize>,
    /// The most requests that were ever inside at once.
    peak: Arc<AtomicUsize>,
}

/// A request's turn: held while it runs the transaction that hashes.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    inside: Arc<AtomicUsize>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a place in the line and gives it back when dropped.
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    pub fn new(tuning: HashingTuning) -> Self {
        let admitted = tuning.admitted.max(1);
        Self {
            turns: Arc::new(Semaphore::new(admitted)),
            admitted,
            waiting: AtomicUsize::new(0),
            tuning,
            inside: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A turn now, or after a short wait in line; `Busy` when the line is full or the wait
    /// runs out.
    pub async fn admit(&self) -> AppResult<Turn> {
        let permit = match self.turns.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
                let _place = InLine(&self.waiting);
                if ahead >= self.tuning.waiting {
                    return Err(AppError::Busy);
                }
                match tokio::time::timeout(
                    self.tuning.wait_at_most,
                    self.turns.clone().acquire_owned(),
                )
                .await
                {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(AppError::Busy),
                }
            }
        };
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Ok(Turn {
            _permit: permit,
            inside: self.inside.clone(),
        })
    }

    /// How many requests may hold a turn at once, and the most that ever did.
    pub fn admitted(&self) -> (usize, usize) {
        (self.admitted, self.peak.load(Ordering::SeqCst))
    }

    /// How many are waiting in line now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Takes every turn, so that whoever comes next waits in line (for tests of the line).
    pub async fn hold_all(&self) -> Vec<Turn> {
        let mut turns = Vec::new();
        for _ in 0..self.admitted {
            let permit = self
                .turns
                .clone()
                .acquire_owned()
                .await
                .expect("the gate's semaphore is never closed");
            self.inside.fetch_add(1, Ordering::SeqCst);
            turns.push(Turn {
                _permit: permit,
                inside: self.inside.clone(),
            });
        }
        turns
    }
}

/// How long a refused visitor is asked to wait before trying again.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);
