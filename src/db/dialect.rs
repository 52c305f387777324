//! Every statement that differs between the backends, in one place: advisory locks,
//! the case-number upsert, claiming outbox rows past other senders, and the SQL
//! fragments of the rollup recount. The rest of the code is written once for both
//! (through `DbConn`, or `per_backend!` where a statement must be compiled per backend).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Backend, Cached, DbConn};

/// Makes writers that check an invariant before writing take turns, so that each one's
/// check sees what the others wrote (a username still free, a unit tree without a cycle,
/// one more active administrator, a campaign not concluded).
///
/// On PostgreSQL each key is a transaction-scoped advisory lock, taken in the order given
/// and released at commit or rollback; a plain `BEGIN` there is READ COMMITTED, so without
/// it two transactions can both pass a check before either writes. On SQLite it does
/// nothing: [`write_tx`] begins with `BEGIN IMMEDIATE`, which already admits one writer at
/// a time. Call it inside `write_tx`, before the reads the check relies on.
pub fn lock(conn: &mut DbConn, keys: &[&str]) -> QueryResult<()> {
    advisory(conn, keys, "pg_advisory_xact_lock")
}

/// Like [`lock`], but shared: holders of a shared lock on a key do not wait for each other,
/// only for (and block) an exclusive holder. For writers that rely on a fact that another
/// kind of writer may change (cases logged into a campaign while it may be concluded).
pub fn lock_shared(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    advisory(conn, &[key], "pg_advisory_xact_lock_shared")
}

fn advisory(conn: &mut DbConn, keys: &[&str], function: &str) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        for key in keys {
            diesel::sql_query(format!("SELECT {function}(hashtextextended($1, 0))"))
                .bind::<diesel::sql_types::Text, _>(*key)
                .execute(c)?;
        }
    }
    Ok(())
}

/// The next case number of `year`: the per-year counter upserted (and so locked until
/// commit) in the creating transaction. The two dialects differ only in placeholders.
pub fn next_case_number(conn: &mut DbConn, year: i32) -> QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Counter {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_number: i64,
    }
    const PG: &str = "INSERT INTO case_counters (year, last_number) VALUES ($1, 1) \
                      ON CONFLICT (year) DO UPDATE SET last_number = case_counters.last_number + 1 \
                      RETURNING last_number";
    const SQLITE: &str = "INSERT INTO case_counters (year, last_number) VALUES (?, 1) \
                          ON CONFLICT (year) DO UPDATE SET last_number = case_counters.last_number + 1 \
                          RETURNING last_number";
    let counter: Counter = match conn {
        DbConn::Pg(c) => Cached(diesel::sql_query(PG).bind::<diesel::sql_types::Integer, _>(year)).get_result(c)?,
        DbConn::Sqlite(c) => {
            Cached(diesel::sql_query(SQLITE).bind::<diesel::sql_types::Integer, _>(year)).get_result(c)?
        }
    };
    Ok(counter.last_number)
}

/// Takes the transaction-scoped lock `key` if no other transaction holds it: true when
/// taken. On SQLite always true, since `write_tx` already admits one writer at a time.
pub fn try_lock(conn: &mut DbConn, key: i64) -> QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        DbConn::Pg(c) => {
            let got: Locked =
                diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({key}) AS locked")).get_result(c)?;
            Ok(got.locked)
        }
        DbConn::Sqlite(_) => Ok(true),
    }
}

/// The ids of up to `limit` outbox messages due at `now` (or whose claim lapsed), oldest
/// first. On PostgreSQL rows another sender has locked are skipped rather than waited
/// for; on SQLite the surrounding `BEGIN IMMEDIATE` already excludes other writers.
/// Call inside a write transaction.
pub fn due_outbox_ids(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    use super::schema::outbox;
    #[derive(diesel::QueryableByName)]
    struct IdRow {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    const PG: &str = "SELECT id FROM outbox \
                      WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND claimed_until < $1) \
                      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED";
    match conn {
        DbConn::Pg(c) => Ok(diesel::sql_query(PG)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::Integer, _>(limit as i32)
            .load::<IdRow>(c)?
            .into_iter()
            .map(|r| r.id)
            .collect()),
        DbConn::Sqlite(c) => outbox::table
            .filter(
                outbox::status
                    .eq("pending")
                    .and(outbox::next_attempt_at.le(now))
                    .or(outbox::status.eq("sending").and(outbox::claimed_until.lt(now).assume_not_null())),
            )
            .order(outbox::next_attempt_at.asc())
            .limit(limit)
            .select(outbox::id)
            .load(c),
    }
}

/// A statement that makes writers of `tables` wait until the transaction commits
/// (PostgreSQL's `LOCK TABLE … IN EXCLUSIVE MODE`); empty on SQLite, where a write
/// transaction already excludes them.
pub fn exclusive_table_lock(backend: Backend, tables: &[&str]) -> String {
    match backend {
        Backend::Postgres => format!("LOCK TABLE {} IN EXCLUSIVE MODE;", tables.join(", ")),
        Backend::Sqlite => String::new(),
    }
}

/// The first day of the month of the date `column`, as SQL.
pub fn month_start(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Postgres => format!("date_trunc('month', {column})::date"),
        Backend::Sqlite => format!("date({column}, 'start of month')"),
    }
}
