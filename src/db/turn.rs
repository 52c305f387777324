//! SQLite's writers take turns in the process, in the order they came.
//!
//! SQLite admits one writer at a time. Left to its busy handler, writers that find the lock
//! taken sleep in growing steps (1, 2, 5, … 100 ms) and retry, so under load a few unlucky
//! requests sleep for hundreds of milliseconds while the lock is free (create_case p99 in
//! docs/BENCHMARKS.md). Instead the writers of the process wait here, in arrival order,
//! and find SQLite's lock free when their turn comes; the busy handler is left as a guard
//! against other processes (the CLI beside `serve`).
//!
//! Handlers first wait asynchronously, with no connection or blocking thread held, for one
//! of two places among the operations that write ([`Slot::wait`]): one writes while the
//! next does its reads and checks, and at most one waits in [`super::write_tx`] holding a
//! connection, so a queue of writers never holds up a read. Every write transaction then
//! takes the turn itself in `write_tx`, so the jobs, the CLI and tests queue too. There
//! is one queue per process, whatever the number of SQLite files it opens: the service
//! opens one.
//!
//! PostgreSQL has row locks and needs none of this: there both are no-ops.

use std::cell::Cell;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::Backend;

/// How many operations that write may be under way at once on SQLite: one in its write
/// transaction, one preparing the next (its reads run beside the write; three places
/// measured no better, docs/BENCHMARKS.md).
const PREPARING: usize = 2;

/// The places of operations that write (fair: tokio's semaphore serves in arrival order).
static SLOTS: Semaphore = Semaphore::const_new(PREPARING);

/// The lock of SQLite's one writer in this process. Not first come first served: only
/// the few writers with a place (and the jobs) ever meet here, so the order is already
/// kept by [`SLOTS`], and a writer that arrives as the lock frees takes it at once
/// instead of waiting for a sleeping thread to be woken.
static QUEUE: parking_lot::Mutex<()> = parking_lot::const_mutex(());

thread_local! {
    /// Whether this thread holds the turn (so a nested `write_tx` does not wait for itself).
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// A place among the operations that write, held until dropped; empty on PostgreSQL.
pub struct Slot(#[allow(dead_code)] Option<SemaphorePermit<'static>>);

impl Slot {
    /// Waits, without blocking a thread, for a place to run an operation that writes.
    pub async fn wait(backend: Backend) -> Slot {
        match backend {
            Backend::Sqlite => Slot(Some(SLOTS.acquire().await.expect("the write places are never closed"))),
            Backend::Postgres => Slot(None),
        }
    }

    /// Runs `f` with the place held, then gives it up on this thread (so the next writer's
    /// wake-up does not wait for the async task that waited).
    pub fn hold<T>(self, f: impl FnOnce() -> T) -> T {
        let out = f();
        drop(self);
        out
    }
}

/// The turn taken by [`take`]: while it lives this thread holds it, so a nested attempt
/// does not wait for itself (SQLite then refuses the nested `BEGIN`, as it always did).
pub(super) struct Taken(#[allow(dead_code)] parking_lot::MutexGuard<'static, ()>);

impl Drop for Taken {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

/// The turn for a write transaction on `backend` begun by this thread: nothing when the
/// thread already holds it or the backend is PostgreSQL, else waits for it (blocking).
pub(super) fn take(backend: Backend) -> Option<Taken> {
    if backend == Backend::Postgres || HELD.with(Cell::get) {
        return None;
    }
    let guard = QUEUE.lock();
    HELD.with(|h| h.set(true));
    Some(Taken(guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_turn_is_not_waited_for_again_and_is_given_back() {
        let turn = take(Backend::Sqlite).expect("the turn is free");
        assert!(take(Backend::Sqlite).is_none(), "a nested write on the same thread does not wait for itself");
        assert!(QUEUE.is_locked());
        drop(turn);
        assert!(!HELD.with(Cell::get));
        drop(take(Backend::Sqlite).expect("the turn is free again"));
        assert!(take(Backend::Postgres).is_none());
    }

    #[test]
    fn places_are_given_back_when_the_operation_ends() {
        let slot = futures_executor::block_on(Slot::wait(Backend::Sqlite));
        let seen = slot.hold(|| SLOTS.available_permits());
        assert!(seen < PREPARING);
        let _pg = futures_executor::block_on(Slot::wait(Backend::Postgres));
        assert!(futures_executor::block_on(Slot::wait(Backend::Sqlite)).0.is_some());
    }
}
