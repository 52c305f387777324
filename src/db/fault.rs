//! Which database errors are faults of the service's surroundings — the database is gone,
//! or its disk is full — rather than of the request: those are answered 503 with
//! `Retry-After`, counted, and reported by `/readyz`, and the service carries on by itself
//! once the database is back or space is freed.

use diesel::result::{DatabaseErrorKind, Error};

/// A fault of what the service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot be reached, is restarting, or dropped the connection.
    Database,
    /// The database's storage is full (or cannot be written).
    Storage,
}

impl Fault {
    /// Its name in metrics and in `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Database => "database_unavailable",
            Fault::Storage => "storage_full",
        }
    }

    /// How long a client should wait before trying again, in seconds.
    pub fn retry_after_secs(self) -> u32 {
        match self {
            Fault::Database => 5,
            Fault::Storage => 60,
        }
    }
}

/// What PostgreSQL (SQLSTATE 08…, 57P01–57P03, 53100) and SQLite (SQLITE_FULL,
/// SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY) say when the fault is theirs. Diesel
/// gives the server's message, not its code.
const STORAGE: &[&str] = &[
    "database or disk is full",
    "no space left on device",
    "could not extend file",
    "could not write to file",
    "disk i/o error",
    "attempt to write a readonly database",
];
const UNREACHABLE: &[&str] = &[
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "server closed the connection",
    "could not receive data from server",
    "could not send data to server",
    "connection not open",
    "lost synchronization with server",
    "no connection to the server",
    "connection to server",
    "could not connect",
    "connection refused",
    "unable to open database file",
    "database does not allow connections",
];

/// The fault `err` reports, if it is one.
pub fn fault_of(err: &Error) -> Option<Fault> {
    let message = match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => return Some(Fault::Database),
        Error::DatabaseError(_, info) => info.message().to_lowercase(),
        Error::BrokenTransactionManager => return Some(Fault::Database),
        Error::QueryBuilderError(e) => e.to_string().to_lowercase(),
        _ => return None,
    };
    if STORAGE.iter().any(|s| message.contains(s)) {
        Some(Fault::Storage)
    } else if UNREACHABLE.iter().any(|s| message.contains(s)) {
        Some(Fault::Database)
    } else {
        None
    }
}

/// The fault a failed connection attempt reports (a lost server, an unwritable file).
pub fn fault_of_connection(err: &diesel::ConnectionError) -> Fault {
    let message = err.to_string().to_lowercase();
    if STORAGE.iter().any(|s| message.contains(s)) { Fault::Storage } else { Fault::Database }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;

    /// A real SQLite that runs out of room (its page limit is SQLite's own full-disk error).
    #[test]
    fn a_full_sqlite_file_is_a_storage_fault_and_a_bad_query_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = SqliteConnection::establish(dir.path().join("x.db").to_str().unwrap()).unwrap();
        conn.batch_execute("CREATE TABLE t (x TEXT); PRAGMA max_page_count = 3;").unwrap();
        let err = conn
            .batch_execute("INSERT INTO t SELECT hex(randomblob(2000)) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)")
            .unwrap_err();
        assert_eq!(fault_of(&err), Some(Fault::Storage), "{err}");
        let err = conn.batch_execute("SELECT * FROM missing").unwrap_err();
        assert_eq!(fault_of(&err), None, "{err}");
    }
}
