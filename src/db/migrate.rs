//! Embedded migrations, one tree per backend, applied under a lock.

use diesel::RunQueryDsl;
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
/// transaction lock on PostgreSQL, SQLite's write lock by `BEGIN IMMEDIATE`), so two
/// instances starting together apply each migration once. On SQLite the migrations run
/// on this connection with its foreign keys off, so that a migration may rebuild a table
/// the way SQLite documents (create, copy, drop, rename); `PRAGMA foreign_key_check` must
/// find nothing before the transaction commits.
pub fn run_pending(conn: &mut DbConn) -> Result<usize, BoxError> {
    match conn {
        DbConn::Pg(_) => write_tx(conn, |conn| -> Result<usize, BoxError> {
            lock_setup(conn)?;
            let DbConn::Pg(pg) = conn else { unreachable!("the same connection") };
            Ok(pg.run_pending_migrations(PG_MIGRATIONS)?.len())
        }),
        DbConn::Sqlite(sqlite) => {
            sqlite.batch_execute("PRAGMA foreign_keys = OFF")?;
            let applied = sqlite.immediate_transaction(|sqlite| -> Result<usize, BoxError> {
                let n = sqlite.run_pending_migrations(SQLITE_MIGRATIONS)?.len();
                let broken: Vec<Broken> = diesel::sql_query("PRAGMA foreign_key_check").load(sqlite)?;
                if let Some(b) = broken.first() {
                    return Err(
                        format!("a migration left {} rows in {} without their parent", broken.len(), b.table).into()
                    );
                }
                Ok(n)
            });
            sqlite.batch_execute("PRAGMA foreign_keys = ON")?;
            applied
        }
    }
}

/// A row of `PRAGMA foreign_key_check`: a child row whose parent is missing.
#[derive(diesel::QueryableByName)]
struct Broken {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
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

    /// A database of the flat-list era, with a closed case, upgraded: its severity becomes
    /// a level, its one decision the first of its list, its measure the party's reprimand,
    /// the rollup follows, and the rebuilt table keeps its rows, indexes and references.
    /// A SQLite database in `dir` migrated up to, not including, the migration whose name
    /// ends with `suffix`; also how many migrations are still to run.
    fn sqlite_before(dir: &std::path::Path, suffix: &str) -> (diesel::sqlite::SqliteConnection, usize) {
        use diesel::Connection;
        let mut conn = diesel::sqlite::SqliteConnection::establish(dir.join("old.db").to_str().unwrap()).unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        let all = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS).unwrap();
        let cut = all.iter().position(|m| m.name().to_string().ends_with(suffix)).unwrap();
        diesel::migration::MigrationConnection::setup(&mut conn).unwrap();
        for m in &all[..cut] {
            conn.run_migration(m.as_ref()).unwrap();
        }
        (conn, all.len() - cut)
    }

    #[test]
    fn the_handling_migration_carries_old_cases_over() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, pending) = sqlite_before(dir.path(), "_handling");
        conn.batch_execute(
            "INSERT INTO units (id, code, name, kind, created_at, updated_at) VALUES ('u', 'HN', 'Hà Nội', 'city', '2024-01-01', '2024-01-01');
             INSERT INTO users (id, username, full_name, password_hash, password_changed_at, role, unit_id, active, created_at, updated_at)
               VALUES ('p', 'ubkt', 'UBKT', 'x', '2024-01-01', 'reviewer', 'u', 1, '2024-01-01', '2024-01-01');
             INSERT INTO directives (id, code, kind, title, catalog_version, created_at, updated_at)
               VALUES ('d', '24-CT/TU', 'directive', 'Chỉ thị', '1', '2024-01-01', '2024-01-01');
             INSERT INTO campaigns (id, title, kind, directive_id, starts_on, ends_on, status, lead_id, created_by, created_at, updated_at)
               VALUES ('c', 'Đợt 1', 'inspection', 'd', '2024-01-01', '2024-12-31', 'active', 'p', 'p', '2024-01-01', '2024-01-01');
             INSERT INTO cases (id, number, campaign_id, directive_id, subject_kind, subject_unit_id, subject_key, title,
               description, detected_on, severity, status, decision_measure, decision_decided_on, decision_reference,
               closed_at, search_text, created_by, created_at, updated_at)
               VALUES ('k', '2024-000001', 'c', 'd', 'individual', 'u', 'person:u:nguyen van hung', 'T', 'D', '2024-05-01',
                       'high', 'closed', 'reprimand', '2024-05-20', '12-QĐ/UBKT', '2024-05-21', 't', 'p', '2024-05-01', '2024-05-21');
             UPDATE cases SET person_name = 'Nguyễn Văn Hùng' WHERE id = 'k';
             INSERT INTO cases (id, number, campaign_id, directive_id, subject_kind, subject_unit_id, person_name,
               subject_key, title, description, detected_on, severity, status, search_text, created_by, created_at, updated_at)
               VALUES ('l', '2024-000002', 'c', 'd', 'individual', 'u', 'Nguyễn Văn Hưng', 'person:u:nguyen van hung', 'T', 'D',
                       '2024-05-02', 'low', 'open', 't', 'p', '2024-05-02', '2024-05-02');
             INSERT INTO case_events (id, case_id, at, kind, detail) VALUES ('e', 'k', '2024-05-01', 'created', '{}');
             INSERT INTO case_stats (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id,
               directive_id, status, decision_measure, cases, shard)
               VALUES ('', '2024-05-01', 'u', '', 'c', 'd', 'closed', 'reprimand', 1, 0);",
        )
        .unwrap();
        let mut db = DbConn::Sqlite(conn);
        assert_eq!(run_pending(&mut db).unwrap(), pending);
        let DbConn::Sqlite(conn) = &mut db else { unreachable!() };
        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            a: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            b: String,
        }
        let one = |conn: &mut diesel::sqlite::SqliteConnection, sql: &str| -> Row {
            diesel::sql_query(sql).get_result(conn).unwrap()
        };
        let case = one(conn, "SELECT severity AS a, decision_measure AS b FROM cases WHERE id = 'k'");
        assert_eq!(case, Row { a: "very_serious".into(), b: "party_reprimand".into() });
        let decision =
            one(conn, "SELECT system AS a, measure || ' ' || decided_on || ' ' || reference AS b FROM case_decisions");
        assert_eq!(decision, Row { a: "party".into(), b: "party_reprimand 2024-05-20 12-QĐ/UBKT".into() });
        let stats = one(conn, "SELECT decision_measure AS a, CAST(cases AS TEXT) AS b FROM case_stats");
        assert_eq!(stats, Row { a: "party_reprimand".into(), b: "1".into() });
        let indexes = one(
            conn,
            "SELECT 'cases' AS a, CAST(COUNT(*) AS TEXT) AS b FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' AND sql IS NOT NULL",
        );
        assert_eq!(indexes.b, "13", "every index of the table is rebuilt, and the subject's added");
        // The old key folded "Hùng" and "Hưng" together; the records keep them apart.
        let people = one(
            conn,
            "SELECT group_concat(name, '|') AS a, group_concat(search_name, '|') AS b FROM (SELECT name, search_name FROM subjects ORDER BY id)",
        );
        assert_eq!(
            people,
            Row { a: "Nguyễn Văn Hùng|Nguyễn Văn Hưng".into(), b: "nguyen van hung|nguyen van hung".into() }
        );
        let keyed = one(conn, "SELECT subject_id AS a, subject_key AS b FROM cases WHERE id = 'l'");
        assert_eq!(keyed, Row { a: "l".into(), b: "l".into() });
        let counted = one(
            conn,
            "SELECT 'subjects' AS a, CAST(COUNT(DISTINCT subject_key) AS TEXT) AS b FROM subject_stats WHERE detected > 0",
        );
        assert_eq!(counted.b, "2");
        // References still hold, and are enforced again.
        conn.batch_execute(
            "INSERT INTO case_events (id, case_id, at, kind, detail) VALUES ('x', 'k', '2024-06-01', 'comment', '{}')",
        )
        .unwrap();
        assert!(conn.batch_execute("INSERT INTO case_events (id, case_id, at, kind, detail) VALUES ('y', 'nope', '2024-06-01', 'comment', '{}')").is_err());
    }

    /// A database sealed under the marks of migration 24, upgraded to the rowid order:
    /// the ledger's marks name each entry's rowid (also where a mark had drifted), and the
    /// triggers and seal indexes are gone, so an insert writes nothing more.
    #[test]
    fn the_rowid_order_migration_keeps_the_sealed_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, pending) = sqlite_before(dir.path(), "_seal_order_by_rowid");
        conn.batch_execute(
            "INSERT INTO audit_log (id, at, action, entity_type, entity_id) VALUES
               ('a1', '2024-01-01', 'create', 'case', 'k'), ('a2', '2024-01-02', 'update', 'case', 'k'),
               ('a3', '2024-01-03', 'update', 'case', 'k');
             INSERT INTO ledger (seq, stream, entry_id, mark, sealed_at) VALUES
               (0, 'audit', 'a1', 1, '2024-01-04'), (1, 'audit', 'a2', 2, '2024-01-04'), (2, 'audit', 'a3', 7, '2024-01-04');",
        )
        .unwrap();
        let mut db = DbConn::Sqlite(conn);
        assert_eq!(run_pending(&mut db).unwrap(), pending);
        let DbConn::Sqlite(conn) = &mut db else { unreachable!() };
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let one = |conn: &mut diesel::sqlite::SqliteConnection, sql: &str| -> String {
            diesel::sql_query(sql).get_result::<Text>(conn).unwrap().v
        };
        let marks = "SELECT group_concat(l.mark || '=' || a.rowid, ' ') AS v FROM ledger l JOIN audit_log a ON a.id = l.entry_id";
        assert_eq!(one(conn, marks), "1=1 2=2 3=3");
        let left = "SELECT CAST(COUNT(*) AS TEXT) AS v FROM sqlite_master WHERE name LIKE '%seal%'";
        assert_eq!(one(conn, left), "0", "no seal triggers or indexes remain");
        conn.batch_execute("INSERT INTO audit_log (id, at, action, entity_type, entity_id) VALUES ('a4', '2024-01-05', 'x', 'case', 'k')")
            .unwrap();
        assert_eq!(one(conn, "SELECT CAST(seal_mark AS TEXT) AS v FROM audit_log WHERE id = 'a4'"), "0");
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let pg = names::<diesel::pg::Pg>(&PG_MIGRATIONS);
        let sqlite = names::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS);
        assert!(!pg.is_empty());
        assert_eq!(pg, sqlite);
    }
}
