//! SQLite's writers take turns in the process, on one connection per database file.
//!
//! SQLite admits one writer at a time. Left to its busy handler, writers that find the lock
//! taken sleep in growing steps (1, 2, 5, … 100 ms) and retry, so under load a few unlucky
//! requests sleep for hundreds of milliseconds while the lock is free (create_case p99 in
//! docs/BENCHMARKS.md). Instead every write transaction of the process runs on the file's
//! one writer connection ([`writer_of`]), behind its lock: writers wait there and find
//! SQLite's lock free when their turn comes; the busy handler is left as a guard against
//! other processes (the CLI beside `serve`). One writer connection also keeps its page
//! cache: SQLite empties a connection's cache whenever another connection has written, so
//! writes spread over the pool each began by reading their pages again (create_case_raw
//! +20–30 %, docs/BENCHMARKS.md).
//!
//! Handlers first wait asynchronously, with no connection or blocking thread held, for one
//! of two places among the operations that write ([`Slot::wait`]): one writes while the
//! next does its reads and checks on its pooled connection, so a queue of writers never
//! holds up a read. The jobs, the CLI and tests write through the same writer.
//!
//! Copying the write-ahead log back into the database (the checkpoint) is done beside the
//! writers, by one thread of the process that each writer asks every few dozen commits
//! ([`Writer::committed`]); SQLite's own, inside a commit, is left as a guard.
//!
//! PostgreSQL has row locks and needs none of this: there both are no-ops.

use std::cell::Cell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, mpsc};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{Backend, DbConn, DbUrl};

/// How many operations that write may be under way at once on SQLite: one in its write
/// transaction, one preparing the next (its reads run beside the write; three places
/// measured no better, docs/BENCHMARKS.md).
const PREPARING: usize = 2;

/// The places of operations that write (fair: tokio's semaphore serves in arrival order).
static SLOTS: Semaphore = Semaphore::const_new(PREPARING);

thread_local! {
    /// Whether this thread is inside a write transaction (so a nested `write_tx` does not
    /// wait for itself).
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

/// Whether this thread is inside a write transaction on SQLite.
pub(super) fn held() -> bool {
    HELD.with(Cell::get)
}

/// While it lives, this thread is inside a write transaction.
pub(super) struct Held;

impl Held {
    pub(super) fn mark() -> Held {
        HELD.with(|h| h.set(true));
        Held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

/// How many commits of a writer between two requests for a background checkpoint.
const CHECKPOINT_EVERY: u32 = 64;

/// The write-ahead log's length, in pages, at which a writer copies it back into the
/// database itself: only a guard, for when the background checkpoint falls behind.
const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

/// The writer of one database file: the connection every write transaction of this
/// process runs on, behind the lock that makes writers take turns.
pub(super) struct Writer {
    conn: Mutex<DbConn>,
    file: String,
    commits: AtomicU32,
}

impl Writer {
    /// Waits for this writer's turn.
    pub(super) fn lock(&self) -> MutexGuard<'_, DbConn> {
        self.conn.lock()
    }

    /// Drops this writer (after it failed to roll back): the next write opens a new one.
    pub(super) fn forget(&self) {
        WRITERS.lock().remove(&self.file);
    }

    /// Counts a commit; every [`CHECKPOINT_EVERY`] commits asks the checkpointer to copy
    /// the write-ahead log back into the database.
    ///
    /// SQLite's own checkpoint runs inside the commit that fills the log to its limit,
    /// with the writer's turn held: it copies about a thousand pages and syncs the file
    /// while every other writer waits, half of a create's commit on average
    /// (docs/BENCHMARKS.md). A passive checkpoint on a connection of its own copies the
    /// same pages beside the writers and never waits for them.
    pub(super) fn committed(&self) {
        if self.commits.fetch_add(1, Ordering::Relaxed) % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1 {
            // The checkpointer lives as long as the process; a send fails only if it died,
            // and then the writer's own checkpoint (the guard) still bounds the log.
            let _ = CHECKPOINTS.send(self.file.clone());
        }
    }
}

static WRITERS: LazyLock<Mutex<HashMap<String, Arc<Writer>>>> = LazyLock::new(Default::default);

/// Where writers ask for checkpoints: the process's one checkpointer thread, started on
/// first use.
static CHECKPOINTS: LazyLock<mpsc::Sender<String>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || checkpointer(&rx))
        .expect("the checkpoint thread starts");
    tx
});

/// Runs a passive checkpoint of each file asked for, on a connection of its own per file.
fn checkpointer(asked: &mpsc::Receiver<String>) {
    let mut conns: HashMap<String, DbConn> = HashMap::new();
    while let Ok(first) = asked.recv() {
        let mut due = vec![first];
        due.extend(asked.try_iter());
        due.sort();
        due.dedup();
        for file in due {
            let conn = match conns.entry(file.clone()) {
                Entry::Occupied(c) => c.into_mut(),
                Entry::Vacant(v) => match (DbUrl { backend: Backend::Sqlite, target: file.clone() }).connect() {
                    Ok(c) => v.insert(c),
                    Err(e) => {
                        tracing::warn!(file = %file, error = %e, "cannot open the database to checkpoint it");
                        continue;
                    }
                },
            };
            // PASSIVE copies what no reader still needs and never waits for readers or writers.
            if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                tracing::warn!(file = %file, error = %e, "background checkpoint failed");
                conns.remove(&file);
            }
        }
    }
}

/// The file `conn` is open on, as SQLite names it (absolute).
fn file_of(conn: &mut DbConn) -> QueryResult<String> {
    #[derive(diesel::QueryableByName)]
    struct File {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    let f: File = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'").get_result(conn)?;
    Ok(f.file)
}

/// The writer of the database `conn` is open on, opened on first use. The process keeps
/// one per file (tests open many files; the service one).
pub(super) fn writer_of(conn: &mut DbConn) -> QueryResult<Arc<Writer>> {
    let file = file_of(conn)?;
    let mut writers = WRITERS.lock();
    if let Some(w) = writers.get(&file) {
        return Ok(w.clone());
    }
    let url = DbUrl { backend: Backend::Sqlite, target: file.clone() };
    let mut opened = url.connect().map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    opened.batch_execute(&format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}"))?;
    let w = Arc::new(Writer { conn: Mutex::new(opened), file: file.clone(), commits: AtomicU32::new(0) });
    writers.insert(file, w.clone());
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_file_has_one_writer_and_writes_land_in_their_own_file() {
        use diesel::connection::SimpleConnection;
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let mut conns: Vec<DbConn> = dirs
            .iter()
            .map(|d| {
                let url = DbUrl::parse(&format!("sqlite://{}", d.path().join("t.db").display())).unwrap();
                let mut c = url.connect().unwrap();
                c.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER)").unwrap();
                c
            })
            .collect();
        let wa = writer_of(&mut conns[0]).unwrap();
        let wb = writer_of(&mut conns[1]).unwrap();
        assert_ne!(wa.file, wb.file);
        assert!(!Arc::ptr_eq(&wa, &wb));
        assert!(Arc::ptr_eq(&wa, &writer_of(&mut conns[0]).unwrap()), "one writer per file");
        for (i, conn) in conns.iter_mut().enumerate() {
            super::super::write_tx(conn, |c| {
                assert!(held(), "inside the transaction the turn is held");
                c.batch_execute(&format!("INSERT INTO t VALUES ({i})"))
            })
            .unwrap();
            assert!(!held());
        }
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        for (i, conn) in conns.iter_mut().enumerate() {
            let rows: Vec<N> = diesel::sql_query("SELECT n FROM t").load(conn).unwrap();
            assert_eq!(rows.iter().map(|r| r.n).collect::<Vec<_>>(), vec![i as i32], "the pooled connection sees it");
        }
        // Nested: the inner write runs on the writer already in use, as a savepoint of the
        // outer transaction, rather than waiting for itself; it commits with the outer one.
        let nested = super::super::write_tx(&mut conns[0], |c| {
            super::super::write_tx(c, |c| c.batch_execute("INSERT INTO t VALUES (9)"))
        });
        assert!(nested.is_ok(), "{nested:?}");
        let rows: Vec<N> = diesel::sql_query("SELECT n FROM t WHERE n = 9").load(&mut conns[0]).unwrap();
        assert_eq!(rows.len(), 1, "the nested write landed");
        wa.forget();
        assert!(!Arc::ptr_eq(&wa, &writer_of(&mut conns[0]).unwrap()), "a forgotten writer is opened again");
    }

    #[test]
    fn the_write_ahead_log_is_copied_back_beside_the_writers() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let url = DbUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
        let mut conn = url.connect().unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (b BLOB NOT NULL)").unwrap();
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        // 16 KB a commit: far below the writer's own limit (WRITER_CHECKPOINT_PAGES), so only
        // the checkpointer, asked after CHECKPOINT_EVERY commits, can grow the file itself.
        let each = 16 * 1024;
        for _ in 0..CHECKPOINT_EVERY {
            super::super::write_tx(&mut conn, |c| {
                diesel::sql_query("INSERT INTO t VALUES (zeroblob(?))")
                    .bind::<diesel::sql_types::Integer, _>(each as i32)
                    .execute(c)
                    .map(drop)
            })
            .unwrap();
        }
        assert!(u64::from(CHECKPOINT_EVERY) * each < u64::from(WRITER_CHECKPOINT_PAGES) * 4096 / 4);
        let copied = before + u64::from(CHECKPOINT_EVERY) * each;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::fs::metadata(&file).unwrap().len() < copied {
            assert!(std::time::Instant::now() < deadline, "no checkpoint copied the log into {}", file.display());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM t").get_result(&mut conn).unwrap();
        assert_eq!(n.n, i64::from(CHECKPOINT_EVERY), "every row is there after the checkpoint");
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
