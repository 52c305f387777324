//! Every statement that differs between the backends, in one place: advisory locks,
//! taking a case number, claiming outbox rows past other senders, many timeline events
//! in one statement, the audit ledger's sealing horizon, whether writers run at once (the
//! rollups' shards), and the SQL fragments of the rollup recount. The rest of the code is
//! written once for both (through `DbConn`, or `per_backend!` and `upsert_rows!` where a
//! statement must be compiled per backend).

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

/// Whether writers run side by side: on PostgreSQL they do, so counters that every
/// writer adds to are spread over shards; SQLite admits one writer at a time.
pub fn writers_run_at_once(backend: Backend) -> bool {
    backend == Backend::Postgres
}

/// How many rows one upsert writes on PostgreSQL ([`crate::upsert_rows`]): a batch that
/// stays under its 65,535 parameters a statement.
pub const PG_ROWS_PER_UPSERT: usize = 1000;

/// Rewrites `/readyz`'s probe row with 16 KiB that do not compress (about a large case),
/// inside the caller's transaction.
pub fn probe_write(conn: &mut DbConn) -> QueryResult<()> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "UPDATE service_probe SET probed_at = CURRENT_TIMESTAMP, payload = hex(randomblob(8192)) WHERE id = 1"
        }
        Backend::Postgres => {
            "UPDATE service_probe SET probed_at = now(), \
             payload = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 512)) WHERE id = 1"
        }
    };
    diesel::sql_query(sql).execute(conn).map(drop)
}

/// How many case numbers one refill of the pool counts out.
pub const NUMBERS_PER_REFILL: i64 = 256;

#[derive(diesel::QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    number: i64,
}

/// The next case number of `year`, taken from `case_number_pool` inside the creating
/// transaction: the lowest free one. On PostgreSQL numbers that other creates hold are
/// skipped rather than waited for, so creates do not queue behind one counter row until
/// each one's commit; a create that rolls back returns its number, the next create takes
/// it, and the numbers handed out stay without gaps. When the pool is empty the creator
/// counts out the next [`NUMBERS_PER_REFILL`] under a lock that other refillers wait for.
pub fn next_case_number(conn: &mut DbConn, year: i32) -> QueryResult<i64> {
    if let Some(n) = take_number(conn, year)? {
        return Ok(n);
    }
    lock(conn, &["case_number_pool"])?;
    // Another create may have refilled the pool while this one waited for the lock.
    if let Some(n) = take_number(conn, year)? {
        return Ok(n);
    }
    refill_numbers(conn, year)?;
    take_number(conn, year)?.ok_or(diesel::result::Error::NotFound)
}

/// Takes (deletes) the lowest free number of `year` from the pool, if there is one.
fn take_number(conn: &mut DbConn, year: i32) -> QueryResult<Option<i64>> {
    use diesel::sql_types::Integer;
    const PG: &str = "DELETE FROM case_number_pool WHERE year = $1 AND number = \
                      (SELECT number FROM case_number_pool WHERE year = $1 ORDER BY number LIMIT 1 \
                       FOR UPDATE SKIP LOCKED) \
                      RETURNING number";
    const SQLITE: &str = "DELETE FROM case_number_pool WHERE year = ?1 AND number = \
                          (SELECT MIN(number) FROM case_number_pool WHERE year = ?1) \
                          RETURNING number";
    let sql = match conn.backend() {
        Backend::Postgres => PG,
        Backend::Sqlite => SQLITE,
    };
    let taken: Vec<Number> =
        crate::per_backend!(conn, |c| Cached(diesel::sql_query(sql).bind::<Integer, _>(year)).load(c)?);
    Ok(taken.first().map(|n| n.number))
}

/// Counts the next [`NUMBERS_PER_REFILL`] numbers of `year` into the pool (the per-year
/// counter moves past them) and drops what earlier years left unused.
fn refill_numbers(conn: &mut DbConn, year: i32) -> QueryResult<()> {
    use super::schema::case_number_pool as pool;
    use diesel::sql_types::{BigInt, Integer};
    const PG: &str = "INSERT INTO case_counters (year, last_number) VALUES ($1, $2) \
                      ON CONFLICT (year) DO UPDATE SET last_number = case_counters.last_number + $2 \
                      RETURNING last_number AS number";
    const SQLITE: &str = "INSERT INTO case_counters (year, last_number) VALUES (?1, ?2) \
                          ON CONFLICT (year) DO UPDATE SET last_number = case_counters.last_number + ?2 \
                          RETURNING last_number AS number";
    const PG_FILL: &str = "INSERT INTO case_number_pool (year, number) \
                           SELECT $1, n FROM generate_series($2, $3) AS n";
    const SQLITE_FILL: &str = "WITH RECURSIVE n(x) AS (SELECT ?2 UNION ALL SELECT x + 1 FROM n WHERE x < ?3) \
                               INSERT INTO case_number_pool (year, number) SELECT ?1, x FROM n";
    diesel::delete(pool::table.filter(pool::year.lt(year))).execute(conn)?;
    let k = NUMBERS_PER_REFILL;
    let (count_out, fill) = match conn.backend() {
        Backend::Postgres => (PG, PG_FILL),
        Backend::Sqlite => (SQLITE, SQLITE_FILL),
    };
    crate::per_backend!(conn, |c| {
        let last =
            diesel::sql_query(count_out).bind::<Integer, _>(year).bind::<BigInt, _>(k).get_result::<Number>(c)?;
        let fill = diesel::sql_query(fill).bind::<Integer, _>(year);
        fill.bind::<BigInt, _>(last.number - k + 1).bind::<BigInt, _>(last.number).execute(c)?;
    });
    Ok(())
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

/// Records one timeline event for each `(event id, case id)` in `events`, all of the same
/// kind, actor, time and detail, in one statement: the detail travels once rather than
/// once per row (PostgreSQL unnests two arrays, SQLite walks a JSON array).
pub fn insert_same_events(
    conn: &mut DbConn,
    events: &[(String, String)],
    at: NaiveDateTime,
    actor_id: Option<&str>,
    kind: &str,
    detail: &str,
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Nullable, Text, Timestamp};
    if events.is_empty() {
        return Ok(0);
    }
    match conn {
        DbConn::Pg(c) => {
            let (ids, cases): (Vec<&str>, Vec<&str>) = events.iter().map(|(e, c)| (e.as_str(), c.as_str())).unzip();
            diesel::sql_query(
                "INSERT INTO case_events (id, case_id, at, actor_id, kind, detail) \
                 SELECT e.id, e.case_id, $3, $4, $5, $6 FROM unnest($1::text[], $2::text[]) AS e(id, case_id)",
            )
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<Text>, _>(cases)
            .bind::<Timestamp, _>(at)
            .bind::<Nullable<Text>, _>(actor_id)
            .bind::<Text, _>(kind)
            .bind::<Text, _>(detail)
            .execute(c)
        }
        DbConn::Sqlite(c) => {
            let pairs =
                serde_json::to_string(events).map_err(|e| diesel::result::Error::SerializationError(e.into()))?;
            diesel::sql_query(
                "INSERT INTO case_events (id, case_id, at, actor_id, kind, detail) \
                 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?2, ?3, ?4, ?5 FROM json_each(?1)",
            )
            .bind::<Text, _>(pairs)
            .bind::<Timestamp, _>(at)
            .bind::<Nullable<Text>, _>(actor_id)
            .bind::<Text, _>(kind)
            .bind::<Text, _>(detail)
            .execute(c)
        }
    }
}

/// The seal mark below which every entry is visible and no new one can appear: on
/// PostgreSQL the oldest transaction still running (entries carry their writer's
/// transaction id); on SQLite no bound, since the sealer is the one writer while it runs.
pub fn seal_horizon(conn: &mut DbConn) -> QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Horizon {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        h: i64,
    }
    match conn {
        DbConn::Pg(c) => Ok(diesel::sql_query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS h")
            .get_result::<Horizon>(c)?
            .h),
        DbConn::Sqlite(_) => Ok(i64::MAX),
    }
}

/// The tables whose rows are sealed into the ledger.
const SEALED: [&str; 3] = ["audit_log", "case_events", "case_attachments"];

/// The column that orders a sealed table's rows as they were written, as SQL qualified by
/// the table: on PostgreSQL `seal_mark` (the writer's transaction id, sealed past the
/// oldest running transaction); on SQLite the rowid, which the one writer hands out in
/// order (a row written by hand included) and VACUUM, `VACUUM INTO` and restores keep.
pub fn mark_column(backend: Backend, table: &'static str) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    debug_assert!(SEALED.contains(&table));
    diesel::dsl::sql(&match backend {
        Backend::Sqlite => format!("{table}.rowid"),
        Backend::Postgres => format!("{table}.seal_mark"),
    })
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
