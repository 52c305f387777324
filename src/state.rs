//! What every request handler shares: the pool, the settings, the signing keys, the
//! clock and the password hasher, and the two ways a handler reaches the database.

use std::sync::Arc;

use crate::auth::password::Hasher;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, DbConn, DbPool};
use crate::error::Error;

/// What every handler shares.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub clock: Clock,
    /// Password hashing and verification, on threads of their own.
    pub hasher: Hasher,
    /// Which database the pool talks to (SQLite's writers take turns, [`db::turn`]).
    pub backend: db::Backend,
    /// The proxies whose forwarding header names the client.
    pub proxies: crate::web::Proxies,
    /// Catalog reads kept for a short while ([`crate::memo`]).
    pub memo: Arc<crate::memo::Memo>,
    /// The last verification of the audit trail this server ran (the console's button).
    pub audit_check: Arc<parking_lot::Mutex<Option<crate::ledger::run::LastCheck>>>,
}

impl AppState {
    /// Runs blocking database work on the blocking pool with one pooled connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = checkout(&pool)?;
            f(&mut conn)
        })
        .await?
    }
}

impl AppState {
    /// The context an operation runs in: the settings and this moment of the clock.
    pub fn ctx(&self) -> crate::casework::Ctx {
        crate::casework::Ctx::sharing(self.settings.clone(), self.clock.now(), self.memo.clone())
    }

    /// Runs an operation on the blocking pool with one pooled connection and its context:
    /// what every handler that changes something does. On SQLite it first waits, with no
    /// thread or connection held, for a place among the writers ([`db::turn`]).
    pub async fn op<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn, &crate::casework::Ctx) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let slot = db::turn::Slot::wait(self.backend).await;
        let ctx = self.ctx();
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            slot.hold(|| {
                let mut conn = checkout(&pool)?;
                f(&mut conn, &ctx)
            })
        })
        .await?
    }
}

/// A pooled connection for a request, its wait counted in the metrics.
fn checkout(pool: &DbPool) -> Result<db::PooledConn, diesel::r2d2::PoolError> {
    let started = std::time::Instant::now();
    let conn = pool.get();
    crate::metrics::METRICS.pool_wait(started.elapsed().as_secs_f64());
    conn
}
