//! Embedded migrations, one tree per backend, applied under a lock.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, write_tx};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Advisory-lock key that serialises migration runs across instances on PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x6361_7365_7472_6163; // "casetrac"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations; returns how many were applied.
///
/// Everything runs in one transaction that first takes a lock (an advisory
/// transaction lock on PostgreSQL, the write lock on SQLite), so two instances
/// starting together apply each migration once.
pub fn run_pending(conn: &mut DbConn) -> Result<usize, BoxError> {
    write_tx(conn, |conn| -> Result<usize, BoxError> {
        lock_setup(conn)?;
        match conn {
            DbConn::Pg(pg) => Ok(pg.run_pending_migrations(PG_MIGRATIONS)?.len()),
            DbConn::Sqlite(sqlite) => Ok(sqlite.run_pending_migrations(SQLITE_MIGRATIONS)?.len()),
        }
    })
}

/// Serialises one-time set-up (migrations, seeding) across instances for the rest of
/// the current transaction; on SQLite the write transaction already does.
pub fn lock_setup(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// True when every embedded migration has been applied.
pub fn is_up_to_date(conn: &mut DbConn) -> Result<bool, BoxError> {
    let pending = match conn {
        DbConn::Pg(pg) => pg.has_pending_migration(PG_MIGRATIONS)?,
        DbConn::Sqlite(sqlite) => sqlite.has_pending_migration(SQLITE_MIGRATIONS)?,
    };
    Ok(!pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::migration::MigrationSource;

    fn names<DB: diesel::backend::Backend>(source: &EmbeddedMigrations) -> Vec<String> {
        MigrationSource::<DB>::migrations(source).unwrap().iter().map(|m| m.name().to_string()).collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let pg = names::<diesel::pg::Pg>(&PG_MIGRATIONS);
        let sqlite = names::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS);
        assert!(!pg.is_empty());
        assert_eq!(pg, sqlite);
    }
}
