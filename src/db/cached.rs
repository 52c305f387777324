//! Prepared-statement caching for statements diesel declines to cache.
//!
//! Diesel never caches an `UPDATE`, an upsert's `DO UPDATE` or a `sql_query`: their SQL
//! may depend on the values (a changeset skips `None` fields), so it prepares them again
//! on every execution. On SQLite that is most of an upsert's cost (the create's rollup
//! and counter upserts were a third of its statements' time, docs/BENCHMARKS.md); on
//! PostgreSQL the server parses and plans them each time. [`Cached`] keys such a
//! statement by its SQL text instead, which is safe whatever the values: a statement
//! whose SQL differs is a different entry. Use it only where the SQL has a fixed set of
//! shapes (never with values formatted into the text), so the cache stays small.
//!
//! Run it with `load` or `get_result` (an `INSERT … RETURNING`, an `UPDATE … RETURNING`,
//! a `sql_query`): those hand the statement to the connection by value. `execute` hands
//! it on by reference, and diesel's `&T` asks the inner statement, which says no.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `Q`, prepared once per connection and SQL text and then reused.
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // Keyed by the SQL text, never by type: one type may render several texts.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend, Q: QueryFragment<DB>> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    use super::Cached;

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// Counts the statements a connection prepares into its cache.
    struct Prepared(Arc<AtomicUsize>);

    impl Instrumentation for Prepared {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn an_upsert_is_prepared_once_and_still_sees_each_call_s_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = SqliteConnection::establish(dir.path().join("t.db").to_str().unwrap()).unwrap();
        conn.batch_execute("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL)").unwrap();
        let prepared = Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(Prepared(prepared.clone()));
        let upsert = |k: &str| {
            diesel::sql_query(
                "INSERT INTO t (k, n) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1 RETURNING n",
            )
            .bind::<Text, _>(k.to_string())
        };
        // What diesel does by itself: prepares the statement anew every time, caching nothing.
        upsert("a").get_result::<N>(&mut conn).unwrap();
        assert_eq!(prepared.load(Ordering::SeqCst), 0);
        let seen: Vec<i64> =
            ["a", "a", "b", "a"].iter().map(|k| Cached(upsert(k)).get_result::<N>(&mut conn).unwrap().n).collect();
        assert_eq!(seen, [2, 3, 1, 4], "each call binds its own values");
        assert_eq!(prepared.load(Ordering::SeqCst), 1, "one statement, prepared once");
    }
}
