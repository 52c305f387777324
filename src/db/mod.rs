//! Database access: one connection type for SQLite and PostgreSQL, picked from the URL.

pub mod cached;
pub mod dialect;
pub mod fault;
pub mod migrate;
pub mod schema;
pub mod turn;

pub use cached::Cached;
pub use dialect::{NUMBERS_PER_REFILL, lock, lock_shared, next_case_number, try_lock};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

/// A connection to whichever backend the configuration names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of whichever backend `$conn`
/// talks to; the body is compiled once per backend.
///
/// For hot statements and for what the multi-backend connection cannot do (multi-row
/// INSERT). Through `DbConn`, diesel renders a statement's whole SQL text twice on every
/// execution, even when the prepared statement is cached; on the concrete connection a
/// cached statement is found by its type alone (docs/BENCHMARKS.md, get_case).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Runs the upsert that `$stmt!(rows)` builds over every row of `$rows`, loading what it
/// returns as `$ret`: on PostgreSQL in batches of [`dialect::PG_ROWS_PER_UPSERT`]; on
/// SQLite one row a statement, since diesel cannot write a SQLite upsert of many rows
/// (and in-process each costs little). Each statement is prepared once ([`Cached`]).
#[macro_export]
macro_rules! upsert_rows {
    ($conn:expr, $rows:expr, $stmt:ident -> $ret:ty) => {
        match $conn {
            $crate::db::DbConn::Pg(c) => {
                for chunk in $rows.chunks($crate::db::dialect::PG_ROWS_PER_UPSERT) {
                    $crate::db::Cached($stmt!(chunk)).load::<$ret>(c)?;
                }
            }
            $crate::db::DbConn::Sqlite(c) => {
                for row in $rows.iter() {
                    $crate::db::Cached($stmt!(row)).load::<$ret>(c)?;
                }
            }
        }
    };
}

/// The two supported backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `database.url`: the backend and what its driver needs to connect.
#[derive(Clone)]
pub struct DbUrl {
    pub backend: Backend,
    /// For SQLite the file path; for PostgreSQL the URL itself.
    target: String,
}

impl DbUrl {
    /// Parses `sqlite://PATH` or `postgres://…` / `postgresql://…`; anything else is refused.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite URL needs a file path, e.g. sqlite://data/casetrack.db".into());
            }
            return Ok(DbUrl { backend: Backend::Sqlite, target: path.to_string() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url::Url::parse(url).map_err(|e| format!("not a valid PostgreSQL URL ({e})"))?;
            return Ok(DbUrl { backend: Backend::Postgres, target: url.to_string() });
        }
        let scheme = url.split("://").next().filter(|s| *s != url).unwrap_or("none");
        Err(format!("unsupported database URL scheme `{scheme}`: use sqlite://PATH or postgres://USER@HOST/DB"))
    }

    /// Where the database is, without credentials: the SQLite file, or PostgreSQL's
    /// `host:port/database` (for logs and error messages).
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Sqlite => self.target.clone(),
            Backend::Postgres => match url::Url::parse(&self.target) {
                Ok(u) => format!(
                    "{}:{}{}",
                    u.host_str().unwrap_or("localhost"),
                    u.port().unwrap_or(5432),
                    if u.path().len() > 1 { u.path() } else { "/" }
                ),
                Err(_) => "(unparsable URL)".into(),
            },
        }
    }

    /// One connection attempt, for a clear one-line answer before the pool starts retrying:
    /// a database that does not exist, refuses the login or is not listening.
    pub fn check_reachable(&self) -> Result<(), String> {
        self.connect().map(drop).map_err(|e| {
            let reason = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            format!("cannot connect to the database at {}: {reason}", self.describe())
        })
    }

    /// [`DbUrl::check_reachable`] for a database server; a SQLite file needs none (it is
    /// created when first opened).
    pub fn check_server_reachable(&self) -> Result<(), String> {
        if self.backend == Backend::Sqlite { Ok(()) } else { self.check_reachable() }
    }

    /// The SQLite file, when this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite).then(|| PathBuf::from(&self.target))
    }

    /// Opens one connection with the per-connection settings of its backend.
    pub fn connect(&self) -> ConnectionResult<DbConn> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target).map(DbConn::Pg),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)?;
                // busy_timeout lets writers queue instead of failing; foreign keys are off by default.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl DbConn {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// How long a pooled connection may sit unused before it is checked with a ping when
/// next handed out. Under load connections come back within milliseconds and skip the
/// check (a round trip per request on PostgreSQL); after a lull, a server restart or a
/// dropped idle connection is found before a request uses it.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A pooled connection and when the pool last handed it out.
pub struct Tracked {
    conn: DbConn,
    handed_out: Instant,
}

impl std::ops::Deref for Tracked {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Tracked {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// r2d2 manager that connects by our own reading of the URL (never by trial).
pub struct DbManager {
    url: DbUrl,
}

impl ManageConnection for DbManager {
    type Connection = Tracked;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Tracked, r2d2::Error> {
        let conn = self.url.connect().map_err(r2d2::Error::ConnectionError)?;
        Ok(Tracked { conn, handed_out: Instant::now() })
    }

    fn is_valid(&self, c: &mut Tracked) -> Result<(), r2d2::Error> {
        let idle = std::mem::replace(&mut c.handed_out, Instant::now()).elapsed();
        if idle < PING_AFTER_IDLE { Ok(()) } else { c.conn.ping().map_err(r2d2::Error::QueryError) }
    }

    /// Diesel marks a PostgreSQL connection broken once libpq has lost it, so a dead
    /// connection fails the one request that meets it and is then dropped.
    fn has_broken(&self, c: &mut Tracked) -> bool {
        c.conn.is_broken()
    }
}

pub type DbPool = r2d2::Pool<DbManager>;
pub type PooledConn = r2d2::PooledConnection<DbManager>;

/// Builds the pool; for a SQLite file it creates the folder and switches the file to WAL once.
pub fn build_pool(url: &DbUrl, max_size: u32) -> Result<DbPool, String> {
    if let Some(path) = url.sqlite_path() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the database folder {}: {e}", dir.display()))?;
        }
        let mut conn = url.connect().map_err(|e| format!("cannot open the SQLite database: {e}"))?;
        // Switching the journal mode needs the file to itself, and SQLite answers "locked" at
        // once instead of waiting in the busy handler: several instances (or the CLI) opening
        // a new file together would fail. Try again for a while.
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(e) = conn.batch_execute("PRAGMA journal_mode = WAL;") {
            if Instant::now() > deadline || !e.to_string().contains("locked") {
                return Err(format!("cannot switch the SQLite database to WAL: {e}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    url.check_reachable()?;
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager { url: url.clone() })
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

/// Runs `f` in a transaction that holds the write lock from its first statement.
///
/// On SQLite a plain (deferred) transaction that reads and then writes fails with
/// SQLITE_BUSY when another writer got in between; `BEGIN IMMEDIATE` queues instead.
///
/// Why beginning on the inner connection and committing through `DbConn` is sound: the
/// transaction manager `derive(MultiConnection)` generates keeps no state of its own; it
/// hands every call to the inner connection's `AnsiTransactionManager`, whose depth lives
/// in that inner connection. Beginning there with our own SQL and committing or rolling
/// back through `DbConn` therefore move one and the same depth counter.
///
/// On SQLite `f` runs on the database file's one writer connection ([`turn`]), not on
/// `conn`: the call waits for that writer's lock (unless this thread already holds it), so
/// writers of this process queue instead of sleeping in the busy handler, and the writer's
/// page cache stays warm. `conn` (a pooled connection) only names the file; what `f`
/// writes is committed before `write_tx` returns, so `conn` reads it afterwards.
///
/// Nesting: on PostgreSQL a `write_tx` inside a transaction becomes a savepoint (diesel's
/// ordinary nested transaction), released or rolled back with it. On SQLite the nested
/// call runs on the writer already in use, where `begin_transaction_sql` refuses to run
/// inside a transaction (`AlreadyInTransaction`),
/// so nesting fails loudly instead of silently downgrading `BEGIN IMMEDIATE`: operations
/// open one `write_tx` and call only helpers that do not open another.
pub fn write_tx<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if let DbConn::Sqlite(_) = conn
        && !turn::held()
    {
        let writer = turn::writer_of(conn)?;
        let mut in_turn = writer.lock();
        let _held = turn::Held::mark();
        let (out, broken) = run_tx(&mut in_turn, f);
        drop(in_turn);
        if broken {
            writer.forget();
        } else if out.is_ok() {
            writer.committed();
        }
        return out;
    }
    run_tx(conn, f).0
}

/// True while `c` is inside a transaction.
fn in_transaction(c: &mut SqliteConnection) -> bool {
    use diesel::connection::TransactionManager;
    AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().ok().flatten().is_some()
}

/// Runs `f` in one transaction on `conn`; also says whether the connection is broken (a
/// rollback that failed), so a writer can be replaced as r2d2 replaces a pooled one.
fn run_tx<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> (Result<T, E>, bool)
where
    E: From<diesel::result::Error>,
{
    // Inside another write transaction (one operation built of others): a savepoint.
    let begun = match conn {
        DbConn::Sqlite(c) => {
            if in_transaction(c) {
                AnsiTransactionManager::begin_transaction(c)
            } else {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            }
        }
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    };
    if let Err(e) = begun {
        return (Err(e.into()), false);
    }
    match f(conn) {
        Ok(value) => match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
            Ok(()) => (Ok(value), false),
            Err(e) => {
                let broken = <DbConn as Connection>::TransactionManager::rollback_transaction(conn).is_err();
                (Err(e.into()), broken)
            }
        },
        Err(err) => {
            // The caller's error is what matters; a failed rollback leaves the connection broken
            // (r2d2 drops a pooled one; a writer is replaced).
            let broken = <DbConn as Connection>::TransactionManager::rollback_transaction(conn).is_err();
            (Err(err), broken)
        }
    }
}
