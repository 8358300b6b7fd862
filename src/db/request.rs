//! The connection a page's request holds: checked out once, when the session is loaded, and
//! used by everything else the request reads or writes, then returned when the response is
//! ready. The session store reads the session with the version of its user's frame
//! (`frame::session_with_version`), takes the frame from its cache or reads it, and leaves
//! both here for `Signed::page`: the page's own queries follow on the same connection.
//!
//! The slot is a task-local set around the request by the web layer (`scope`), only for
//! requests that render pages (GETs); elsewhere every helper checks out a connection as usual.
//! Everything that reads or writes during a request goes through `db::using`, so a request
//! never waits for a second connection while it holds one (a full pool would deadlock).

use std::cell::RefCell;
use std::future::Future;

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::models::frame::Frame;
use super::PooledConnection;
use crate::domain::UserId;

#[derive(Default)]
struct Slot {
    connection: Option<PooledConnection>,
    frame: Option<Frame>,
}

tokio::task_local! {
    static SLOT: RefCell<Slot>;
}

/// Runs `request` with a slot for its connection and frame; both go when it is done.
pub async fn scope<F: Future>(request: F) -> F::Output {
    SLOT.scope(RefCell::new(Slot::default()), request).await
}

/// Whether this request renders a page, so that its session load also reads the frame.
pub fn wants_frame() -> bool {
    SLOT.try_with(|_| ()).is_ok()
}

/// Keeps `connection` (and the frame read on it) for the rest of the request.
pub fn hold(connection: PooledConnection, frame: Option<Frame>) {
    let _ = SLOT.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        slot.frame = frame;
        slot.connection = Some(connection);
    });
}

/// The request's connection, if it holds one; `give_back` when done with it.
pub fn take_connection() -> Option<PooledConnection> {
    SLOT.try_with(|slot| slot.borrow_mut().connection.take())
        .ok()
        .flatten()
}

/// Returns the connection to the slot, unless it is left inside a transaction or broken (then
/// it goes back to the pool, which drops a broken one).
pub fn give_back(mut connection: PooledConnection) {
    let idle = matches!(
        AnsiTransactionManager::transaction_manager_status_mut(&mut *connection)
            .transaction_depth(),
        Ok(None)
    );
    if idle {
        let _ = SLOT.try_with(|slot| slot.borrow_mut().connection = Some(connection));
    }
}

/// The frame read with the session, when it is `user`'s.
pub fn take_frame(user: UserId) -> Option<Frame> {
    SLOT.try_with(|slot| slot.borrow_mut().frame.take())
        .ok()
        .flatten()
        .filter(|frame| frame.user.id == user)
}
