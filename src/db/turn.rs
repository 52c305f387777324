//! SQLite's writers take turns in the process, first come first served.
//!
//! SQLite admits one writer at a time. Left to its busy handler, writers that find the lock
//! taken sleep in growing steps (1, 2, 5, … 100 ms) and retry, so under load a few unlucky
//! requests sleep for hundreds of milliseconds while the lock is free (create_case p99 in
//! docs/BENCHMARKS.md). Instead every write transaction of the process waits here, in
//! arrival order, and finds the lock free when its turn comes; the busy handler is left as
//! a guard against other processes (the CLI beside `serve`).
//!
//! Handlers wait asynchronously before they take a pooled connection or a blocking thread
//! ([`Turn::wait`]), so a queue of writers never holds up a read. Any other writer (the
//! jobs, the CLI, tests) waits inside [`super::write_tx`]. There is one queue per process,
//! whatever the number of SQLite files it opens: the service opens one.
//!
//! PostgreSQL has row locks and needs none of this: there the turn is a no-op.

use std::cell::Cell;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::Backend;

/// The one permit to write to SQLite in this process (a FIFO queue: tokio's semaphore is fair).
static QUEUE: Semaphore = Semaphore::const_new(1);

thread_local! {
    /// Whether this thread holds the turn (so `write_tx` inside a held turn does not wait for itself).
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// The turn to write, held until dropped; empty on PostgreSQL.
pub struct Turn(Option<SemaphorePermit<'static>>);

impl Turn {
    /// Waits, without blocking a thread, for the turn to write to a database of `backend`.
    pub async fn wait(backend: Backend) -> Turn {
        match backend {
            Backend::Sqlite => Turn(Some(QUEUE.acquire().await.expect("the write queue is never closed"))),
            Backend::Postgres => Turn(None),
        }
    }

    /// Runs `f` on this thread with the turn held, then gives it up (on this thread, so the
    /// next writer's wake-up does not wait for the async task that waited).
    pub fn hold<T>(self, f: impl FnOnce() -> T) -> T {
        struct Release(bool);
        impl Drop for Release {
            fn drop(&mut self) {
                HELD.with(|h| h.set(self.0));
            }
        }
        let _release = Release(HELD.with(|h| h.replace(self.0.is_some())));
        let out = f();
        drop(self);
        out
    }
}

/// The turn taken by [`take`]: while it lives this thread holds it, so a nested attempt
/// does not wait for itself (SQLite then refuses the nested `BEGIN`, as it always did).
pub(super) struct Taken(#[allow(dead_code)] SemaphorePermit<'static>);

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
    // A plain wait on a condition: works on any thread, inside a runtime or not. Outside
    // tokio's cooperative budget: on a runtime thread that never yields (the CLI, which runs
    // on one), the budget runs out after 128 acquisitions and the wait would never end.
    let permit = match QUEUE.try_acquire() {
        Ok(permit) => permit,
        Err(_) => futures_executor::block_on(tokio::task::unconstrained(QUEUE.acquire()))
            .expect("the write queue is never closed"),
    };
    HELD.with(|h| h.set(true));
    Some(Taken(permit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_turn_is_not_waited_for_again_and_is_given_back() {
        let turn = futures_executor::block_on(Turn::wait(Backend::Sqlite));
        turn.hold(|| {
            assert!(take(Backend::Sqlite).is_none(), "the holder does not queue behind itself");
            assert_eq!(QUEUE.available_permits(), 0);
        });
        assert!(!HELD.with(Cell::get));
        let again = take(Backend::Sqlite).expect("the turn is free again");
        assert!(take(Backend::Sqlite).is_none(), "a nested write on the same thread does not wait for itself");
        drop(again);
        assert!(!HELD.with(Cell::get));
        assert!(take(Backend::Postgres).is_none());
    }
}
