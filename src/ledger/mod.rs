//! The tamper-evident ledger: audit entries, timeline events and evidence file digests,
//! sealed in order as the records of an RFC 6962 Merkle tree (the Go checksum database's
//! layout, through `tlog_tiles`), with signed checkpoints kept outside the database.
//!
//! Writers take no lock for it: each entry has a mark of the order it became visible in
//! (`db::dialect::mark_column`: PostgreSQL's `seal_mark`, the writer's transaction id;
//! SQLite's rowid), and [`seal`] later appends whatever is visible past the last entry
//! sealed, one sealer at a time across instances.

pub mod checkpoint;
pub mod proof;
pub mod record;
pub mod run;
pub mod tree;
pub mod verify;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{ledger, ledger_hashes};
use crate::db::{DbConn, write_tx};
use record::Stream;
use tree::DbHashes;

/// The advisory lock that makes sealers take turns (an arbitrary constant).
const SEALER_LOCK: i64 = 0x6c65_6467_6572;

/// How many entries one [`seal`] call appends at most (one transaction).
pub const SEAL_BATCH: i64 = 20_000;

/// One sealed entry: its place, which entry, and the mark it was sealed at.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger)]
pub struct Sealed {
    pub seq: i64,
    pub stream: String,
    pub entry_id: String,
    pub mark: i64,
    pub sealed_at: NaiveDateTime,
}

/// How many entries the ledger holds.
pub fn size(conn: &mut DbConn) -> QueryResult<i64> {
    let last: Option<i64> = ledger::table.select(diesel::dsl::max(ledger::seq)).first(conn)?;
    Ok(last.map_or(0, |s| s + 1))
}

/// Seals up to [`SEAL_BATCH`] entries that became visible since the last one sealed, in
/// one transaction; returns how many (0 also when another sealer holds the turn).
pub fn seal(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<i64> {
    write_tx(conn, |conn| {
        if !crate::db::dialect::try_lock(conn, SEALER_LOCK)? {
            return Ok(0);
        }
        let horizon = crate::db::dialect::seal_horizon(conn)?;
        let start = size(conn)?;
        let mut n = start;
        let mut hashes = DbHashes::default();
        for stream in Stream::ALL {
            let after = last_sealed(conn, stream)?;
            let room = SEAL_BATCH - (n - start);
            if room <= 0 {
                break;
            }
            let records = stream.unsealed(conn, after.as_ref(), horizon, room)?;
            let mut rows = Vec::with_capacity(records.len());
            for r in records {
                let leaf = tlog_tiles::record_hash(&r.data);
                let stored = hashes.append(conn, n as u64, leaf)?;
                hashes.pending.extend(stored);
                rows.push(Sealed {
                    seq: n,
                    stream: stream.as_str().into(),
                    entry_id: r.id,
                    mark: r.mark,
                    sealed_at: now,
                });
                n += 1;
            }
            for chunk in rows.chunks(1000) {
                crate::per_backend!(conn, |c| diesel::insert_into(ledger::table).values(chunk).execute(c))?;
            }
        }
        let stored: Vec<(i64, String)> = hashes.pending.iter().map(|(i, h)| (*i as i64, hex::encode(h.0))).collect();
        for chunk in stored.chunks(1000) {
            let rows: Vec<_> =
                chunk.iter().map(|(i, h)| (ledger_hashes::idx.eq(*i), ledger_hashes::hash.eq(h.as_str()))).collect();
            crate::per_backend!(conn, |c| diesel::insert_into(ledger_hashes::table).values(&rows).execute(c))?;
        }
        Ok(n - start)
    })
}

/// The mark and id of the last entry of `stream` sealed.
fn last_sealed(conn: &mut DbConn, stream: Stream) -> QueryResult<Option<(i64, String)>> {
    ledger::table
        .filter(ledger::stream.eq(stream.as_str()))
        .order(ledger::seq.desc())
        .select((ledger::mark, ledger::entry_id))
        .first(conn)
        .optional()
}

/// How many entries are written and not sealed yet. On PostgreSQL an entry is sealed
/// once every transaction older than its own has ended (in any database of the server),
/// so a long transaction elsewhere delays sealing; it never reorders it.
pub fn unsealed(conn: &mut DbConn) -> QueryResult<i64> {
    let mut n = 0;
    for stream in Stream::ALL {
        let after = last_sealed(conn, stream)?;
        n += stream.unsealed_count(conn, after)?;
    }
    Ok(n)
}

/// Seals until nothing visible is left unsealed; returns how many were sealed.
pub fn seal_all(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<i64> {
    let mut total = 0;
    loop {
        let n = seal(conn, now)?;
        total += n;
        if n < SEAL_BATCH {
            return Ok(total);
        }
    }
}
